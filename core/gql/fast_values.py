"""How the compiled plan (``core.gql.fast_plan``) serialises a column of leaves at once."""

from __future__ import annotations

from typing import Any

from graphql.pyutils import Undefined
from graphql.type.scalars import serialize_boolean, serialize_id, serialize_int, serialize_string

from core.gql.fast_drive import GiveUp

MAX_INT = 2**31 - 1
MIN_INT = -(2**31)


def leaf_column(leaf_type: Any) -> Any:
    """A column serialiser for one scalar or enum type: the common Python type passes through
    as graphql-core's own serialize would return it; anything else goes through serialize."""
    serialize = leaf_type.serialize

    def slow(value: Any) -> Any:
        if value is None:
            return None
        serialized = serialize(value)
        if serialized is Undefined or serialized is None:
            raise GiveUp("leaf did not serialize")
        return serialized

    if serialize is serialize_string or serialize is serialize_id:
        return lambda values: [value if value.__class__ is str else slow(value) for value in values]
    if serialize is serialize_int:
        return lambda values: [value if value.__class__ is int and MIN_INT <= value <= MAX_INT else slow(value) for value in values]
    if serialize is serialize_boolean:
        return lambda values: [value if value is True or value is False else slow(value) for value in values]
    return lambda values: [slow(value) for value in values]
