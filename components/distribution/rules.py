"""Pure rules of distribution: commission of a line, what a refund leaves, binding, tiers, fees.
No database here; fast tests in tests/components/distribution/test_distribution_rules.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

BPS = 10_000
KINDS = ("percent", "fixed")
MODES = ("permanent", "time_limited", "last_click")


@dataclass(frozen=True)
class Rate:
    """A commission rate: percent in basis points of what was paid, or fixed minor units per unit."""

    kind: str
    value: int


def commission(rate: Rate, *, paid_minor: int, quantity: int) -> int:
    """The commission on a line: floor(paid × bps / 10000) or value × units, never more than paid.

    Flooring keeps the brand from paying a fraction of a fen it did not earn; capping a fixed
    commission at the paid amount keeps a heavily discounted line from costing more than it took."""
    if paid_minor <= 0 or quantity <= 0:
        return 0
    raw = paid_minor * rate.value // BPS if rate.kind == "percent" else rate.value * quantity
    return max(0, min(raw, paid_minor))


def remaining(rate: Rate, *, paid_minor: int, quantity: int, refunded_minor: int, refunded_quantity: int) -> int:
    """What a line's commission is after refunds: the same rule applied to what is kept.

    A percent commission follows the money kept; a fixed one follows the units kept (a price
    difference refund, 退差价, returns no unit, so it only lowers a fixed commission through the cap)."""
    return commission(rate, paid_minor=paid_minor - refunded_minor, quantity=quantity - refunded_quantity)


def bind_refusal(*, buyer_id: int, promoter_id: int, chain: Sequence[int]) -> str | None:
    """Why ``buyer_id`` may not be bound to ``promoter_id`` (None: allowed).

    ``chain`` is the promoter's own upline (whom they are bound to, and so on): binding the buyer
    under someone who is, up the chain, bound to the buyer would make a loop."""
    if buyer_id == promoter_id:
        return "SELF"
    if buyer_id in chain:
        return "LOOP"
    return None


def may_rebind(mode: str, *, current_promoter: int | None, expires_at: datetime | None, now: datetime, new_promoter: int) -> bool:
    """Whether a proven click on ``new_promoter``'s code binds the member.

    permanent: only an unbound member; time_limited: an unbound member or one whose binding
    expired; last_click: always (the latest proven click wins)."""
    if current_promoter is None:
        return True
    if current_promoter == new_promoter:
        return mode != "permanent"  # a fresh click renews a time-limited binding
    if mode == "last_click":
        return True
    if mode == "time_limited":
        return expires_at is not None and expires_at <= now
    return False


def bound_now(mode: str, *, expires_at: datetime | None, now: datetime) -> bool:
    """Whether a binding still earns its promoter commission."""
    return mode != "time_limited" or expires_at is None or expires_at > now


def tier_of(tiers: Sequence[dict], sales_minor: int) -> dict | None:
    """The highest tier whose ``min_sales`` the promoter's lifetime sales reached."""
    reached = [t for t in tiers if sales_minor >= int(t.get("min_sales_minor", 0))]
    return max(reached, key=lambda t: int(t.get("min_sales_minor", 0))) if reached else None


def fee(amount_minor: int, *, fee_bps: int, fee_min_minor: int) -> int:
    """A withdrawal's fee: ceil(amount × bps / 10000), at least the minimum, never above the amount."""
    if amount_minor <= 0:
        return 0
    by_rate = -(-amount_minor * fee_bps // BPS)
    return min(amount_minor, max(by_rate, fee_min_minor if fee_bps or fee_min_minor else 0))
