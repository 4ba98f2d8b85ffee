"""Concurrent payments and refunds of one member keep the growth ledger exact, on SQLite and
PostgreSQL: growth = the sum of the entries = what the paid lines earned less what their
refunds took back, each line counted once."""

from __future__ import annotations

import asyncio

import pytest
from member_tiers_helpers import MINE, PAY, PLACE, REFUND, SETTLE, admin, buyer, ledger_invariant, start
from sqlalchemy import func, select

from components.member_tiers.models import Entry, Line

BOTH = pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)


@BOTH
async def test_concurrent_payments_then_concurrent_refunds_keep_the_ledger_exact(kernel_factory, graphql, database):
    kernel, shop = await start(kernel_factory, database=database, price=1000)
    me, staff = buyer(graphql, kernel), admin(graphql, kernel)
    orders = [(await me.mutate(PLACE, input={"lines": [{"skuId": shop.sku, "quantity": 3}]}))["order"] for _ in range(12)]
    payments = [(await me.mutate(PAY, id=o["id"]))["payment"]["id"] for o in orders]
    # Settle all twelve at once, each twice (a provider's callback retried).
    settled = await asyncio.gather(*(me.mutate(SETTLE, id=p) for p in payments + payments))
    assert sum(1 for s in settled if s["userErrors"] == []) >= 12
    assert (await me.data(MINE))["myMemberTier"]["growth"] == 12 * 30
    # Refund one unit of each line and the rest of the first six, all at once.
    refunds = [staff.mutate(REFUND, id=o["id"], lines=[{"lineId": o["lines"][0]["id"], "quantity": 1}]) for o in orders]
    refunds += [staff.mutate(REFUND, id=o["id"], lines=[{"lineId": o["lines"][0]["id"], "quantity": 2}]) for o in orders[:6]]
    results = await asyncio.gather(*refunds)
    done = sum(1 for r in results if r["userErrors"] == [])
    assert done == 18  # every refund finds units left (1 + 2 of 3)
    await kernel.events.redeliver()
    growth = await ledger_invariant(kernel, 1)
    # Six orders fully refunded (0 left), six with one unit of three back: 30 − 10 each.
    assert growth == 6 * 20
    async with kernel.db.read() as session:
        assert int(await session.scalar(select(func.count()).select_from(Line))) == 12
        paid = await session.scalar(select(func.count()).select_from(Entry).where(Entry.reason == "order_paid"))
        assert paid == 12
