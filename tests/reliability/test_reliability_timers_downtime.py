"""Timers due while nothing was running: an auction's end, a group-buy deadline, an order's
payment timeout and a pickup window all pass while the kernel is stopped. After the restart —
with two workers on the same database, as with two server processes — each fires exactly
once: the lot is sold with one order, the lonely group fails and its leader is refunded once,
the unpaid order is cancelled and its stock released once, the pickup expires and is refunded
once; a further tick runs nothing and changes nothing."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from components.bidding_sale.models import Bid, Lot, LotOrder
from components.catalog.models import Sku
from components.group_buy.models import Group
from components.inventory.models import Reservation
from components.orders.models import Order, Payment, Refund
from components.store_pickup.models import Pickup
from core.gql.relay import to_global_id
from core.models import EventRow, TimerRow
from core.testing import member

BLUEPRINT = """\
dougong: 1
brand: {slug: timers, name: Timers, currency: CNY, timezone: Asia/Shanghai}
components:
  orders: {payment_timeout: 30m}
  group_buy: {}
  bidding_sale: {payment_due: 24h}
  store_pickup: {pickup_window: 2d, on_expiry: refund}
"""
HOURS = {d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}

BID = """mutation($lot: ID!) { placeBid(input: {lotId: $lot, amount: {amountMinor: 10000, currency: "CNY"}}) {
  leading userErrors { code } } }"""
OPEN = "mutation($offer: ID!) { openGroup(input: {offerId: $offer}) { group { id } order { id } userErrors { code } } }"
CREATE = """mutation($sku: ID!) { createOrder(input: {lines: [{skuId: $sku, quantity: 1}]}) { order { id } userErrors { code } } }"""
CHECKOUT = """mutation($input: CheckoutPickupInput!) { checkoutPickup(input: $input) { order { id } userErrors { code field } } }"""
PAY = 'mutation($id: ID!) { payOrder(input: {orderId: $id}) { payment { id } userErrors { code } } }'
SETTLE = 'mutation($id: ID!) { sandboxSettlePayment(input: {paymentId: $id}) { order { status } userErrors { code } } }'


async def pay(client, order_id: str) -> None:  # noqa: ANN001
    payment = await client.mutate(PAY, id=order_id)
    assert payment["userErrors"] == [], payment
    settled = await client.mutate(SETTLE, id=payment["payment"]["id"])
    assert settled["userErrors"] == [] and settled["order"]["status"] == "PAID", settled


def pk(global_id: str) -> int:
    from core.gql.relay import from_global_id

    return int(from_global_id(global_id)[1])


async def snapshot(kernel) -> dict[str, object]:  # noqa: ANN001
    """Everything a timer could change: equal before and after a tick means it did nothing."""
    async with kernel.db.read() as session:
        found: dict[str, object] = {}
        for model in (Order, Payment, Refund, Reservation, EventRow, LotOrder, Bid):
            found[model.__tablename__] = int(await session.scalar(select(func.count()).select_from(model)))
        found["orders"] = sorted((await session.execute(select(Order.id, Order.status, Order.refunded_minor))).all())
        found["timers"] = sorted((await session.execute(select(TimerRow.job, TimerRow.key, TimerRow.state, TimerRow.attempts))).all())
        found["reservations"] = sorted((await session.execute(select(Reservation.id, Reservation.state, Reservation.returned_quantity))).all())
        found["groups"] = sorted((await session.execute(select(Group.id, Group.status, Group.paid_seats))).all())
        found["pickups"] = sorted((await session.execute(select(Pickup.id, Pickup.state))).all())
        found["lots"] = sorted((await session.execute(select(Lot.id, Lot.status))).all())
    return found


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_timers_due_during_downtime_fire_once_after_restart(kernel_factory, graphql, clock, tmp_path, request, database):
    if database == "postgresql":
        url = request.getfixturevalue("postgres_server").create_database()
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'timers.sqlite'}"
    kernel = await kernel_factory(BLUEPRINT, database=url)
    now = clock.now()
    async with kernel.transaction() as tx:
        for i in range(4):
            await kernel.service("members").create_member(tx, phone=f"1390000{i:04d}", nickname=f"m{i + 1}")
        tea = await kernel.service("catalog").create_product(tx, title="Longjing", skus=[{"title": "50g", "price_minor": 1000}])
        jade = await kernel.service("catalog").create_product(tx, title="Jade", skus=[{"title": "one", "price_minor": 99000}])
        tea_sku = await tx.session.scalar(select(Sku.id).where(Sku.product_id == tea))
        jade_sku = await tx.session.scalar(select(Sku.id).where(Sku.product_id == jade))
        await kernel.service("inventory").set_stock(tx, tea_sku, 50)
        await kernel.service("inventory").set_stock(tx, jade_sku, 1)
        lot = await kernel.service("bidding_sale").create_lot(
            tx, sku_id=jade_sku, start_price=10000, increments=[(0, 100)], starts_at=now - timedelta(minutes=1),
            ends_at=now + timedelta(hours=1))
        offer = await kernel.service("group_buy").create_offer(
            tx, sku_id=tea_sku, group_price_minor=700, group_size=3, starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(days=7), total_limit=30, duration=timedelta(hours=24))
        store = await kernel.service("store_pickup").create_store(tx, name="Jing'an", latitude=31.2235, longitude=121.4453, hours=HOURS)

    # Member 1 bids on the lot (ends in 1 h); member 2 opens and pays a group (deadline 24 h);
    # member 3 orders and never pays (timeout 30 min); member 4 pays a pickup and never comes (2 d).
    m1, m2, m3, m4 = (graphql(kernel, member(i)) for i in (1, 2, 3, 4))
    assert (await m1.mutate(BID, lot=to_global_id("AuctionLot", lot)))["leading"] is True
    opened = await m2.mutate(OPEN, offer=to_global_id("GroupBuyOffer", offer))
    assert opened["userErrors"] == [], opened
    await pay(m2, opened["order"]["id"])
    unpaid = (await m3.mutate(CREATE, sku=to_global_id("Sku", tea_sku)))["order"]["id"]
    pickup = await m4.mutate(CHECKOUT, input={"lines": [{"skuId": to_global_id("Sku", tea_sku), "quantity": 1}],
                                              "storeId": to_global_id("PickupStore", store)})
    assert pickup["userErrors"] == [], pickup
    await pay(m4, pickup["order"]["id"])

    keys = {("bidding_sale.close", str(lot)), ("group_buy.expire", str(pk(opened["group"]["id"]))),
            ("orders.payment_timeout", str(pk(unpaid)))}
    async with kernel.db.read() as session:
        pending = set((await session.execute(select(TimerRow.job, TimerRow.key).where(TimerRow.state == "pending"))).all())
    # The pickup window's end, and the reminder a day before it (both due during the downtime).
    pickup_timers = {t for t in pending if t[0].startswith("store_pickup.")}
    assert sorted(job for job, _ in pickup_timers) == ["store_pickup.expire", "store_pickup.remind_expiry"]
    keys |= pickup_timers
    assert keys <= pending, (keys, pending)
    assert await kernel.run_due() == 0  # nothing is due yet
    await kernel.stop()

    clock.advance(days=3)  # every deadline passes while no worker runs

    # Two workers restart on the same database and tick at the same moment.
    first = await kernel_factory(BLUEPRINT, database=url)
    second = await kernel_factory(BLUEPRINT, database=url)
    ran = await asyncio.gather(first.run_due(), second.run_due())
    assert sum(ran) == len(keys), ran

    async with first.db.read() as session:
        states = dict(((j, k), (s, a)) for j, k, s, a in (await session.execute(
            select(TimerRow.job, TimerRow.key, TimerRow.state, TimerRow.attempts))).all())
        assert all(states[key] == ("done", 0) for key in keys), states
        assert (await session.get(Lot, lot)).status == "sold"
        assert await session.scalar(select(func.count()).select_from(LotOrder).where(LotOrder.lot_id == lot)) == 1
        won = await session.get(Order, await session.scalar(select(LotOrder.order_id).where(LotOrder.lot_id == lot)))
        assert won.member_id == 1 and won.total_minor == 10000
        assert (await session.get(Group, pk(opened["group"]["id"]))).status == "failed"
        leader_order = await session.get(Order, pk(opened["order"]["id"]))
        assert (leader_order.status, leader_order.refunded_minor) == ("refunded", 700)
        assert await session.scalar(select(func.count()).select_from(Refund).where(Refund.order_id == leader_order.id)) == 1
        cancelled = await session.get(Order, pk(unpaid))
        assert (cancelled.status, cancelled.cancel_reason) == ("cancelled", "payment_timeout")
        assert (await session.scalar(select(Pickup.state))) == "expired"
        pickup_order = await session.get(Order, pk(pickup["order"]["id"]))
        assert (pickup_order.status, pickup_order.refunded_minor) == ("refunded", 1000)
        assert await session.scalar(select(func.count()).select_from(Refund).where(Refund.order_id == pickup_order.id)) == 1
        # All tea is back: the unpaid order released its units, the refunds returned theirs.
        assert (await first.service("inventory").available(session, [tea_sku])) == {tea_sku: 50}

    # The winner's payment deadline (24 h after the close) is the only timer left pending.
    async with first.db.read() as session:
        left = (await session.execute(select(TimerRow.job, TimerRow.key, TimerRow.due_at).where(TimerRow.state == "pending"))).all()
    assert [(job, int(key)) for job, key, _due in left] == [("orders.payment_timeout", won.id)]
    before = await snapshot(first)
    assert await first.run_due() == 0
    assert await second.run_due() == 0
    assert await snapshot(second) == before
