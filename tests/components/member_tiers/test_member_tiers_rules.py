"""The pure rules behind growth, tiers, reviews, the member price and terms (no database)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from components.member_tiers.rules import (
    Term,
    best_benefits,
    extended_until,
    growth_after_downgrade,
    line_growth,
    line_reversal,
    member_discount,
    order_growth,
    progress,
    raised_tier,
    reviewed_tier,
    tier_for,
    tiers_of,
    unused,
)

TIERS = tiers_of([
    {"code": "member", "name": "会员", "threshold": 0},
    {"code": "silver", "name": "白银", "threshold": 100, "keep": 50, "discount_percent": 5, "points_percent": 150},
    {"code": "gold", "name": "黄金", "threshold": 300, "keep": 200, "discount_percent": 10, "points_percent": 200},
])


def test_order_growth_is_floored_and_split_over_lines_exactly():
    assert order_growth(1999, growth_per_yuan=1, minor_per_yuan=100) == 19
    assert order_growth(-5, growth_per_yuan=1, minor_per_yuan=100) == 0
    # Two 9.99 lines earn 19 together, not 0 + 0: the order's growth is split, not each line floored.
    assert line_growth([999, 999], growth_per_yuan=1, minor_per_yuan=100) == [10, 9]
    assert sum(line_growth([3333, 3333, 3334], growth_per_yuan=3, minor_per_yuan=100)) == 300
    assert line_growth([0, 0], growth_per_yuan=1, minor_per_yuan=100) == [0, 0]


def test_a_line_s_reversal_is_proportional_and_whole_once_every_unit_is_back():
    assert line_reversal(100, 30000, 10000, fully_refunded=False) == 33
    assert line_reversal(100, 30000, 20000, fully_refunded=False) == 66
    assert line_reversal(100, 30000, 20000, fully_refunded=True) == 100
    assert line_reversal(100, 0, 0, fully_refunded=False) == 100


def test_tiers_rise_at_once_and_fall_only_by_review():
    assert [tier_for(g, TIERS) for g in (0, 99, 100, 299, 300, 10**9)] == [0, 0, 1, 1, 2, 2]
    assert raised_tier(2, 0, TIERS) == 2  # growth fell (a refund): no drop
    assert raised_tier(0, 300, TIERS) == 2  # one payment may skip a tier
    assert reviewed_tier(2, 200, TIERS) == 2
    assert reviewed_tier(2, 199, TIERS) == 1
    assert reviewed_tier(2, 49, TIERS) == 0
    assert growth_after_downgrade(450, 1, TIERS) == 299 and growth_after_downgrade(120, 1, TIERS) == 120
    assert growth_after_downgrade(450, 2, TIERS) == 450


def test_progress_to_the_next_tier():
    assert progress(150, 1, TIERS) == (TIERS[2], 150, 25)
    assert progress(500, 2, TIERS) == (None, 0, 100)
    assert progress(350, 1, TIERS) == (TIERS[2], 0, 100)  # reached, raised with the next change


def test_member_price_and_benefits():
    assert member_discount(9999, 5) == 499 and member_discount(0, 5) == 0 and member_discount(100, 0) == 0
    term = Term("svip", "SVIP", 1900, 30, 8, 300)
    assert best_benefits(TIERS[2], None) == (10, 200)
    assert best_benefits(TIERS[2], term) == (10, 300)  # each benefit on its own: the better one


def test_term_spans_extend_and_refunds_take_the_unused_part():
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert extended_until(now, None, 30) == (now, now + timedelta(days=30))
    running = now + timedelta(days=5)
    assert extended_until(now, running, 30) == (running, running + timedelta(days=30))
    assert unused(now - timedelta(days=10), now + timedelta(days=20), now) == timedelta(days=20)
    assert unused(now + timedelta(days=5), now + timedelta(days=35), now) == timedelta(days=30)
    assert unused(now - timedelta(days=40), now - timedelta(days=10), now) == timedelta(0)


@pytest.mark.parametrize("tiers, problem", [
    ([{"code": "a", "name": "A", "threshold": 5}], "threshold must be 0"),
    ([{"code": "a", "name": "A", "threshold": 0}, {"code": "b", "name": "B", "threshold": 0}], "must be above 0"),
    ([{"code": "a", "name": "A", "threshold": 0}, {"code": "a", "name": "B", "threshold": 9}], "share a code"),
])
def test_inconsistent_tiers_are_refused(tiers, problem):
    with pytest.raises(ValueError, match=problem):
        tiers_of(tiers)
