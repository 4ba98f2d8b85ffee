"""The pure coupon rules: scope, combinability, threshold, amounts, apportioning, stacking."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components.coupons.rules import (
    BELOW_THRESHOLD,
    EXPIRED,
    NOT_COMBINABLE,
    NOT_YET_VALID,
    OUT_OF_SCOPE,
    USED,
    CouponNotApplicable,
    LineView,
    Terms,
    amount_off,
    evaluate,
    stack,
    validity_reason,
)


def line(index: int, amount: int, *, sku: int = 1, product: int = 1, categories=(), activity=None) -> LineView:
    return LineView(index, sku, product, frozenset(categories), activity, amount)


def test_scope_exclusions_and_activities():
    tea = Terms("fixed", amount_minor=500, scope_kind="categories", scope_ids=frozenset({7}), exclude_sku_ids=frozenset({3}))
    assert evaluate(tea, [line(0, 1000, categories={1})]) == ({}, OUT_OF_SCOPE)
    assert evaluate(tea, [line(0, 1000, sku=3, categories={7})]) == ({}, OUT_OF_SCOPE)
    assert evaluate(tea, [line(0, 1000, categories={7, 2}, activity="group_buy")]) == ({}, NOT_COMBINABLE)
    with_group = Terms("fixed", amount_minor=500, combines_with=frozenset({"group_buy"}))
    assert evaluate(with_group, [line(0, 1000, activity="group_buy")]) == ({0: 500}, None)


def test_threshold_counts_only_covered_lines():
    t = Terms("fixed", amount_minor=2000, threshold_minor=10000, scope_kind="products", scope_ids=frozenset({1}))
    assert evaluate(t, [line(0, 9000), line(1, 50000, product=2)]) == ({}, BELOW_THRESHOLD)
    assert evaluate(t, [line(0, 10000), line(1, 50000, product=2)]) == ({0: 2000}, None)


def test_percentages_round_down_and_stop_at_the_cap():
    assert amount_off(Terms("percent", percent_off=15), 999) == 149  # 149.85 → 149: never more than the rate
    assert amount_off(Terms("percent", percent_off=50, cap_minor=300), 10000) == 300
    assert amount_off(Terms("fixed", amount_minor=5000), 1200) == 1200  # never below zero


def test_validity():
    now = datetime(2026, 12, 3, tzinfo=timezone.utc)
    day = timedelta(days=1)
    assert validity_reason(now - day, now + day, "available", now) is None
    assert validity_reason(now + day, now + 2 * day, "available", now) == NOT_YET_VALID
    assert validity_reason(now - day, now, "available", now) == EXPIRED
    assert validity_reason(now - day, now + day, "used", now) == USED


def test_stacking_applies_narrow_scopes_first_on_what_is_left():
    sku_coupon = Terms("fixed", amount_minor=600, scope_kind="skus", scope_ids=frozenset({1}))
    shop_coupon = Terms("fixed", amount_minor=900, threshold_minor=1000)
    lines = [line(0, 1000, sku=1), line(1, 700, sku=2)]
    # Named shop-first, applied SKU-first; the shop coupon sees 400 + 700 and splits 900 by them.
    assert stack([(11, shop_coupon), (10, sku_coupon)], lines, "one_per_scope") == [(10, {0: 600}), (11, {0: 327, 1: 573})]
    # With 500 on the second line the shop coupon sees 400 + 500 = 900 < 1000: below its threshold.
    with pytest.raises(CouponNotApplicable) as refused:
        stack([(11, shop_coupon), (10, sku_coupon)], [lines[0], line(1, 500, sku=2)], "one_per_scope")
    assert refused.value.reason == BELOW_THRESHOLD and refused.value.coupon_id == 11


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10**7), min_size=1, max_size=8), st.integers(min_value=1, max_value=10**6))
def test_shares_add_up_and_no_line_goes_below_zero(amounts, off):
    t = Terms("fixed", amount_minor=off)
    shares, reason = evaluate(t, [line(i, a) for i, a in enumerate(amounts)])
    if sum(amounts) == 0:
        assert reason is not None
        return
    assert sum(shares.values()) == min(off, sum(amounts))
    assert all(0 < shares[i] <= amounts[i] for i in shares)
