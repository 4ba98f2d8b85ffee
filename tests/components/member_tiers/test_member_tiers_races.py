"""Concurrent payments and refunds of one member keep the growth ledger exact, on SQLite and
PostgreSQL: growth = the sum of the entries = what the paid lines earned less what their
refunds took back, each line counted once."""

from __future__ import annotations

import asyncio

import pytest
from member_tiers_helpers import BUY, MINE, PAY, PLACE, REFUND, SETTLE, admin, buyer, ledger_invariant, start
from sqlalchemy import func, select

from components.member_tiers.models import Entry, Line

BOTH = pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)


@BOTH
async def test_concurrent_payments_then_concurrent_refunds_keep_the_ledger_exact(kernel_factory, graphql, database):
    kernel, shop = await start(kernel_factory, database=database, price=1000)
    me, staff = buyer(graphql, kernel), admin(graphql, kernel)
    orders = [(await me.mutate(PLACE, input={"lines": [{"skuId": shop.sku, "quantity": 3}]}))["order"] for _ in range(10)]
    payments = [(await me.mutate(PAY, id=o["id"]))["payment"]["id"] for o in orders]
    # Settle all ten at once, each twice (a provider's callback retried): 20 concurrent callbacks.
    settled = await asyncio.gather(*(me.mutate(SETTLE, id=p) for p in payments + payments))
    assert sum(1 for s in settled if s["userErrors"] == []) >= 10
    assert (await me.data(MINE))["myMemberTier"]["growth"] == 10 * 30
    # Refund one unit of each line and the rest of the first five, all at once: 15 concurrent refunds.
    refunds = [staff.mutate(REFUND, id=o["id"], lines=[{"lineId": o["lines"][0]["id"], "quantity": 1}]) for o in orders]
    refunds += [staff.mutate(REFUND, id=o["id"], lines=[{"lineId": o["lines"][0]["id"], "quantity": 2}]) for o in orders[:5]]
    results = await asyncio.gather(*refunds)
    done = sum(1 for r in results if r["userErrors"] == [])
    assert done == 15  # every refund finds units left (1 + 2 of 3)
    await kernel.events.redeliver()
    growth = await ledger_invariant(kernel, 1)
    # Five orders fully refunded (0 left), five with one unit of three back: 30 − 10 each.
    assert growth == 5 * 20
    async with kernel.db.read() as session:
        assert int(await session.scalar(select(func.count()).select_from(Line))) == 10
        paid = await session.scalar(select(func.count()).select_from(Entry).where(Entry.reason == "order_paid"))
        assert paid == 10


@BOTH
async def test_first_buyers_share_one_term_sku_and_concurrent_payments_extend_once_each(kernel_factory, graphql, database):
    from datetime import datetime, timedelta

    from components.member_tiers.models import Purchase, TermProduct

    kernel, _shop = await start(kernel_factory, database=database, members=20)
    bought = await asyncio.gather(*(buyer(graphql, kernel, m).mutate(BUY, code="svip") for m in range(1, 21)))
    assert all(b["userErrors"] == [] for b in bought), bought
    async with kernel.db.read() as session:
        assert int(await session.scalar(select(func.count()).select_from(TermProduct))) == 1
        skus = await kernel.service("member_tiers").term_skus(session)
    assert len(skus) == 1
    me = buyer(graphql, kernel, 1)
    second = (await me.mutate(BUY, code="svip"))["order"]
    payments = [(await me.mutate(PAY, id=o))["payment"]["id"] for o in (bought[0]["order"]["id"], second["id"])]
    await asyncio.gather(*(me.mutate(SETTLE, id=p) for p in payments + payments))
    await kernel.events.redeliver()
    ends = datetime.fromisoformat((await me.data(MINE))["myMemberTier"]["paidTerm"]["expiresAt"])
    assert ends == kernel.clock.now() + timedelta(days=60)
    async with kernel.db.read() as session:
        spans = sorted((await session.execute(select(Purchase.starts_at, Purchase.ends_at)
                                               .where(Purchase.member_id == 1, Purchase.status == "active"))).all())
    assert len(spans) == 2 and spans[0][1] == spans[1][0]  # back to back, never overlapping
