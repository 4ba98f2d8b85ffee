"""Paid membership terms: bought through the checkout as an order of their own kind, started on
payment, extended when bought again, ended by refund or by the expiry timer."""

from __future__ import annotations

from datetime import datetime, timedelta

from member_tiers_helpers import BUY, CANCEL, MINE, PLACE, REFUND, admin, buy_paid, buyer, ledger_invariant, pay, start

from core.gql.relay import to_global_id

EVENTS = "member_tiers.term_started", "member_tiers.term_ended"


def expires(mine: dict) -> datetime:
    return datetime.fromisoformat(mine["paidTerm"]["expiresAt"])


async def test_a_term_is_bought_paid_extended_and_gives_its_benefits(kernel_factory, graphql, clock):
    kernel, shop = await start(kernel_factory)
    me = buyer(graphql, kernel)
    bought = await me.mutate(BUY, code="svip")
    assert bought["userErrors"] == []
    order = bought["order"]
    assert order["kind"] == "membership_term" and order["status"] == "PENDING_PAYMENT"
    assert order["total"]["amountMinor"] == 1900
    assert (await me.data(MINE))["myMemberTier"]["paidTerm"] is None  # not paid yet
    await pay(me, order["id"])
    mine = (await me.data(MINE))["myMemberTier"]
    assert mine["paidTerm"]["term"] == {"code": "svip"}
    first_end = expires(mine)
    assert first_end == kernel.clock.now() + timedelta(days=30)
    assert mine["discountPercent"] == 20 and mine["pointsPercent"] == 300
    assert mine["growth"] == 0  # a term is the membership itself: no growth
    # The term's member price on a plain order.
    placed = await me.mutate(PLACE, input={"lines": [{"skuId": shop.sku, "quantity": 1}]})
    assert placed["order"]["total"]["amountMinor"] == 8000
    # Buying again ten days later extends from the running term's end.
    clock.advance(days=10)
    again = (await me.mutate(BUY, code="svip"))["order"]
    await pay(me, again["id"])
    assert expires((await me.data(MINE))["myMemberTier"]) == first_end + timedelta(days=30)
    # Refunding the second purchase takes its 30 unused days back; the first still runs.
    assert (await admin(graphql, kernel).mutate(REFUND, id=again["id"]))["userErrors"] == []
    assert expires((await me.data(MINE))["myMemberTier"]) == first_end
    # The timer ends the term when it runs out.
    clock.advance(days=20, seconds=1)
    await kernel.run_due()
    assert (await me.data(MINE))["myMemberTier"]["paidTerm"] is None
    assert (await me.data(MINE))["myMemberTier"]["discountPercent"] == 0


async def test_refunding_the_only_term_order_ends_the_term_now(kernel_factory, graphql, clock):
    kernel, _shop = await start(kernel_factory)
    me = buyer(graphql, kernel)
    order = (await me.mutate(BUY, code="svip"))["order"]
    await pay(me, order["id"])
    clock.advance(days=3)
    assert (await admin(graphql, kernel).mutate(REFUND, id=order["id"]))["userErrors"] == []
    mine = (await me.data(MINE))["myMemberTier"]
    assert mine["paidTerm"] is None and mine["discountPercent"] == 0


async def test_a_cancelled_term_order_never_starts_and_bad_purchases_are_refused(kernel_factory, graphql):
    kernel, shop = await start(kernel_factory)
    me = buyer(graphql, kernel)
    unknown = await me.mutate(BUY, code="platinum")
    assert unknown["userErrors"][0]["code"] == "MEMBER_TIERS_UNKNOWN_TERM" and unknown["order"] is None
    order = (await me.mutate(BUY, code="svip", key="t1"))["order"]
    assert (await me.mutate(BUY, code="svip", key="t1"))["order"]["id"] == order["id"]  # a replay: the same order
    assert (await me.mutate(CANCEL, id=order["id"]))["userErrors"] == []
    assert (await me.data(MINE))["myMemberTier"]["paidTerm"] is None
    # The term's SKU through placeOrder: the same rules, one at a time, never mixed with goods.
    async with kernel.db.read() as session:
        sku = to_global_id("Sku", next(iter(await kernel.service("member_tiers").term_skus(session))))
    two = await me.mutate(PLACE, input={"lines": [{"skuId": sku, "quantity": 2}]})
    assert two["userErrors"][0]["code"] == "MEMBER_TIERS_TERM_QUANTITY"
    mixed = await me.mutate(PLACE, input={"lines": [{"skuId": sku, "quantity": 1}, {"skuId": shop.sku, "quantity": 1}]})
    assert mixed["userErrors"][0]["code"] == "ORDERS_NEEDS_OWN_ORDER"
    direct = await buy_paid(me, sku)
    assert direct["kind"] == "membership_term" and direct["total"]["amountMinor"] == 1900
    assert (await me.data(MINE))["myMemberTier"]["paidTerm"]["term"] == {"code": "svip"}
    assert await ledger_invariant(kernel, 1) == 0


SHIP = """mutation($id: ID!) { shipOrder(input: {orderId: $id, carrier: "SF", trackingNumber: "SF1"}) {
  order { status } userErrors { code } } }"""


async def test_a_term_order_is_never_shipped_and_a_price_difference_leaves_the_term_running(kernel_factory, graphql):
    from core.gql.relay import from_global_id

    kernel, _shop = await start(kernel_factory)
    me = buyer(graphql, kernel)
    order = (await me.mutate(BUY, code="svip"))["order"]
    await pay(me, order["id"])
    assert (await admin(graphql, kernel).mutate(SHIP, id=order["id"]))["userErrors"][0]["code"] == "ORDERS_FULFILMENT_BLOCKED"
    orders, order_id = kernel.service("orders"), int(from_global_id(order["id"])[1])
    async with kernel.transaction() as tx:
        line_id = (await orders.snapshot(tx, order_id))["lines"][0]["lineId"]
        assert await orders.refund_difference(tx, order_id, line_id=line_id, amount_minor=500, reason="goodwill") == 500
    await kernel.events.redeliver()
    assert (await me.data(MINE))["myMemberTier"]["paidTerm"]["term"] == {"code": "svip"}
