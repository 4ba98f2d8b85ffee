"""The pure rules: RFM segments, lifecycle stages and blueprint tag rules (no database).

Every definition here is written as a formula in the README; the service feeds these functions
figures it keeps incrementally, and the scheduled recompute feeds them every member at once.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterable, Mapping

DIMENSIONS = ("recency", "frequency", "monetary")

# (R high, F high, M high) → segment. Chinese names are the ones brands use (README).
SEGMENTS: dict[tuple[bool, bool, bool], str] = {
    (True, True, True): "important_value",  # 重要价值客户
    (False, True, True): "important_keep",  # 重要保持客户
    (True, False, True): "important_develop",  # 重要发展客户
    (False, False, True): "important_win_back",  # 重要挽留客户
    (True, True, False): "general_value",  # 一般价值客户
    (False, True, False): "general_keep",  # 一般保持客户
    (True, False, False): "general_develop",  # 一般发展客户
    (False, False, False): "general_win_back",  # 一般挽留客户
}
STAGES = ("prospect", "new", "repeat", "dormant", "churned")
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Figures:
    """A member's order figures at ``now``: lifetime ones and, per window length in days, the
    orders and paid amount whose payment falls in the last that many days."""

    orders: int = 0
    paid_minor: int = 0
    first_order_at: datetime | None = None
    last_order_at: datetime | None = None
    windows: Mapping[int, tuple[int, int]] = field(default_factory=dict)

    def in_window(self, days: int) -> tuple[int, int]:
        return self.windows.get(days, (0, 0))


def figures_from(purchases: Iterable[tuple[datetime, int, bool]], now: datetime, window_days: Iterable[int]) -> Figures:
    """Figures from one member's purchases ``(paid_at, net paid minor, counted)``; an order
    refunded in full is not counted (neither its date nor its amount)."""
    counted = [(at, net) for at, net, ok in purchases if ok]
    windows = {}
    for days in set(window_days):
        since = now - days * DAY
        inside = [net for at, net in counted if at >= since]
        windows[days] = (len(inside), sum(inside))
    dates = [at for at, _ in counted]
    return Figures(len(counted), sum(net for _, net in counted), min(dates, default=None), max(dates, default=None), windows)


def days_since(moment: datetime | None, now: datetime) -> int | None:
    """Whole days from ``moment`` to ``now`` (None for never)."""
    return None if moment is None else max(0, (now - moment) // DAY)


def medians(rows: Iterable[tuple[int | None, int, int]]) -> dict[str, float]:
    """The brand's medians of (recency days, window orders, window paid) over its customers:
    members with at least one counted order (a prospect has no recency to compare)."""
    recency, frequency, monetary = [], [], []
    for days, orders, paid in rows:
        if days is None:
            continue
        recency.append(days)
        frequency.append(orders)
        monetary.append(paid)
    if not recency:
        return {}
    return {"recency": statistics.median(recency), "frequency": statistics.median(frequency), "monetary": statistics.median(monetary)}


def high(dimension: str, value: int, split: Mapping[str, Any], baseline: Mapping[str, float]) -> bool:
    """Whether one RFM dimension is high.

    threshold: recency days ≤ threshold; orders ≥ threshold; paid minor ≥ threshold.
    median: strictly better than the brand's median (fewer days; more orders; more money), so
    a tie with the median is low: with most customers on one order, "≥ median" would call
    everyone frequent.
    """
    if split.get("split", "median") == "threshold":
        limit = split["threshold"]
        return value <= limit if dimension == "recency" else value >= limit
    middle = baseline.get(dimension)
    if middle is None:
        return False
    return value < middle if dimension == "recency" else value > middle


def segment(fig: Figures, now: datetime, rfm: Mapping[str, Mapping[str, Any]], window_days: int, baseline: Mapping[str, float]) -> str | None:
    """The RFM segment, or None for a member who never had a counted order."""
    recency = days_since(fig.last_order_at, now)
    if recency is None:
        return None
    orders, paid = fig.in_window(window_days)
    key = (
        high("recency", recency, rfm.get("recency", {}), baseline),
        high("frequency", orders, rfm.get("frequency", {}), baseline),
        high("monetary", paid, rfm.get("monetary", {}), baseline),
    )
    return SEGMENTS[key]


def stage(fig: Figures, now: datetime, lifecycle: Mapping[str, int]) -> str:
    """The lifecycle stage (README: formulas). Inactivity wins over the order count: a member
    with ten orders who has not bought for the churn period is churned."""
    recency = days_since(fig.last_order_at, now)
    if recency is None or fig.orders == 0:
        return "prospect"
    if recency >= lifecycle["churned_after_days"]:
        return "churned"
    if recency >= lifecycle["dormant_after_days"]:
        return "dormant"
    return "repeat" if fig.orders >= lifecycle["repeat_from_orders"] else "new"


def rule_matches(rule: Mapping[str, Any], fig: Figures, now: datetime, member_stage: str, member_segment: str | None, window_days: int) -> bool:
    """Whether a blueprint rule holds for a member: every condition the rule names must hold.
    (Plain ifs, not a table of lambdas: the recompute calls this rules × members times.)"""
    orders, paid = fig.in_window(rule.get("window_days", window_days))
    recency = days_since(fig.last_order_at, now)
    if "min_orders" in rule and orders < rule["min_orders"]:
        return False
    if "max_orders" in rule and orders > rule["max_orders"]:
        return False
    if "min_paid_minor" in rule and paid < rule["min_paid_minor"]:
        return False
    if "last_order_within_days" in rule and (recency is None or recency > rule["last_order_within_days"]):
        return False
    if "no_order_for_days" in rule and recency is not None and recency < rule["no_order_for_days"]:
        return False
    if "stages" in rule and member_stage not in rule["stages"]:
        return False
    return not ("segments" in rule and member_segment not in rule["segments"])


def windows_of(settings: Mapping[str, Any]) -> set[int]:
    """Every window length the settings need figures for."""
    base = settings["window_days"]
    return {base, *(rule.get("window_days", base) for rule in settings.get("rules", ()))}
