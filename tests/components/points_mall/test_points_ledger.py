"""The points ledger: a member's year, expiry rules, races, replays and refund policies."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from components.points_mall.models import Account, Entry, Lot
from conftest import open_shop
from core.gql.relay import to_global_id
from core.testing import member, staff

BLUEPRINT = """\
dougong: 1
brand: {slug: pm, name: PM, currency: CNY, timezone: Asia/Shanghai}
components:
  points_mall:
    earn_per_yuan: 1
    expiry: {rule: %s, days: 30}
    refund_shortfall: %s
"""
ORDER = """mutation($sku: ID!, $n: Int!) { createOrder(input: {lines: [{skuId: $sku, quantity: $n}]}) { order { id } userErrors { code } } }"""
PAY = 'mutation($id: ID!) { payOrder(input: {orderId: $id}) { payment { id } } }'
SETTLE = 'mutation($id: ID!) { sandboxSettlePayment(input: {paymentId: $id}) { order { status } userErrors { code } } }'
REDEEM = """mutation($item: ID!, $key: String, $n: Int! = 1) { redeemPointsItem(input: {itemId: $item, quantity: $n, idempotencyKey: $key}) {
  redemption { points status order { id status total { amountMinor } } } balance userErrors { code field } } }"""
ITEM = """mutation($input: CreatePointsMallItemInput!) { createPointsMallItem(input: $input) { item { id } userErrors { code } } }"""


async def start(kernel_factory, graphql, *, rule="end_of_next_year", shortfall="deduct_available", database="sqlite", members=5):
    kernel = await kernel_factory(BLUEPRINT % (rule, shortfall), database=database)
    shop = await open_shop(kernel, members=members, stock=500, price=10000)
    return kernel, shop


async def check_invariant(kernel, member_id: int) -> int:
    """balance = sum of entries = sum of unexpired lot remainders."""
    async with kernel.db.read() as session:
        balance = await session.scalar(select(Account.balance).where(Account.member_id == member_id)) or 0
        entries = await session.scalar(select(func.coalesce(func.sum(Entry.delta), 0)).where(Entry.member_id == member_id))
        lots = await session.scalar(select(func.coalesce(func.sum(Lot.remaining), 0)).where(Lot.member_id == member_id))
    assert balance == entries == lots, (balance, entries, lots)
    return balance


async def buy(client, shop, quantity=1):
    order = (await client.mutate(ORDER, sku=shop.sku, n=quantity))["order"]["id"]
    payment = (await client.mutate(PAY, id=order))["payment"]["id"]
    assert (await client.mutate(SETTLE, id=payment))["order"]["status"] == "PAID"
    return order


async def make_item(admin, **fields):
    payload = await admin.mutate(ITEM, input={"title": "gift", "pointsPrice": 100, "stock": 20, **fields})
    assert payload["userErrors"] == [], payload
    return payload["item"]["id"]


async def test_a_members_year(kernel_factory, graphql, clock):
    clock.set(datetime(2026, 3, 1, 4, 0, tzinfo=timezone.utc))
    kernel, shop = await start(kernel_factory, graphql)
    me, admin = graphql(kernel, member(1)), graphql(kernel, staff(1, "admin"))
    first = await buy(me, shop, 2)          # 200.00 → 200 points
    await buy(me, shop, 1)                  # 100.00 → 100 points
    assert await check_invariant(kernel, 1) == 300
    for day in range(7):                    # a week of sign-ins: 5+5+10+10+10+20+30
        payload = await me.mutate("mutation { signInDaily { balance signInStreak userErrors { code } } }")
        assert payload["userErrors"] == [] and payload["signInStreak"] == day + 1
        again = await me.mutate("mutation { signInDaily { userErrors { code } } }")
        assert again["userErrors"] == [{"code": "POINTS_MALL_ALREADY_SIGNED_IN"}]
        clock.advance(days=1)
    assert await check_invariant(kernel, 1) == 390

    points_only = await make_item(admin, skuId=to_global_id("Sku", shop.second_sku_id), pointsPrice=150)
    mixed = await make_item(admin, skuId=shop.sku, pointsPrice=100, cashPrice={"amountMinor": 1900, "currency": "CNY"})
    redeemed = await me.mutate(REDEEM, item=points_only)
    assert redeemed["userErrors"] == [] and redeemed["balance"] == 240
    assert redeemed["redemption"]["order"]["status"] == "PAID" and redeemed["redemption"]["order"]["total"]["amountMinor"] == 0
    cash = await me.mutate(REDEEM, item=mixed)
    assert cash["balance"] == 140 and cash["redemption"]["order"]["status"] == "PENDING_PAYMENT"
    assert cash["redemption"]["order"]["total"]["amountMinor"] == 1900
    await check_invariant(kernel, 1)

    # The unpaid points + cash order times out: points and item stock come back.
    clock.advance(minutes=31)
    await kernel.run_due()
    assert await check_invariant(kernel, 1) == 240

    # A refund reverses what the order earned.
    refund = 'mutation($id: ID!) { refundOrder(input: {orderId: $id}) { order { status } userErrors { code } } }'
    assert (await admin.mutate(refund, id=first))["order"]["status"] == "REFUNDED"
    assert await check_invariant(kernel, 1) == 40

    # Past the end of next year in Shanghai, what is left expires.
    clock.set(datetime(2028, 1, 1, 0, 0, 1, tzinfo=timezone.utc))
    await kernel.run_due()
    assert await check_invariant(kernel, 1) == 0
    ledger = await me.data("{ myPointsLedger(first: 50) { edges { node { delta reason balanceAfter } } } }")
    reasons = [e["node"]["reason"] for e in ledger["myPointsLedger"]["edges"]]
    assert reasons.count("order_earn") == 2 and reasons.count("sign_in") == 7 and reasons.count("redeem") == 2
    assert "redeem_returned" in reasons and "order_earn_reversed" in reasons and reasons[0] == "expire"
    # Each entry's balance follows from the one before it.
    edges = list(reversed(ledger["myPointsLedger"]["edges"]))
    running = 0
    for edge in edges:
        running += edge["node"]["delta"]
        assert edge["node"]["balanceAfter"] == running


async def test_expiry_end_of_next_year_in_shanghai_around_midnight(kernel_factory, graphql, clock):
    # 2026-12-31 23:30 in Shanghai is 15:30 UTC: earned in 2026 → expires 2028-01-01 00:00 Shanghai.
    clock.set(datetime(2026, 12, 31, 15, 30, tzinfo=timezone.utc))
    kernel, shop = await start(kernel_factory, graphql)
    service = kernel.service("points_mall")
    async with kernel.transaction() as tx:
        await service.credit(tx, 1, 100, reason="staff_adjust", key="a")
    clock.set(datetime(2026, 12, 31, 16, 30, tzinfo=timezone.utc))  # 00:30 on 1 January 2027 in Shanghai
    async with kernel.transaction() as tx:
        await service.credit(tx, 1, 50, reason="staff_adjust", key="b")
    async with kernel.db.read() as session:
        expiries = sorted(l.expires_at for l in (await session.scalars(select(Lot).where(Lot.member_id == 1))).all())
    assert [e.replace(tzinfo=timezone.utc) if e.tzinfo is None else e for e in expiries] == [
        datetime(2027, 12, 31, 16, 0, tzinfo=timezone.utc), datetime(2028, 12, 31, 16, 0, tzinfo=timezone.utc)]
    clock.set(datetime(2027, 12, 31, 15, 59, 59, tzinfo=timezone.utc))  # one second before midnight in Shanghai
    await kernel.run_due()
    assert await check_invariant(kernel, 1) == 150
    clock.set(datetime(2027, 12, 31, 16, 0, 0, tzinfo=timezone.utc))
    async with kernel.transaction() as tx:
        await service.expire_member(tx, 1)
    assert await check_invariant(kernel, 1) == 50


async def test_expiry_n_days_after_earning_and_lazily_before_a_spend(kernel_factory, graphql, clock):
    kernel, shop = await start(kernel_factory, graphql, rule="days")
    service = kernel.service("points_mall")
    async with kernel.transaction() as tx:
        await service.credit(tx, 1, 100, reason="staff_adjust", key="old")
    clock.advance(days=20)
    async with kernel.transaction() as tx:
        await service.credit(tx, 1, 100, reason="staff_adjust", key="new")
    clock.advance(days=10, seconds=1)  # the first lot is 30 days old now; no timer has run
    admin = graphql(kernel, staff(1, "admin"))
    item = await make_item(admin, pointsPrice=150)
    refused = await graphql(kernel, member(1)).mutate(REDEEM, item=item)
    # Only 100 points were still valid: the expiry applied inside the spend refused it (and,
    # like the spend, rolled back). The hourly job writes the expiry for good.
    assert refused["userErrors"] == [{"code": "POINTS_MALL_NOT_ENOUGH_POINTS", "field": "input"}]
    clock.advance(hours=1)
    await kernel.run_due()
    assert await check_invariant(kernel, 1) == 100
    ok = await graphql(kernel, member(1)).mutate(REDEEM, item=await make_item(admin, pointsPrice=100))
    assert ok["userErrors"] == [] and ok["balance"] == 0


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_one_member_races_100_redemptions_covered_10_times(kernel_factory, graphql, database):
    kernel, shop = await start(kernel_factory, graphql, database=database)
    admin = graphql(kernel, staff(1, "admin"))
    item = await make_item(admin, pointsPrice=100, stock=500, perMemberLimit=500)
    await admin.mutate('mutation($m: ID!) { adjustPoints(input: {memberId: $m, delta: 1000, note: "gift"}) { userErrors { code } } }',
                       m=to_global_id("Member", 1))
    me = graphql(kernel, member(1))
    results = await asyncio.gather(*(me.mutate(REDEEM, item=item) for _ in range(100)))
    assert sum(1 for r in results if not r["userErrors"]) == 10
    assert all(r["userErrors"][0]["code"] == "POINTS_MALL_NOT_ENOUGH_POINTS" for r in results if r["userErrors"])
    assert await check_invariant(kernel, 1) == 0


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_100_members_race_for_20_items(kernel_factory, graphql, database):
    kernel, shop = await start(kernel_factory, graphql, database=database, members=100)
    admin = graphql(kernel, staff(1, "admin"))
    item = await make_item(admin, pointsPrice=10, stock=20)
    service = kernel.service("points_mall")
    async with kernel.transaction() as tx:
        for m in range(1, 101):
            await service.credit(tx, m, 50, reason="staff_adjust", key="seed")
    results = await asyncio.gather(*(graphql(kernel, member(m)).mutate(REDEEM, item=item) for m in range(1, 101)))
    assert sum(1 for r in results if not r["userErrors"]) == 20
    assert {r["userErrors"][0]["code"] for r in results if r["userErrors"]} == {"POINTS_MALL_SOLD_OUT"}
    stock = await graphql(kernel).data("query($id: ID!) { node(id: $id) { ... on PointsMallItem { stockLeft } } }", id=item)
    assert stock["node"]["stockLeft"] == 0
    for m in (1, 50, 100):
        assert await check_invariant(kernel, m) in (40, 50)


async def test_replays_change_nothing(kernel_factory, graphql):
    kernel, shop = await start(kernel_factory, graphql)
    me, admin = graphql(kernel, member(1)), graphql(kernel, staff(1, "admin"))
    adjust = 'mutation($m: ID!) { adjustPoints(input: {memberId: $m, delta: 500, note: "apology", idempotencyKey: "adj-1"}) { balance userErrors { code } } }'
    assert (await admin.mutate(adjust, m=to_global_id("Member", 1)))["balance"] == 500
    assert (await admin.mutate(adjust, m=to_global_id("Member", 1)))["balance"] == 500
    item = await make_item(admin, pointsPrice=100, perMemberLimit=5)
    first = await me.mutate(REDEEM, item=item, key="r-1")
    again = await me.mutate(REDEEM, item=item, key="r-1")
    assert first["balance"] == again["balance"] == 400
    # An earn delivered twice (the worker re-delivers an event) earns once.
    order = await buy(me, shop)
    from core.transaction import Event

    async with kernel.db.read() as session:
        row = (await session.scalars(select(Entry).where(Entry.reason == "order_earn"))).one()
    service = kernel.service("points_mall")
    from core.gql.relay import decode_id

    event = Event(0, "order.paid", {"orderId": decode_id(order, "Order"), "memberId": 1, "kind": "plain", "totalMinor": 10000}, row.created_at)
    await service.on_order_event(kernel, event)
    assert await check_invariant(kernel, 1) == 500


@pytest.mark.parametrize("policy,expected_balance", [("deduct_available", 0), ("allow_negative", -50)])
async def test_refund_after_the_points_were_spent_follows_the_policy(kernel_factory, graphql, policy, expected_balance):
    kernel, shop = await start(kernel_factory, graphql, shortfall=policy)
    me, admin = graphql(kernel, member(1)), graphql(kernel, staff(1, "admin"))
    order = await buy(me, shop)                    # earns 100
    item = await make_item(admin, pointsPrice=50)
    await me.mutate(REDEEM, item=item)             # spends 50
    await admin.mutate('mutation($id: ID!) { refundOrder(input: {orderId: $id}) { userErrors { code } } }', id=order)
    async with kernel.db.read() as session:
        balance = await session.scalar(select(Account.balance).where(Account.member_id == 1))
        reversal = (await session.scalars(select(Entry).where(Entry.reason == "order_earn_reversed"))).one()
    assert balance == expected_balance
    if policy == "deduct_available":
        assert reversal.delta == -50 and "shortfall: 50" in reversal.note  # recorded, never skipped
        await check_invariant(kernel, 1)
    else:
        assert reversal.delta == -100


async def test_bad_input_gets_typed_errors(kernel_factory, graphql, clock):
    kernel, shop = await start(kernel_factory, graphql)
    me, admin = graphql(kernel, member(1)), graphql(kernel, staff(1, "admin"))
    await admin.mutate('mutation($m: ID!) { adjustPoints(input: {memberId: $m, delta: 1000, note: "x"}) { userErrors { code } } }',
                       m=to_global_id("Member", 1))
    vip = await make_item(admin, minTier=2)
    later = await make_item(admin, startsAt=(clock.now() + timedelta(days=1)).isoformat())
    limited = await make_item(admin, perMemberLimit=1)
    expensive = await make_item(admin, pointsPrice=5000)
    assert (await me.mutate(REDEEM, item=vip))["userErrors"][0]["code"] == "POINTS_MALL_TIER_NOT_ALLOWED"
    assert (await me.mutate(REDEEM, item=later))["userErrors"][0]["code"] == "POINTS_MALL_OUTSIDE_WINDOW"
    assert (await me.mutate(REDEEM, item=limited, n=2))["userErrors"][0]["code"] == "POINTS_MALL_LIMIT_REACHED"
    assert (await me.mutate(REDEEM, item=expensive))["userErrors"][0]["code"] == "POINTS_MALL_NOT_ENOUGH_POINTS"
    assert (await me.mutate(REDEEM, item=limited, n=0))["userErrors"][0]["code"] == "KERNEL_INVALID_INPUT"
    assert (await me.mutate(REDEEM, item=limited, n=-5))["userErrors"][0]["code"] == "KERNEL_INVALID_INPUT"
    zero = await admin.mutate('mutation($m: ID!) { adjustPoints(input: {memberId: $m, delta: 0, note: "x"}) { userErrors { code } } }',
                              m=to_global_id("Member", 1))
    assert zero["userErrors"][0]["code"] == "KERNEL_INVALID_INPUT"
    no_note = await admin.mutate('mutation($m: ID!) { adjustPoints(input: {memberId: $m, delta: 5, note: " "}) { userErrors { code } } }',
                                 m=to_global_id("Member", 1))
    assert no_note["userErrors"][0]["code"] == "POINTS_MALL_REASON_REQUIRED"
    forbidden = await me.mutate('mutation($m: ID!) { adjustPoints(input: {memberId: $m, delta: 5, note: "me"}) { userErrors { code } } }',
                                m=to_global_id("Member", 1))
    assert forbidden["userErrors"][0]["code"] == "KERNEL_FORBIDDEN"
    assert await check_invariant(kernel, 1) == 1000
    # Another member's ledger entry is invisible through node(id).
    async with kernel.db.read() as session:
        entry = (await session.scalars(select(Entry).where(Entry.member_id == 1))).first()
    seen = await graphql(kernel, member(2)).data("query($id: ID!) { node(id: $id) { id } }", id=to_global_id("PointsLedgerEntry", entry.id))
    assert seen["node"] is None
