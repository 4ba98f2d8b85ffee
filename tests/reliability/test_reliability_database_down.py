"""PostgreSQL stops under a running app, then comes back.

While it is down every request fails cleanly — a GraphQL error with the code
``KERNEL_DATABASE_UNAVAILABLE`` and no SQL, driver text or traceback — and ``/healthz`` answers
503 naming the database. Once it is back the same app (no restart) serves reads and writes.
The test runs its own PostgreSQL server: stopping the session's shared one would break others.
"""

from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy import func, select

from components.catalog.models import Sku
from components.orders.models import Order
from core.app import create_app
from core.gql.relay import to_global_id
from core.testing import PostgresServer, member, running

BLUEPRINT = """\
dougong: 1
brand: {slug: outage, name: Outage, currency: CNY, timezone: Asia/Shanghai}
components:
  orders: {}
"""

PRODUCTS = "{ products(first: 5) { edges { node { id title } } } }"
CREATE = """mutation($sku: ID!) { createOrder(input: {lines: [{skuId: $sku, quantity: 1}]}) {
  order { id status } userErrors { code } } }"""
# Words that would mean internals reached the client.
LEAKS = ("select", "insert", "update ", "traceback", "asyncpg", "sqlalchemy", "connection refused", "errno", "5432", "file \"")


@pytest.fixture
def own_postgres():
    with running(PostgresServer(), "PostgreSQL") as server:
        yield server


def assert_clean_outage(response: httpx.Response) -> None:
    assert response.status_code in (200, 503), response.text
    text = response.text.lower()
    assert not any(word in text for word in LEAKS), response.text
    body = response.json()
    assert body.get("data") in (None, {}) or all(v is None for v in body["data"].values()), body
    codes = {e.get("extensions", {}).get("code") for e in body["errors"]}
    assert codes == {"KERNEL_DATABASE_UNAVAILABLE"}, body


async def test_postgres_stopped_mid_run_fails_cleanly_and_recovers_without_restart(own_postgres, kernel_factory):
    kernel = await kernel_factory(BLUEPRINT, database=own_postgres.create_database())
    async with kernel.transaction() as tx:
        await kernel.service("members").create_member(tx, phone="13900000001", nickname="m1")
        product = await kernel.service("catalog").create_product(tx, title="Longjing", skus=[{"title": "50g", "price_minor": 1000}])
        sku_id = await tx.session.scalar(select(Sku.id).where(Sku.product_id == product))
        await kernel.service("inventory").set_stock(tx, sku_id, 10)
    sku = to_global_id("Sku", sku_id)
    token = kernel.issue_token(member(1))
    app = create_app([kernel], run_worker=False)
    headers = {"authorization": f"Bearer {token}"}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        async def gql(query: str, **variables) -> httpx.Response:  # noqa: ANN003
            return await http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)

        # Up: a read, a write and a healthy check; the pool now holds live connections.
        assert (await gql(PRODUCTS)).json()["data"]["products"]["edges"]
        first = (await gql(CREATE, sku=sku)).json()["data"]["createOrder"]
        assert first["userErrors"] == [] and first["order"]["status"] == "PENDING_PAYMENT"
        assert (await http.get("/healthz")).status_code == 200

        own_postgres.pause()

        # Down: the pooled connections are dead and new ones are refused.
        for _ in range(2):  # twice: the first attempt finds the stale pool, the second a refused connect
            assert_clean_outage(await gql(PRODUCTS))
            assert_clean_outage(await gql(CREATE, sku=sku))
        health = await http.get("/healthz")
        assert health.status_code == 503
        assert health.json()["brands"]["outage"]["database"] == "unavailable"
        assert health.json()["status"] == "degraded"
        assert "error" in health.json()["brands"]["outage"]

        assert own_postgres.resume() == ""

        # Back: the same app, no restart, serves reads and writes again.
        assert (await http.get("/healthz")).status_code == 200
        assert (await gql(PRODUCTS)).json()["data"]["products"]["edges"]
        again = (await gql(CREATE, sku=sku)).json()
        assert again.get("errors") is None and again["data"]["createOrder"]["userErrors"] == [], json.dumps(again)

    # The failed writes left nothing behind: two orders, both from when the database was up.
    async with kernel.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Order)) == 2
