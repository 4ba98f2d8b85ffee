"""Growth from paid orders, reversal on refund line by line, the immediate upgrade and the
member price stage, through GraphQL on the one checkout."""

from __future__ import annotations

from member_tiers_helpers import ADJUST, LEDGER, MINE, PLACE, PREVIEW, REFUND, admin, buy_paid, buyer, ledger_invariant, start

from core.gql.relay import to_global_id


async def test_paid_orders_earn_growth_and_raise_the_tier_at_once(kernel_factory, graphql):
    kernel, shop = await start(kernel_factory)
    me = buyer(graphql, kernel)
    assert (await me.data(MINE))["myMemberTier"]["tier"] == {"code": "member", "level": 0}
    await buy_paid(me, shop.sku)  # 100.00 paid: 100 growth, the silver threshold
    mine = (await me.data(MINE))["myMemberTier"]
    assert mine["growth"] == 100 and mine["tier"]["code"] == "silver"
    assert mine["nextTier"] == {"code": "gold"} and mine["growthToNext"] == 200 and mine["progressPercent"] == 0
    assert mine["discountPercent"] == 5 and mine["pointsPercent"] == 150 and mine["reviewAt"] is not None
    # Silver's member price: 5 % off the plain line, at the discount stage.
    order = await buy_paid(me, shop.sku, 2)
    assert order["total"]["amountMinor"] == 19000
    [adjustment] = order["lines"][0]["adjustments"]
    assert adjustment["component"] == "member_tiers" and adjustment["stage"] == "discount"
    assert adjustment["amount"]["amountMinor"] == -1000
    mine = (await me.data(MINE))["myMemberTier"]
    assert mine["growth"] == 290 and mine["progressPercent"] == 95
    assert await ledger_invariant(kernel, 1) == 290


async def test_an_unpaid_order_earns_nothing_and_the_preview_shows_the_member_price(kernel_factory, graphql):
    kernel, shop = await start(kernel_factory)
    me = buyer(graphql, kernel)
    await admin(graphql, kernel).mutate(ADJUST, m=to_global_id("Member", 1), d=300, r="welcome")
    preview = (await me.data(PREVIEW, input={"lines": [{"skuId": shop.sku, "quantity": 3}]}))["previewCheckout"]["preview"]
    assert preview["total"]["amountMinor"] == 27000  # gold: 10 % off 300.00
    placed = await me.mutate(PLACE, input={"lines": [{"skuId": shop.sku, "quantity": 3}]})
    assert placed["order"]["total"]["amountMinor"] == 27000
    assert (await me.data(MINE))["myMemberTier"]["growth"] == 300  # placed, not paid
    assert await ledger_invariant(kernel, 1) == 300


async def test_refunds_take_growth_back_line_by_line_and_never_twice(kernel_factory, graphql):
    kernel, shop = await start(kernel_factory)
    me, staff = buyer(graphql, kernel), admin(graphql, kernel)
    # Two lines: 3 × 100.00 and 1 × 200.00 — 500 growth, split 300 / 200 by what each line paid.
    order = await buy_paid(me, shop.sku, lines=[{"skuId": shop.sku, "quantity": 3},
                                                {"skuId": to_global_id("Sku", shop.second_sku_id), "quantity": 1}])
    first, second = order["lines"]
    assert (await me.data(MINE))["myMemberTier"]["growth"] == 500
    refunded = await staff.mutate(REFUND, id=order["id"], lines=[{"lineId": first["id"], "quantity": 1}])
    assert refunded["userErrors"] == []
    assert (await me.data(MINE))["myMemberTier"]["growth"] == 400
    # Redelivering every event (at least once) changes nothing.
    await kernel.events.redeliver()
    assert await ledger_invariant(kernel, 1) == 400
    await staff.mutate(REFUND, id=order["id"], lines=[{"lineId": first["id"], "quantity": 2}])
    await staff.mutate(REFUND, id=order["id"], lines=[{"lineId": second["id"], "quantity": 1}])
    mine = (await me.data(MINE))["myMemberTier"]
    assert mine["growth"] == 0
    assert mine["tier"]["code"] == "gold"  # a refund never lowers the tier: only the review does
    reasons = [e["reason"] for e in (await me.data(LEDGER))["myGrowthLedger"]["nodes"]]
    assert reasons.count("ORDER_PAID") == 2 and reasons.count("ORDER_REFUNDED") == 3
    assert await ledger_invariant(kernel, 1) == 0


