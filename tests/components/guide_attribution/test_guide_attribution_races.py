"""Concurrent first touches of one member bind exactly once (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio

import pytest
from guide_helpers import TOUCH, code_of, guide, start
from sqlalchemy import func, select

from components.guide_attribution.models import Binding, DailyFigure
from core.testing import member

BOTH = pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)


@BOTH
async def test_20_concurrent_touches_of_four_guides_codes_bind_one_member_once(kernel_factory, graphql, database):
    kernel, _shop = await start(kernel_factory, database=database, members=3)
    guides = [await guide(kernel) for _ in range(4)]
    codes = [await code_of(graphql, kernel, g) for g in guides]
    me = graphql(kernel, member(2))
    results = await asyncio.gather(*(me.mutate(TOUCH, code=codes[i % 4]) for i in range(20)))
    assert all(r["userErrors"] == [] for r in results), results
    assert sum(1 for r in results if r["bound"]) == 1
    winner = next(r for r in results if r["bound"])["binding"]["guideId"]
    assert {r["binding"]["guideId"] for r in results} == {winner}  # every loser reads the winner's binding
    async with kernel.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Binding)) == 1
        added = await session.scalar(select(func.sum(DailyFigure.members_added)).where(DailyFigure.holder_kind == "guide"))
    assert added == 1
