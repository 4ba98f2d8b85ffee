"""Catalog reads: the storefront page, pagination, node(id), visibility, the category tree.

Helpers live in this file on purpose (no shared conftest): each component's tests boot the
smallest blueprint that exercises it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from components.catalog.models import Sku
from core.gql.relay import to_global_id
from core.testing import member, staff

# inventory pulls catalog in as a dependency: the storefront needs Sku.stock.
SHOP = """\
dougong: 1
brand: {slug: shop, name: Shop, currency: CNY, timezone: Asia/Shanghai}
components:
  inventory: {}
"""

CATALOG_ONLY = """\
dougong: 1
brand: {slug: shop, name: Shop, currency: CNY, timezone: Asia/Shanghai}
components:
  catalog: {}
"""

BENCH_DATA = Path(__file__).resolve().parents[3].parent / "shared" / "bench-data" / "catalog-50x3.json"

STOREFRONT = """
query($first: Int!, $after: String) {
  products(first: $first, after: $after) {
    edges { cursor node { id title images category { name } skus { id title price { amountMinor currency } stock } } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def make_catalog(kernel, products: int, skus_per_product: int = 3, stock: int = 10, status: str = "on_sale") -> list[int]:
    """``products`` products in one category, each with ``skus_per_product`` SKUs of ``stock`` units."""
    catalog = kernel.service("catalog")
    async with kernel.transaction() as tx:
        category = await catalog.create_category(tx, "Tea")
        ids = [
            await catalog.create_product(
                tx, title=f"Tea {p}", category_id=category, status=status,
                skus=[{"title": f"{s * 50}g", "price_minor": 1000 * p + s} for s in range(1, skus_per_product + 1)],
            )
            for p in range(products)
        ]
        if kernel.has_component("inventory"):
            for sku_id in (await tx.session.scalars(select(Sku.id))).all():
                await kernel.service("inventory").set_stock(tx, sku_id, stock)
    return ids


async def statements_for(kernel, client, first: int) -> int:
    before = kernel.db.statements
    data = await client.data(STOREFRONT, first=first)
    edges = data["products"]["edges"]
    assert len(edges) == first
    # The page must be complete and right, or a cheap-but-wrong query would pass.
    for edge in edges:
        skus = edge["node"]["skus"]
        assert len(skus) == 3 and all(s["stock"] == 10 and s["price"]["currency"] == "CNY" for s in skus)
        assert edge["node"]["category"] == {"name": "Tea"}
    return kernel.db.statements - before


async def test_storefront_runs_a_fixed_number_of_statements(kernel_factory, graphql):
    kernel = await kernel_factory(SHOP)
    await make_catalog(kernel, 50)
    client = graphql(kernel)
    ten = await statements_for(kernel, client, 10)
    fifty = await statements_for(kernel, client, 50)
    assert ten == fifty, f"page of 10 took {ten} statements, page of 50 took {fifty}: an N+1 crept in"
    # products, skus by product, stock, categories (+ session bookkeeping): a small constant.
    assert fifty <= 6


def test_bench_catalog_has_the_shape_we_serve():
    """The shared 50×3 benchmark catalog (bench/ loads it) fits our model: SKUs with integer prices and stock."""
    if not BENCH_DATA.exists():
        pytest.skip(f"shared bench data not beside this checkout ({BENCH_DATA})")
    data = json.loads(BENCH_DATA.read_text(encoding="utf-8"))
    assert data["currency"] == "CNY" and len(data["products"]) == 50
    for product in data["products"]:
        assert product["title"] and len(product["skus"]) == 3
        assert all(isinstance(s["price_minor"], int) and s["price_minor"] >= 0 and s["stock"] >= 0 for s in product["skus"])


async def test_pages_walk_every_product_once_and_cap_at_100(kernel_factory, graphql):
    kernel = await kernel_factory(SHOP)
    ids = await make_catalog(kernel, 12, skus_per_product=1)
    client = graphql(kernel)
    seen, after = [], None
    while True:
        page = (await client.data(STOREFRONT, first=5, after=after))["products"]
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [to_global_id("Product", i) for i in ids]
    assert (await client.data(STOREFRONT, first=0))["products"]["edges"] == []
    for bad in ({"first": 101}, {"first": -1}, {"first": 10, "after": "not-a-cursor"}):
        body = await client.execute(STOREFRONT, **bad)
        assert body["errors"][0]["extensions"]["code"] == "KERNEL_INVALID_INPUT", bad


async def test_node_and_product_by_id(kernel_factory, graphql):
    kernel = await kernel_factory(SHOP)
    [product_id] = await make_catalog(kernel, 1, skus_per_product=2, stock=7)
    async with kernel.db.read() as session:
        sku_id = (await session.scalars(select(Sku.id).where(Sku.product_id == product_id).order_by(Sku.position))).first()
    product, sku = to_global_id("Product", product_id), to_global_id("Sku", sku_id)
    client = graphql(kernel, member(1))
    by_node = await client.data(
        """query($p: ID!, $s: ID!) {
             p: node(id: $p) { id __typename ... on Product { title skus { id } } }
             s: node(id: $s) { id __typename ... on Sku { title price { amountMinor amount } stock product { id title } } }
             byId: product(id: $p) { id title }
           }""",
        p=product, s=sku,
    )
    assert by_node["p"]["__typename"] == "Product" and by_node["p"]["id"] == product
    assert len(by_node["p"]["skus"]) == 2 and by_node["p"]["skus"][0]["id"] == sku
    assert by_node["s"] == {"id": sku, "__typename": "Sku", "title": "50g", "price": {"amountMinor": 1, "amount": "0.01"},
                            "stock": 7, "product": {"id": product, "title": "Tea 0"}}
    assert by_node["byId"] == {"id": product, "title": "Tea 0"}
    # An id of the wrong type or of nothing at all is a typed error, not a crash.
    wrong = await client.execute("query($id: ID!) { product(id: $id) { id } }", id=sku)
    assert wrong["errors"][0]["extensions"]["code"] == "KERNEL_INVALID_ID"
    garbage = await client.execute("query($id: ID!) { product(id: $id) { id } }", id="%%%")
    assert garbage["errors"][0]["extensions"]["code"] == "KERNEL_INVALID_ID"
    missing = await client.data("query($id: ID!) { product(id: $id) { id } }", id=to_global_id("Product", 999))
    assert missing["product"] is None


async def test_shoppers_see_only_what_is_on_sale(kernel_factory, graphql):
    kernel = await kernel_factory(SHOP)
    [draft] = await make_catalog(kernel, 1, status="draft")
    async with kernel.db.read() as session:
        draft_sku = (await session.scalars(select(Sku.id).where(Sku.product_id == draft))).first()
    doc = """query($p: ID!, $s: ID!) { products(filter: {status: DRAFT}) { edges { node { id } } }
                                       p: node(id: $p) { id } s: node(id: $s) { id } product(id: $p) { id } }"""
    ids = {"p": to_global_id("Product", draft), "s": to_global_id("Sku", draft_sku)}
    for shopper in (graphql(kernel), graphql(kernel, member(1)), graphql(kernel, staff(9, "live_host"))):
        assert await shopper.data(doc, **ids) == {"products": {"edges": []}, "p": None, "s": None, "product": None}
    seen = await graphql(kernel, staff(1, "admin")).data(doc, **ids)
    assert seen["products"]["edges"] == [{"node": {"id": ids["p"]}}] and seen["p"] and seen["s"] and seen["product"]
    # The selling components read the same truth through the service: not on sale.
    async with kernel.db.read() as session:
        info = await kernel.service("catalog").skus(session, [draft_sku, 12345])
    assert list(info) == [draft_sku] and info[draft_sku].on_sale is False and info[draft_sku].product_title == "Tea 0"


async def test_search_and_category_subtree(kernel_factory, graphql):
    kernel = await kernel_factory(CATALOG_ONLY)
    catalog = kernel.service("catalog")
    async with kernel.transaction() as tx:
        tea = await catalog.create_category(tx, "茶 Tea")
        green = await catalog.create_category(tx, "绿茶 Green", tea)
        snacks = await catalog.create_category(tx, "零食 Snacks")
        sku = [{"title": "one", "price_minor": 100}]
        await catalog.create_product(tx, title="明前龙井 Longjing", category_id=green, skus=sku)
        await catalog.create_product(tx, title="普洱 Pu'er", description="aged 100% cake", category_id=tea, skus=sku)
        await catalog.create_product(tx, title="桂花糕 Osmanthus cake", category_id=snacks, skus=sku)
    client = graphql(kernel)

    async def titles(filter_: dict) -> set[str]:
        data = await client.data("query($f: ProductFilter) { products(filter: $f) { edges { node { title } } } }", f=filter_)
        return {e["node"]["title"] for e in data["products"]["edges"]}

    assert await titles({"categoryId": to_global_id("Category", tea)}) == {"明前龙井 Longjing", "普洱 Pu'er"}
    assert await titles({"categoryId": to_global_id("Category", green)}) == {"明前龙井 Longjing"}
    assert await titles({"search": "CAKE"}) == {"普洱 Pu'er", "桂花糕 Osmanthus cake"}  # title or description, any case
    assert await titles({"search": "龙井"}) == {"明前龙井 Longjing"}
    assert await titles({"search": "100%"}) == {"普洱 Pu'er"}  # % is matched literally, not as a wildcard
    assert await titles({"search": "_"}) == set()
    assert await titles({"search": "cake", "categoryId": to_global_id("Category", snacks)}) == {"桂花糕 Osmanthus cake"}
    tree = await client.data("{ categories { name children { name parent { name } children { name } } } }")
    assert tree["categories"] == [
        {"name": "茶 Tea", "children": [{"name": "绿茶 Green", "parent": {"name": "茶 Tea"}, "children": []}]},
        {"name": "零食 Snacks", "children": []},
    ]
    bad = await client.execute('{ products(filter: {categoryId: "nope"}) { edges { cursor } } }')
    assert bad["errors"][0]["extensions"]["code"] == "KERNEL_INVALID_ID"


# The storefront with the fields group_buy adds to catalog's types (the bench's query).
SHOP_WITH_GROUP_BUY = """\
dougong: 1
brand: {slug: shop, name: Shop, currency: CNY, timezone: Asia/Shanghai}
components:
  inventory: {}
  group_buy: {}
"""

STOREFRONT_WITH_OFFERS = """
query($first: Int!) {
  products(first: $first) {
    edges { cursor node { id title images category { id name }
      groupBuyOffers { id groupPrice { amountMinor currency } groupSize endsAt }
      skus { id title price { amountMinor currency amount } stock groupBuyOffers { id groupSize } } } }
    pageInfo { hasNextPage endCursor }
  }
}"""


@pytest.mark.parametrize("fast", [True, False], ids=["level-executor", "graphql-core"])
async def test_storefront_statements_do_not_grow_with_the_page(kernel_factory, graphql, monkeypatch, fast):
    from datetime import timedelta

    from core.gql.fast import FastQueries

    monkeypatch.setattr(FastQueries, "enabled", fast)
    kernel = await kernel_factory(SHOP_WITH_GROUP_BUY)
    kernel.response_cache = None  # count what executing the query costs, not what a cache saves
    ids = await make_catalog(kernel, 100)
    async with kernel.transaction() as tx:
        skus = (await tx.session.scalars(select(Sku).order_by(Sku.id))).all()
        for sku in skus[::7]:  # offers scattered over the pages
            await kernel.service("group_buy").create_offer(
                tx, sku_id=sku.id, group_price_minor=sku.price_minor // 2, group_size=2,
                starts_at=kernel.clock.now() - timedelta(hours=1), ends_at=kernel.clock.now() + timedelta(days=1), total_limit=10)
    client = graphql(kernel)
    counts = {}
    for first in (1, 10, 50, 100):
        answered = FastQueries.answered
        before = kernel.db.statements
        data = await client.data(STOREFRONT_WITH_OFFERS, first=first)
        counts[first] = kernel.db.statements - before
        assert (FastQueries.answered - answered) == (1 if fast else 0)
        edges = data["products"]["edges"]
        assert [e["node"]["id"] for e in edges] == [to_global_id("Product", i) for i in ids[:first]]
        offered = {to_global_id("Sku", s.id) for s in skus[::7]}
        for edge in edges:
            node = edge["node"]
            assert len(node["skus"]) == 3 and all(s["stock"] == 10 for s in node["skus"])
            for sku in node["skus"]:
                assert bool(sku["groupBuyOffers"]) == (sku["id"] in offered)
            assert len(node["groupBuyOffers"]) == sum(s["id"] in offered for s in node["skus"])
    # products, category, SKUs, stock, offers by product, offers by SKU: one each, any page size.
    assert len(set(counts.values())) == 1, counts
    assert counts[100] <= 7, counts


async def test_the_level_executor_answers_exactly_as_graphql_core(kernel_factory, graphql, monkeypatch):
    from core.gql.fast import FastQueries

    kernel = await kernel_factory(SHOP_WITH_GROUP_BUY)
    kernel.response_cache = None
    await make_catalog(kernel, 5)
    client = graphql(kernel)
    documents = [
        (STOREFRONT_WITH_OFFERS, {"first": 5}),
        ("query($f: Int!, $s: Boolean!) { products(first: $f) { edges { node { __typename t: title ...P skus @include(if: $s) { id } } } } }"
         " fragment P on Product { id skus { price { amount } } }", {"f": 3, "s": False}),
        ('{ p: node(id: "UHJvZHVjdDox") { __typename id ... on Product { title } } brand { slug } }', {}),
        ('{ product(id: "bad") { id } products(first: 2) { edges { node { title } } } }', {}),  # an error: falls back
        ("{ products(first: 101) { edges { cursor } } }", {}),
    ]
    for document, variables in documents:
        monkeypatch.setattr(FastQueries, "enabled", True)
        fast = await client.execute(document, variables)
        monkeypatch.setattr(FastQueries, "enabled", False)
        assert fast == await client.execute(document, variables), document
