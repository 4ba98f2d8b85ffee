"""The fast path answers byte for byte as graphql-core does, for every kind of caller.

The level executor (core/gql/fast*.py) and the batch loader (core/gql/loader.py) exist for
speed only: over HTTP, the storefront document and a handful of others must produce the
same response bytes with the fast path on and off — anonymous, signed in as a member, as
staff who see drafts — including documents with errors (the fast path gives up and
graphql-core answers) and fields masked by permissions.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import select

from components.catalog.models import Sku
from core.app import create_app
from core.gql.fast import FastQueries
from core.testing import member, staff

SHOP = """\
dougong: 1
brand: {slug: shop, name: Shop, currency: CNY, timezone: Asia/Shanghai}
components:
  inventory: {}
  group_buy: {}
"""

STOREFRONT = """query Storefront($first: Int!, $after: String) {
  products(first: $first, after: $after) {
    edges { cursor node { id title images category { id name }
      groupBuyOffers { id groupPrice { amountMinor currency } groupSize endsAt }
      skus { id title price { amountMinor currency amount } stock groupBuyOffers { id groupPrice { amountMinor currency } groupSize } } } }
    pageInfo { hasNextPage endCursor }
  }
}"""

DOCUMENTS = [
    (STOREFRONT, {"first": 6}),
    (STOREFRONT, {"first": 2, "after": "Yzoy"}),
    # a field only catalog managers may read, inside the page: masked (null + error) for others
    ("query { products(first: 4) { edges { node { title groupBuyOffers { id referrals { offerId } } } } } }", {}),
    # a draft asked for by id: null for shoppers, the product for staff
    ('query { p: product(id: "UHJvZHVjdDo3") { title status } products(first: 1) { edges { node { title } } } }', {}),
    ("query($n: Int!) { products(first: $n) { edges { node { __typename ... on Product { title } skus { stock } } } } }", {"n": 3}),
    ('query { product(id: "nope") { id } }', {}),  # a bad id: an error, graphql-core answers
]

# Shapes the compiled plans (core/gql/fast_plan.py) must get right: aliases of one field with
# other arguments, fragments on an interface, __typename at every level, a literal @skip, a
# second operation chosen by name, and @include with a variable (not compiled: the level
# executor answers it, for both values).
PLAN_DOCUMENTS = [
    ("{ a: products(first: 2) { edges { node { id t: title } } } b: products(first: 3) { pageInfo { hasNextPage endCursor } } }", {}, None),
    (
        "fragment Sku on Sku { id price { amount amountMinor currency } stock } "
        "query Other { brand { slug } } "
        "query Listing($first: Int!) { __typename products(first: $first) { edges { node { __typename ...on Node { id } "
        "title @skip(if: false) images @skip(if: true) skus { ...Sku __typename } } } } }",
        {"first": 4},
        "Listing",
    ),
    ('query { nodes(ids: ["UHJvZHVjdDox", "U2t1OjE="]) { __typename id ... on Product { title } ... on Sku { title stock } } }', {}, None),
    ("query($s: Boolean!) { products(first: 3) { edges { node { title skus @include(if: $s) { id } } } } }", {"s": True}, None),
    ("query($s: Boolean!) { products(first: 3) { edges { node { title skus @include(if: $s) { id } } } } }", {"s": False}, None),
]


@pytest.fixture
async def shop(kernel_factory):
    kernel = await kernel_factory(SHOP)
    kernel.response_cache = None  # every request executes
    catalog, inventory = kernel.service("catalog"), kernel.service("inventory")
    async with kernel.transaction() as tx:
        category = await catalog.create_category(tx, "Tea")
        for n in range(8):
            await catalog.create_product(
                tx, title=f"Tea {n}", category_id=category if n % 2 else None, status="draft" if n == 6 else "on_sale",
                skus=[{"title": f"{s}0g", "price_minor": 1000 * n + s} for s in range(1, 3)],
            )
        skus = (await tx.session.scalars(select(Sku).order_by(Sku.id))).all()
        for sku in skus:
            await inventory.set_stock(tx, sku.id, sku.id % 4)
        now = kernel.clock.now()
        for sku in skus[::5]:
            await kernel.service("group_buy").create_offer(
                tx, sku_id=sku.id, group_price_minor=sku.price_minor // 2, group_size=3,
                starts_at=now - timedelta(hours=1), ends_at=now + timedelta(days=3), total_limit=50,
            )
    return kernel


@pytest.mark.parametrize("who", ["anonymous", "member", "catalog manager"])
async def test_the_fast_path_answers_the_same_bytes_as_graphql_core(shop, monkeypatch, who):
    actor = None
    if who != "anonymous":
        async with shop.transaction() as tx:  # real accounts: a token is checked against the database
            members = shop.service("members")
            if who == "member":
                actor = member(await members.create_member(tx, phone="13800000001"))
            else:
                actor = staff(await members.create_staff(tx, name="Manager", roles=["admin"]), "admin")
    headers = {"authorization": f"Bearer {shop.issue_token(actor)}"} if actor else {}
    answered_fast = 0
    async with AsyncClient(transport=ASGITransport(app=create_app([shop], run_worker=False)), base_url="http://t") as http:
        for document, variables in DOCUMENTS:
            bodies = {}
            for fast in (True, False):
                monkeypatch.setattr(FastQueries, "enabled", fast)
                before = FastQueries.answered
                response = await http.post("/graphql", json={"query": document, "variables": variables}, headers=headers)
                answered_fast += FastQueries.answered - before
                bodies[fast] = (response.status_code, response.content)
            assert bodies[True] == bodies[False], (who, document)
            assert bodies[True][0] == 200
    # the storefront documents (and the error-free others) did take the fast path
    assert answered_fast >= 3


async def every_path(http: AsyncClient, body: dict, headers: dict, monkeypatch) -> tuple[list, int]:
    """One request through graphql-core, the plan compiled per request, and the kept plan
    twice (compiled, then reused): the four (status, bytes), and how many a kept plan answered."""
    bodies, kept = [], 0
    for enabled, compiled in ((False, False), (True, False), (True, True), (True, True)):
        monkeypatch.setattr(FastQueries, "enabled", enabled)
        monkeypatch.setattr(FastQueries, "compiled", compiled)
        before = FastQueries.planned
        response = await http.post("/graphql", json=body, headers=headers)
        kept += FastQueries.planned - before
        bodies.append((response.status_code, response.content))
    return bodies, kept


@pytest.mark.parametrize("who", ["anonymous", "member"])
async def test_compiled_plans_answer_the_same_bytes_as_the_level_executor_and_graphql_core(shop, monkeypatch, who):
    """Each document three ways — graphql-core, the level executor walking the document, the
    compiled plan (twice: compiled, then reused) — and the bodies are the same bytes."""
    headers = {}
    if who == "member":
        async with shop.transaction() as tx:
            headers = {"authorization": f"Bearer {shop.issue_token(member(await shop.service('members').create_member(tx, phone='13800000002')))}"}
    planned = 0
    async with AsyncClient(transport=ASGITransport(app=create_app([shop], run_worker=False)), base_url="http://t") as http:
        for document, variables, operation in [*((d, v, None) for d, v in DOCUMENTS), *PLAN_DOCUMENTS]:
            body = {"query": document, "variables": variables, **({"operationName": operation} if operation else {})}
            bodies, kept = await every_path(http, body, headers, monkeypatch)
            planned += kept
            assert bodies[0][0] == 200 and b'"data"' in bodies[0][1], bodies[0]
            assert bodies[1:] == [bodies[0]] * 3, (who, document, variables)
    # the two storefront pages, the draft, __typename, the aliases, the fragments and the nodes,
    # each twice; not the masked field, the bad id or @include($s)
    assert planned == 2 * 7


async def test_errors_and_masking_fall_back_to_graphql_core(shop, monkeypatch):
    """A masked field or a bad id: the fast path gives up, graphql-core answers with the error."""
    monkeypatch.setattr(FastQueries, "enabled", True)
    async with AsyncClient(transport=ASGITransport(app=create_app([shop], run_worker=False)), base_url="http://t") as http:
        before = FastQueries.answered
        masked = (await http.post("/graphql", json={"query": DOCUMENTS[2][0]})).json()
        bad = (await http.post("/graphql", json={"query": DOCUMENTS[5][0]})).json()
    assert FastQueries.answered == before, "neither may be answered by the fast path"
    assert masked["errors"] and bad["errors"][0]["extensions"]["code"] == "KERNEL_INVALID_ID"


async def test_the_demo_storefront_page_is_the_same_bytes_through_every_path(kernel_factory, monkeypatch):
    """bench/storefront_page.graphql on the demo blueprint: unions of blocks, every built-in
    block's fields, anonymous and signed in, through graphql-core, the plan compiled per
    request and the kept plan (answered by the kept plan)."""
    root = Path(__file__).resolve().parents[2]
    kernel = await kernel_factory((root / "blueprints" / "demo.yaml").read_text(encoding="utf-8"), seed_demo=True)
    kernel.response_cache = None
    async with kernel.transaction() as tx:
        token = kernel.issue_token(member(await kernel.service("members").create_member(tx, phone="13912345678")))
    body = {"query": (root / "bench" / "storefront_page.graphql").read_text(encoding="utf-8")}
    async with AsyncClient(transport=ASGITransport(app=create_app([kernel], run_worker=False)), base_url="http://t") as http:
        for headers in ({}, {"authorization": f"Bearer {token}"}):
            bodies, kept = await every_path(http, body, headers, monkeypatch)
            assert kept == 2  # compiled and kept, then reused
            assert bodies[0][0] == 200 and b'"blocks":[{' in bodies[0][1] and b'"errors"' not in bodies[0][1], bodies[0]
            assert bodies[1:] == [bodies[0]] * 3, headers
