"""Relay: global ids, the Node interface, and capped cursor connections."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Annotated, Any, Callable, Generic, TypeVar

import strawberry
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import DomainError

MAX_PAGE = 100
DEFAULT_PAGE = 20

T = TypeVar("T")

# The four paging arguments of every connection field, described once (fetch_page and
# list_connection read them): `last: Last = None` in a resolver's signature.
First = Annotated[
    int | None,
    strawberry.argument(description=f"How many items from the start (or after `after`); at most {MAX_PAGE}, {DEFAULT_PAGE} when neither is given."),
]
After = Annotated[str | None, strawberry.argument(description="A cursor (a page's endCursor): read the items after it.")]
Last = Annotated[
    int | None, strawberry.argument(description=f"How many items from the end (or before `before`); at most {MAX_PAGE}; not with first.")
]
Before = Annotated[str | None, strawberry.argument(description="A cursor (a page's startCursor): read the items before it.")]


def to_global_id(type_name: str, pk: int | str) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


def from_global_id(global_id: str) -> tuple[str, str]:
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        type_name, sep, pk = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
    except (binascii.Error, ValueError):  # UnicodeError (a lone surrogate, bad UTF-8) is a ValueError
        raise DomainError("KERNEL_INVALID_ID", "the id is not a valid id") from None
    if not sep or not type_name or not pk:
        raise DomainError("KERNEL_INVALID_ID", "the id is not a valid id")
    return type_name, pk


def parse_key(text: str) -> int | None:
    """The integer a primary key or cursor text spells, or None.

    ASCII digits only, at most 18 of them (a BIGINT holds every such number):
    ``str.isdigit`` also accepts "¹" and "١٢", which ``int`` then refuses or reads.
    """
    if not isinstance(text, str) or not 0 < len(text) <= 18 or not text.isascii() or not text.isdigit():
        return None
    return int(text)


def decode_id(global_id: str, expected_type: str, field: str | None = None) -> int:
    """The integer primary key behind a global id of ``expected_type``, or a typed error."""
    try:
        type_name, pk = from_global_id(str(global_id))
    except DomainError:
        raise DomainError("KERNEL_INVALID_ID", f"expected the id of a {expected_type}", field=field) from None
    key = parse_key(pk)
    if type_name != expected_type or key is None:
        raise DomainError("KERNEL_INVALID_ID", f"expected the id of a {expected_type}", field=field)
    return key


@strawberry.interface(description="An object with a global id, fetchable through node(id).")
class Node:
    pk: strawberry.Private[int]

    @strawberry.field(description="The object's global id.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(to_global_id(self.__strawberry_definition__.name, self.pk))  # type: ignore[attr-defined]


@strawberry.type(description="Where a page sits in its list (Relay cursor connections).")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More items follow this page (read them with first/after endCursor).")
    has_previous_page: bool = strawberry.field(description="Items come before this page (read them with last/before startCursor).")
    start_cursor: str | None = strawberry.field(description="The cursor of the page's first item; null on an empty page.")
    end_cursor: str | None = strawberry.field(description="The cursor of the page's last item; null on an empty page.")


@strawberry.type(description="One item of a connection page with its cursor.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(description="An opaque position: pass it as after or before to page from here.")
    node: T = strawberry.field(description="The item.")


@strawberry.type(description="A page of a list: at most 100 items per page, paged with first/after or last/before.")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The page's items with their cursors.")
    page_info: PageInfo = strawberry.field(description="Whether more pages exist on either side, and the cursors to reach them.")

    @strawberry.field(description="The nodes of this page, without cursors.")
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]


def encode_cursor(value: int) -> str:
    return base64.urlsafe_b64encode(f"c:{value}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str, field: str = "after") -> int:
    try:
        text = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()).decode()
    except (binascii.Error, ValueError):  # UnicodeError (a lone surrogate, bad UTF-8) is a ValueError
        text = ""
    value = parse_key(text[2:].removeprefix("-")) if text.startswith("c:") else None
    if value is None:
        raise DomainError("KERNEL_INVALID_INPUT", "the cursor is not valid", field=field)
    return -value if text[2:].startswith("-") else value


def page_size(first: int | None, last: int | None = None) -> int:
    """How many rows one page holds: ``first`` or ``last`` (never both), capped at MAX_PAGE."""
    if first is not None and last is not None:
        raise DomainError("KERNEL_INVALID_INPUT", "give first or last, not both", field="last")
    count, name = (last, "last") if last is not None else (first, "first")
    if count is None:
        return DEFAULT_PAGE
    if count < 0 or count > MAX_PAGE:
        raise DomainError("KERNEL_INVALID_INPUT", f"{name} must be between 0 and {MAX_PAGE}", field=name)
    return count


@dataclass
class Page:
    rows: list[Any]
    has_next: bool
    has_previous: bool


async def fetch_page(
    session: AsyncSession,
    stmt: Select,
    key_column: Any,
    first: int | None,
    after: str | None,
    *,
    last: int | None = None,
    before: str | None = None,
    descending: bool = False,
) -> Page:
    """Keyset pagination on a unique integer column; one SQL statement, ``size + 1`` rows.

    ``first``/``after`` reads forward from a cursor; ``last``/``before`` reads the page that
    ends just before a cursor (or the list's last page), returned in the list's own order.
    """
    size = page_size(first, last)
    backwards = last is not None
    if after is not None:
        start = decode_cursor(after)
        stmt = stmt.where(key_column < start if descending else key_column > start)
    if before is not None:
        end = decode_cursor(before, "before")
        stmt = stmt.where(key_column > end if descending else key_column < end)
    newest_first = descending != backwards  # reading backwards walks the list's order in reverse
    stmt = stmt.order_by(key_column.desc() if newest_first else key_column.asc()).limit(size + 1)
    rows: list[Any] = []
    if size:
        result = await session.execute(stmt)
        # select(Model) pages ORM objects; select(table) or select(columns) pages rows.
        described = stmt.column_descriptions
        single_entity = len(described) == 1 and described[0].get("entity") is not None and described[0].get("expr") is described[0].get("entity")
        rows = list(result.scalars().all() if single_entity else result.all())
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
        return Page(rows, before is not None, more)
    return Page(rows, more, after is not None)


def list_connection(
    items: list[Any], to_node: Callable[[Any], T], first: int | None, after: str | None, last: int | None = None, before: str | None = None
) -> Connection[T]:
    """A connection over an already ordered list whose cursors are positions in it.

    For short lists computed in memory (leaderboards, figures), with the same arguments and
    cap as :func:`fetch_page`.
    """
    size = page_size(first, last)
    start = decode_cursor(after) + 1 if after is not None else 0
    stop = decode_cursor(before, "before") if before is not None else len(items)
    start, stop = max(start, 0), max(min(stop, len(items)), start)
    begin, end = (max(stop - size, start), stop) if last is not None else (start, min(start + size, stop))
    edges = [Edge(cursor=encode_cursor(begin + i), node=to_node(item)) for i, item in enumerate(items[begin:end])]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=end < len(items),
            has_previous_page=begin > 0,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )


def connection(page: Page, to_node: Callable[[Any], T], key: Callable[[Any], int] = lambda r: r.id) -> Connection[T]:
    edges = [Edge(cursor=encode_cursor(key(row)), node=to_node(row)) for row in page.rows]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )
