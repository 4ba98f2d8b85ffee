"""The member-tier rules that need no database: plain functions with fast tests of their own.

Every definition the README writes as a formula is computed here, once:

- growth of an order   ``G(order) = floor(paid_minor × growth_per_yuan / minor_per_yuan)``, split over
  its lines by largest remainder on their paid amounts (:func:`line_growth`);
- reversal of a line   ``R(line) = floor(G(line) × refunded_minor / paid_minor)``, all of ``G(line)``
  once every unit is refunded (:func:`line_reversal`);
- tier by growth       ``tier(G) = max { i : threshold_i ≤ G }`` (:func:`tier_for`);
- review               keep tier ``t`` iff ``window_growth ≥ keep_t``, else the highest lower tier
  whose keep holds (:func:`reviewed_tier`);
- member price         ``off(line) = floor(line_minor × percent / 100)`` (:func:`member_discount`);
- term extension       ``expires' = max(now, expires) + days`` (:func:`extended_until`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Mapping, Sequence

from core.apportion import apportion


@dataclass(frozen=True)
class Tier:
    index: int
    code: str
    name: str
    threshold: int
    keep: int
    discount_percent: int
    points_percent: int


@dataclass(frozen=True)
class Term:
    code: str
    name: str
    price_minor: int
    days: int
    discount_percent: int
    points_percent: int


def tiers_of(settings: Sequence[Mapping[str, Any]]) -> list[Tier]:
    """The blueprint's tiers, checked: the first at 0, thresholds strictly rising, codes unique.
    Raises ValueError naming the culprit (the kernel reports it at boot)."""
    tiers = [
        Tier(
            i, t["code"], t["name"], int(t["threshold"]), int(t.get("keep", 0)), int(t.get("discount_percent", 0)), int(t.get("points_percent", 100))
        )
        for i, t in enumerate(settings)
    ]
    if not tiers or tiers[0].threshold != 0:
        raise ValueError("member_tiers.tiers[0].threshold must be 0: the first tier is everyone's")
    for before, after in zip(tiers, tiers[1:], strict=False):
        if after.threshold <= before.threshold:
            raise ValueError(f"member_tiers.tiers[{after.index}].threshold must be above {before.threshold}")
    if len({t.code for t in tiers}) != len(tiers):
        raise ValueError("member_tiers.tiers: two tiers share a code")
    return tiers


def order_growth(paid_minor: int, *, growth_per_yuan: int, minor_per_yuan: int) -> int:
    """``G(order) = floor(paid × rate / minor_per_yuan)``; never negative."""
    return max(0, paid_minor) * growth_per_yuan // minor_per_yuan


def line_growth(line_paid: Sequence[int], *, growth_per_yuan: int, minor_per_yuan: int) -> list[int]:
    """The order's growth split over its lines by their paid amounts (largest remainder), so
    the lines add up to the order's growth exactly and a line paid nothing earns nothing."""
    paid = [max(0, p) for p in line_paid]
    total = order_growth(sum(paid), growth_per_yuan=growth_per_yuan, minor_per_yuan=minor_per_yuan)
    if total == 0:
        return [0] * len(paid)
    return apportion(total, paid)


def line_reversal(growth: int, paid_minor: int, refunded_minor: int, *, fully_refunded: bool) -> int:
    """How much of a line's growth its refunds so far take back, in total (not per refund):
    state-based, so applying it twice changes nothing and refunds in any order agree."""
    if fully_refunded or paid_minor <= 0 or refunded_minor >= paid_minor:
        return growth
    return growth * max(0, refunded_minor) // paid_minor


def tier_for(growth: int, tiers: Sequence[Tier]) -> int:
    """The highest tier whose threshold the growth reaches (the first tier for anything below)."""
    best = 0
    for tier in tiers:
        if growth >= tier.threshold:
            best = tier.index
    return best


def raised_tier(current: int, growth: int, tiers: Sequence[Tier]) -> int:
    """Upgrades are immediate, downgrades wait for the review: ``max(current, tier(G))``."""
    return max(current, tier_for(growth, tiers))


def reviewed_tier(current: int, window_growth: int, tiers: Sequence[Tier]) -> int:
    """At a review: the current tier if the growth earned in the period reaches its ``keep``,
    else the highest lower tier whose ``keep`` it reaches (the first tier always holds)."""
    for index in range(current, 0, -1):
        if window_growth >= tiers[index].keep:
            return index
    return 0


def growth_after_downgrade(growth: int, new_tier: int, tiers: Sequence[Tier]) -> int:
    """A member lowered to ``new_tier`` keeps at most ``threshold(new_tier + 1) − 1`` growth, so
    their next payment does not lift them straight back: ``min(G, threshold_{t+1} − 1)``."""
    if new_tier + 1 >= len(tiers):
        return growth
    return min(growth, tiers[new_tier + 1].threshold - 1)


def progress(growth: int, tier: int, tiers: Sequence[Tier]) -> tuple[Tier | None, int, int]:
    """``(next tier, growth still needed, percent of the way from this tier's threshold)``;
    ``(None, 0, 100)`` at the top."""
    if tier + 1 >= len(tiers):
        return None, 0, 100
    upcoming, here = tiers[tier + 1], tiers[tier].threshold
    needed = max(0, upcoming.threshold - growth)
    span = upcoming.threshold - here
    done = min(span, max(0, growth - here))
    return upcoming, needed, done * 100 // span if span else 100


def member_discount(line_minor: int, percent: int) -> int:
    """``floor(line × percent / 100)``: rounded in the brand's favour, exact per line."""
    if percent <= 0 or line_minor <= 0:
        return 0
    return line_minor * percent // 100


def best_benefits(tier: Tier, term: Term | None) -> tuple[int, int]:
    """``(discount percent, points percent)``: the better of the tier's and the running
    term's, each on its own; benefits never multiply each other."""
    if term is None:
        return tier.discount_percent, tier.points_percent
    return max(tier.discount_percent, term.discount_percent), max(tier.points_percent, term.points_percent)


def extended_until(now: datetime, expires_at: datetime | None, days: int) -> tuple[datetime, datetime]:
    """A purchase's span ``(starts, ends)``: it starts when the running term ends (or now)."""
    starts = max(now, expires_at) if expires_at is not None else now
    return starts, starts + timedelta(days=days)


def unused(starts_at: datetime, ends_at: datetime, now: datetime) -> timedelta:
    """What a refunded purchase takes off the term: the part of its span not yet lived,
    ``max(0, ends − max(starts, now))``."""
    return max(timedelta(0), ends_at - max(starts_at, now))
