"""The points rules without a database: spend order, earning, caps, 积分抵现 arithmetic."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from components.points_mall.rules import (
    LotView,
    capped,
    deduction,
    ledger_disagreement,
    multiplier_percent,
    order_kind_earns,
    points_earned,
    returned_for,
    spend_plan,
    split_over_lines,
)

T = lambda month: datetime(2027, month, 1, tzinfo=timezone.utc)  # noqa: E731


def test_a_spend_takes_the_soonest_expiring_lots_first_and_never_expiring_ones_last():
    lots = [LotView(1, 50, None), LotView(2, 30, T(6)), LotView(3, 20, T(3)), LotView(4, 0, T(1)), LotView(5, 10, T(3))]
    assert spend_plan(lots, 55) == ([(3, 20), (5, 10), (2, 25)], 0)
    assert spend_plan(lots, 200) == ([(3, 20), (5, 10), (2, 30), (1, 50)], 90)  # 90 uncovered: a debt, if allowed
    assert spend_plan(lots, 0) == ([], 0)
    with pytest.raises(ValueError):
        spend_plan(lots, -1)


def test_the_best_multiplier_wins_and_rules_do_not_stack():
    rules = [{"percent": 200, "weekdays": [6, 7]}, {"percent": 150, "min_tier": 2}, {"percent": 300, "dates": ["2027-05-20"]}]
    saturday, monday = date(2027, 5, 22), date(2027, 5, 24)
    assert multiplier_percent(rules, tier=0, day=monday) == 100
    assert multiplier_percent(rules, tier=3, day=monday) == 150
    assert multiplier_percent(rules, tier=3, day=saturday) == 200
    assert multiplier_percent(rules, tier=0, day=date(2027, 5, 20)) == 300
    assert points_earned(12999, minor_per_unit=100, earn_per_unit=2, percent=150) == 387  # 129 yuan × 2 × 1.5, down
    assert points_earned(-5, minor_per_unit=100, earn_per_unit=2) == 0


def test_caps_leave_what_the_day_and_the_month_still_allow():
    assert capped(300, earned_today=0, earned_this_month=0, per_day=None, per_month=None) == 300
    assert capped(300, earned_today=900, earned_this_month=900, per_day=1000, per_month=None) == 100
    assert capped(300, earned_today=0, earned_this_month=4950, per_day=1000, per_month=5000) == 50
    assert capped(300, earned_today=1200, earned_this_month=0, per_day=1000, per_month=None) == 0


def test_points_paying_part_of_an_order_respect_the_rate_and_both_caps():
    common = dict(points_per_unit=100, minor_per_unit=100, max_percent=50, max_points=None)
    assert deduction(150, balance=1000, due_minor=10000, **common) == (150, 150)
    assert deduction(5000, balance=1000, due_minor=10000, **common) == (1000, 1000)      # what the member holds
    assert deduction(9000, balance=9000, due_minor=10000, **common) == (5000, 5000)      # half the order
    assert deduction(9000, balance=9000, due_minor=10000, **{**common, "max_points": 700}) == (700, 700)
    # 1000 points per yuan: 15 points are worth 1.5 fen; only whole fen come off, for exactly 10 points.
    assert deduction(15, balance=15, due_minor=10000, **{**common, "points_per_unit": 1000}) == (10, 1)
    assert deduction(9, balance=15, due_minor=10000, **{**common, "points_per_unit": 1000}) == (0, 0)
    assert deduction(100, balance=100, due_minor=0, **common) == (0, 0)


def test_line_shares_add_up_and_refunds_return_in_proportion():
    assert split_over_lines(3000, [10000, 20000]) == [1000, 2000]
    assert sum(split_over_lines(1001, [1, 1, 1])) == 1001
    assert split_over_lines(-100, [0, 300]) == [0, -100]
    assert returned_for(1001, 3, 1) == 333 and returned_for(1001, 3, 3) == 1001 and returned_for(1001, 3, 0) == 0


def test_a_ledger_that_does_not_add_up_says_so():
    assert ledger_disagreement(10, 10, 10) is None
    assert "sum of entries 9" in ledger_disagreement(10, 9, 10)


def test_deposits_never_earn_and_activity_orders_earn_as_the_brand_says():
    assert not order_kind_earns("auction_deposit", activity_orders_earn=True)
    assert order_kind_earns("plain", activity_orders_earn=False)
    assert order_kind_earns("group_buy", activity_orders_earn=True)
    assert not order_kind_earns("group_buy", activity_orders_earn=False)
    assert not order_kind_earns("auction", activity_orders_earn=False)
