"""Catalog: the storefront page, staff mutations, visibility and bad input."""

from __future__ import annotations

import json
from pathlib import Path

from components.catalog.models import Product, Sku
from conftest import SHOP
from core.testing import member, staff

BENCH_DATA = Path(__file__).resolve().parents[3].parent / "shared" / "bench-data" / "catalog-50x3.json"

STOREFRONT = """
query($first: Int!) {
  products(first: $first) {
    edges { node { id title images category { name } skus { id title price { amountMinor currency } stock } } }
    pageInfo { hasNextPage endCursor }
  }
}"""

CREATE = """
mutation($input: CreateProductInput!) {
  createProduct(input: $input) { product { id title status skus { title price { amount } } } userErrors { code field message } }
}"""


async def make_catalog(kernel, products: int, skus_per_product: int = 3) -> None:
    async with kernel.transaction() as tx:
        category = await kernel.service("catalog").create_category(tx, "Tea")
        for p in range(products):
            await kernel.service("catalog").create_product(
                tx, title=f"Tea {p}", category_id=category,
                skus=[{"title": f"{s * 50}g", "price_minor": 1000 + s} for s in range(1, skus_per_product + 1)],
            )
        from sqlalchemy import select

        for sku_id in (await tx.session.scalars(select(Sku.id))).all():
            await kernel.service("inventory").set_stock(tx, sku_id, 10)


async def statements_for(kernel, client, first: int) -> int:
    before = kernel.db.statements
    data = await client.data(STOREFRONT, first=first)
    assert len(data["products"]["edges"]) == first
    assert all(len(e["node"]["skus"]) == 3 and e["node"]["skus"][0]["stock"] == 10 for e in data["products"]["edges"])
    return kernel.db.statements - before


async def test_storefront_runs_a_fixed_number_of_statements(kernel_factory, graphql):
    kernel = await kernel_factory(SHOP)
    await make_catalog(kernel, 60)
    client = graphql(kernel)
    small = await statements_for(kernel, client, 5)
    large = await statements_for(kernel, client, 50)
    page_of_fifty = await statements_for(kernel, client, 50)
    assert small == large == page_of_fifty
    assert large <= 6  # products, skus, stock, category (+ the session's BEGIN/ROLLBACK bookkeeping)


async def test_bench_catalog_shape_is_what_we_serve():
    """The shared 50×3 benchmark catalog loads into our model (bench/ uses it)."""
    if not BENCH_DATA.exists():
        import pytest

        pytest.skip(f"shared bench data not beside this checkout ({BENCH_DATA}); CI has it")
    data = json.loads(BENCH_DATA.read_text(encoding="utf-8"))
    products = data["products"] if isinstance(data, dict) else data
    assert len(products) == 50


async def test_staff_create_and_visibility(kernel_factory, graphql):
    kernel = await kernel_factory(SHOP)
    admin = graphql(kernel, staff(1, "admin"))
    draft = await admin.mutate(CREATE, input={"title": "白茶 White tea", "status": "DRAFT",
                                              "skus": [{"title": "100g", "price": {"amountMinor": 12800, "currency": "CNY"}}]})
    assert draft["userErrors"] == [] and draft["product"]["status"] == "DRAFT"
    assert draft["product"]["skus"] == [{"title": "100g", "price": {"amount": "128.00"}}]
    product_id = draft["product"]["id"]
    # Drafts are invisible to shoppers, by list and by id.
    assert (await graphql(kernel).data("{ products { edges { node { id } } } }"))["products"]["edges"] == []
    assert (await graphql(kernel, member(1)).data("query($id: ID!) { node(id: $id) { id } }", id=product_id))["node"] is None
    assert len((await admin.data("{ products { edges { node { id } } } }"))["products"]["edges"]) == 1
    on_sale = await admin.mutate('mutation($id: ID!) { updateProduct(input: {id: $id, status: ON_SALE}) { product { status } userErrors { code } } }', id=product_id)
    assert on_sale == {"product": {"status": "ON_SALE"}, "userErrors": []}
    found = await graphql(kernel).data('{ products(filter: {search: "white"}) { edges { node { title } } } }')
    assert found["products"]["edges"] == [{"node": {"title": "白茶 White tea"}}]


