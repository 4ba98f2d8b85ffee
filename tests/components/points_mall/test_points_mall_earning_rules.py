"""Keys reused for another change are refused; earning caps and multipliers; the ledger's
invariant is checked for real inside every change."""

from __future__ import annotations

import pytest
from conftest import hire
from points_mall_helpers import ADJUST, LEDGER, admin_of, buy, check_invariant, counts, start

from components.points_mall.ledger import LedgerError
from components.points_mall.models import Lot
from core.errors import DomainError
from core.gql.relay import to_global_id
from core.testing import member

CAPS = """    earn_caps: {per_day: 150}
    earn_multipliers: [{percent: 200, min_tier: 1}]
"""
TIER = """mutation($m: ID!) { setMemberTier(input: {memberId: $m, tier: 1}) { userErrors { code } } }"""


async def test_a_key_reused_for_a_different_change_is_refused_for_staff_and_for_services(kernel_factory, graphql):
    kernel, _shop = await start(kernel_factory)
    admin, other = admin_of(graphql, kernel), graphql(kernel, await hire(kernel, "admin"))
    m1 = to_global_id("Member", 1)
    assert (await admin.mutate(ADJUST, m=m1, d=500, note="apology", key="adj-1"))["balance"] == 500
    before = await counts(kernel)
    # Another clerk reuses the key for another amount: refused, not answered with the 500.
    refused = await other.mutate(ADJUST, m=m1, d=-300, note="apology", key="adj-1")
    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [
        ("POINTS_MALL_IDEMPOTENCY_CONFLICT", "input.idempotencyKey")]
    refused = await other.mutate(ADJUST, m=m1, d=500, note="another reason", key="adj-1")
    assert refused["userErrors"][0]["code"] == "POINTS_MALL_IDEMPOTENCY_CONFLICT"
    # The same clerk changing the input: the kernel's key table refuses it first.
    assert (await admin.mutate(ADJUST, m=m1, d=50, note="apology", key="adj-1"))["userErrors"][0]["code"] in (
        "KERNEL_IDEMPOTENCY_CONFLICT", "POINTS_MALL_IDEMPOTENCY_CONFLICT")
    assert await counts(kernel) == before

    service = kernel.service("points_mall")
    async with kernel.transaction() as tx:
        first = await service.credit(tx, 1, 70, reason="campaign", reference="c:1", key="camp-1")
    with pytest.raises(DomainError) as error:
        async with kernel.transaction() as tx:
            await service.credit(tx, 1, 80, reason="campaign", reference="c:1", key="camp-1")
    assert error.value.code == "POINTS_MALL_IDEMPOTENCY_CONFLICT" and error.value.details["entryId"] == first.id
    async with kernel.transaction() as tx:  # a true replay still answers the first entry
        assert (await service.credit(tx, 1, 70, reason="campaign", reference="c:1", key="camp-1")).id == first.id
    assert await check_invariant(kernel, 1) == 570


async def test_earning_is_multiplied_by_tier_and_capped_per_day_with_the_cap_recorded(kernel_factory, graphql):
    kernel, shop = await start(kernel_factory, extra=CAPS, price=10000)
    me, admin = graphql(kernel, member(1)), admin_of(graphql, kernel)
    assert (await admin.mutate(TIER, m=to_global_id("Member", 1)))["userErrors"] == []
    await buy(me, shop)   # 100 yuan → 100 points × 200% = 200, the day allows 150
    await buy(me, shop)   # the day is used up: recorded as 0 with the reason
    earned = [e["node"] for e in (await me.data(LEDGER))["myPointsLedger"]["edges"] if e["node"]["reason"] == "order_earn"]
    assert [e["delta"] for e in earned] == [0, 150]
    assert "×200%" in earned[1]["note"] and "50 over the earning cap" in earned[1]["note"]
    assert "200 over the earning cap" in earned[0]["note"]
    assert await check_invariant(kernel, 1) == 150
    kernel.clock.advance(days=1)
    await buy(me, shop)   # a new day in the brand's calendar
    assert await check_invariant(kernel, 1) == 300


async def test_a_ledger_that_no_longer_adds_up_stops_the_change(kernel_factory, graphql):
    kernel, _shop = await start(kernel_factory)
    service = kernel.service("points_mall")
    async with kernel.transaction() as tx:
        await service.credit(tx, 2, 100, reason="campaign")
        tx.session.add(Lot(member_id=2, earned=5, remaining=5, created_at=tx.now()))  # a lot no entry explains
        await tx.session.flush()
    before = await counts(kernel)
    with pytest.raises(LedgerError, match="member 2"):
        async with kernel.transaction() as tx:
            await service.credit(tx, 2, 10, reason="campaign")
    assert await counts(kernel) == before  # rolled back, not committed