async def test_staff_adjust_needs_a_reason_and_keeps_growth_at_zero_or_more(kernel_factory, graphql):
    kernel, _shop = await start(kernel_factory)
    staff, who = admin(graphql, kernel), to_global_id("Member", 2)
    assert (await staff.mutate(ADJUST, m=who, d=50, r="  "))["userErrors"][0]["code"] == "MEMBER_TIERS_REASON_REQUIRED"
    refused = await staff.mutate(ADJUST, m=who, d=-1, r="oops")
    assert refused["userErrors"][0]["code"] == "MEMBER_TIERS_INVALID_DELTA" and refused["userErrors"][0]["details"] == {"growth": 0}
    assert (await staff.mutate(ADJUST, m=who, d=0, r="nothing"))["userErrors"][0]["code"] == "MEMBER_TIERS_INVALID_DELTA"
    assert (await staff.mutate(ADJUST, m=to_global_id("Member", 99), d=5, r="x"))["userErrors"][0]["code"] == "KERNEL_NOT_FOUND"
    done = await staff.mutate(ADJUST, m=who, d=120, r="store event", key="k1")
    assert done["status"] == {"tier": {"code": "silver"}, "growth": 120}
    assert done["entry"]["reason"] == "STAFF_ADJUST" and "store event" in done["entry"]["note"]
    again = await staff.mutate(ADJUST, m=who, d=120, r="store event", key="k1")
    assert again["entry"] == done["entry"]
    assert await ledger_invariant(kernel, 2) == 120
    member = buyer(graphql, kernel, 2)
    refused = await member.execute(ADJUST, {"m": who, "d": 5, "r": "me"})
    assert refused["data"]["adjustMemberGrowth"]["userErrors"][0]["code"] in ("KERNEL_FORBIDDEN", "KERNEL_UNAUTHENTICATED")


async def test_tiers_that_do_not_rise_stop_the_boot_naming_the_setting(kernel_factory):
    import pytest

    from core.errors import BootError

    bad = """\
dougong: 1
brand: {slug: mt, name: MT, currency: CNY, timezone: Asia/Shanghai}
components:
  member_tiers:
    tiers: [{code: a, name: A, threshold: 0}, {code: b, name: B, threshold: 0}]
"""
    with pytest.raises(BootError, match=r"member_tiers.tiers\[1\].threshold must be above 0"):
        await kernel_factory(bad)


async def test_a_visitor_gets_null_tier_fields_beside_the_public_tiers_and_the_ledger_pages_from_its_end(kernel_factory, graphql):
    kernel, shop = await start(kernel_factory)
    page = await graphql(kernel).execute("{ myMemberTier { growth } myGrowthLedger { nodes { delta } } memberTiers { code } }")
    assert page["data"]["myMemberTier"] is None and page["data"]["myGrowthLedger"] is None
    assert [t["code"] for t in page["data"]["memberTiers"]][0] == "member"
    assert sorted(e["path"][0] for e in page["errors"]) == ["myGrowthLedger", "myMemberTier"]
    me = buyer(graphql, kernel)
    await buy_paid(me, shop.sku)
    await buy_paid(me, shop.sku, 2)
    oldest = "{ myGrowthLedger(last: 1) { nodes { delta } pageInfo { hasPreviousPage hasNextPage } } }"
    assert (await me.data(oldest))["myGrowthLedger"] == {"nodes": [{"delta": 100}], "pageInfo": {"hasPreviousPage": True, "hasNextPage": False}}
