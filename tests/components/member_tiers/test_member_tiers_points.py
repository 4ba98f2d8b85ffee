"""points_mall learns a member's tier and earn multiplier from member_tiers through its extension
point (``use_member_standing``), never from member_tiers' tables."""

from __future__ import annotations

from member_tiers_helpers import ADJUST, BUY, admin, buy_paid, buyer, pay, start

from core.gql.relay import to_global_id

POINTS = "{ myPoints { balance tier } }"
EXTRA = "  points_mall: {earn_per_yuan: 1, grant_on: paid, earn_multipliers: [{percent: 250, dates: ['2020-01-01']}]}\n"


async def test_the_tier_multiplies_points_and_the_better_of_tier_and_term_wins(kernel_factory, graphql):
    kernel, shop = await start(kernel_factory, extra=EXTRA, price=5000)
    me = buyer(graphql, kernel)
    await buy_paid(me, shop.sku)  # the first tier: 50.00 earns 50 points at 100 % (and 50 growth, still below silver)
    assert (await me.data(POINTS))["myPoints"]["balance"] == 50
    await admin(graphql, kernel).mutate(ADJUST, m=to_global_id("Member", 1), d=300, r="vip")  # gold: 200 %
    assert (await me.data(POINTS))["myPoints"]["tier"] == 0  # points_mall's own staff-set tier is untouched
    await buy_paid(me, shop.sku)  # 45.00 after gold's 10 % off, ×200 % (the 250 % rule is for another day)
    assert (await me.data(POINTS))["myPoints"]["balance"] == 50 + 90
    await pay(me, (await me.mutate(BUY, code="svip"))["order"]["id"])
    before = (await me.data(POINTS))["myPoints"]["balance"]
    await buy_paid(me, shop.sku)  # 40.00 after the term's 20 % off, ×300 %: the term beats gold
    assert (await me.data(POINTS))["myPoints"]["balance"] == before + 120


async def test_points_mall_items_check_the_tier_member_tiers_decides(kernel_factory, graphql):
    kernel, _shop = await start(kernel_factory, extra=EXTRA)
    async with kernel.db.read() as session:
        service = kernel.service("points_mall")
        assert await service.standing(session, 1, 0) == (0, 100)
    await admin(graphql, kernel).mutate(ADJUST, m=to_global_id("Member", 1), d=120, r="vip")
    async with kernel.db.read() as session:
        assert await service.standing(session, 1, 0) == (1, 150)  # silver: level 1, 150 %
