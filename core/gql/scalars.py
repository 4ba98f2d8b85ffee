"""Scalars shared by every component."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NewType

import strawberry
from graphql import IntValueNode, ValueNode

LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1


def _parse_long(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"Long must be an integer, got {type(value).__name__}")
    if not LONG_MIN <= value <= LONG_MAX:
        raise ValueError("Long is out of the 64-bit range")
    return value


def _parse_long_literal(node: ValueNode, _variables: Any = None) -> int:
    """A literal in the document (``amount: 150``) is checked as strictly as a variable:
    an integer literal within 64 bits, nothing else (graphql-core would otherwise hand the
    node's raw value to the resolver, and a float or string failed deep inside)."""
    if not isinstance(node, IntValueNode):
        raise ValueError("Long must be an integer literal")
    return _parse_long(int(node.value))


# GraphQL's Int is 32-bit: 21,474,836.47 yuan in minor units — a live session's GMV passes
# that. Long is a 64-bit integer sent as a JSON number (exact in JavaScript up to 2^53).
if TYPE_CHECKING:  # to a type checker a Long is the int it carries
    Long = int
else:
    Long = strawberry.scalar(
        NewType("Long", int),
        name="Long",
        description="A 64-bit integer (money in minor units, counters).",
        serialize=int,
        parse_value=_parse_long,
        parse_literal=_parse_long_literal,
    )
