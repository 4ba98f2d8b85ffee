"""The pickup window: a durable timer, across a restart — refund and cancel, or keep open."""

from __future__ import annotations

from sqlalchemy import select
from store_pickup_helpers import CHECKOUT, CONFIRM, MY, RESULTS, boot, pay

from components.store_pickup.models import Pickup
from core.testing import member, staff

ORDER = "query($id: ID!) { order(id: $id) { status refunded { amountMinor } } }"


async def _paid(ps, graphql, slot=None):
    alice = graphql(ps.kernel, member(1))
    input = {"lines": [{"skuId": ps.shop.sku, "quantity": 1}], "storeId": ps.store_ids[0]}
    if slot:
        input["slotId"] = slot
    checkout = await alice.mutate(CHECKOUT, input=input)
    await pay(alice, checkout["order"]["id"])
    return (await alice.data(MY))["myPickups"]["nodes"][0], checkout["order"]["id"]


async def test_uncollected_pickup_is_refunded_after_the_window_across_a_restart(kernel_factory, graphql, clock, tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'pickup.sqlite'}"
    ps = await boot(kernel_factory, database=url, settings="{pickup_window: 2d, on_expiry: refund}")
    slot = (await ps.slots(ps.stores[0], hours_from_now=5))[0]
    pickup, order_id = await _paid(ps, graphql, slot)
    assert await ps.shop.available() == 49
    await ps.kernel.stop()

    from store_pickup_helpers import BLUEPRINT, INSTALLED

    kernel = await kernel_factory(BLUEPRINT % "{pickup_window: 2d, on_expiry: refund}", database=url, installed=INSTALLED)
    clock.advance(days=2, hours=1)  # the window runs from the end of the slot (now + 6h): not yet
    await kernel.run_due()
    assert (await graphql(kernel, member(1)).data(ORDER, id=order_id))["order"]["status"] == "PAID"
    clock.advance(hours=6)
    assert await kernel.run_due() == 1
    assert (await graphql(kernel, member(1)).data(ORDER, id=order_id))["order"] == {"status": "REFUNDED", "refunded": {"amountMinor": 10000}}
    mine = (await graphql(kernel, member(1)).data(MY))["myPickups"]["nodes"][0]
    assert mine["state"] == "EXPIRED" and mine["code"] is None
    here = ps.stores[0]
    clerk = graphql(kernel, staff(ps.clerks[here], "store_clerk", stores=(here,)))
    body = await clerk.mutate(CONFIRM, input={"storeId": ps.store_ids[0], "code": pickup["code"]})
    assert body["userErrors"][0]["code"] == "STORE_PICKUP_EXPIRED"
    async with kernel.db.read() as session:
        assert await kernel.service("inventory").available(session, [ps.shop.sku_id]) == {ps.shop.sku_id: 50}
    assert await kernel.run_due() == 0  # ran once


async def test_keep_open_marks_overdue_and_still_hands_over(kernel_factory, graphql, clock):
    ps = await boot(kernel_factory, settings="{pickup_window: 1d, on_expiry: keep}")
    pickup, order_id = await _paid(ps, graphql)
    clock.advance(days=1, seconds=1)
    assert await ps.kernel.run_due() == 1
    mine = (await graphql(ps.kernel, member(1)).data(MY))["myPickups"]["nodes"][0]
    assert mine["state"] == "AWAITING_PICKUP" and mine["overdue"] is True and mine["code"] == pickup["code"]
    here = ps.stores[0]
    clerk = graphql(ps.kernel, staff(ps.clerks[here], "store_clerk", stores=(here,)))
    body = await clerk.mutate(CONFIRM, input={"storeId": ps.store_ids[0], "code": pickup["code"]})
    assert body["userErrors"] == [] and body["order"]["status"] == "COMPLETED"
    assert (await clerk.data(RESULTS, id=ps.store_ids[0]))["pickupStore"]["results"]["pickedUp"] == 1


async def test_collected_pickup_cancels_its_timer(kernel_factory, graphql, clock):
    ps = await boot(kernel_factory)
    pickup, order_id = await _paid(ps, graphql)
    here = ps.stores[0]
    clerk = graphql(ps.kernel, staff(ps.clerks[here], "store_clerk", stores=(here,)))
    assert (await clerk.mutate(CONFIRM, input={"storeId": ps.store_ids[0], "code": pickup["code"]}))["userErrors"] == []
    clock.advance(days=10)
    assert await ps.kernel.run_due() == 0
    async with ps.kernel.db.read() as session:
        assert (await session.scalar(select(Pickup.state))) == "picked_up"
