"""Concurrent withdrawals of one promoter never take more than the balance; a crowd of first
clicks binds a customer once (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio

import pytest
from distribution_helpers import REVIEW, WITHDRAW, admin, balances, code_of, promote, start
from sqlalchemy import func, select

from components.distribution import ledger
from components.distribution.models import Binding, Withdrawal
from core.testing import member

BOTH = pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
BIND = "mutation($code: String!) { bindPromoter(input: {shareCode: $code}) { bound userErrors { code } } }"


async def credit(kernel, member_id: int, amount: int) -> None:
    """Settled commission for the race (the ledger's own posting; orders are not the subject here)."""
    async with kernel.transaction() as tx:
        promoter = await kernel.service("distribution").promoters.active(tx.session, member_id)
        await ledger.post(tx, promoter.id, "available", "settled", amount, f"test:{member_id}:{amount}")


@BOTH
async def test_30_concurrent_withdrawals_take_at_most_the_balance(kernel_factory, graphql, database):
    kernel, _shop = await start(kernel_factory, database=database)
    await promote(kernel, 1)
    await credit(kernel, 1, 10_000)
    me = graphql(kernel, member(1))
    results = await asyncio.gather(*(me.mutate(WITHDRAW, amount=1000) for _ in range(30)))
    assert sum(1 for r in results if r["withdrawal"]) == 10
    assert {r["userErrors"][0]["code"] for r in results if not r["withdrawal"]} == {"DISTRIBUTION_INSUFFICIENT_BALANCE"}
    assert await balances(kernel, 1) == {"frozen": 0, "available": 0, "withdrawn": 0}
    async with kernel.db.read() as session:  # the refused ones left no request behind
        assert await session.scalar(select(func.count()).select_from(Withdrawal)) == 10


@BOTH
async def test_a_crowd_of_first_clicks_binds_once(kernel_factory, graphql, database):
    kernel, _shop = await start(kernel_factory, "eligibility: everyone", database=database, members=6)
    await promote(kernel, 1, 2, 3, 4, 5)
    buyer = graphql(kernel, member(6))
    codes = [await code_of(kernel, m) for m in (1, 2, 3, 4, 5)]
    results = await asyncio.gather(*(buyer.mutate(BIND, code=codes[i % 5]) for i in range(20)))
    assert sum(1 for r in results if r["bound"]) >= 4  # the winner's own clicks (and its replays) say bound
    async with kernel.db.read() as session:
        rows = (await session.scalars(select(Binding).where(Binding.member_id == 6))).all()
    assert len(rows) == 1
    winner = rows[0].promoter_member_id
    assert all(r["bound"] or r["userErrors"][0]["code"] == "DISTRIBUTION_ALREADY_BOUND" for r in results)
    assert sum(1 for i, r in enumerate(results) if r["bound"]) == sum(1 for i in range(20) if (i % 5) + 1 == winner)


@BOTH
async def test_staff_deciding_one_withdrawal_at_once_decide_it_once(kernel_factory, graphql, database):
    kernel, _shop = await start(kernel_factory, database=database)
    await promote(kernel, 1)
    await credit(kernel, 1, 5000)
    asked = await graphql(kernel, member(1)).mutate(WITHDRAW, amount=3000)
    staff_client = admin(graphql, kernel)
    results = await asyncio.gather(*(staff_client.mutate(REVIEW, id=asked["withdrawal"]["id"], approve=i % 2 == 0, reason="no")
                                     for i in range(20)))
    decided = [r for r in results if r["withdrawal"]]
    assert len(decided) == 1
    assert {r["userErrors"][0]["code"] for r in results if not r["withdrawal"]} == {"DISTRIBUTION_NOT_PENDING"}
    paid = decided[0]["withdrawal"]["status"] == "PAID"
    assert await balances(kernel, 1) == {"frozen": 0, "available": 2000 if paid else 5000, "withdrawn": 3000 if paid else 0}
