"""Orders under concurrency and replay: nothing oversells, nothing is created twice."""

from __future__ import annotations

import asyncio

import pytest

from components.orders.models import Order
from core.testing import member

CREATE = """
mutation($sku: ID!, $key: String) {
  createOrder(input: {lines: [{skuId: $sku, quantity: 1}], idempotencyKey: $key}) {
    order { id status } userErrors { code field details }
  }
}"""


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_80_buyers_race_for_20_units(shop_factory, graphql, database):
    shop = await shop_factory(database=database, members=80, stock=20)
    clients = [graphql(shop.kernel, member(i + 1)) for i in range(80)]
    results = await asyncio.gather(*(c.mutate(CREATE, sku=shop.sku) for c in clients))
    won = [r for r in results if r["order"]]
    lost = [r for r in results if not r["order"]]
    assert len(won) == 20
    assert len(lost) == 60
    assert all(r["userErrors"][0]["code"] == "INVENTORY_OUT_OF_STOCK" for r in lost)
    assert all(r["userErrors"][0]["details"]["skuId"] == shop.sku for r in lost)
    assert await shop.available() == 0
    assert await shop.count(Order) == 20


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_replayed_create_order_returns_the_same_order(shop_factory, graphql, database):
    shop = await shop_factory(database=database)
    client = graphql(shop.kernel, member(1))
    first = await client.mutate(CREATE, sku=shop.sku, key="checkout-1")
    again = await client.mutate(CREATE, sku=shop.sku, key="checkout-1")
    assert first["order"]["id"] == again["order"]["id"]
    assert await shop.count(Order) == 1

    # Ten concurrent replays of a new key: still one order.
    burst = await asyncio.gather(*(client.mutate(CREATE, sku=shop.sku, key="checkout-2") for _ in range(10)))
    assert len({r["order"]["id"] for r in burst}) == 1
    assert await shop.count(Order) == 2
    assert await shop.available() == 48

    # The same key for a different request is refused, not silently answered.
    other = await client.mutate(
        'mutation($sku: ID!) { createOrder(input: {lines: [{skuId: $sku, quantity: 3}], idempotencyKey: "checkout-1"}) { order { id } userErrors { code } } }',
        sku=shop.sku,
    )
    assert other == {"order": None, "userErrors": [{"code": "KERNEL_IDEMPOTENCY_CONFLICT"}]}
    # Keys are per member: another member may use the same key.
    stranger = await graphql(shop.kernel, member(2)).mutate(CREATE, sku=shop.sku, key="checkout-1")
    assert stranger["order"]["id"] != first["order"]["id"]
