"""Coupons end to end: claim, preview (usable and unusable with reasons), place, apportioning,
return on cancel and on a full refund — never on a partial one, never twice."""

from __future__ import annotations

from coupons_helpers import (
    CANCEL,
    CNY,
    MINE,
    PLACE,
    PREVIEW,
    REFUND,
    admin_of,
    claim,
    counts,
    gid,
    lines,
    make_template,
    pay,
    start,
)

from core.testing import member


async def test_claim_preview_place_and_the_discount_apportioned_to_covered_lines(kernel_factory, graphql):
    kernel, shop = await start(kernel_factory)
    admin = admin_of(graphql, kernel)
    # 15 % off SKU 1 only, capped at ¥20; a ¥30 coupon needing ¥500 of anything.
    pct = await make_template(admin, title="15% tea", kind="PERCENT", amountOff=None, percentOff=15, cap=CNY(2000),
                              scope={"kind": "SKUS", "ids": [shop.sku]})
    big = await make_template(admin, title="满500减30", amountOff=CNY(3000), threshold=CNY(50000))
    me = graphql(kernel, member(1))
    a = (await claim(me, pct))["coupon"]["id"]
    b = (await claim(me, big))["coupon"]["id"]
    checkout = {"lines": [{"skuId": shop.sku, "quantity": 1}, {"skuId": gid("Sku", shop.second_sku_id), "quantity": 1}]}
    preview = (await me.mutate(PREVIEW, input=checkout))["preview"]
    options = {o["coupon"]["id"]: o for o in preview["coupons"]}
    assert options[a] == {"coupon": {"id": a}, "usable": True, "reason": None, "discount": {"amountMinor": 1500}, "selected": False}
    assert options[b]["usable"] is False and options[b]["reason"] == "BELOW_THRESHOLD"
    priced = (await me.mutate(PREVIEW, input={**checkout, "couponIds": [a]}))["preview"]
    assert priced["total"]["amountMinor"] == 10000 + 20000 - 1500
    first, second = priced["lines"]
    assert [x["amount"]["amountMinor"] for x in first["adjustments"] if x["stage"] == "coupon"] == [-1500]
    assert [x for x in second["adjustments"] if x["stage"] == "coupon"] == []  # the uncovered line keeps its price
    assert {o["coupon"]["id"]: o["selected"] for o in priced["coupons"]}[a] is True
    placed = await me.mutate(PLACE, input={**checkout, "couponIds": [a]})
    assert placed["userErrors"] == [] and placed["order"]["total"]["amountMinor"] == 28500
    assert sum(l["total"]["amountMinor"] for l in placed["order"]["lines"]) == 28500
    wallet = {c["id"]: c for c in (await me.data(MINE))["myCoupons"]["nodes"]}
    assert wallet[a]["status"] == "USED" and wallet[a]["discount"]["amountMinor"] == 1500
    assert wallet[a]["order"]["id"] == placed["order"]["id"]
    again = await me.mutate(PLACE, input={**checkout, "couponIds": [a]})
    assert again["userErrors"][0]["code"] == "COUPONS_NOT_USABLE" and again["userErrors"][0]["details"]["reason"] == "USED"


async def test_a_fixed_coupon_is_spread_over_its_lines_by_largest_remainder(kernel_factory, graphql):
    kernel, shop = await start(kernel_factory, price=3333)
    admin = admin_of(graphql, kernel)
    t = await make_template(admin, amountOff=CNY(1000))
    me = graphql(kernel, member(1))
    c = (await claim(me, t))["coupon"]["id"]
    checkout = {"lines": [{"skuId": shop.sku, "quantity": 1}, {"skuId": gid("Sku", shop.second_sku_id), "quantity": 1}],
                "couponIds": [c]}
    placed = (await me.mutate(PLACE, input=checkout))["order"]
    # 3333 and 6666 share 1000 as 333.3 / 666.6 → 333 + 667 (the larger remainder takes the fen).
    assert [l["total"]["amountMinor"] for l in placed["lines"]] == [3333 - 333, 6666 - 667]
    assert placed["total"]["amountMinor"] == 9999 - 1000


