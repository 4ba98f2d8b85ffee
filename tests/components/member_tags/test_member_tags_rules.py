"""The pure rules of member_tags: RFM segments, lifecycle stages and blueprint tag rules."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from components.member_tags import rules
from components.member_tags.settings import resolved

NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)
LIFE = {"repeat_from_orders": 2, "dormant_after_days": 90, "churned_after_days": 180}


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def fig(*purchases: tuple[float, int, bool], windows=(365, 90)) -> rules.Figures:
    return rules.figures_from([(ago(d), net, ok) for d, net, ok in purchases], NOW, windows)


def test_figures_leave_out_orders_refunded_in_full_and_count_windows():
    f = fig((10, 5000, True), (100, 3000, True), (400, 7000, True), (5, 9999, False))
    assert (f.orders, f.paid_minor) == (3, 15000)
    assert f.last_order_at == ago(10) and f.first_order_at == ago(400)
    assert f.in_window(365) == (2, 8000)
    assert f.in_window(90) == (1, 5000)
    assert f.in_window(30) == (0, 0)  # a window nobody asked for is empty, not an error


@pytest.mark.parametrize(("purchases", "expected"), [
    ((), "prospect"),
    (((5, 100, False),), "prospect"),            # the one order was refunded in full
    (((5, 100, True),), "new"),
    (((5, 100, True), (50, 100, True)), "repeat"),
    (((90, 100, True), (95, 100, True)), "dormant"),  # exactly dormant_after_days: dormant
    (((179, 100, True),), "dormant"),
    (((180, 100, True),) * 10, "churned"),       # inactivity wins over the order count
])
def test_lifecycle_stages(purchases, expected):
    assert rules.stage(fig(*purchases), NOW, LIFE) == expected


def test_every_combination_of_rfm_thresholds_names_its_segment():
    rfm = {"recency": {"split": "threshold", "threshold": 30}, "frequency": {"split": "threshold", "threshold": 3},
           "monetary": {"split": "threshold", "threshold": 10000}}
    seen = {}
    for recent in (True, False):
        for frequent in (True, False):
            for big in (True, False):
                last = 10 if recent else 60
                n = 3 if frequent else 1
                each = (10000 if big else 3000) // n + (1 if big else 0)
                purchases = [(last + i, each, True) for i in range(n)]
                seen[(recent, frequent, big)] = rules.segment(fig(*purchases), NOW, rfm, 365, {})
    assert seen == rules.SEGMENTS
    assert len(set(seen.values())) == 8
    assert rules.segment(fig(), NOW, rfm, 365, {}) is None  # a prospect has no segment


def test_median_split_calls_a_tie_low_and_better_than_median_high():
    baseline = rules.medians([(10, 2, 5000), (40, 1, 2000), (20, 1, 3000), (None, 0, 0)])
    assert baseline == {"recency": 20, "frequency": 1, "monetary": 3000}  # the prospect is left out
    median = {"split": "median"}
    assert rules.high("recency", 10, median, baseline) and not rules.high("recency", 20, median, baseline)
    assert rules.high("frequency", 2, median, baseline) and not rules.high("frequency", 1, median, baseline)
    assert rules.high("monetary", 3001, median, baseline) and not rules.high("monetary", 3000, median, baseline)
    assert not rules.high("frequency", 99, median, {})  # no customers yet: nothing is high


def test_the_four_orders_a_year_and_last_within_120_days_rule():
    rule = {"name": "active", "window_days": 365, "min_orders": 4, "last_order_within_days": 120}

    def holds(*days_ago: float) -> bool:
        f = fig(*((d, 100, True) for d in days_ago), windows=(365,))
        return rules.rule_matches(rule, f, NOW, rules.stage(f, NOW, LIFE), None, 365)

    assert holds(1, 100, 200, 300)
    assert not holds(1, 100, 200)                 # three orders a year
    assert not holds(121, 200, 250, 300)          # the last more than 120 days ago
    assert holds(120, 200, 250, 300)              # exactly 120 days counts
    assert not holds(1, 100, 200, 400)            # the fourth is older than a year
    assert holds(1, 2, 3, 4, 500)


def test_rules_combine_stage_segment_and_money_conditions():
    f = fig((3, 60000, True))
    rule = {"name": "big new", "stages": ["new"], "segments": ["important_develop"], "min_paid_minor": 50000}
    assert rules.rule_matches(rule, f, NOW, "new", "important_develop", 365)
    assert not rules.rule_matches(rule, f, NOW, "repeat", "important_develop", 365)
    assert not rules.rule_matches({**rule, "min_paid_minor": 60001}, f, NOW, "new", "important_develop", 365)
    assert rules.rule_matches({"name": "asleep", "no_order_for_days": 30}, fig(), NOW, "prospect", None, 365)


def test_settings_refuse_what_the_schema_cannot_say():
    assert resolved({})["lifecycle"] == {"repeat_from_orders": 2, "dormant_after_days": 180, "churned_after_days": 365}
    with pytest.raises(ValueError, match="two rules are named 'x'"):
        resolved({"rules": [{"name": "x", "min_orders": 1}, {"name": "x", "min_orders": 2}]})
    with pytest.raises(ValueError, match="churned_after_days"):
        resolved({"lifecycle": {"dormant_after_days": 200, "churned_after_days": 100}})
    with pytest.raises(ValueError, match="needs a threshold"):
        resolved({"rfm": {"recency": {"split": "threshold"}}})


def test_the_demo_blueprint_states_the_four_orders_a_year_rule():
    from pathlib import Path

    from ruamel.yaml import YAML

    demo = YAML(typ="safe").load((Path(__file__).resolve().parents[3] / "blueprints" / "demo.yaml").read_text(encoding="utf-8"))
    settings = resolved(demo["components"]["member_tags"])
    rule = next(r for r in settings["rules"] if r["name"] == "活跃复购 active repeat")
    window = settings["window_days"]

    def holds(*days_ago: float) -> bool:
        f = rules.figures_from([(ago(d), 100, True) for d in days_ago], NOW, rules.windows_of(settings))
        return rules.rule_matches(rule, f, NOW, rules.stage(f, NOW, settings["lifecycle"]), None, window)

    assert holds(1, 100, 200, 364) and holds(120, 130, 140, 150)
    assert not holds(1, 100, 200) and not holds(121, 130, 140, 150) and not holds(1, 100, 200, 366)
