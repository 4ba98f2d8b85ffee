"""How the compiled plan (``core.gql.fast_plan``) turns completed values into the response:
a column of leaves serialised at once, and a level's columns zipped into its dicts."""

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


def row_builder(keys: tuple[str, ...]) -> Any:
    """A function turning a level's completed columns into its response dicts, written for
    its keys: a dict display per object is about three times as quick as dict(zip(keys, row)),
    and a page builds ~1,000 of them. The keys are response names, which GraphQL's grammar
    limits to ``[_A-Za-z][_0-9A-Za-z]*``; they are written with ``repr`` all the same."""
    if not all(key.isidentifier() and key.isascii() for key in keys):
        raise GiveUp("a response key that is not a name")
    columns = [f"c{i}" for i in range(len(keys))]
    values = [f"v{i}" for i in range(len(keys))]
    display = ", ".join(f"{key!r}: {value}" for key, value in zip(keys, values, strict=True))
    source = f"def rows({', '.join(columns)}):\n    return [{{{display}}} for ({', '.join(values)},) in zip({', '.join(columns)}, strict=True)]\n"
    namespace: dict[str, Any] = {}
    exec(compile(source, "<fast_plan rows>", "exec"), namespace)  # noqa: S102 - written above from names only
    return namespace["rows"]
