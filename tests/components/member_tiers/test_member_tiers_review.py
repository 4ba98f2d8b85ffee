"""The keep-level review: a tier is kept when the growth earned in the last period reaches its
keep threshold, lowered to the highest tier whose keep holds otherwise — by the review timer only."""

from __future__ import annotations

from member_tiers_helpers import ADJUST, LEDGER, MINE, admin, buy_paid, buyer, ledger_invariant, start

from core.gql.relay import to_global_id

CHANGED = "member_tiers.tier_changed"


async def test_a_member_who_keeps_earning_keeps_the_tier_and_one_who_stops_drops(kernel_factory, graphql, clock):
    kernel, shop = await start(kernel_factory)
    staff = admin(graphql, kernel)
    for who in (1, 2):
        await staff.mutate(ADJUST, m=to_global_id("Member", who), d=350, r="opening")  # gold for both
    clock.advance(days=20)
    await buy_paid(buyer(graphql, kernel, 1), shop.sku, 3)  # 270.00 at gold's 10 % off: 270 growth this period
    clock.advance(days=10, seconds=1)
    await kernel.run_due()
    one = (await buyer(graphql, kernel, 1).data(MINE))["myMemberTier"]
    two = (await buyer(graphql, kernel, 2).data(MINE))["myMemberTier"]
    assert one["tier"]["code"] == "gold"  # 350 + 270 earned in the 30 days ≥ keep 200
    # Member 2 earned 350 in the period too (the opening adjustment counts): kept as well.
    assert two["tier"]["code"] == "gold"
    # The next period: nobody earns; both drop to the first tier (silver's keep 50 fails too),
    # and growth is trimmed below silver's threshold so the next payment does not lift them back.
    clock.advance(days=30, seconds=1)
    await kernel.run_due()
    two = (await buyer(graphql, kernel, 2).data(MINE))["myMemberTier"]
    assert two["tier"]["code"] == "member" and two["growth"] == 99 and two["reviewAt"] is None
    ledger = (await buyer(graphql, kernel, 2).data(LEDGER))["myGrowthLedger"]["nodes"]
    assert ledger[0]["reason"] == "REVIEW" and ledger[0]["delta"] == -251
    assert await ledger_invariant(kernel, 2) == 99


async def test_a_review_lowers_to_the_highest_tier_whose_keep_holds(kernel_factory, graphql, clock):
    kernel, _shop = await start(kernel_factory)
    staff, who = admin(graphql, kernel), to_global_id("Member", 3)
    await staff.mutate(ADJUST, m=who, d=400, r="opening")  # gold, review in 30 days
    clock.advance(days=31)
    await kernel.run_due()  # 400 earned in the period: kept, next review 30 days on
    clock.advance(days=25)
    await staff.mutate(ADJUST, m=who, d=60, r="a purchase offline")  # 60 this period: silver's keep, not gold's
    clock.advance(days=6)
    await kernel.run_due()
    mine = (await buyer(graphql, kernel, 3).data(MINE))["myMemberTier"]
    assert mine["tier"]["code"] == "silver" and mine["growth"] == 299
    async with kernel.db.read() as session:
        from sqlalchemy import select

        from core.models import EventRow

        moves = [row.payload for row in (await session.scalars(select(EventRow).where(EventRow.name == CHANGED)
                                                                 .order_by(EventRow.id))).all()]
    assert [(m["fromTier"], m["toTier"], m["direction"]) for m in moves] == [("member", "gold", "up"), ("gold", "silver", "down")]
