"""Scalars shared by every component."""

from __future__ import annotations

from typing import NewType

import strawberry

# GraphQL's Int is 32-bit: 21,474,836.47 yuan in minor units — a live session's GMV passes
# that. Long is a 64-bit integer sent as a JSON number (exact in JavaScript up to 2^53).
Long = strawberry.scalar(
    NewType("Long", int),
    name="Long",
    description="A 64-bit integer (money in minor units, counters).",
    serialize=int,
    parse_value=lambda v: _parse_long(v),
)


def _parse_long(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"Long must be an integer, got {value!r}")
    if not -(2**63) <= value < 2**63:
        raise ValueError("Long is out of the 64-bit range")
    return value
