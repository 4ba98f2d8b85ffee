"""Group-buy as a frontend drives it, through GraphQL only: open, share, join, pay, succeed or
fail at the deadline (also across a restart), virtual fill, referrals."""

from __future__ import annotations

import asyncio

import pytest
from group_buy_helpers import BLUEPRINT, GROUP, JOIN, OPEN, ORDER, PROGRESS, pay, start

from core.gql.context import Context
from core.gql.relay import to_global_id
from core.testing import member, staff

FULFIL = 'mutation($id: ID!) { fulfilOrder(input: {orderId: $id}) { order { status } userErrors { code } } }'


async def test_a_whole_group_through_graphql(kernel_factory, graphql, clock):
    s = await start(kernel_factory, graphql, clock, leaderDiscount={"amountMinor": 1000, "currency": "CNY"})
    kernel, offer = s.kernel, s.offer
    a, b, c = (graphql(kernel, member(i)) for i in (1, 2, 3))
    admin = graphql(kernel, staff(1, "admin"))

    # The product page lists the offer; the leader opens a group at the leader's price.
    product = await graphql(kernel).data("query($id: ID!) { product(id: $id) { groupBuyOffers { id leaderDiscount { amountMinor } } } }",
                                         id=to_global_id("Product", s.shop.product_id))
    assert product["product"]["groupBuyOffers"] == [{"id": offer, "leaderDiscount": {"amountMinor": 1000}}]
    opened = await a.mutate(OPEN, offer=offer)
    assert opened["order"]["total"]["amountMinor"] == 5900  # 69.00 group price less the 10.00 leader discount
    code, group_id = opened["group"]["shareCode"], opened["group"]["id"]

    # B cannot join before the leader paid: the clock has not started.
    assert (await b.mutate(JOIN, code=code))["userErrors"] == [{"code": "GROUP_BUY_GROUP_NOT_OPEN", "field": "input.shareCode"}]

    # The share page subscribes before anyone pays.
    stream = await kernel.schema.subscribe(PROGRESS, variable_values={"id": group_id}, context_value=Context(kernel))
    seen: list[dict] = []

    async def watch() -> None:
        async for result in stream:
            assert result.errors is None, result.errors
            seen.append(result.data["groupBuyProgress"])

    watcher = asyncio.create_task(watch())
    await asyncio.sleep(0.05)
    assert (await pay(a, opened["order"]["id"]))["order"]["status"] == "PAID"

    # B joins through A's link, C through B's own link: each sharer gets the referral.
    joined_b = await b.mutate(JOIN, code=code)
    assert joined_b["userErrors"] == [] and joined_b["order"]["total"]["amountMinor"] == 6900
    assert joined_b["order"]["source"] == {"groupId": group_id, "sharerMemberId": to_global_id("Member", 1)}
    joined_c = await c.mutate(JOIN, code=joined_b["group"]["myShareCode"])
    assert joined_c["userErrors"] == [] and joined_c["group"]["id"] == group_id
    assert joined_c["order"]["source"]["sharerMemberId"] == to_global_id("Member", 2)

    await pay(b, joined_b["order"]["id"])
    # Not yet formed: B's order may not be shipped.
    assert (await admin.mutate(FULFIL, id=joined_b["order"]["id"]))["userErrors"] == [{"code": "ORDERS_FULFILMENT_BLOCKED"}]
    await pay(c, joined_c["order"]["id"])
    await asyncio.wait_for(watcher, 2)

    assert seen == [
        {"status": "FORMING", "seatsFilled": 0, "seatsLeft": 3},
        {"status": "FORMING", "seatsFilled": 1, "seatsLeft": 2},
        {"status": "FORMING", "seatsFilled": 2, "seatsLeft": 1},
        {"status": "SUCCEEDED", "seatsFilled": 3, "seatsLeft": 0},
    ]
    for order in (opened["order"], joined_b["order"], joined_c["order"]):
        assert await admin.mutate(FULFIL, id=order["id"]) == {"order": {"status": "FULFILLED"}, "userErrors": []}

    # Referrals (裂变): per offer for staff, per member for the member themself.
    body = await admin.data("query($id: ID!) { groupBuyOffer(id: $id) { remaining referrals { memberId joins } } }", id=offer)
    assert body["groupBuyOffer"]["remaining"] == 17
    assert body["groupBuyOffer"]["referrals"] == [{"memberId": to_global_id("Member", 1), "joins": 1},
                                                  {"memberId": to_global_id("Member", 2), "joins": 1}]
    mine = await b.data("query($id: ID!) { groupBuyOffer(id: $id) { myReferrals } groupBuyReferrals { offerId joins } }", id=offer)
    assert mine == {"groupBuyOffer": {"myReferrals": 1}, "groupBuyReferrals": [{"offerId": offer, "joins": 1}]}
    snoop = await b.execute("query($m: ID!) { groupBuyReferrals(memberId: $m) { joins } }", m=to_global_id("Member", 1))
    assert [e["extensions"]["code"] for e in snoop["errors"]] == ["KERNEL_FORBIDDEN"]  # not someone else's counts
    by_member = await admin.data("query($m: ID!) { groupBuyReferrals(memberId: $m) { offerId joins } }", m=to_global_id("Member", 1))
    assert by_member["groupBuyReferrals"] == [{"offerId": offer, "joins": 1}]

    mine = await c.data("{ myGroupBuys(first: 5) { edges { node { id status } } } }")
    assert mine["myGroupBuys"]["edges"] == [{"node": {"id": group_id, "status": "SUCCEEDED"}}]
    # A full group refuses newcomers; the share page still shows it.
    assert (await graphql(kernel, member(4)).mutate(JOIN, code=code))["userErrors"][0]["code"] == "GROUP_BUY_GROUP_FULL"
    shown = await graphql(kernel).data("query($c: String!) { groupBuyGroup(shareCode: $c) { id seatsLeft } }", c=code)
    assert shown["groupBuyGroup"] == {"id": group_id, "seatsLeft": 0}


