"""The coupon rules as plain functions: which lines a coupon covers, what it takes off, and
why a coupon cannot be used. No database, no GraphQL: the checkout and the preview call these
with what they read, and the unit tests call them directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.apportion import apportion

SCOPE_KINDS = ("skus", "products", "categories", "all")  # narrowest first: the order coupons apply in
KINDS = ("fixed", "percent")

# Why a coupon cannot be used on a checkout (the preview's `reason`).
EXPIRED, NOT_YET_VALID, USED = "EXPIRED", "NOT_YET_VALID", "USED"
OUT_OF_SCOPE, NOT_COMBINABLE, BELOW_THRESHOLD = "OUT_OF_SCOPE", "NOT_COMBINABLE", "BELOW_THRESHOLD"
ZERO_DISCOUNT = "ZERO_DISCOUNT"
REASONS = {
    EXPIRED: "The coupon has expired.",
    NOT_YET_VALID: "The coupon is not valid yet.",
    USED: "The coupon was used on another order.",
    OUT_OF_SCOPE: "Nothing in this order is covered by the coupon.",
    NOT_COMBINABLE: "The covered lines are part of an activity this coupon does not combine with.",
    BELOW_THRESHOLD: "The covered lines do not reach the coupon's threshold.",
    ZERO_DISCOUNT: "The covered lines cost nothing.",
}


@dataclass(frozen=True)
class Terms:
    """A template's terms, as the rules need them."""

    kind: str
    amount_minor: int = 0
    percent_off: int = 0
    cap_minor: int | None = None
    threshold_minor: int = 0
    scope_kind: str = "all"
    scope_ids: frozenset[int] = frozenset()
    exclude_product_ids: frozenset[int] = frozenset()
    exclude_sku_ids: frozenset[int] = frozenset()
    combines_with: frozenset[str] = frozenset()


@dataclass(frozen=True)
class LineView:
    """One checkout line as a coupon sees it: what it is, whose activity, what it costs so far."""

    index: int
    sku_id: int
    product_id: int
    category_ids: frozenset[int]  # the product's category and its ancestors
    activity: str | None  # the component whose activity claimed the line
    amount_minor: int  # after activity and member prices, before coupons


def in_scope(terms: Terms, line: LineView) -> bool:
    if line.sku_id in terms.exclude_sku_ids or line.product_id in terms.exclude_product_ids:
        return False
    if terms.scope_kind == "all":
        return True
    if terms.scope_kind == "skus":
        return line.sku_id in terms.scope_ids
    if terms.scope_kind == "products":
        return line.product_id in terms.scope_ids
    return bool(line.category_ids & terms.scope_ids)


def combinable(terms: Terms, line: LineView) -> bool:
    """Plain lines always; activity lines (group price, flash price…) only if the template says so."""
    return line.activity is None or line.activity in terms.combines_with


def covered(terms: Terms, lines: list[LineView]) -> tuple[list[LineView], str | None]:
    """The lines the coupon discounts, or the reason there are none."""
    scoped = [line for line in lines if in_scope(terms, line)]
    if not scoped:
        return [], OUT_OF_SCOPE
    allowed = [line for line in scoped if combinable(terms, line)]
    if not allowed:
        return [], NOT_COMBINABLE
    return allowed, None


def amount_off(terms: Terms, base_minor: int) -> int:
    """What the coupon takes off ``base_minor`` (the covered lines' amount); never more than it.

    A percentage rounds down to the fen (the shop never gives more than the stated rate)."""
    if base_minor <= 0:
        return 0
    if terms.kind == "fixed":
        return min(terms.amount_minor, base_minor)
    off = base_minor * terms.percent_off // 100
    if terms.cap_minor is not None:
        off = min(off, terms.cap_minor)
    return min(off, base_minor)


def evaluate(terms: Terms, lines: list[LineView]) -> tuple[dict[int, int], str | None]:
    """Per line index the amount off (positive), apportioned over the covered lines by their
    amounts (largest remainder), or the reason the coupon does not apply."""
    chosen, reason = covered(terms, lines)
    if reason:
        return {}, reason
    base = sum(line.amount_minor for line in chosen)
    if base < terms.threshold_minor:
        return {}, BELOW_THRESHOLD
    off = amount_off(terms, base)
    if off <= 0:
        return {}, ZERO_DISCOUNT
    shares = apportion(off, [line.amount_minor for line in chosen])
    return {line.index: share for line, share in zip(chosen, shares) if share}, None


def validity_reason(valid_from: datetime, valid_until: datetime, status: str, now: datetime) -> str | None:
    if status == "used":
        return USED
    if now < valid_from:
        return NOT_YET_VALID
    if now >= valid_until:
        return EXPIRED
    return None


def stack(terms_by_coupon: list[tuple[int, Terms]], lines: list[LineView], per_order: str) -> list[tuple[int, dict[int, int]]]:
    """Several coupons on one order (``per_order: one_per_scope``): narrower scopes first, each
    on what the earlier ones left of its lines. Returns (coupon id, shares) in applying order;
    a coupon that no longer applies raises ValueError with its id and reason."""
    order = sorted(terms_by_coupon, key=lambda pair: SCOPE_KINDS.index(pair[1].scope_kind))
    remaining = {line.index: line.amount_minor for line in lines}
    out = []
    for coupon_id, terms in order:
        now_lines = [LineView(l.index, l.sku_id, l.product_id, l.category_ids, l.activity, remaining[l.index]) for l in lines]
        shares, reason = evaluate(terms, now_lines)
        if reason:
            raise CouponNotApplicable(coupon_id, reason)
        for index, share in shares.items():
            remaining[index] -= share
        out.append((coupon_id, shares))
    return out


class CouponNotApplicable(ValueError):
    def __init__(self, coupon_id: int, reason: str) -> None:
        super().__init__(f"coupon {coupon_id}: {reason}")
        self.coupon_id = coupon_id
        self.reason = reason
