"""The last seats raced through the one checkout: 50 members place their joins at once with
``placeOrder`` and the ``groupBuy`` line input, then all 50 payments settle at once for the last
2 seats. Exactly 2 take seats and 48 are refunded in full — on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from components.group_buy.models import Group, Membership
from components.orders.models import Order
from core.gql.relay import from_global_id
from core.testing import member
from group_buy_helpers import GROUP, JOIN, OPEN, PAY, SETTLE, pay, start

PLACE = """mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { order { id } userErrors { code field } } }"""


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_fifty_place_order_joins_race_for_the_last_two_seats(kernel_factory, graphql, clock, database):
    s = await start(kernel_factory, graphql, clock, size=4, members=53, total=60, stock=60, database=database)
    kernel = s.kernel
    leader, second = graphql(kernel, member(1)), graphql(kernel, member(2))
    opened = await leader.mutate(OPEN, offer=s.offer)
    await pay(leader, opened["order"]["id"])
    await pay(second, (await second.mutate(JOIN, code=opened["group"]["shareCode"]))["order"]["id"])

    racers = [graphql(kernel, member(i)) for i in range(3, 53)]
    line = {"skuId": s.shop.sku, "quantity": 1, "groupBuy": {"offerId": s.offer, "shareCode": opened["group"]["shareCode"]}}
    placed = await asyncio.gather(*(r.mutate(PLACE, input={"checkout": {"lines": [line]}}) for r in racers))
    assert all(p["userErrors"] == [] for p in placed), [p["userErrors"] for p in placed if p["userErrors"]]
    payments = [(await r.mutate(PAY, id=p["order"]["id"]))["payment"]["id"] for r, p in zip(racers, placed)]

    results = await asyncio.gather(*(r.mutate(SETTLE, id=p) for r, p in zip(racers, payments)))

    assert all(r["userErrors"] == [] for r in results)  # a lost race is not the payer's error
    statuses = [r["order"]["status"] for r in results]
    assert statuses.count("PAID") == 2 and statuses.count("REFUNDED") == 48
    group = (await graphql(kernel).data(GROUP, id=opened["group"]["id"]))["groupBuyGroup"]
    assert (group["status"], group["seatsFilled"], group["seatsLeft"]) == ("SUCCEEDED", 4, 0)
    group_pk = int(from_global_id(opened["group"]["id"])[1])
    async with kernel.db.read() as session:
        seated = await session.scalar(select(func.count()).select_from(Membership).where(
            Membership.group_id == group_pk, Membership.state == "seated"))
        refunded = await session.scalar(select(func.count()).select_from(Membership).where(Membership.state == "refunded"))
        paid = await session.scalar(select(func.count()).select_from(Order).where(Order.kind == "group_buy", Order.status == "paid"))
        oversubscribed = await session.scalar(select(func.count()).select_from(Group).where(Group.paid_seats > Group.size))
    assert (seated, refunded, paid, oversubscribed) == (4, 48, 4, 0)
    assert await s.shop.available() == 60 - 4  # the refunded units are back on the shelf
