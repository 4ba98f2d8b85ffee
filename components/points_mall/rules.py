"""The points rules that need no database: plain functions with fast tests of their own.

The ledger, earning and deduction modules call these; keeping the arithmetic here means a rule
(which lot a spend takes first, how many points an order earns under a cap, how many fen a
number of points is worth) is read and tested in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Iterable, Mapping, Sequence

from core.apportion import apportion


# -- the ledger's spend order ------------------------------------------------------------------------
@dataclass(frozen=True)
class LotView:
    """What the spend order needs to know of a lot."""

    id: int
    remaining: int
    expires_at: datetime | None


def spend_plan(lots: Iterable[LotView], points: int) -> tuple[list[tuple[int, int]], int]:
    """Which lots a spend of ``points`` takes, and how much of each: ``([(lot id, used)], uncovered)``.

    The soonest-expiring lots go first (a member loses as few points to expiry as possible),
    lots that never expire go last, and lots expiring at the same instant go oldest (lowest id)
    first so the choice is deterministic. ``uncovered`` is what no lot holds (a debt, where the
    brand's refund policy allows one). Lots with nothing left are skipped."""
    if points < 0:
        raise ValueError("a spend is not negative")
    ordered = sorted((lot for lot in lots if lot.remaining > 0), key=lambda lot: (lot.expires_at is None, lot.expires_at or datetime.min, lot.id))
    plan, left = [], points
    for lot in ordered:
        if left == 0:
            break
        used = min(lot.remaining, left)
        plan.append((lot.id, used))
        left -= used
    return plan, left


# -- earning ----------------------------------------------------------------------------------------
def multiplier_percent(rules: Sequence[Mapping[str, Any]], *, tier: int, day: date) -> int:
    """The earn multiplier (in percent, 100 = as set) for a member of ``tier`` on ``day`` (the
    brand's calendar day). The highest matching rule wins; rules do not multiply each other, so
    a brand's "double points day" and "gold members 1.5×" give a gold member 2×, not 3×.

    A rule matches when every condition it names holds: ``min_tier``, ``weekdays`` (1 = Monday
    … 7 = Sunday), ``dates`` (ISO dates, e.g. a member day)."""
    best = 100
    for rule in rules:
        if tier < int(rule.get("min_tier", 0)):
            continue
        if rule.get("weekdays") and day.isoweekday() not in rule["weekdays"]:
            continue
        if rule.get("dates") and day.isoformat() not in rule["dates"]:
            continue
        best = max(best, int(rule["percent"]))
    return best


ACTIVITY_KINDS = frozenset({"group_buy", "auction", "bidding_sale"})


def order_kind_earns(kind: str | None, *, activity_orders_earn: bool) -> bool:
    """Whether an order of this kind earns points. A deposit is security held for a bid —
    refunded to losers, applied to the winner's order — never a purchase; activity orders earn
    unless the brand switched that off."""
    if kind == "auction_deposit":
        return False
    return activity_orders_earn or kind not in ACTIVITY_KINDS


def points_earned(amount_minor: int, *, minor_per_unit: int, earn_per_unit: int, percent: int = 100) -> int:
    """Points for ``amount_minor`` paid in cash: whole currency units × the earn rate × the
    multiplier, rounded down (a member never earns a fraction of a point)."""
    units = max(amount_minor, 0) // minor_per_unit
    return units * earn_per_unit * percent // 100


def capped(points: int, *, earned_today: int, earned_this_month: int, per_day: int | None, per_month: int | None) -> int:
    """What may still be granted of ``points`` under the caps (``None``: no cap), given what
    the member already earned from orders today and this month (brand calendar)."""
    room = points
    if per_day is not None:
        room = min(room, max(per_day - earned_today, 0))
    if per_month is not None:
        room = min(room, max(per_month - earned_this_month, 0))
    return max(room, 0)


# -- paying with points at checkout (积分抵现) ------------------------------------------------------------
def deduction(
    asked: int, *, balance: int, due_minor: int, points_per_unit: int, minor_per_unit: int, max_percent: int, max_points: int | None
) -> tuple[int, int]:
    """``(points used, minor units taken off)`` when a buyer offers ``asked`` points on an order
    of ``due_minor`` (what is left after coupons).

    ``points_per_unit`` points are worth one currency unit (100 points = 1 yuan). The buyer
    never spends more than they asked for or hold, nor more than the brand's cap per order
    (``max_points``), and the deduction never exceeds ``max_percent`` of what is due. Only
    whole minor units are taken off, and the points used are exactly what those minor units
    cost (rounded up), so 150 points at 100 per yuan take off 1.50 and spend 150, while 15
    points at 1000 per yuan take off 0.01 and spend 10."""
    if asked <= 0 or due_minor <= 0:
        return 0, 0
    usable = min(asked, max(balance, 0))
    if max_points is not None:
        usable = min(usable, max_points)
    minor = usable * minor_per_unit // points_per_unit
    minor = min(minor, due_minor * max_percent // 100)
    if minor <= 0:
        return 0, 0
    points = -(-minor * points_per_unit // minor_per_unit)  # the fewest points worth `minor`
    return points, minor


def split_over_lines(amount: int, line_totals: Sequence[int]) -> list[int]:
    """Share ``amount`` (points or minor units) over lines in proportion to what each costs,
    by the largest remainder: the shares add up exactly, and a line that costs nothing gets
    nothing."""
    if not line_totals:
        return []
    weights = [max(total, 0) for total in line_totals]
    if amount and not any(weights):
        raise ValueError("nothing to take points off")
    return apportion(amount, weights)


def returned_for(line_points: int, quantity: int, refunded_quantity: int) -> int:
    """The points of a line to have given back once ``refunded_quantity`` of its ``quantity``
    units were refunded: in proportion, rounded down, all of them once the line is refunded in
    full (so the rounding never keeps a point)."""
    if quantity <= 0 or refunded_quantity <= 0:
        return 0
    if refunded_quantity >= quantity:
        return line_points
    return line_points * refunded_quantity // quantity


def ledger_disagreement(balance: int, entries_sum: int, lots_sum: int) -> str | None:
    """Why a member's ledger does not add up, or ``None`` when it does."""
    if balance == entries_sum == lots_sum:
        return None
    return f"balance {balance}, sum of entries {entries_sum}, sum of unexpired lot remainders {lots_sum}: they must be equal"


MAX_IMAGE_URL = 1000


def image_url_problem(url: str | None) -> str | None:
    """Why an item's picture URL cannot be stored, or None. An absolute http(s) URL or a path on
    the brand's own host ("/img/a.png"), as the catalog takes product images; "" means none."""
    if url is None or url == "":
        return None
    if len(url) > MAX_IMAGE_URL:
        return f"A picture URL has at most {MAX_IMAGE_URL} characters."
    if url != url.strip() or not (url.startswith(("http://", "https://")) or (url.startswith("/") and not url.startswith("//"))):
        return "A picture URL starts with http://, https:// or / (a path on the brand's host)."
    return None
