"""Concurrency: a slot's capacity under 30 simultaneous checkouts; two clerks confirming at once."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from components.orders.models import Order
from components.store_pickup.models import Pickup, Slot
from core.testing import member, staff
from store_pickup_helpers import CHECKOUT, CONFIRM, MY, boot, pay


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
