"""Scalars shared by every component, each described with its wire format.

A frontend's code generator maps every custom scalar to a type of its language (graphql-codegen's
``scalars:`` map, see docs/schema.md), so each description says exactly what travels in the JSON:

- ``Long``: a JSON **number** (not a string), a signed 64-bit integer;
- ``DateTime``: an ISO 8601 / RFC 3339 **string in UTC with its offset** (``2026-01-05T02:00:00+00:00``);
  an input without an offset is refused, never guessed;
- ``Date``: a calendar day **in the brand's timezone**, ``YYYY-MM-DD``;
- ``JSON``: any JSON value; used only where the shape is open (a JSON Schema document, a block's
  settings) or in fields kept one release for old clients.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import TYPE_CHECKING, Any, NewType

import strawberry
from graphql import IntValueNode, ValueNode
from strawberry.scalars import JSON
from strawberry.schema.types.base_scalars import DateDefinition, DateTimeDefinition
from strawberry.types.scalar import ScalarDefinition

from core.clock import as_utc

LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1
JS_SAFE_INTEGER = 2**53 - 1  # Number.MAX_SAFE_INTEGER: a JavaScript number is exact up to here

LONG_DESCRIPTION = (
    "A signed 64-bit integer (money in minor units, counters), sent as a JSON number, never a string. "
    f"Every value the schema gives today is within ±{JS_SAFE_INTEGER} (2^53-1), where a JavaScript number "
    "is exact, so codegen may map it to `number`; a client that must handle values beyond 2^53 parses "
    "responses with a big-integer-aware JSON parser and maps Long to `bigint`. Inputs accept the full 64-bit range."
)
DATE_TIME_DESCRIPTION = (
    "An instant, as an ISO 8601 / RFC 3339 string in UTC with its offset: `2026-01-05T02:00:00+00:00` "
    "(fractions of a second when there are any). Inputs take any ISO 8601 instant with an offset "
    "(`Z` or `+08:00`); one without an offset is refused (KERNEL_INVALID_INPUT), never guessed."
)
DATE_DESCRIPTION = "A calendar day in the brand's timezone (`Query.brand.timezone`), as an ISO 8601 string `YYYY-MM-DD`; no time and no offset."
JSON_DESCRIPTION = (
    "Any JSON value (RFC 8259). Used only where the shape is open by nature (a JSON Schema document, a "
    "storefront block's settings) and in deprecated fields kept one release; codegen maps it to `unknown`."
)
RFC3339 = "https://datatracker.ietf.org/doc/html/rfc3339#section-5.6"
RFC8259 = "https://www.rfc-editor.org/rfc/rfc8259"


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
# that. Long is a 64-bit integer sent as a JSON number: a decimal string would be exact
# everywhere, but money is capped at 10^13 minor units (core.gql.money.MAX_MINOR), far below
# 2^53, and a number is what every existing client already reads.
if TYPE_CHECKING:  # to a type checker a Long is the int it carries
    Long = int
else:
    Long = strawberry.scalar(
        NewType("Long", int),
        name="Long",
        description=LONG_DESCRIPTION,
        serialize=int,
        parse_value=_parse_long,
        parse_literal=_parse_long_literal,
    )


def _serialize_date_time(value: dt.datetime) -> str:
    # Stored times are UTC by convention; SQLite hands them back naive. The wire always
    # carries the offset, so a client never has to guess which zone a time is in.
    return as_utc(value).isoformat()


def _parse_date_time(value: object) -> dt.datetime:
    # An instant without an offset is refused rather than guessed: "20:00" typed in Beijing
    # and read as UTC would open a flash sale eight hours late. (A ValueError: the kernel
    # answers it as KERNEL_INVALID_INPUT, naming the variable.)
    parsed = DateTimeDefinition.parse_value(value)  # type: ignore[misc]  # strawberry's wrapped isoparse
    if not isinstance(parsed, dt.datetime) or parsed.tzinfo is None:
        raise ValueError(f"DateTime needs an offset (Z or +08:00): {value!r}")
    return parsed.astimezone(dt.timezone.utc)


# strawberry's own definitions, described with their wire format (and DateTime kept in UTC).
DATE_TIME = replace(
    DateTimeDefinition, description=DATE_TIME_DESCRIPTION, specified_by_url=RFC3339, serialize=_serialize_date_time, parse_value=_parse_date_time
)
DATE = replace(DateDefinition, description=DATE_DESCRIPTION, specified_by_url=RFC3339)
JSON_SCALAR = ScalarDefinition(
    name="JSON",
    description=JSON_DESCRIPTION,
    specified_by_url=RFC8259,
    serialize=lambda value: value,
    parse_value=lambda value: value,
    parse_literal=None,
    origin=JSON,
)

# ``strawberry.Schema(scalar_overrides=...)``: the built-in scalars, described our way.
SCALAR_OVERRIDES: dict[object, Any] = {dt.datetime: DATE_TIME, dt.date: DATE, JSON: JSON_SCALAR}
