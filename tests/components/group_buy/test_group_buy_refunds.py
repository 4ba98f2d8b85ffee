"""A group member refunded while the group forms gives the seat back, and the deadline's expiry
still refunds everyone else (it once failed on the refunded order and gave up)."""

from __future__ import annotations

import pytest
from group_buy_helpers import GROUP, JOIN, OPEN, ORDER, pay, start

from core.testing import member, staff

REFUND = 'mutation($id: ID!) { refundOrder(input: {orderId: $id}) { order { status } userErrors { code } } }'


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_a_refunded_member_frees_the_seat_and_the_expiry_refunds_the_rest(kernel_factory, graphql, clock, database):
    s = await start(kernel_factory, graphql, clock, size=3, database=database)
    leader, second, third = (graphql(s.kernel, member(i)) for i in (1, 2, 3))
    admin = graphql(s.kernel, staff(1, "admin"))
    opened = await leader.mutate(OPEN, offer=s.offer)
    await pay(leader, opened["order"]["id"])
    code, group = opened["group"]["shareCode"], opened["group"]["id"]
    joined = await second.mutate(JOIN, code=code)
    await pay(second, joined["order"]["id"])
    assert (await leader.data(GROUP, id=group))["groupBuyGroup"]["seatsFilled"] == 2

    # Staff refund the second member: the seat is free again, the group is one short.
    assert (await admin.mutate(REFUND, id=joined["order"]["id"]))["order"]["status"] == "REFUNDED"
    state = (await leader.data(GROUP, id=group))["groupBuyGroup"]
    assert (state["status"], state["seatsFilled"], state["seatsLeft"]) == ("FORMING", 1, 2)
    # A third member takes that seat; the group still needs one more.
    late = await third.mutate(JOIN, code=code)
    await pay(third, late["order"]["id"])
    assert (await leader.data(GROUP, id=group))["groupBuyGroup"]["seatsFilled"] == 2

    # The deadline passes: the group fails, the two seated members are refunded, the timer
    # runs once and does not trip over the order refunded before.
    clock.advance(hours=24, seconds=1)
    await s.kernel.run_due()
    assert (await leader.data(GROUP, id=group))["groupBuyGroup"]["status"] == "FAILED"
    for client, order in ((leader, opened), (third, late), (second, joined)):
        assert (await client.data(ORDER, id=order["order"]["id"]))["order"]["status"] == "REFUNDED"
    assert await s.kernel.pending_timers() == 0 or await s.kernel.run_due() == 0


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_a_staff_refund_racing_the_expiry_ends_consistent(kernel_factory, graphql, clock, database):
    import asyncio

    from sqlalchemy import func, select

    from components.orders.models import Refund
    from core.models import TimerRow

    s = await start(kernel_factory, graphql, clock, size=3, database=database)
    leader, second = graphql(s.kernel, member(1)), graphql(s.kernel, member(2))
    admin = graphql(s.kernel, staff(1, "admin"))
    opened = await leader.mutate(OPEN, offer=s.offer)
    await pay(leader, opened["order"]["id"])
    joined = await second.mutate(JOIN, code=opened["group"]["shareCode"])
    await pay(second, joined["order"]["id"])
    clock.advance(hours=24, seconds=1)
    _ran, refund = await asyncio.gather(s.kernel.run_due(), admin.mutate(REFUND, id=joined["order"]["id"]))
    if refund["userErrors"]:  # the expiry came first and refunded it
        assert refund["userErrors"] == [{"code": "ORDERS_ILLEGAL_TRANSITION"}]
    await s.kernel.run_due()
    assert (await leader.data(GROUP, id=opened["group"]["id"]))["groupBuyGroup"]["status"] == "FAILED"
    async with s.kernel.db.read() as session:
        refunds = dict((await session.execute(select(Refund.order_id, func.count()).group_by(Refund.order_id))).all())
        failed = await session.scalar(select(func.count()).select_from(TimerRow).where(TimerRow.state == "failed"))
    assert sorted(refunds.values()) == [1, 1] and failed == 0  # each paid order refunded once, no timer gave up
