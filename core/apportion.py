"""Apportioning an order-level amount over lines, exactly, in minor units."""

from __future__ import annotations


def apportion(amount: int, weights: list[int], *, fallback: list[int] | None = None) -> list[int]:
    """Split ``amount`` over ``weights`` in proportion, by the largest-remainder method.

    The parts always add up to ``amount``. Each part is ``amount * w / W`` rounded toward zero,
    and the minor units left over go one each to the largest fractional remainders (ties to the
    earlier line), so the split is deterministic. A discount (negative ``amount``) no larger
    than the weights' sum never takes a line below zero. When every weight is zero (a free
    order with a delivery fee), ``fallback`` weights (quantities) are used, else equal ones.

    >>> apportion(-1000, [3000, 3000, 4000])
    [-300, -300, -400]
    >>> apportion(-100, [1, 1, 1])
    [-34, -33, -33]
    """
    if not weights:
        if amount:
            raise ValueError("an amount cannot be apportioned over no lines")
        return []
    if any(w < 0 for w in weights):
        raise ValueError("apportioning weights cannot be negative")
    total = sum(weights)
    if total == 0:
        weights = list(fallback) if fallback and sum(fallback) > 0 else [1] * len(weights)
        total = sum(weights)
    sign = -1 if amount < 0 else 1
    magnitude = abs(amount)
    parts, remainders = [], []
    for index, weight in enumerate(weights):
        whole, remainder = divmod(magnitude * weight, total)
        parts.append(whole)
        remainders.append((-remainder, index))
    for _, index in sorted(remainders)[: magnitude - sum(parts)]:
        parts[index] += 1
    return [sign * part for part in parts]
