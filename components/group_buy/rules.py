"""Group-buy's decisions as plain functions: no database, no clock, no kernel.

The service reads rows, asks these what the rule says and writes the answer. The seat itself is
still taken by a conditional UPDATE (the database decides a race); ``takes_seat`` is the same
predicate for one group, used to explain the outcome and tested case by case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Sequence

LEADER_PRICE = "团长价 leader price"
LEADER_DISCOUNT = "团长优惠 leader discount"
GROUP_PRICE = "拼团价 group price"


@dataclass(frozen=True)
class SkuPrice:
    """One SKU of an offer: its list price and what the offer charges for it."""

    sku_id: int
    list_price: int
    group_price: int
    leader_price: int | None = None
    quantity: int | None = None  # this SKU's share of the offer's quantity (None: the offer's total limit)


def unit_price(sku: SkuPrice, *, leader: bool, leader_discount: int | None) -> tuple[int, str]:
    """What one unit costs a group's leader or member, and the label the order shows."""
    if leader and sku.leader_price is not None:
        return sku.leader_price, LEADER_PRICE
    if leader and leader_discount:
        return max(sku.group_price - leader_discount, 0), LEADER_DISCOUNT
    return sku.group_price, GROUP_PRICE


def offer_problems(
    *,
    skus: Sequence[SkuPrice],
    group_size: int,
    starts_at: datetime,
    ends_at: datetime,
    total_limit: int,
    per_member_limit: int,
    leader_discount: int | None,
    virtual_fill_ratio: float | None,
) -> list[tuple[str, str]]:
    """(field, message) for every rule the offer breaks, taken as a whole."""
    problems: list[tuple[str, str]] = []
    if not 2 <= group_size <= 100:
        problems.append(("input.groupSize", "A group has 2 to 100 members."))
    if ends_at <= starts_at:
        problems.append(("input.endsAt", "The offer must end after it starts."))
    if per_member_limit < 1:
        problems.append(("input.perMemberLimit", "Limits are at least 1."))
    if total_limit < 1:
        problems.append(("input.totalLimit", "Limits are at least 1."))
    if virtual_fill_ratio is not None and not 0 < virtual_fill_ratio <= 1:
        problems.append(("input.virtualFillRatio", "The virtual fill ratio is between 0 and 1."))
    if not skus:
        problems.append(("input.skus", "An offer has at least one SKU."))
    seen: set[int] = set()
    for index, sku in enumerate(skus):
        where = f"input.skus[{index}]" if len(skus) > 1 else "input"
        if sku.sku_id in seen:
            problems.append((f"{where}.skuId", "Each SKU once per offer."))
        seen.add(sku.sku_id)
        if not 0 <= sku.group_price <= sku.list_price:
            problems.append((f"{where}.groupPrice", "The group price is between 0 and the SKU's price."))
        if sku.leader_price is not None and not 0 <= sku.leader_price <= sku.group_price:
            problems.append((f"{where}.leaderPrice", "The leader price is between 0 and the group price."))
        if leader_discount is not None and sku.leader_price is not None:
            problems.append(("input.leaderDiscount", "Give a leader price or a leader discount, not both."))
        if leader_discount is not None and not 0 < leader_discount <= sku.group_price:
            problems.append(("input.leaderDiscount", "The leader discount is above 0 and at most the group price."))
        if sku.quantity is not None and sku.quantity < 1:
            problems.append((f"{where}.quantity", "A SKU's quantity is at least 1."))
    # Enough for one whole group, or no group could ever form.
    total = sum(sku.quantity if sku.quantity is not None else total_limit for sku in skus)
    if skus and total_limit >= 1 and total < group_size:
        problems.append(("input.totalLimit", f"The offer's quantity ({total}) must cover at least one group of {group_size}."))
    return problems


# What staff may change on an offer once a group exists: nothing that changes what members of a
# running group were promised (prices, size, duration, SKUs) — only the window's end, the
# quantities and limits (never below what is taken), and what the offer shows.
EDITABLE_WITH_GROUPS = frozenset({"endsAt", "totalLimit", "perMemberLimit", "showJoinable", "virtualFillRatio"})
EDITABLE = EDITABLE_WITH_GROUPS | {"startsAt", "groupSize", "duration", "groupPrice", "leaderPrice", "leaderDiscount"}


def locked_fields(changed: Iterable[str], *, has_groups: bool) -> list[str]:
    """The fields of an edit that may not change (sorted); empty when the edit is allowed."""
    allowed = EDITABLE_WITH_GROUPS if has_groups else EDITABLE
    return sorted(set(changed) - allowed)


def takes_seat(*, status: str, paid_seats: int, size: int, deadline_at: datetime | None, now: datetime, is_leader: bool) -> bool:
    """Whether a payment now takes a seat in the group (else it is a late payment). The
    leader's payment starts the clock, so it has no deadline to meet yet."""
    if status != "forming" or paid_seats >= size:
        return False
    return is_leader or (deadline_at is not None and now < deadline_at)


def late_payment_action(setting: str, *, offer_running: bool) -> str:
    """A payment that found no seat: ``open_new_group`` (the payer leads a new group, paying the
    leader price) only while the offer runs and the brand chose it; otherwise ``refund``."""
    return "open_new_group" if setting == "open_new_group" and offer_running else "refund"


def leader_refund(*, paid_unit: int, leader_unit: int, quantity: int) -> int:
    """What a late payer who now leads a group gets back: the difference to the leader price."""
    return max(paid_unit - leader_unit, 0) * quantity


def virtual_fill(*, paid_seats: int, size: int, ratio: float | None) -> int | None:
    """Placeholders that complete a group at its deadline (模拟成团), or None when it fails."""
    if ratio is None or paid_seats == 0 or paid_seats / size < ratio:
        return None
    return size - paid_seats
