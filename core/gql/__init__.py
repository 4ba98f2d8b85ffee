"""GraphQL building blocks every component uses: one vocabulary, one look."""

from core.gql.context import Context
from core.gql.money import Money, MoneyInput, minor_from_input, money
from core.gql.payload import Payload, UserError, run_mutation, user_error
from core.gql.relay import (
    MAX_PAGE,
    After,
    Before,
    Connection,
    Edge,
    First,
    Last,
    Node,
    PageInfo,
    connection,
    decode_id,
    fetch_page,
    list_connection,
    to_global_id,
)
from core.gql.scalars import Long

__all__ = [
    "Context",
    "Money",
    "MoneyInput",
    "minor_from_input",
    "money",
    "Payload",
    "UserError",
    "run_mutation",
    "user_error",
    "MAX_PAGE",
    "After",
    "Before",
    "First",
    "Last",
    "Connection",
    "Edge",
    "Node",
    "PageInfo",
    "connection",
    "decode_id",
    "fetch_page",
    "list_connection",
    "to_global_id",
    "Long",
]
