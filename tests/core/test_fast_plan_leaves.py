"""The compiled plan's leaf serialisers (core/gql/fast_values.py) pass the common Python type
through untouched and hand everything else to the scalar's own serialize: for every value,
the result is graphql-core's, and where graphql-core refuses, so does the plan."""

from __future__ import annotations

import enum

import pytest
from graphql import GraphQLBoolean, GraphQLEnumType, GraphQLFloat, GraphQLID, GraphQLInt, GraphQLString

from core.gql.fast_drive import GiveUp
from core.gql.fast_values import leaf_column as _leaf


class Colour(enum.Enum):
    RED = "red"


VALUES = ["tea", "", True, False, 0, 7, 2**31 - 1, 2**31, -(2**31), -(2**31) - 1, 1.0, 2.5, float("nan"), [1], Colour.RED, None]
TYPES = [GraphQLString, GraphQLID, GraphQLInt, GraphQLBoolean, GraphQLFloat, GraphQLEnumType("Colour", Colour)]


@pytest.mark.parametrize("leaf_type", TYPES, ids=lambda t: t.name)
def test_a_leaf_column_serialises_as_graphql_core_does_value_by_value(leaf_type) -> None:
    column = _leaf(leaf_type)
    for value in VALUES:
        try:
            expected = None if value is None else leaf_type.serialize(value)
        except Exception:  # noqa: BLE001 - graphql-core refuses the value: so must the plan
            with pytest.raises(Exception):  # noqa: B017, PT011
                column([value])
            continue
        if value is not None and expected is None:
            with pytest.raises(GiveUp):
                column([value])
            continue
        [got] = column([value])
        assert got == expected and type(got) is type(expected), (leaf_type.name, value, got, expected)


def test_a_column_keeps_its_order_and_its_nulls() -> None:
    assert _leaf(GraphQLInt)([1, None, True, 3]) == [1, None, 1, 3]
    assert _leaf(GraphQLString)(["a", 2, None, False]) == ["a", "2", None, "false"]
