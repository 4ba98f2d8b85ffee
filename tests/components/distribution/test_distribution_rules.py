"""The pure rules: commission of a line, what a refund leaves, binding, tiers and fees."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from components.distribution.reports import month_bounds
from components.distribution.rules import Rate, bind_refusal, bound_now, commission, fee, may_rebind, remaining, tier_of

NOW = datetime(2026, 5, 10, tzinfo=timezone.utc)


def test_percent_commission_is_floored_basis_points_of_what_was_paid():
    assert commission(Rate("percent", 500), paid_minor=9999, quantity=3) == 499  # 499.95 floored
    assert commission(Rate("percent", 10000), paid_minor=1234, quantity=1) == 1234
    assert commission(Rate("percent", 500), paid_minor=0, quantity=1) == 0


def test_fixed_commission_is_per_unit_and_never_above_what_was_paid():
    assert commission(Rate("fixed", 300), paid_minor=10000, quantity=3) == 900
    assert commission(Rate("fixed", 300), paid_minor=500, quantity=3) == 500  # a deeply discounted line


def test_a_refund_leaves_the_same_rule_on_what_is_kept():
    percent, fixed = Rate("percent", 1000), Rate("fixed", 200)
    assert remaining(percent, paid_minor=10000, quantity=4, refunded_minor=2500, refunded_quantity=1) == 750
    assert remaining(fixed, paid_minor=10000, quantity=4, refunded_minor=2500, refunded_quantity=1) == 600
    # a price-difference refund (no unit back) lowers a percent commission, not a fixed one
    assert remaining(percent, paid_minor=10000, quantity=4, refunded_minor=1000, refunded_quantity=0) == 900
    assert remaining(fixed, paid_minor=10000, quantity=4, refunded_minor=1000, refunded_quantity=0) == 800
    assert remaining(fixed, paid_minor=10000, quantity=4, refunded_minor=10000, refunded_quantity=4) == 0


def test_binding_refuses_self_and_loops():
    assert bind_refusal(buyer_id=5, promoter_id=5, chain=[]) == "SELF"
    assert bind_refusal(buyer_id=5, promoter_id=7, chain=[9, 5]) == "LOOP"
    assert bind_refusal(buyer_id=5, promoter_id=7, chain=[9, 11]) is None


def test_binding_modes():
    later = NOW + timedelta(days=1)
    assert may_rebind("permanent", current_promoter=None, expires_at=None, now=NOW, new_promoter=2)
    assert not may_rebind("permanent", current_promoter=1, expires_at=None, now=NOW, new_promoter=2)
    assert may_rebind("last_click", current_promoter=1, expires_at=None, now=NOW, new_promoter=2)
    assert not may_rebind("time_limited", current_promoter=1, expires_at=later, now=NOW, new_promoter=2)
    assert may_rebind("time_limited", current_promoter=1, expires_at=NOW, now=NOW, new_promoter=2)
    assert may_rebind("time_limited", current_promoter=1, expires_at=later, now=NOW, new_promoter=1)  # renews
    assert bound_now("time_limited", expires_at=later, now=NOW) and not bound_now("time_limited", expires_at=NOW, now=NOW)
    assert bound_now("permanent", expires_at=None, now=NOW)


def test_tier_is_the_highest_reached():
    tiers = [{"name": "bronze", "min_sales_minor": 0}, {"name": "silver", "min_sales_minor": 5000},
             {"name": "gold", "min_sales_minor": 20000}]
    assert tier_of(tiers, 4999)["name"] == "bronze"
    assert tier_of(tiers, 5000)["name"] == "silver"
    assert tier_of(tiers, 10**9)["name"] == "gold"
    assert tier_of([{"name": "x", "min_sales_minor": 100}], 99) is None


def test_fee_rounds_up_with_a_minimum_and_never_takes_more_than_the_amount():
    assert fee(10001, fee_bps=60, fee_min_minor=0) == 61  # 60.006 rounded up
    assert fee(1000, fee_bps=60, fee_min_minor=100) == 100
    assert fee(50, fee_bps=0, fee_min_minor=100) == 50
    assert fee(1000, fee_bps=0, fee_min_minor=0) == 0


def test_the_month_is_the_brands_calendar_month():
    start, end = month_bounds(datetime(2026, 4, 30, 17, 0, tzinfo=timezone.utc), "Asia/Shanghai")  # May 1st 01:00 there
    assert start == datetime(2026, 4, 30, 16, 0, tzinfo=timezone.utc)
    assert end == datetime(2026, 5, 31, 16, 0, tzinfo=timezone.utc)
    assert month_bounds(datetime(2026, 12, 5, tzinfo=timezone.utc), "UTC")[1] == datetime(2027, 1, 1, tzinfo=timezone.utc)
