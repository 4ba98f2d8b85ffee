"""Group-buy through GraphQL: open, share, join, pay, succeed or fail — and the last seats raced."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from components.orders.models import Order
from conftest import open_shop
from core.gql.context import Context
from core.testing import member, staff

BLUEPRINT = """\
dougong: 1
brand: {slug: gb, name: GB, currency: CNY, timezone: Asia/Shanghai}
components:
  group_buy: {late_payment: %s}
"""

OFFER = """mutation($input: CreateGroupBuyOfferInput!) { createGroupBuyOffer(input: $input) {
  offer { id groupSize remaining groupPrice { amountMinor } } userErrors { code field message } } }"""
OPEN = """mutation($offer: ID!) { openGroup(input: {offerId: $offer}) {
  group { id shareCode status seatsLeft } order { id total { amountMinor } } userErrors { code field } } }"""
JOIN = """mutation($code: String!, $sharer: ID) { joinGroup(input: {shareCode: $code, sharerMemberId: $sharer}) {
  group { id seatsLeft } order { id total { amountMinor } } userErrors { code field } } }"""
PAY = 'mutation($id: ID!) { payOrder(input: {orderId: $id}) { payment { id } userErrors { code } } }'
SETTLE = 'mutation($id: ID!) { sandboxSettlePayment(input: {paymentId: $id}) { order { status } userErrors { code } } }'
GROUP = "query($id: ID!) { groupBuyGroup(id: $id) { status seatsFilled seatsLeft placeholders deadline } }"
PROGRESS = "subscription($id: ID!) { groupBuyProgress(groupId: $id) { status seatsFilled seatsLeft } }"


async def start(kernel_factory, graphql, clock, *, late="refund", size=3, members=10, total=20, stock=50, database="sqlite", **offer):
    kernel = await kernel_factory(BLUEPRINT % late, database=database)
    shop = await open_shop(kernel, members=members, stock=stock, price=10000)
    admin = graphql(kernel, staff(1, "admin"))
    now = clock.now()
    payload = await admin.mutate(OFFER, input={
        "skuId": shop.sku, "groupPrice": {"amountMinor": 6900, "currency": "CNY"}, "groupSize": size,
        "startsAt": (now - timedelta(hours=1)).isoformat(), "endsAt": (now + timedelta(days=3)).isoformat(),
        "totalLimit": total, "duration": "24h", **offer,
    })
    assert payload["userErrors"] == [], payload
    return kernel, shop, payload["offer"]["id"]


async def pay(client, order_id):
    payment = (await client.mutate(PAY, id=order_id))["payment"]["id"]
    return await client.mutate(SETTLE, id=payment)


async def test_a_whole_group_through_graphql(kernel_factory, graphql, clock):
    kernel, shop, offer = await start(kernel_factory, graphql, clock)
    a, b, c = (graphql(kernel, member(i)) for i in (1, 2, 3))
    opened = await a.mutate(OPEN, offer=offer)
    assert opened["order"]["total"]["amountMinor"] == 6900  # the group price, not 100.00
    code, group_id = opened["group"]["shareCode"], opened["group"]["id"]

    # B cannot join before the leader paid: the clock has not started.
    assert (await b.mutate(JOIN, code=code))["userErrors"] == [{"code": "GROUP_BUY_GROUP_NOT_OPEN", "field": "input.shareCode"}]

    stream = await kernel.schema.subscribe(PROGRESS, variable_values={"id": group_id}, context_value=Context(kernel))
    seen: list[dict] = []

    async def watch() -> None:
        async for result in stream:
            seen.append(result.data["groupBuyProgress"])

    watcher = asyncio.create_task(watch())
    await asyncio.sleep(0.05)
    assert (await pay(a, opened["order"]["id"]))["order"]["status"] == "PAID"
    from core.gql.relay import to_global_id

    joined_b = await b.mutate(JOIN, code=code, sharer=to_global_id("Member", 1))
    joined_c = await c.mutate(JOIN, code=code, sharer=to_global_id("Member", 1))
    assert joined_b["userErrors"] == [] and joined_c["userErrors"] == []
    await pay(b, joined_b["order"]["id"])
    # Not yet formed: B's order may not be shipped.
    blocked = await graphql(kernel, staff(1, "admin")).mutate(
        'mutation($id: ID!) { fulfilOrder(input: {orderId: $id}) { userErrors { code } } }', id=joined_b["order"]["id"])
    assert blocked["userErrors"] == [{"code": "ORDERS_FULFILMENT_BLOCKED"}]
    await pay(c, joined_c["order"]["id"])
    await asyncio.wait_for(watcher, 2)

    assert seen == [
        {"status": "FORMING", "seatsFilled": 0, "seatsLeft": 3},
        {"status": "FORMING", "seatsFilled": 1, "seatsLeft": 2},
        {"status": "FORMING", "seatsFilled": 2, "seatsLeft": 1},
        {"status": "SUCCEEDED", "seatsFilled": 3, "seatsLeft": 0},
    ]
    admin = graphql(kernel, staff(1, "admin"))
    for order in (opened["order"], joined_b["order"], joined_c["order"]):
        done = await admin.mutate('mutation($id: ID!) { fulfilOrder(input: {orderId: $id}) { order { status } userErrors { code } } }', id=order["id"])
        assert done == {"order": {"status": "FULFILLED"}, "userErrors": []}
    referrals = await admin.data("query($id: ID!) { groupBuyOffer(id: $id) { remaining referrals { memberId joins } } }", id=offer)
    assert referrals["groupBuyOffer"] == {"remaining": 17, "referrals": [{"memberId": to_global_id("Member", 1), "joins": 2}]}
    # A full group refuses newcomers.
    assert (await graphql(kernel, member(4)).mutate(JOIN, code=code))["userErrors"][0]["code"] == "GROUP_BUY_GROUP_FULL"


async def test_a_group_that_does_not_fill_fails_across_a_restart_and_refunds(kernel_factory, graphql, clock, tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'gb.sqlite'}"
    kernel, shop, offer = await start(kernel_factory, graphql, clock, database=url)
    a, b = graphql(kernel, member(1)), graphql(kernel, member(2))
    opened = await a.mutate(OPEN, offer=offer)
    await pay(a, opened["order"]["id"])
    joined = await b.mutate(JOIN, code=opened["group"]["shareCode"])
    await pay(b, joined["order"]["id"])
    assert await shop.available() == 48
    await kernel.stop()

    restarted = await kernel_factory(BLUEPRINT % "refund", database=url)
    clock.advance(hours=24, seconds=1)
    await restarted.run_due()
    group = await graphql(restarted).data(GROUP, id=opened["group"]["id"])
    assert group["groupBuyGroup"]["status"] == "FAILED"
    for client, order in ((graphql(restarted, member(1)), opened["order"]), (graphql(restarted, member(2)), joined["order"])):
        body = await client.data("query($id: ID!) { order(id: $id) { status refunded { amountMinor } } }", id=order["id"])
        assert body["order"] == {"status": "REFUNDED", "refunded": {"amountMinor": 6900}}
    shop.kernel = restarted
    assert await shop.available() == 50
    remaining = await graphql(restarted).data("query($id: ID!) { groupBuyOffer(id: $id) { remaining } }", id=offer)
    assert remaining["groupBuyOffer"]["remaining"] == 20
    assert await restarted.run_due() == 0


async def test_virtual_fill_completes_a_group_that_reached_the_ratio(kernel_factory, graphql, clock):
    kernel, shop, offer = await start(kernel_factory, graphql, clock, size=3, virtualFillRatio=0.6)
    a, b = graphql(kernel, member(1)), graphql(kernel, member(2))
    opened = await a.mutate(OPEN, offer=offer)
    await pay(a, opened["order"]["id"])
    joined = await b.mutate(JOIN, code=opened["group"]["shareCode"])
    await pay(b, joined["order"]["id"])
    clock.advance(hours=25)
    await kernel.run_due()
    group = (await graphql(kernel).data(GROUP, id=opened["group"]["id"]))["groupBuyGroup"]
    assert group["status"] == "SUCCEEDED" and group["placeholders"] == 1 and group["seatsFilled"] == 3
    body = await a.data("query($id: ID!) { order(id: $id) { status } }", id=opened["order"]["id"])
    assert body["order"]["status"] == "PAID"


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_fifty_payments_race_for_the_last_two_seats(kernel_factory, graphql, clock, database):
    kernel, shop, offer = await start(kernel_factory, graphql, clock, size=4, members=53, total=60, stock=60, database=database)
    leader, second = graphql(kernel, member(1)), graphql(kernel, member(2))
    opened = await leader.mutate(OPEN, offer=offer)
    await pay(leader, opened["order"]["id"])
    joined = await second.mutate(JOIN, code=opened["group"]["shareCode"])
    await pay(second, joined["order"]["id"])
    racers = [graphql(kernel, member(i)) for i in range(3, 53)]
    orders = [await r.mutate(JOIN, code=opened["group"]["shareCode"]) for r in racers]
    assert all(o["userErrors"] == [] for o in orders)
    payments = [(await r.mutate(PAY, id=o["order"]["id"]))["payment"]["id"] for r, o in zip(racers, orders)]
    results = await asyncio.gather(*(r.mutate(SETTLE, id=p) for r, p in zip(racers, payments)))
    statuses = [r["order"]["status"] for r in results]
    assert statuses.count("PAID") == 2
    assert statuses.count("REFUNDED") == 48
    group = (await graphql(kernel).data(GROUP, id=opened["group"]["id"]))["groupBuyGroup"]
    assert group == {**group, "status": "SUCCEEDED", "seatsFilled": 4, "seatsLeft": 0}
    async with kernel.db.read() as session:
        from sqlalchemy import func, select

        paid = await session.scalar(select(func.count()).select_from(Order).where(Order.kind == "group_buy", Order.status == "paid"))
    assert paid == 4
    assert await shop.available() == 60 - 4


async def test_a_late_payer_can_lead_a_new_group_instead(kernel_factory, graphql, clock):
    kernel, shop, offer = await start(kernel_factory, graphql, clock, late="open_new_group", size=2)
    a, b, c = (graphql(kernel, member(i)) for i in (1, 2, 3))
    opened = await a.mutate(OPEN, offer=offer)
    await pay(a, opened["order"]["id"])
    jb = await b.mutate(JOIN, code=opened["group"]["shareCode"])
    jc = await c.mutate(JOIN, code=opened["group"]["shareCode"])
    await pay(b, jb["order"]["id"])  # fills the group
    late = await pay(c, jc["order"]["id"])  # too late for that group: C leads a new one
    assert late == {"order": {"status": "PAID"}, "userErrors": []}
    mine = (await c.data("{ myGroupBuys { id status seatsFilled seatsLeft } }"))["myGroupBuys"]
    assert [g["status"] for g in mine] == ["FORMING"] and mine[0]["id"] != opened["group"]["id"]
    assert (mine[0]["seatsFilled"], mine[0]["seatsLeft"]) == (1, 1)


async def test_bad_input_gets_typed_errors_and_changes_nothing(kernel_factory, graphql, clock):
    kernel, shop, offer = await start(kernel_factory, graphql, clock, size=2, total=3)
    admin = graphql(kernel, staff(1, "admin"))
    now = clock.now()
    clash = await admin.mutate(OFFER, input={
        "skuId": shop.sku, "groupPrice": {"amountMinor": 5000, "currency": "CNY"}, "groupSize": 2,
        "startsAt": now.isoformat(), "endsAt": (now + timedelta(days=1)).isoformat(), "totalLimit": 5})
    assert clash["userErrors"][0]["code"] == "GROUP_BUY_SKU_IN_OFFER"
    tiny = await admin.mutate(OFFER, input={
        "skuId": shop.sku, "groupPrice": {"amountMinor": 5000, "currency": "CNY"}, "groupSize": 1,
        "startsAt": now.isoformat(), "endsAt": (now + timedelta(days=1)).isoformat(), "totalLimit": 5})
    assert (tiny["userErrors"][0]["code"], tiny["userErrors"][0]["field"]) == ("GROUP_BUY_INVALID_OFFER", "input.groupSize")
    assert (await graphql(kernel, member(1)).mutate(OFFER, input={
        "skuId": shop.sku, "groupPrice": {"amountMinor": 1, "currency": "CNY"}, "groupSize": 2,
        "startsAt": now.isoformat(), "endsAt": now.isoformat(), "totalLimit": 1}))["userErrors"][0]["code"] == "KERNEL_FORBIDDEN"

    a, b = graphql(kernel, member(1)), graphql(kernel, member(2))
    opened = await a.mutate(OPEN, offer=offer)
    await pay(a, opened["order"]["id"])
    code = opened["group"]["shareCode"]
    assert (await a.mutate(JOIN, code=code))["userErrors"][0]["code"] == "GROUP_BUY_ALREADY_IN_GROUP"
    assert (await a.mutate(OPEN, offer=offer))["userErrors"][0]["code"] == "GROUP_BUY_LIMIT_REACHED"
    assert (await b.mutate(JOIN, code="nope"))["userErrors"][0]["code"] == "GROUP_BUY_UNKNOWN_GROUP"
    # The offer's own quantity: 3 units; 1 taken by A, then B and C open, D finds it sold out.
    await b.mutate(OPEN, offer=offer)
    await graphql(kernel, member(3)).mutate(OPEN, offer=offer)
    sold_out = await graphql(kernel, member(4)).mutate(OPEN, offer=offer)
    assert sold_out["userErrors"][0]["code"] == "INVENTORY_ACTIVITY_SOLD_OUT"
    # Past its deadline a group refuses joiners; after the window the offer refuses openers.
    clock.advance(hours=24, seconds=1)
    assert (await graphql(kernel, member(5)).mutate(JOIN, code=code))["userErrors"][0]["code"] == "GROUP_BUY_GROUP_CLOSED"
    clock.advance(days=3)
    assert (await graphql(kernel, member(5)).mutate(OPEN, offer=offer))["userErrors"][0]["code"] == "GROUP_BUY_OFFER_NOT_ACTIVE"
    await kernel.run_due()
    assert (await graphql(kernel, member(5)).mutate(JOIN, code=code))["userErrors"][0]["code"] == "GROUP_BUY_GROUP_CLOSED"
