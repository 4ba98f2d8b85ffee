"""Group-buy through the one checkout: the ``groupBuy`` line input on previewCheckout and
placeOrder, its refusals (typed, on the line's field, changing nothing), and a free leader, whose
zero-total order is paid inside its checkout after the membership exists and so starts the group."""

from __future__ import annotations

from group_buy_helpers import GROUP, JOIN, OPEN, ORDER, counts, pay, start
from sqlalchemy import select

from components.orders.models import OrderLine
from core.gql.relay import from_global_id, to_global_id
from core.testing import member

PREVIEW = """query($input: CheckoutInput!) { previewCheckout(input: $input) {
  preview { total { amountMinor } lines { unitPrice { amountMinor } activity { component ref }
  adjustments { component stage label } } } userErrors { code field } } }"""
PLACE = """mutation($input: PlaceOrderInput!) { placeOrder(input: $input) {
  order { id kind status total { amountMinor } source { groupId sharerMemberId } } userErrors { code field } } }"""
MY_GROUPS = "{ myGroupBuys { edges { node { id status shareCode seatsFilled } } } }"


def line(s, quantity: int = 1, sku: str | None = None, **group_buy) -> dict:
    return {"skuId": sku or s.shop.sku, "quantity": quantity, "groupBuy": {"offerId": s.offer, **group_buy}}


async def test_open_and_join_through_place_order(kernel_factory, graphql, clock):
    s = await start(kernel_factory, graphql, clock, size=2, leaderDiscount={"amountMinor": 1000, "currency": "CNY"})
    a, b = graphql(s.kernel, member(1)), graphql(s.kernel, member(2))

    # The preview prices the leader's line from the offer, names the activity, and writes nothing.
    before = await counts(s.kernel)
    preview = await a.mutate(PREVIEW, input={"lines": [line(s)]})
    assert preview["userErrors"] == []
    shown = preview["preview"]
    assert shown["total"]["amountMinor"] == 5900
    assert shown["lines"][0]["activity"] == {"component": "group_buy", "ref": from_global_id(s.offer)[1]}
    assert [(x["component"], x["stage"], x["label"]) for x in shown["lines"][0]["adjustments"]] == [
        ("group_buy", "activity", "团长优惠 leader discount")]
    assert await counts(s.kernel) == before

    placed = await a.mutate(PLACE, input={"checkout": {"lines": [line(s)]}, "expectedTotal": 5900})
    assert placed["userErrors"] == [] and placed["order"]["kind"] == "group_buy"
    assert placed["order"]["total"]["amountMinor"] == 5900
    groups = [e["node"] for e in (await a.data(MY_GROUPS))["myGroupBuys"]["edges"]]
    assert [(g["status"], g["seatsFilled"]) for g in groups] == [("FORMING", 0)]
    await pay(a, placed["order"]["id"])

    # B joins through A's link at the group price; the order names the group and the sharer.
    code = groups[0]["shareCode"]
    assert (await b.mutate(PREVIEW, input={"lines": [line(s, shareCode=code)]}))["preview"]["total"]["amountMinor"] == 6900
    joined = await b.mutate(PLACE, input={"checkout": {"lines": [line(s, shareCode=code)]}})
    assert joined["userErrors"] == []
    assert joined["order"]["source"] == {"groupId": groups[0]["id"], "sharerMemberId": to_global_id("Member", 1)}
    await pay(b, joined["order"]["id"])
    group = (await graphql(s.kernel).data(GROUP, id=groups[0]["id"]))["groupBuyGroup"]
    assert (group["status"], group["seatsFilled"]) == ("SUCCEEDED", 2)
    async with s.kernel.db.read() as session:
        activities = (await session.execute(select(OrderLine.activity_component, OrderLine.activity_ref))).all()
    assert activities == [("group_buy", from_global_id(s.offer)[1])] * 2


async def test_refusals_on_place_order_are_typed_and_change_nothing(kernel_factory, graphql, clock):
    s = await start(kernel_factory, graphql, clock, size=2)
    a, b = graphql(s.kernel, member(1)), graphql(s.kernel, member(2))
    opened = await a.mutate(OPEN, offer=s.offer)
    await pay(a, opened["order"]["id"])
    code = opened["group"]["shareCode"]
    second_sku = to_global_id("Sku", s.shop.second_sku_id)

    async def refused(client, lines: list[dict], error: str, field: str) -> None:
        before = await counts(s.kernel)
        payload = await client.mutate(PLACE, input={"checkout": {"lines": lines}})
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [(error, field)], payload
        assert await counts(s.kernel) == before, f"{error} changed something"

    # A group-buy needs an order of its own: no plain line beside it.
    await refused(b, [line(s), {"skuId": second_sku, "quantity": 1}], "ORDERS_NEEDS_OWN_ORDER", "input.lines[0]")
    # The offer sells its own SKU only: its price cannot be put on another.
    await refused(b, [line(s, sku=second_sku)], "GROUP_BUY_SKU_NOT_IN_OFFER", "input.lines[0].skuId")
    await refused(b, [line(s, shareCode="no-such-code")], "GROUP_BUY_UNKNOWN_GROUP", "input.lines[0].groupBuy.shareCode")
    await refused(a, [line(s, shareCode=code)], "GROUP_BUY_ALREADY_IN_GROUP", "input.lines[0].groupBuy.shareCode")
    await refused(b, [line(s, quantity=2)], "GROUP_BUY_LIMIT_REACHED", "input.lines[0].quantity")
    await refused(b, [{"skuId": s.shop.sku, "quantity": 1, "groupBuy": {"offerId": s.shop.sku}}], "KERNEL_INVALID_ID",
                  "input.lines[0].groupBuy.offerId")
    # The preview refuses exactly as placing would.
    preview = await b.mutate(PREVIEW, input={"lines": [line(s, sku=second_sku)]})
    assert [e["code"] for e in preview["userErrors"]] == ["GROUP_BUY_SKU_NOT_IN_OFFER"]
    # And after every refusal B can still join.
    assert (await b.mutate(PLACE, input={"checkout": {"lines": [line(s, shareCode=code)]}}))["userErrors"] == []


async def test_a_free_leader_starts_the_group_like_a_paid_one(kernel_factory, graphql, clock):
    """Leader price 0 and group price 0: each order is paid inside its own checkout. The
    membership is written before that payment, so the leader takes a seat and the clock starts
    (before the one checkout, the free order was paid before the membership existed and the
    group never started)."""
    zero = {"amountMinor": 0, "currency": "CNY"}
    s = await start(kernel_factory, graphql, clock, size=2, groupPrice=zero, leaderPrice=zero)
    a, b = graphql(s.kernel, member(1)), graphql(s.kernel, member(2))

    opened = await a.mutate(OPEN, offer=s.offer)
    assert opened["userErrors"] == [] and opened["order"]["total"]["amountMinor"] == 0
    assert (await a.data(ORDER, id=opened["order"]["id"]))["order"]["status"] == "PAID"
    group = (await graphql(s.kernel).data(GROUP, id=opened["group"]["id"]))["groupBuyGroup"]
    assert (group["status"], group["seatsFilled"]) == ("FORMING", 1) and group["deadline"] is not None

    joined = await b.mutate(JOIN, code=opened["group"]["shareCode"])
    assert joined["userErrors"] == [] and joined["order"]["total"]["amountMinor"] == 0
    group = (await graphql(s.kernel).data(GROUP, id=opened["group"]["id"]))["groupBuyGroup"]
    assert (group["status"], group["seatsFilled"], group["seatsLeft"]) == ("SUCCEEDED", 2, 0)
