"""Pure rules of insights: calendar days, periods, channels, which slices an order feeds.

No database and no GraphQL here, so every definition the README writes as a formula is
checked by fast tests on plain data.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from core.errors import DomainError
from core.gql.relay import from_global_id, to_global_id

ALL = "ALL"
CHANNEL = "CHANNEL"
LIVE_ROOM = "LIVE_ROOM"
GROUP_BUY_OFFER = "GROUP_BUY_OFFER"
GUIDE = "GUIDE"
STORE = "STORE"
SLICES = (CHANNEL, LIVE_ROOM, GROUP_BUY_OFFER, GUIDE, STORE)

# The channel of an order, first match wins: the attribution precedence of docs/attribution.md
# (a guide's sale > a member's share > the live room > the group), then everything else.
CHANNELS = ("GUIDE", "MEMBER_SHARE", "LIVE_ROOM", "GROUP_BUY", "DIRECT")


@dataclass(frozen=True)
class Period:
    first: date
    last: date  # inclusive

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def each_day(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range(self.days)]


def check_period(first: date, last: date, max_days: int) -> Period:
    """A period of whole brand days, first to last inclusive, at most ``max_days`` long."""
    if last < first:
        raise DomainError("INSIGHTS_PERIOD_REVERSED", f"The period ends ({last}) before it starts ({first}).", field="period.to")
    period = Period(first, last)
    if period.days > max_days:
        raise DomainError(
            "INSIGHTS_PERIOD_TOO_LONG", f"A period covers at most {max_days} days, not {period.days}.", field="period.to", maxDays=max_days
        )
    return period


def local_day(at: datetime, zone: ZoneInfo) -> date:
    """The brand's calendar day of an instant (a naive instant is UTC, as SQLite returns it)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return at.astimezone(zone).date()


def day_bounds(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants [start, end) covering brand days first..last."""
    start = datetime.combine(first, time.min, tzinfo=zone).astimezone(timezone.utc)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone).astimezone(timezone.utc)
    return start, end


def member_pk(global_id: Any) -> int | None:
    """The member behind a proven ``sharerMemberId`` (a global id), or None."""
    if not isinstance(global_id, str):
        return None
    try:
        type_name, key = from_global_id(global_id)
    except DomainError:
        return None
    return int(key) if type_name == "Member" and key.isdigit() else None


def channel(source: dict[str, Any]) -> str:
    if source.get("guideId"):
        return "GUIDE"
    if source.get("sharerMemberId"):
        return "MEMBER_SHARE"
    if source.get("liveRoomId"):
        return "LIVE_ROOM"
    if source.get("groupId"):
        return "GROUP_BUY"
    return "DIRECT"


def order_slices(source: dict[str, Any], store_id: int | None) -> list[tuple[str, str]]:
    """The order-wide slices an order's money counts in (every one of them in full)."""
    slices = [(ALL, ""), (CHANNEL, channel(source))]
    if source.get("liveRoomId"):
        slices.append((LIVE_ROOM, str(source["liveRoomId"])))
    if source.get("guideId"):
        slices.append((GUIDE, str(source["guideId"])))
    if store_id is not None:
        slices.append((STORE, to_global_id("PickupStore", store_id)))
    return slices


def offer_amounts(lines: Iterable[dict[str, Any]], amount_key: str) -> dict[str, int]:
    """Group-buy lines' amounts per offer (global id): an offer counts only its own lines."""
    found: dict[str, int] = defaultdict(int)
    for line in lines:
        activity = line.get("activity") or {}
        if activity.get("component") == "group_buy" and str(activity.get("ref") or "").isdigit():
            found[to_global_id("GroupBuyOffer", int(activity["ref"]))] += int(line.get(amount_key) or 0)
    return dict(found)


Deltas = dict[tuple[date, str, str], list[int]]  # (day, dimension, ref) -> [orders, gross, refunded]


def add_paid(deltas: Deltas, day: date, order: dict[str, Any]) -> None:
    """A paid order: one order and its total in each order-wide slice, its offers' lines in theirs."""
    for dimension, ref in order_slices(order["source"], order.get("storeId")):
        row = deltas.setdefault((day, dimension, ref), [0, 0, 0])
        row[0] += 1
        row[1] += int(order["totalMinor"])
    for ref, amount in offer_amounts(order["lines"], "totalMinor").items():
        row = deltas.setdefault((day, GROUP_BUY_OFFER, ref), [0, 0, 0])
        row[0] += 1
        row[1] += amount


def add_refund(deltas: Deltas, day: date, refund: dict[str, Any]) -> None:
    """A refund counts on its own day, in the slices of its order (the offer: its lines only)."""
    for dimension, ref in order_slices(refund["source"], refund.get("storeId")):
        deltas.setdefault((day, dimension, ref), [0, 0, 0])[2] += int(refund["amountMinor"])
    for ref, amount in offer_amounts(refund["lines"], "amountMinor").items():
        deltas.setdefault((day, GROUP_BUY_OFFER, ref), [0, 0, 0])[2] += amount


def ratio(numerator: int, denominator: int) -> float | None:
    """A share in [0, 1], or None when there is nothing to divide by (no customers yet)."""
    return None if denominator == 0 else numerator / denominator


def average(total: int, count: int) -> int:
    """A mean of minor units, rounded half up to a whole minor unit (0 when count is 0)."""
    return 0 if count == 0 else (2 * total + count) // (2 * count)