async def test_refusals_are_typed_and_change_nothing(kernel_factory, graphql):
    kernel, shop = await start(kernel_factory)
    admin = admin_of(graphql, kernel)
    t = await make_template(admin, totalQuantity=1)
    me, other = graphql(kernel, member(1)), graphql(kernel, member(2))
    c = (await claim(me, t))["coupon"]["id"]
    assert (await claim(other, t))["userErrors"][0]["code"] == "COUPONS_SOLD_OUT"
    assert (await claim(me, gid("CouponTemplate", 999)))["userErrors"][0]["code"] == "KERNEL_NOT_FOUND"
    assert (await claim(me, "nonsense"))["userErrors"][0]["code"] == "KERNEL_INVALID_ID"
    stolen = await other.mutate(PLACE, input={"lines": lines(shop.sku), "couponIds": [c]})
    assert stolen["userErrors"][0]["code"] == "KERNEL_NOT_FOUND"
    assert (await other.data("query($id: ID!) { node(id: $id) { id } }", id=c))["node"] is None  # not B's to see
    assert (await me.data("query($id: ID!) { node(id: $id) { id } }", id=c))["node"] == {"id": c}
    two = await make_template(admin, title="second")
    c2 = (await claim(me, two))["coupon"]["id"]
    both = await me.mutate(PLACE, input={"lines": lines(shop.sku), "couponIds": [c, c2]})
    assert both["userErrors"][0]["code"] == "COUPONS_ONE_PER_ORDER"
    bad = await admin.mutate("""mutation($i: CreateCouponTemplateInput!) { createCouponTemplate(input: $i) {
      userErrors { code field } } }""", i={"title": "x", "kind": "PERCENT", "percentOff": 100, "validDays": 3})
    assert bad["userErrors"] == [{"code": "COUPONS_INVALID_TEMPLATE", "field": "input.percentOff"}]
    pushed = await me.mutate("""mutation($t: ID!) { pushCoupons(input: {templateId: $t, memberIds: []}) { userErrors { code } } }""", t=t)
    assert pushed["userErrors"][0]["code"] == "KERNEL_FORBIDDEN"
    kernel.clock.advance(days=31)
    expired = await me.mutate(PLACE, input={"lines": lines(shop.sku), "couponIds": [c]})
    assert expired["userErrors"][0]["details"]["reason"] == "EXPIRED"
    assert (await counts(kernel))["orders"] == 0


async def test_cancel_returns_the_coupon_once_and_a_partial_refund_does_not(kernel_factory, graphql):
    kernel, shop = await start(kernel_factory)
    admin = admin_of(graphql, kernel)
    t = await make_template(admin)
    me = graphql(kernel, member(1))
    c = (await claim(me, t))["coupon"]["id"]
    order = (await me.mutate(PLACE, input={"lines": lines(shop.sku), "couponIds": [c]}))["order"]["id"]
    assert (await me.mutate(CANCEL, id=order))["userErrors"] == []
    wallet = {x["id"]: x for x in (await me.data(MINE))["myCoupons"]["nodes"]}
    assert wallet[c]["status"] == "AVAILABLE" and wallet[c]["returnedTimes"] == 1
    # The coupon goes on a second order; replaying the first order's cancellation changes nothing.
    second = (await me.mutate(PLACE, input={"lines": lines(shop.sku, 1) + [{"skuId": gid("Sku", shop.second_sku_id), "quantity": 1}],
                                            "couponIds": [c]}))["order"]
    await kernel.service("coupons").on_order_cancelled(kernel, _event(order))
    wallet = {x["id"]: x for x in (await me.data(MINE))["myCoupons"]["nodes"]}
    assert wallet[c]["status"] == "USED" and wallet[c]["returnedTimes"] == 1
    await pay(me, second["id"])
    line = second["lines"][0]["id"]
    assert (await admin.mutate(REFUND, id=second["id"], lines=[{"lineId": line, "quantity": 1}]))["userErrors"] == []
    assert {x["id"]: x["status"] for x in (await me.data(MINE))["myCoupons"]["nodes"]}[c] == "USED"
    assert (await admin.mutate(REFUND, id=second["id"]))["userErrors"] == []  # the rest: now the whole order
    wallet = {x["id"]: x for x in (await me.data(MINE))["myCoupons"]["nodes"]}
    assert wallet[c]["status"] == "AVAILABLE" and wallet[c]["returnedTimes"] == 2


async def test_the_brand_may_keep_coupons_of_refunded_orders(kernel_factory, graphql):
    kernel, shop = await start(kernel_factory, full_refund="false")
    admin = admin_of(graphql, kernel)
    me = graphql(kernel, member(1))
    c = (await claim(me, await make_template(admin)))["coupon"]["id"]
    order = (await me.mutate(PLACE, input={"lines": lines(shop.sku), "couponIds": [c]}))["order"]["id"]
    await pay(me, order)
    assert (await admin.mutate(REFUND, id=order))["userErrors"] == []
    assert {x["id"]: x["status"] for x in (await me.data(MINE))["myCoupons"]["nodes"]}[c] == "USED"


def _event(order_gid: str):
    from core.gql.relay import decode_id
    from core.transaction import Event

    return Event(0, "order.cancelled", {"orderId": decode_id(order_gid, "Order"), "kind": "plain"}, None)
