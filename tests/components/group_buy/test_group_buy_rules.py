"""Rules a real brand runs into: a leader who pays after the offer closed, unpaid joins of a
group that formed without them, and share codes kept from strangers."""

from __future__ import annotations

from group_buy_helpers import GROUP, JOIN, OPEN, ORDER, PAY, pay, start

from core.testing import member, staff


async def test_a_leader_paying_after_the_offer_closed_is_refunded_at_once(kernel_factory, graphql, clock):
    s = await start(kernel_factory, graphql, clock)
    leader = graphql(s.kernel, member(1))
    opened = await leader.mutate(OPEN, offer=s.offer)
    clock.advance(days=3, minutes=1)  # the offer window closes before the leader pays
    payment = (await leader.mutate(PAY, id=opened["order"]["id"]))["payment"]["id"]
    await leader.mutate('mutation($id: ID!) { sandboxSettlePayment(input: {paymentId: $id}) { order { status } } }', id=payment)
    order = (await leader.data("query($id: ID!) { order(id: $id) { status refunded { amountMinor } total { amountMinor } } }",
                               id=opened["order"]["id"]))["order"]
    assert order["status"] == "REFUNDED" and order["refunded"] == order["total"]
    assert (await leader.data(GROUP, id=opened["group"]["id"]))["groupBuyGroup"]["status"] == "FAILED"


async def test_unpaid_joins_of_a_group_that_formed_are_cancelled_and_paying_says_why(kernel_factory, graphql, clock):
    s = await start(kernel_factory, graphql, clock, settings="{virtual_fill: {enabled: true, min_ratio: 0.5}}", size=4)
    leader, paid_joiner, slow = (graphql(s.kernel, member(i)) for i in (1, 2, 3))
    opened = await leader.mutate(OPEN, offer=s.offer)
    await pay(leader, opened["order"]["id"])
    code = opened["group"]["shareCode"]
    await pay(paid_joiner, (await paid_joiner.mutate(JOIN, code=code))["order"]["id"])
    clock.advance(hours=23, minutes=50)  # joins late: its payment timeout (30 min) outlasts the group
    unpaid = (await slow.mutate(JOIN, code=code))["order"]["id"]
    before = await s.shop.available()
    clock.advance(minutes=10, seconds=1)
    await s.kernel.run_due()  # 2 of 4 paid: the group forms with placeholders
    assert (await leader.data(GROUP, id=opened["group"]["id"]))["groupBuyGroup"]["status"] == "SUCCEEDED"
    assert (await slow.data(ORDER, id=unpaid))["order"]["status"] == "CANCELLED"
    assert await s.shop.available() == before + 1  # its stock is back
    late = await slow.mutate('mutation($id: ID!) { payOrder(input: {orderId: $id}) { payment { id } userErrors { code message details } } }',
                             id=unpaid)
    error = late["userErrors"][0]
    assert error["code"] == "ORDERS_ILLEGAL_TRANSITION" and "the group formed before you paid" in error["message"]
    assert error["details"]["cancelReason"] == "group_buy: the group formed before you paid"


async def test_share_codes_are_for_the_groups_members_and_staff(kernel_factory, graphql, clock):
    s = await start(kernel_factory, graphql, clock)
    leader, joiner, stranger = (graphql(s.kernel, member(i)) for i in (1, 2, 3))
    opened = await leader.mutate(OPEN, offer=s.offer)
    await pay(leader, opened["order"]["id"])
    await joiner.mutate(JOIN, code=opened["group"]["shareCode"])
    query = "query($id: ID!) { groupBuyGroup(id: $id) { shareCode } }"
    group = opened["group"]["id"]
    code = opened["group"]["shareCode"]
    assert (await leader.data(query, id=group))["groupBuyGroup"]["shareCode"] == code
    assert (await joiner.data(query, id=group))["groupBuyGroup"]["shareCode"] == code
    assert (await graphql(s.kernel, staff(1, "admin")).data(query, id=group))["groupBuyGroup"]["shareCode"] == code
    assert (await stranger.data(query, id=group))["groupBuyGroup"]["shareCode"] is None
    assert (await graphql(s.kernel).data(query, id=group))["groupBuyGroup"]["shareCode"] is None
