"""Races on SQLite and PostgreSQL: nothing overdraws, nothing oversells, limits hold."""

from __future__ import annotations

import asyncio

import pytest
from points_mall_helpers import REDEEM, admin_of, check_invariant, counts, grant, make_item, start

from core.testing import member

BOTH = pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)


@BOTH
async def test_one_member_races_40_redemptions_covered_10_times(kernel_factory, graphql, database):
    kernel, shop = await start(kernel_factory, database=database)
    admin = admin_of(graphql, kernel)
    item = await make_item(admin, skuId=shop.sku, pointsPrice=100, stock=500, perMemberLimit=500)
    await grant(admin, 1, 1000)
    me = graphql(kernel, member(1))
    results = await asyncio.gather(*(me.mutate(REDEEM, item=item) for _ in range(40)))
    assert sum(1 for r in results if not r["userErrors"]) == 10
    assert {r["userErrors"][0]["code"] for r in results if r["userErrors"]} == {"POINTS_MALL_NOT_ENOUGH_POINTS"}
    assert await check_invariant(kernel, 1) == 0
    after = await counts(kernel)
    assert after["redemptions"] == after["orders"] == 10 and after["stock"] == 490


@BOTH
async def test_60_members_race_for_an_item_with_20_in_stock(kernel_factory, graphql, database):
    kernel, shop = await start(kernel_factory, database=database, members=60)
    admin = admin_of(graphql, kernel)
    item = await make_item(admin, skuId=shop.sku, pointsPrice=10, stock=20)
    service = kernel.service("points_mall")
    async with kernel.transaction() as tx:
        for m in range(1, 61):
            await service.credit(tx, m, 50, reason="staff_adjust", key="seed")
    results = await asyncio.gather(*(graphql(kernel, member(m)).mutate(REDEEM, item=item) for m in range(1, 61)))
    winners = [m for m, r in zip(range(1, 61), results) if not r["userErrors"]]
    assert len(winners) == 20
    assert {r["userErrors"][0]["code"] for r in results if r["userErrors"]} == {"POINTS_MALL_SOLD_OUT"}
    stock = await graphql(kernel).data("query($id: ID!) { pointsMallItem(id: $id) { stockLeft } }", id=item)
    assert stock["pointsMallItem"]["stockLeft"] == 0
    after = await counts(kernel)
    assert after["redemptions"] == after["orders"] == 20 and after["balance"] == 60 * 50 - 20 * 10
    for m in range(1, 61):
        assert await check_invariant(kernel, m) == (40 if m in winners else 50)


@BOTH
async def test_the_per_member_limit_and_the_daily_sign_in_hold_under_concurrency(kernel_factory, graphql, database):
    kernel, shop = await start(kernel_factory, database=database)
    admin = admin_of(graphql, kernel)
    item = await make_item(admin, pointsPrice=10, stock=100, perMemberLimit=3)
    await grant(admin, 1, 1000)
    me = graphql(kernel, member(1))
    results = await asyncio.gather(*(me.mutate(REDEEM, item=item) for _ in range(20)))
    assert sum(1 for r in results if not r["userErrors"]) == 3
    assert {r["userErrors"][0]["code"] for r in results if r["userErrors"]} == {"POINTS_MALL_LIMIT_REACHED"}
    signs = await asyncio.gather(*(me.mutate("mutation { signInDaily { userErrors { code } } }") for _ in range(10)))
    assert sum(1 for s in signs if not s["userErrors"]) == 1
    assert await check_invariant(kernel, 1) == 1000 - 30 + 5
