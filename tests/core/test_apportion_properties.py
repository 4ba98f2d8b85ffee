"""Money is exact per line: order-level amounts split over random carts, checked as properties.

For any cart of 1–20 lines and any order-level discounts and fees within bounds, the lines
add up to the order total, no line goes below zero, the split is the same every time, and
refunding every line (each at most what was paid for it) returns exactly the total.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from core.apportion import apportion
from core.checkout import Draft, DraftLine

quantities = st.integers(min_value=1, max_value=99)
unit_prices = st.integers(min_value=0, max_value=500_000)  # up to 5,000 yuan a unit, free lines too
carts = st.lists(st.tuples(quantities, unit_prices), min_size=1, max_size=20)


@st.composite
def split_cases(draw: st.DrawFn) -> tuple[int, list[int]]:
    weights = draw(st.lists(st.integers(min_value=0, max_value=10_000_000), min_size=1, max_size=20))
    # A discount never exceeds what it is taken from; a fee may be anything reasonable.
    amount = draw(st.integers(min_value=-sum(weights), max_value=1_000_000))
    return amount, weights


@settings(deadline=None)  # a loaded CI machine must not turn a slow example into a failure
@given(split_cases())
def test_apportion_is_exact_bounded_and_deterministic(case: tuple[int, list[int]]) -> None:
    amount, weights = case
    parts = apportion(amount, weights)
    assert len(parts) == len(weights)
    assert sum(parts) == amount
    assert all(w + p >= 0 for w, p in zip(weights, parts))  # a discount takes no line below zero
    assert all((p <= 0) if amount <= 0 else (p >= 0) for p in parts)  # every share has the amount's sign
    assert apportion(amount, list(weights)) == parts
    total = sum(weights)
    if total:
        # Largest remainder: no part is more than one minor unit away from its exact share.
        assert all(abs(p * total - amount * w) < total for p, w in zip(parts, weights))


@st.composite
def drafts(draw: st.DrawFn) -> Draft:
    lines = []
    for index, (quantity, price) in enumerate(draw(carts)):
        line = DraftLine(sku_id=index + 1, title=f"sku {index}", quantity=quantity, list_unit_price_minor=price,
                         unit_price_minor=price, index=index)
        lines.append(line)
    draft = Draft(member_id=1, kind="plain", currency="CNY", delivery_type="shipping", store_id=None, source={},
                  attributes={}, lines=lines)
    for line in lines:
        line._draft = draft
    # Line-level stages first (an activity price, a member discount), as the kernel runs them.
    for line in lines:
        if draw(st.booleans()):
            draft.current = ("activity", "activity")
            line.set_unit_price(draw(st.integers(min_value=0, max_value=line.unit_price_minor)), "活动价")
        if line.own_total_minor and draw(st.booleans()):
            draft.current = ("members", "discount")
            line.adjust(-draw(st.integers(min_value=0, max_value=line.own_total_minor)), "会员价")
    # Order-level: threshold, coupon and points discounts, bounded by what is left; a delivery fee.
    left = sum(line.own_total_minor for line in lines)
    for component, stage, label in (("promo", "threshold", "满减"), ("coupons", "coupon", "优惠券"), ("points", "points", "积分抵扣")):
        if left and draw(st.booleans()):
            cut = draw(st.integers(min_value=0, max_value=left))
            draft.current = (component, stage)
            draft.adjust(-cut, label)
            left -= cut
    if draw(st.booleans()):
        draft.current = ("delivery", "delivery")
        draft.adjust(draw(st.integers(min_value=0, max_value=5_000)), "运费")
    draft.current = ("", "")
    return draft


def refund_all(draft: Draft) -> int:
    """Refund each line for what was paid for it (the most a line's refund may return)."""
    return sum(line.total_minor for line in draft.lines)


@settings(max_examples=300, deadline=None)
@given(drafts())
def test_draft_lines_always_add_up_to_the_order_total(draft: Draft) -> None:
    draft.apportion()
    totals = [line.total_minor for line in draft.lines]
    assert sum(totals) == draft.total_minor
    assert all(t >= 0 for t in totals)
    assert sum(line.share_minor for line in draft.lines) == draft.order_adjustments_minor
    # Deterministic: apportioning again (a replay, a re-preview) gives the same shares.
    draft.apportion()
    assert [line.total_minor for line in draft.lines] == totals
    assert refund_all(draft) == draft.total_minor


def test_a_fee_on_a_free_order_goes_by_quantity() -> None:
    """All lines free (points paid for them) and a delivery fee: weights are all zero, so the
    fee is shared by quantity rather than dumped on the first line."""
    assert apportion(1000, [0, 0, 0], fallback=[1, 2, 1]) == [250, 500, 250]
    assert apportion(1001, [0, 0], fallback=[0, 0]) == [501, 500]
