"""The last seats raced through the one checkout: 20 members place their joins at once with
``placeOrder`` and the ``groupBuy`` line input for a group with 2 seats left. Exactly 2 joins
are placed (a group holds no more unpaid joins than seats), and both take their seats — on
SQLite and on PostgreSQL. (20 payments racing for the last seats, with holding turned off, is
in test_group_buy_races.py.)"""

from __future__ import annotations

import asyncio

import pytest
from group_buy_helpers import GROUP, JOIN, OPEN, pay, start
from sqlalchemy import func, select

from components.group_buy.models import Group, Membership
from components.orders.models import Order
from core.gql.relay import from_global_id
from core.testing import member

PLACE = """mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { order { id } userErrors { code field } } }"""


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_twenty_place_order_joins_race_for_the_last_two_seats(kernel_factory, graphql, clock, database):
    """Unpaid joins cannot exhaust an offer: with 2 seats left, 2 of 20 racing joins are placed
    (each holds a seat until paid or timed out), 18 are told the group is full and hold nothing."""
    s = await start(kernel_factory, graphql, clock, size=4, members=23, total=60, stock=60, database=database)
    kernel = s.kernel
    leader, second = graphql(kernel, member(1)), graphql(kernel, member(2))
    opened = await leader.mutate(OPEN, offer=s.offer)
    await pay(leader, opened["order"]["id"])
    await pay(second, (await second.mutate(JOIN, code=opened["group"]["shareCode"]))["order"]["id"])

    racers = [graphql(kernel, member(i)) for i in range(3, 23)]
    line = {"skuId": s.shop.sku, "quantity": 1, "groupBuy": {"offerId": s.offer, "shareCode": opened["group"]["shareCode"]}}
    placed = await asyncio.gather(*(r.mutate(PLACE, input={"checkout": {"lines": [line]}}) for r in racers))
    won = [(r, p) for r, p in zip(racers, placed) if not p["userErrors"]]
    lost = [p for p in placed if p["userErrors"]]
    assert len(won) == 2 and {e["code"] for p in lost for e in p["userErrors"]} == {"GROUP_BUY_GROUP_FULL"}
    assert await s.shop.available() == 60 - 4  # two seated, two holding: the losers hold no stock

    results = await asyncio.gather(*(pay(r, p["order"]["id"]) for r, p in won))
    assert [r["order"]["status"] for r in results] == ["PAID", "PAID"]
    group = (await graphql(kernel).data(GROUP, id=opened["group"]["id"]))["groupBuyGroup"]
    assert (group["status"], group["seatsFilled"], group["seatsLeft"]) == ("SUCCEEDED", 4, 0)
    group_pk = int(from_global_id(opened["group"]["id"])[1])
    async with kernel.db.read() as session:
        seated = await session.scalar(select(func.count()).select_from(Membership).where(
            Membership.group_id == group_pk, Membership.state == "seated"))
        oversubscribed = await session.scalar(select(func.count()).select_from(Group).where(Group.paid_seats > Group.size))
        orders = await session.scalar(select(func.count()).select_from(Order).where(Order.kind == "group_buy"))
    assert (seated, oversubscribed, orders) == (4, 0, 4)
