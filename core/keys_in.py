"""``keys_in(column, keys)``: a batch loader's ``WHERE column IN (…keys)``, cheap on both databases.

A loader fetches one relation for a whole level of a page: 50 products' SKUs, 150 SKUs'
stock. Written as ``column.in_(keys)`` SQLAlchemy renders one bound parameter per key at
every execution; on PostgreSQL each with its own type cast (``$7::BIGINT``), and every new
number of keys is a new statement text for asyncpg to prepare. That rendering was ~5 % of
the storefront page's time on PostgreSQL (issue 26).

On PostgreSQL this renders ``column = ANY($1::BIGINT[])`` instead: one array parameter, one
statement text whatever the count, prepared once. Elsewhere (SQLite) it is the usual
expanding ``IN``. Same rows, same order semantics (none), same for an empty list (matches
nothing).
"""

from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import BindParameter, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.sqltypes import BOOLEANTYPE
from sqlalchemy.sql.visitors import InternalTraversal

__all__ = ["keys_in"]


class KeysIn(ColumnElement[bool]):
    """Both forms' parameters are kept (each database's compiled text uses one of them), so
    the statement cache's extraction of parameter values works for either."""

    inherit_cache = True
    type = BOOLEANTYPE
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("expanding", InternalTraversal.dp_clauseelement),
        ("array", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: Any, keys: Iterable[Any] | None, name: str | None) -> None:
        self.column = column
        if name is not None:  # a statement built once, the keys given at execution as {name: [...]}
            self.expanding: BindParameter = bindparam(name, type_=column.type, expanding=True)
            self.array: BindParameter = bindparam(name, type_=ARRAY(column.type))
            return
        values = list(keys or ())
        self.expanding = bindparam(None, values, type_=column.type, expanding=True)
        self.array = bindparam(None, values, type_=ARRAY(column.type))


def keys_in(column: Any, keys: Iterable[Any] | None = None, *, name: str | None = None) -> ColumnElement[bool]:
    """``column`` is one of ``keys`` (a list, set or any iterable of values of its type).

    With ``name`` instead of keys, the statement can be built once (at import) and executed
    with ``{name: keys}``: a loader that runs on every page then skips building the statement
    and computing its cache key each time."""
    if (keys is None) == (name is None):
        raise TypeError("keys_in takes the keys or a parameter name, one of them")
    return KeysIn(column, keys, name)


@compiles(KeysIn)
def _in_list(element: KeysIn, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.column.in_(element.expanding), **kw)


@compiles(KeysIn, "postgresql")
def _any_array(element: KeysIn, compiler: Any, **kw: Any) -> str:
    return f"{compiler.process(element.column, **kw)} = ANY({compiler.process(element.array, **kw)})"
