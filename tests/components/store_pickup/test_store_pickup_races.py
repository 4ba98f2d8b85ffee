"""Concurrency: a slot's capacity under 30 simultaneous checkouts; two clerks confirming at once."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select
from store_pickup_helpers import CHECKOUT, CONFIRM, MY, boot, pay

from components.orders.models import Order
from components.store_pickup.models import Pickup, Slot
from core.testing import member, staff


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_thirty_members_race_for_a_slot_of_ten(kernel_factory, graphql, database):
    ps = await boot(kernel_factory, database=database, members=30, stock=100)
    slot = (await ps.slots(ps.stores[0], capacity=10))[0]
    clients = [graphql(ps.kernel, member(i)) for i in range(1, 31)]

    async def checkout(client):
        return await client.mutate(CHECKOUT, input={"lines": [{"skuId": ps.shop.sku, "quantity": 1}],
                                                     "storeId": ps.store_ids[0], "slotId": slot})

    results = await asyncio.gather(*(checkout(c) for c in clients))
    won = [r for r in results if not r["userErrors"]]
    lost = [r for r in results if r["userErrors"]]
    assert len(won) == 10 and len(lost) == 20
    assert {e["code"] for r in lost for e in r["userErrors"]} == {"STORE_PICKUP_SLOT_FULL"}
    async with ps.kernel.db.read() as session:
        assert (await session.scalar(select(Slot.taken).where(Slot.id.isnot(None)))) == 10
        assert len((await session.scalars(select(Pickup.id))).all()) == 10
        assert len((await session.scalars(select(Order.id))).all()) == 10  # losers left no order behind
    assert await ps.shop.available() == 90  # and no stock held


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_two_clerks_confirm_the_same_pickup_once(kernel_factory, graphql, database):
    ps = await boot(kernel_factory, database=database)
    here = ps.stores[0]
    async with ps.kernel.transaction() as tx:
        second = await ps.kernel.service("members").create_staff(tx, name="c2", roles=("store_clerk",), store_ids=(here,))
    alice = graphql(ps.kernel, member(1))
    checkout = await alice.mutate(CHECKOUT, input={"lines": [{"skuId": ps.shop.sku, "quantity": 1}], "storeId": ps.store_ids[0]})
    await pay(alice, checkout["order"]["id"])
    code = (await alice.data(MY))["myPickups"]["nodes"][0]["code"]
    clerks = [graphql(ps.kernel, staff(s, "store_clerk", stores=(here,))) for s in (ps.clerks[here], second)]
    results = await asyncio.gather(*(c.mutate(CONFIRM, input={"storeId": ps.store_ids[0], "code": code}) for c in clerks * 3))
    assert sum(1 for r in results if not r["userErrors"]) == 1
    assert {r["userErrors"][0]["code"] for r in results if r["userErrors"]} == {"STORE_PICKUP_ALREADY_PICKED_UP"}
    async with ps.kernel.db.read() as session:
        assert (await session.scalar(select(Order.status))) == "completed"


PLACE = """mutation($c: CheckoutInput!) { placeOrder(input: {checkout: $c}) {
  order { id deliveryType storeId } userErrors { code field } } }"""
PREVIEW_CHECKOUT = """query($c: CheckoutInput!) { previewCheckout(input: $c) { preview { total { amountMinor }
  deliveryOptions { type component stores { id slots { id remaining } } } needs { component field } } userErrors { code } } }"""


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_thirty_place_orders_race_for_a_slot_of_ten_and_the_stores_own_stock(kernel_factory, graphql, database):
    """The same rules through the one checkout (placeOrder with its pickup field) as through
    checkoutPickup: the slot holds 10, and with per-store stock the store's shelf is what sells."""
    ps = await boot(kernel_factory, database=database, members=30, stock=100, settings="{stock: per_store}")
    async with ps.kernel.transaction() as tx:
        await ps.kernel.service("inventory").set_stock(tx, ps.shop.sku_id, 12, location_id=ps.stores[0])
    slot = (await ps.slots(ps.stores[0], capacity=10))[0]
    checkout = {"lines": [{"skuId": ps.shop.sku, "quantity": 1}], "deliveryType": "PICKUP",
                "pickup": {"storeId": ps.store_ids[0], "slotId": slot}}
    preview = await graphql(ps.kernel, member(1)).data(PREVIEW_CHECKOUT, c={**checkout, "pickup": {"storeId": ps.store_ids[0]}})
    option = next(o for o in preview["previewCheckout"]["preview"]["deliveryOptions"] if o["type"] == "PICKUP")
    assert option["component"] == "store_pickup" and option["stores"][0]["id"] == ps.store_ids[0]
    assert option["stores"][0]["slots"] == [{"id": slot, "remaining": 10}]

    results = await asyncio.gather(*(graphql(ps.kernel, member(i)).mutate(PLACE, c=checkout) for i in range(1, 31)))
    won = [r for r in results if not r["userErrors"]]
    lost = [r for r in results if r["userErrors"]]
    assert len(won) == 10 and {e["code"] for r in lost for e in r["userErrors"]} == {"STORE_PICKUP_SLOT_FULL"}
    assert {(r["order"]["deliveryType"], r["order"]["storeId"]) for r in won} == {("PICKUP", ps.stores[0])}
    async with ps.kernel.db.read() as session:
        assert len((await session.scalars(select(Pickup.id))).all()) == 10
        assert len((await session.scalars(select(Order.id))).all()) == 10
        store_stock = await ps.kernel.service("inventory").available(session, [ps.shop.sku_id], location_id=ps.stores[0])
    assert store_stock[ps.shop.sku_id] == 2  # the store's own shelf: 12 - 10
    assert await ps.shop.available() == 100  # the central warehouse was not touched

    # A shipping order cannot be routed to a store; a closed store takes no pickup orders.
    routed = await graphql(ps.kernel, member(1)).mutate(PLACE, c={**checkout, "deliveryType": "SHIPPING"})
    assert routed["userErrors"] == [{"code": "ORDERS_STORE_NOT_ALLOWED", "field": "input.pickup"}]