async def test_a_group_that_does_not_fill_fails_across_a_restart_and_refunds(kernel_factory, graphql, clock, tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'gb.sqlite'}"
    s = await start(kernel_factory, graphql, clock, database=url)
    a, b, c = (graphql(s.kernel, member(i)) for i in (1, 2, 3))
    opened = await a.mutate(OPEN, offer=s.offer)
    await pay(a, opened["order"]["id"])
    joined = await b.mutate(JOIN, code=opened["group"]["shareCode"])
    await pay(b, joined["order"]["id"])
    unpaid = await c.mutate(JOIN, code=opened["group"]["shareCode"])  # joined, never paid
    assert await s.shop.available() == 47
    await s.kernel.stop()

    restarted = await kernel_factory(BLUEPRINT % "{}", database=url)
    clock.advance(hours=24, seconds=1)
    await restarted.run_due()
    group = await graphql(restarted).data(GROUP, id=opened["group"]["id"])
    assert group["groupBuyGroup"]["status"] == "FAILED"
    for i, order in ((1, opened["order"]), (2, joined["order"])):
        body = await graphql(restarted, member(i)).data(ORDER, id=order["id"])
        assert body["order"] == {"status": "REFUNDED", "refunded": {"amountMinor": 6900}}
    body = await graphql(restarted, member(3)).data(ORDER, id=unpaid["order"]["id"])
    assert body["order"]["status"] == "CANCELLED"
    s.shop.kernel = restarted
    assert await s.shop.available() == 50  # stock back
    remaining = await graphql(restarted).data("query($id: ID!) { groupBuyOffer(id: $id) { remaining } }", id=s.offer)
    assert remaining["groupBuyOffer"]["remaining"] == 20  # and the offer's own quantity
    assert await restarted.run_due() == 0  # the timer ran once
    # A failed group refuses joiners.
    refused = await graphql(restarted, member(4)).mutate(JOIN, code=opened["group"]["shareCode"])
    assert refused["userErrors"][0]["code"] == "GROUP_BUY_GROUP_CLOSED"


@pytest.mark.parametrize("paid, outcome", [(2, "SUCCEEDED"), (1, "FAILED")])
async def test_virtual_fill_completes_a_group_that_reached_the_ratio(kernel_factory, graphql, clock, paid, outcome):
    # Virtual fill on in the blueprint's settings: at 2 of 3 paid (0.67 ≥ 0.6) placeholders fill the last seat.
    s = await start(kernel_factory, graphql, clock, settings="{virtual_fill: {enabled: true, min_ratio: 0.6}}", size=3)
    clients = [graphql(s.kernel, member(i)) for i in (1, 2)]
    opened = await clients[0].mutate(OPEN, offer=s.offer)
    orders = [opened["order"]["id"]]
    await pay(clients[0], orders[0])
    if paid == 2:
        joined = await clients[1].mutate(JOIN, code=opened["group"]["shareCode"])
        orders.append(joined["order"]["id"])
        await pay(clients[1], orders[1])
    clock.advance(hours=24, seconds=1)
    await s.kernel.run_due()
    group = (await graphql(s.kernel).data(GROUP, id=opened["group"]["id"]))["groupBuyGroup"]
    assert group["status"] == outcome
    if outcome == "SUCCEEDED":
        assert (group["placeholders"], group["seatsFilled"], group["seatsLeft"]) == (1, 3, 0)
    for client, order in zip(clients, orders):
        body = await client.data(ORDER, id=order)
        assert body["order"]["status"] == ("PAID" if outcome == "SUCCEEDED" else "REFUNDED")
