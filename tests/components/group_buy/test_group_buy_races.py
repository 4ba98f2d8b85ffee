"""The last seats raced: 20 payments settle at the same moment for the last 2 seats of a group.
Exactly 2 take seats; the 48 others are refunded in full (or, with `late_payment:
open_new_group`, each leads a new group) — on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
from group_buy_helpers import GROUP, JOIN, OPEN, SETTLE, pay, start
from sqlalchemy import func, select

from components.group_buy.models import Group, Membership
from components.orders.models import Order
from core.testing import member


@pytest.mark.parametrize("late", ["refund", "open_new_group"])
@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_twenty_payments_race_for_the_last_two_seats(kernel_factory, graphql, clock, database, late):
    s = await start(kernel_factory, graphql, clock, settings=f"{{late_payment: {late}, hold_seats_for_unpaid_joins: false}}", size=4, members=23, total=60,
                    stock=60, database=database)
    kernel = s.kernel
    leader, second = graphql(kernel, member(1)), graphql(kernel, member(2))
    opened = await leader.mutate(OPEN, offer=s.offer)
    await pay(leader, opened["order"]["id"])
    joined = await second.mutate(JOIN, code=opened["group"]["shareCode"])
    await pay(second, joined["order"]["id"])
    # 20 more members join and start paying (set up through the services, in one transaction:
    # the race under test is the settlement below, over real concurrent HTTP requests).
    racers = [graphql(kernel, member(i)) for i in range(3, 23)]
    payments = []
    async with kernel.transaction() as tx:
        for i in range(3, 23):
            _group, order_id = await kernel.service("group_buy").join_group(tx, share_code=opened["group"]["shareCode"], member_id=i)
            payments.append(str((await kernel.service("orders").start_payment(tx, order_id, "sandbox")).id))

    results = await asyncio.gather(*(r.mutate(SETTLE, id=p) for r, p in zip(racers, payments)))

    statuses = [r["order"]["status"] for r in results]
    if late == "refund":
        # A payment that lost the race is refunded at once; one arriving after the group formed
        # finds its order cancelled (the group cancels its unpaid joins) and says why.
        for result in results:
            assert (result["order"]["status"], result["userErrors"]) in (
                ("PAID", []), ("REFUNDED", []), ("CANCELLED", [{"code": "ORDERS_NOT_PAYABLE"}])), result
    else:
        assert all(r["userErrors"] == [] for r in results)  # a lost race is not the payer's error
    group = (await graphql(kernel).data(GROUP, id=opened["group"]["id"]))["groupBuyGroup"]
    assert group == {**group, "status": "SUCCEEDED", "seatsFilled": 4, "seatsLeft": 0}
    async with kernel.db.read() as session:
        first_group = await session.scalar(select(func.count()).select_from(Membership).where(
            Membership.group_id == int(_pk(opened["group"]["id"])), Membership.state == "seated"))
        paid = await session.scalar(select(func.count()).select_from(Order).where(Order.kind == "group_buy", Order.status == "paid"))
        new_groups = (await session.scalars(select(Group).where(Group.id != int(_pk(opened["group"]["id"]))))).all()
        oversubscribed = await session.scalar(select(func.count()).select_from(Group).where(Group.paid_seats > Group.size))
    assert first_group == 4 and oversubscribed == 0
    if late == "refund":
        assert statuses.count("PAID") == 2 and statuses.count("REFUNDED") + statuses.count("CANCELLED") == 18
        assert paid == 4 and new_groups == []
        assert await s.shop.available() == 60 - 4  # the refunded units are back on the shelf
    else:
        # Every payment kept: 2 seats in the raced group, 18 new groups each led by a late payer.
        assert statuses.count("PAID") == 20 and paid == 22
        assert len(new_groups) == 18
        assert all((g.status, g.paid_seats, g.deadline_at is not None) == ("forming", 1, True) for g in new_groups)
        assert len({g.leader_member_id for g in new_groups}) == 18
        assert await s.shop.available() == 60 - 22


def _pk(global_id: str) -> int:
    from core.gql.relay import from_global_id

    return int(from_global_id(global_id)[1])


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_one_member_racing_themself_stays_within_the_per_member_limit(kernel_factory, graphql, clock, database):
    """Ten taps on "open a group" at once by one member, limit 2: two groups, eight refusals."""
    s = await start(kernel_factory, graphql, clock, members=3, total=50, stock=50, database=database, perMemberLimit=2)
    alice = graphql(s.kernel, member(1))
    results = await asyncio.gather(*(alice.mutate(OPEN, offer=s.offer) for _ in range(10)))
    opened = [r for r in results if r["userErrors"] == []]
    refused = {e["code"] for r in results for e in r["userErrors"]}
    assert len(opened) == 2 and refused == {"GROUP_BUY_LIMIT_REACHED"}
    async with s.kernel.db.read() as session:
        held = await session.scalar(select(func.coalesce(func.sum(Membership.quantity), 0)).where(Membership.member_id == 1))
        orders = await session.scalar(select(func.count()).select_from(Order).where(Order.member_id == 1))
    assert (held, orders) == (2, 2)
    assert await s.shop.available() == 48


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_payments_landing_at_the_deadline_race_the_expiry_cleanly(kernel_factory, graphql, clock, database):
    """Joiners' payments settle at the very moment the group's deadline timer fails it: every
    payer gets an answer (never an internal error from a deadlock), and nobody keeps paying
    for a group that failed."""
    from group_buy_helpers import PAY

    s = await start(kernel_factory, graphql, clock, size=6, members=6, database=database)
    leader = graphql(s.kernel, member(1))
    opened = await leader.mutate(OPEN, offer=s.offer)
    await pay(leader, opened["order"]["id"])
    joiners = [graphql(s.kernel, member(i)) for i in range(2, 7)]
    payments = []
    for joiner in joiners:
        joined = await joiner.mutate(JOIN, code=opened["group"]["shareCode"])
        payments.append((await joiner.mutate(PAY, id=joined["order"]["id"]))["payment"]["id"])
    clock.advance(hours=24)  # exactly the deadline: the timer is due and late joiners lose their seat
    settled, ran = await asyncio.gather(
        asyncio.gather(*(j.execute(SETTLE, id=p) for j, p in zip(joiners, payments))), s.kernel.run_due())
    assert all(not body.get("errors") for body in settled), [b["errors"] for b in settled if b.get("errors")]
    assert ran >= 1  # the expiry, and any payment timeout that was running when its payment landed
    from core.models import TimerRow

    async with s.kernel.db.read() as session:
        retried = (await session.scalars(select(TimerRow.job).where(TimerRow.attempts > 0))).all()
        expiry = await session.scalar(select(TimerRow.state).where(TimerRow.job == "group_buy.expire"))
    assert retried == [] and expiry == "done"  # no timer was a deadlock victim either
    async with s.kernel.db.read() as session:
        statuses = (await session.scalars(select(Order.status).where(Order.kind == "group_buy"))).all()
        group = await session.get(Group, int(_pk(opened["group"]["id"])))
    assert group.status == "failed"
    assert "paid" not in statuses and len(statuses) == 6  # refunded or cancelled, every one
    assert await s.shop.available() == 50
