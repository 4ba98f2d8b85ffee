"""A member's year, through GraphQL only; the ledger stays exact and explains every change."""

from __future__ import annotations

from datetime import datetime, timezone

from points_mall_helpers import (
    LEDGER,
    MY_POINTS,
    REDEEM,
    REFUND,
    admin_of,
    buy,
    check_invariant,
    make_item,
    pay,
    start,
)

from core.gql.relay import decode_id, to_global_id
from core.testing import member

REASONS = {"order_earn", "order_earn_reversed", "redeem", "redeem_returned", "sign_in", "staff_adjust", "expire"}


async def test_a_members_year(kernel_factory, graphql, clock):
    clock.set(datetime(2026, 3, 1, 4, 0, tzinfo=timezone.utc))  # noon in Shanghai
    kernel, shop = await start(kernel_factory)
    me, admin = graphql(kernel, member(1)), admin_of(graphql, kernel)

    async def step(expected: int) -> None:
        # At every step: balance = sum of entries = sum of unexpired lots, and GraphQL agrees.
        assert await check_invariant(kernel, 1) == expected
        assert (await me.data(MY_POINTS))["myPoints"]["balance"] == expected

    await step(0)
    first = await buy(me, shop, 2)          # 200.00 paid → 200 points
    await step(200)
    second = await buy(me, shop, 1)         # 100.00 paid → 100 points
    await step(300)

    for day in range(7):                    # a week of sign-ins: 5+5+10+10+10+20+30
        payload = await me.mutate("mutation { signInDaily { balance signInStreak userErrors { code } } }")
        assert payload["userErrors"] == [] and payload["signInStreak"] == day + 1
        again = await me.mutate("mutation { signInDaily { userErrors { code } } }")
        assert again["userErrors"] == [{"code": "POINTS_MALL_ALREADY_SIGNED_IN"}]
        clock.advance(days=1)
    await step(390)

    points_only = await make_item(admin, title="100g tin", skuId=to_global_id("Sku", shop.second_sku_id), pointsPrice=150)
    mixed = await make_item(admin, title="50g + cash", skuId=shop.sku, pointsPrice=100, perMemberLimit=2,
                            cashPrice={"amountMinor": 1900, "currency": "CNY"})
    redeemed = await me.mutate(REDEEM, item=points_only)
    assert redeemed["userErrors"] == [] and redeemed["balance"] == 240
    order = redeemed["redemption"]["order"]
    assert order["status"] == "PAID" and order["total"]["amountMinor"] == 0  # points only: paid at once
    await step(240)

    cash = await me.mutate(REDEEM, item=mixed)
    assert cash["balance"] == 140 and cash["redemption"]["order"]["status"] == "PENDING_PAYMENT"
    assert cash["redemption"]["order"]["total"]["amountMinor"] == 1900
    await step(140)
    await pay(me, cash["redemption"]["order"]["id"])  # the 19.00 cash part earns 19 points; the points part none
    await step(159)

    # A second points + cash redemption is never paid: the timeout gives the points back.
    unpaid = await me.mutate(REDEEM, item=mixed)
    assert unpaid["balance"] == 59
    await step(59)
    clock.advance(minutes=31)
    await kernel.run_due()
    await step(159)
    mine = await me.data("{ myPointsRedemptions { edges { node { status returnedQuantity points } } } }")
    assert [e["node"]["status"] for e in mine["myPointsRedemptions"]["edges"]] == ["cancelled", "active", "active"]

    # The second order is refunded: what it earned is reversed.
    assert (await admin.mutate(REFUND, id=second))["order"]["status"] == "REFUNDED"
    await step(59)
    expiring = (await me.data(MY_POINTS))["myPoints"]["expiringSoon"]
    assert expiring == [{"points": 59, "expiresAt": "2027-12-31T16:00:00+00:00"}]

    # Past the end of next year in Shanghai, what is left expires (by the timer).
    clock.set(datetime(2027, 12, 31, 16, 0, 1, tzinfo=timezone.utc))
    await kernel.run_due()
    await step(0)

    ledger = [e["node"] for e in (await me.data(LEDGER))["myPointsLedger"]["edges"]]
    reasons = [entry["reason"] for entry in ledger]
    assert reasons[0] == "expire" and set(reasons) <= REASONS
    assert reasons.count("order_earn") == 3 and reasons.count("sign_in") == 7 and reasons.count("redeem") == 3
    assert reasons.count("redeem_returned") == 1 and reasons.count("order_earn_reversed") == 1
    # Each entry says what caused it, and each balance follows from the one before it.
    running = 0
    for entry in reversed(ledger):
        assert entry["reference"], entry
        running += entry["delta"]
        assert entry["balanceAfter"] == running
    assert running == 0
    reversed_orders = {e["reference"] for e in ledger if e["reason"] == "order_earn_reversed"}
    assert reversed_orders == {f"order:{decode_id(second, 'Order')}"}
    earned_orders = {e["reference"] for e in ledger if e["reason"] == "order_earn"}
    assert f"order:{decode_id(first, 'Order')}" in earned_orders
