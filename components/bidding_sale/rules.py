"""The auction's arithmetic as plain functions: no database, no clock, no kernel.

The service takes the lot's lock, reads the row, asks these functions what happens and writes
the answer; the functions are tested alone (tests/components/bidding_sale/test_bidding_sale_rules.py),
so the proxy rules can be checked case by case in milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Sequence

Ladder = Sequence[Sequence[int]]  # [[from_price, step], ...], ascending by from_price


def increment_at(ladder: Ladder, price: int) -> int:
    """The step that applies at ``price``: the last rung whose threshold the price reached."""
    step = ladder[0][1]
    for threshold, size in ladder:
        if price >= threshold:
            step = size
    return step


def minimum_bid(ladder: Ladder, start_price: int, current_price: int | None) -> int:
    """The first bid is the start price; later bids at least one step above the price."""
    if current_price is None:
        return start_price
    return current_price + increment_at(ladder, current_price)


def ladder_problem(ladder: Ladder) -> str | None:
    """Why a ladder cannot be used, or None."""
    if not ladder:
        return "A lot needs an increment or a ladder."
    if any(step <= 0 for _, step in ladder):
        return "Every step is above zero."
    thresholds = [threshold for threshold, _ in ladder]
    if thresholds != sorted(thresholds) or len(set(thresholds)) != len(thresholds):
        return "Ladder rungs go up by price, each price once."
    return None


@dataclass(frozen=True)
class Step:
    """One accepted change of the visible price."""

    member_id: int
    price: int
    kind: str  # bid | proxy


@dataclass(frozen=True)
class BidOutcome:
    leader: int
    leader_max: int
    steps: list[Step] = field(default_factory=list)
    leading: bool = False
    outbid: int | None = None  # the member who lost the lead to this bid


def resolve_bid(*, ladder: Ladder, leader: int | None, leader_max: int | None, bidder: int, amount: int, maximum: int | None) -> BidOutcome:
    """Proxy bidding (the caller has already checked the amount against the minimum and the
    ladder, and that the bidder is not the leader).

    The visible price is the lower of the leader's maximum and the runner-up's maximum plus a
    step; equal maxima: the earlier one (the sitting leader) keeps the lead. A plain bid above
    the minimum sets the price to what was bid: the member chose that amount."""
    mine = max(amount, maximum or amount)
    if leader is None:
        return BidOutcome(bidder, mine, [Step(bidder, amount, "bid")], leading=True)
    assert leader_max is not None
    if mine > leader_max:
        price = max(amount, min(mine, leader_max + increment_at(ladder, leader_max)))
        return BidOutcome(bidder, mine, [Step(bidder, price, "bid")], leading=True, outbid=leader)
    steps = [Step(bidder, amount, "bid")]
    answer = min(leader_max, mine + increment_at(ladder, mine))
    if answer > amount:
        steps.append(Step(leader, answer, "proxy"))  # the leader's maximum answers at once
    return BidOutcome(leader, leader_max, steps, leading=False)


def reserve_step(*, reserve: int | None, current: int | None, leader_max: int | None) -> int | None:
    """A leader whose maximum covers the reserve is taken to the reserve at once: the price to
    record, or None."""
    if reserve and current is not None and current < reserve <= (leader_max or 0):
        return reserve
    return None


def soft_close_end(
    *, ends_at: datetime, now: datetime, window: timedelta, extend_by: timedelta, extensions: int, max_extensions: int
) -> datetime | None:
    """The new end when a valid bid lands within ``window`` of the end, or None. Never earlier
    than the end it replaces (``extend_by`` may be shorter than ``window``)."""
    new_end = now + extend_by
    if ends_at - now <= window and extensions < max_extensions and new_end > ends_at:
        return new_end
    return None


def runner_up(maxima: Sequence[tuple[int, int]], winner: int) -> int | None:
    """The member with the highest maximum after the winner, or None. ``maxima`` is
    ``(member, maximum)`` in the order the members first came to the lot: on equal maxima the
    earlier one ranks first, as in bidding."""
    best: tuple[int, int] | None = None
    for member, amount in maxima:
        if member != winner and amount > 0 and (best is None or amount > best[1]):
            best = (member, amount)
    return best[0] if best else None


def lot_problems(*, start_price: int, reserve_price: int | None, buy_now_price: int | None, deposit: int) -> list[tuple[str, str]]:
    """(field, message) for every rule a lot's prices break, checked as a whole."""
    problems: list[tuple[str, str]] = []
    if start_price <= 0:
        problems.append(("input.startPrice", "The start price must be positive."))
    if buy_now_price is not None and buy_now_price <= start_price:
        problems.append(("input.buyNowPrice", "Buy-now must be above the start price."))
    if deposit < 0:
        problems.append(("input.deposit", "The deposit cannot be negative."))
    elif deposit > start_price:
        # A deposit is a pledge toward the price, never more than the least the lot can sell for.
        problems.append(("input.deposit", "The deposit cannot exceed the start price."))
    if reserve_price is not None and reserve_price <= 0:
        problems.append(("input.reservePrice", "A reserve is above zero."))
    if reserve_price is not None and buy_now_price is not None and reserve_price > buy_now_price:
        problems.append(("input.reservePrice", "The reserve cannot exceed the buy-now price."))
    return problems
