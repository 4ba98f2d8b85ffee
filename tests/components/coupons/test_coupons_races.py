"""Coupon races on SQLite and PostgreSQL (the issue's 1,000 / 100 runs in bench/hotspots.py):
a crowd for a limited coupon, one member over their limit, one coupon in concurrent checkouts."""

from __future__ import annotations

import asyncio

import pytest
from coupons_helpers import PLACE, admin_of, claim, counts, lines, make_template, start

from core.testing import member

BOTH = pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)


@BOTH
async def test_60_members_claim_20_coupons(kernel_factory, graphql, database):
    kernel, _shop = await start(kernel_factory, database=database, members=60)
    template = await make_template(admin_of(graphql, kernel), totalQuantity=20)
    results = await asyncio.gather(*(claim(graphql(kernel, member(m)), template) for m in range(1, 61)))
    assert sum(1 for r in results if r["coupon"]) == 20
    assert {r["userErrors"][0]["code"] for r in results if not r["coupon"]} == {"COUPONS_SOLD_OUT"}
    after = await counts(kernel)
    assert after["coupons"] == after["issued"] == 20


@BOTH
async def test_one_member_claims_20_times_at_once_with_a_limit_of_2(kernel_factory, graphql, database):
    kernel, _shop = await start(kernel_factory, database=database)
    template = await make_template(admin_of(graphql, kernel), perMemberLimit=2, totalQuantity=100)
    me = graphql(kernel, member(1))
    results = await asyncio.gather(*(claim(me, template) for _ in range(20)))
    assert sum(1 for r in results if r["coupon"]) == 2
    assert {r["userErrors"][0]["code"] for r in results if not r["coupon"]} == {"COUPONS_LIMIT_REACHED"}
    assert await counts(kernel) == {"coupons": 2, "used": 0, "issued": 2, "orders": 0}


@BOTH
async def test_one_coupon_in_10_concurrent_checkouts_makes_one_order(kernel_factory, graphql, database):
    kernel, shop = await start(kernel_factory, database=database)
    me = graphql(kernel, member(1))
    coupon = (await claim(me, await make_template(admin_of(graphql, kernel))))["coupon"]["id"]
    results = await asyncio.gather(*(me.mutate(PLACE, input={"lines": lines(shop.sku), "couponIds": [coupon]})
                                     for _ in range(10)))
    assert sum(1 for r in results if r["order"]) == 1
    assert {r["userErrors"][0]["code"] for r in results if not r["order"]} <= {"COUPONS_ALREADY_USED", "COUPONS_NOT_USABLE"}
    assert await counts(kernel) == {"coupons": 1, "used": 1, "issued": 1, "orders": 1}
    assert await shop.available() == 500 - 1  # the losers' stock holds rolled back with them