async def test_only_staff_with_permission_change_the_catalog(kernel_factory, graphql):
    kernel = await kernel_factory(SHOP)
    product = {"title": "x", "skus": [{"title": "s", "price": {"amountMinor": 1, "currency": "CNY"}}]}
    assert (await graphql(kernel).mutate(CREATE, input=product))["userErrors"][0]["code"] == "KERNEL_UNAUTHENTICATED"
    assert (await graphql(kernel, member(1)).mutate(CREATE, input=product))["userErrors"][0]["code"] == "KERNEL_FORBIDDEN"
    assert (await graphql(kernel, staff(2, "store_clerk", stores=(1,))).mutate(CREATE, input=product))["userErrors"][0]["code"] == "KERNEL_FORBIDDEN"
    async with kernel.db.read() as session:
        from sqlalchemy import func, select

        assert await session.scalar(select(func.count()).select_from(Product)) == 0


async def test_bad_input_gets_typed_errors_and_writes_nothing(kernel_factory, graphql):
    kernel = await kernel_factory(SHOP)
    admin = graphql(kernel, staff(1, "admin"))
    price = {"amountMinor": 100, "currency": "CNY"}
    cases = [
        ({"title": "  ", "skus": [{"title": "a", "price": price}]}, "CATALOG_INVALID_TITLE", "input.title"),
        ({"title": "t", "skus": []}, "CATALOG_NO_SKU", "input.skus"),
        ({"title": "t", "skus": [{"title": "a", "price": {"amountMinor": -1, "currency": "CNY"}}]}, "KERNEL_INVALID_INPUT", "input.skus[0].price"),
        ({"title": "t", "skus": [{"title": "a", "price": {"amountMinor": 100, "currency": "USD"}}]}, "KERNEL_INVALID_INPUT", "input.skus[0].price"),
        ({"title": "t", "skus": [{"title": "a", "price": {"amountMinor": 10**15, "currency": "CNY"}}]}, "KERNEL_INVALID_INPUT", "input.skus[0].price"),
        ({"title": "t", "categoryId": "Q2F0ZWdvcnk6OTk", "skus": [{"title": "a", "price": price}]}, "CATALOG_UNKNOWN_CATEGORY", "input.categoryId"),
        ({"title": "t", "categoryId": "garbage", "skus": [{"title": "a", "price": price}]}, "KERNEL_INVALID_ID", "input.categoryId"),
        ({"title": "t", "skus": [{"title": "a", "price": price, "spec": ["not", "a", "map"]}]}, "CATALOG_INVALID_SPEC", "input.skus[0].spec"),
    ]
    for product, code, field in cases:
        payload = await admin.mutate(CREATE, input=product)
        assert payload["product"] is None
        assert (payload["userErrors"][0]["code"], payload["userErrors"][0]["field"]) == (code, field), product
    async with kernel.db.read() as session:
        from sqlalchemy import func, select

        assert await session.scalar(select(func.count()).select_from(Product)) == 0
        assert await session.scalar(select(func.count()).select_from(Sku)) == 0
    too_many = await graphql(kernel).execute("{ products(first: 101) { edges { node { id } } } }")
    assert too_many["errors"][0]["extensions"]["code"] == "KERNEL_INVALID_INPUT"


async def test_category_tree_and_filter(kernel_factory, graphql):
    kernel = await kernel_factory(SHOP, seed_demo=True)
    client = graphql(kernel)
    tree = await client.data("{ categories { id name children { id name } } }")
    tea = next(c for c in tree["categories"] if c["name"].startswith("茶"))
    assert {c["name"] for c in tea["children"]} >= {"绿茶 Green tea", "普洱 Pu'er"}
    teas = await client.data("query($c: ID!) { products(filter: {categoryId: $c}) { edges { node { title } } } }", c=tea["id"])
    assert len(teas["products"]["edges"]) == 3  # the subtree's products, not only the parent's own
