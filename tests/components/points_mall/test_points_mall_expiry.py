"""Both expiry rules, around midnight and New Year in Asia/Shanghai, by timer and lazily."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from points_mall_helpers import MY_POINTS, REDEEM, admin_of, check_invariant, grant, make_item, start
from sqlalchemy import select

from components.points_mall import service as service_module
from components.points_mall.models import Entry, Lot
from core.clock import as_utc
from core.testing import member

UTC = timezone.utc


async def expiries(kernel, member_id: int) -> list[datetime]:
    async with kernel.db.read() as session:
        lots = (await session.scalars(select(Lot).where(Lot.member_id == member_id).order_by(Lot.id))).all()
    return [as_utc(lot.expires_at) for lot in lots]


async def test_end_of_next_year_in_shanghai_around_midnight_and_new_year(kernel_factory, graphql, clock):
    clock.set(datetime(2026, 12, 31, 15, 59, 59, tzinfo=UTC))  # 23:59:59 on 31 Dec 2026 in Shanghai
    kernel, _shop = await start(kernel_factory)
    admin = admin_of(graphql, kernel)
    await grant(admin, 1, 100)
    clock.set(datetime(2026, 12, 31, 16, 0, 0, tzinfo=UTC))    # midnight: 1 Jan 2027 in Shanghai, still 2026 in UTC
    await grant(admin, 1, 50)
    clock.set(datetime(2027, 12, 31, 23, 0, 0, tzinfo=UTC))    # 07:00 on 1 Jan 2028 in Shanghai, still 2027 in UTC
    await grant(admin, 1, 7)
    assert await expiries(kernel, 1) == [
        datetime(2027, 12, 31, 16, 0, tzinfo=UTC),   # earned in 2026 (Shanghai) → end of 2027 Shanghai
        datetime(2028, 12, 31, 16, 0, tzinfo=UTC),   # earned in 2027 (Shanghai) → end of 2028 Shanghai
        datetime(2029, 12, 31, 16, 0, tzinfo=UTC),   # earned in 2028 (Shanghai) → end of 2029 Shanghai
    ]
    # The 2026 lot has already expired (at 16:00 UTC); the timer writes it off.
    await kernel.run_due()
    assert await check_invariant(kernel, 1) == 57


async def test_end_of_next_year_expires_exactly_at_shanghai_midnight(kernel_factory, graphql, clock):
    clock.set(datetime(2026, 6, 1, 4, 0, tzinfo=UTC))
    kernel, _shop = await start(kernel_factory)
    admin, me = admin_of(graphql, kernel), graphql(kernel, member(1))
    await grant(admin, 1, 100)
    item = await make_item(admin, pointsPrice=100, stock=5)
    clock.set(datetime(2027, 12, 31, 15, 59, 59, tzinfo=UTC))  # one second before midnight in Shanghai
    await kernel.run_due()
    assert await check_invariant(kernel, 1) == 100
    soon = (await me.data(MY_POINTS))["myPoints"]["expiringSoon"]
    assert soon == [{"points": 100, "expiresAt": "2027-12-31T16:00:00+00:00"}]
    clock.set(datetime(2027, 12, 31, 16, 0, 0, tzinfo=UTC))    # midnight: the spend expires them first (lazily)
    refused = await me.mutate(REDEEM, item=item)
    assert refused["userErrors"][0]["code"] == "POINTS_MALL_NOT_ENOUGH_POINTS"
    assert refused["userErrors"][0]["details"] == {"balance": 0, "needed": 100}
    # The refusal rolled back the lazy write-off with it; the timer set for that instant writes it for good.
    await kernel.run_due()
    assert await check_invariant(kernel, 1) == 0
    async with kernel.db.read() as session:
        expired = (await session.scalars(select(Entry).where(Entry.reason == "expire"))).one()
    assert expired.delta == -100 and expired.reference.startswith("lot:") and "2028-01-01T00:00:00+08:00" in expired.note


async def test_n_days_after_earning_by_timer_and_lazily_before_a_spend(kernel_factory, graphql, clock):
    kernel, _shop = await start(kernel_factory, rule="days")
    admin, me = admin_of(graphql, kernel), graphql(kernel, member(1))
    start_at = clock.now()
    await grant(admin, 1, 100)
    clock.advance(days=20)
    await grant(admin, 1, 100)
    assert await expiries(kernel, 1) == [start_at + timedelta(days=30), start_at + timedelta(days=50)]
    item = await make_item(admin, pointsPrice=150, perMemberLimit=5)

    clock.set(start_at + timedelta(days=30, seconds=-1))
    await kernel.run_due()
    assert await check_invariant(kernel, 1) == 200

    # 30 days on, no timer has run since: the spend writes the first lot off before it checks.
    clock.set(start_at + timedelta(days=30))
    refused = await me.mutate(REDEEM, item=item)
    assert refused["userErrors"][0]["code"] == "POINTS_MALL_NOT_ENOUGH_POINTS"
    await kernel.run_due()  # the timer set for the lot's expiry instant writes it off
    assert await check_invariant(kernel, 1) == 100
    ok = await me.mutate(REDEEM, item=await make_item(admin, pointsPrice=60))
    assert ok["userErrors"] == [] and ok["balance"] == 40
    clock.set(start_at + timedelta(days=50, hours=1))
    await kernel.run_due()
    assert await check_invariant(kernel, 1) == 0


async def test_spends_take_the_soonest_expiring_points_and_returns_keep_their_expiry(kernel_factory, graphql, clock):
    kernel, shop = await start(kernel_factory, rule="days")
    admin, me = admin_of(graphql, kernel), graphql(kernel, member(1))
    t0 = clock.now()
    await grant(admin, 1, 100)                 # expires t0+30d
    clock.advance(days=10)
    await grant(admin, 1, 100)                 # expires t0+40d
    mixed = await make_item(admin, skuId=shop.sku, pointsPrice=150, cashPrice={"amountMinor": 500, "currency": "CNY"})
    redeemed = await me.mutate(REDEEM, item=mixed)
    assert redeemed["balance"] == 50
    async with kernel.db.read() as session:
        lots = (await session.scalars(select(Lot).where(Lot.member_id == 1).order_by(Lot.id))).all()
    assert [lot.remaining for lot in lots] == [0, 50]  # the older lot went first
    # Not paid: the points come back with the expiries they had, not fresh ones.
    clock.advance(minutes=31)
    await kernel.run_due()
    assert await check_invariant(kernel, 1) == 200
    soon = (await me.data(MY_POINTS))["myPoints"]["expiringSoon"]
    assert soon == [{"points": 100, "expiresAt": (t0 + timedelta(days=30)).isoformat()},
                    {"points": 100, "expiresAt": (t0 + timedelta(days=40)).isoformat()}]


async def test_new_year_expiry_of_many_members_is_chained_in_batches(kernel_factory, graphql, clock, monkeypatch):
    monkeypatch.setattr(service_module, "EXPIRE_BATCH", 2)
    kernel, _shop = await start(kernel_factory, members=5)
    service = kernel.service("points_mall")
    async with kernel.transaction() as tx:
        for m in range(1, 6):
            await service.credit(tx, m, 10 * m, reason="staff_adjust", key="seed")
    clock.set(datetime(2028, 1, 1, 0, 0, tzinfo=UTC))
    for _ in range(4):  # the recurring run takes 2 members and chains the next batch at once
        await kernel.run_due()
    for m in range(1, 6):
        assert await check_invariant(kernel, m) == 0
