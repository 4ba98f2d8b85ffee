"""The order price pipeline's declared stages, in the order they run.

Stages are fixed by the kernel so that components written by different people compose in a
predictable order: an activity price is settled before discounts, points are deducted from
what remains after coupons, delivery is priced last.
"""

STAGES: tuple[str, ...] = ("activity", "discount", "threshold", "coupon", "points", "delivery")
