"""Connections page both ways: ``first``/``after`` forward, ``last``/``before`` backward, one cap."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from core.errors import DomainError
from core.gql.relay import MAX_PAGE, connection, decode_cursor, fetch_page, list_connection, page_size

ROWS = sa.table("rows", sa.column("id", sa.Integer))


async def _page(session, first=None, after=None, last=None, before=None, descending=False):
    page = await fetch_page(session, sa.select(ROWS.c.id), ROWS.c.id, first, after, last=last, before=before, descending=descending)
    return connection(page, lambda row: row.id)


@pytest.fixture
async def session():
    from sqlalchemy.ext.asyncio import AsyncSession

    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as conn:
        await conn.execute(sa.text("CREATE TABLE rows (id INTEGER PRIMARY KEY)"))
        await conn.execute(sa.text("INSERT INTO rows (id) VALUES " + ",".join(f"({i})" for i in range(1, 11))))
    async with AsyncSession(engine) as s:
        yield s
    await engine.dispose()


async def test_walking_forward_then_back_gives_the_same_pages(session):
    first = await _page(session, first=4)
    second = await _page(session, first=4, after=first.page_info.end_cursor)
    assert [e.node for e in first.edges] == [1, 2, 3, 4] and [e.node for e in second.edges] == [5, 6, 7, 8]
    assert (second.page_info.has_previous_page, second.page_info.has_next_page) == (True, True)
    back = await _page(session, last=4, before=second.page_info.start_cursor)
    assert [e.node for e in back.edges] == [1, 2, 3, 4]
    assert (back.page_info.has_previous_page, back.page_info.has_next_page) == (False, True)


async def test_last_alone_reads_the_end_of_the_list_in_its_own_order(session):
    tail = await _page(session, last=3)
    assert [e.node for e in tail.edges] == [8, 9, 10]
    assert (tail.page_info.has_previous_page, tail.page_info.has_next_page) == (True, False)
    newest = await _page(session, last=3, descending=True)
    assert [e.node for e in newest.edges] == [3, 2, 1]


async def test_after_and_before_together_bound_a_window(session):
    start = (await _page(session, first=2)).page_info.end_cursor  # after 2
    stop = (await _page(session, last=2)).page_info.start_cursor  # before 9
    inside = await _page(session, first=100, after=start, before=stop)
    assert [e.node for e in inside.edges] == [3, 4, 5, 6, 7, 8]
    closing = await _page(session, last=2, after=start, before=stop)
    assert [e.node for e in closing.edges] == [7, 8]


@pytest.mark.parametrize(("first", "last", "field"), [(1, 1, "last"), (None, MAX_PAGE + 1, "last"), (-1, None, "first"), (None, -1, "last")])
def test_page_size_names_the_argument_it_refuses(first, last, field):
    with pytest.raises(DomainError) as refused:
        page_size(first, last)
    assert (refused.value.code, refused.value.field) == ("KERNEL_INVALID_INPUT", field)


def test_a_bad_before_cursor_names_before():
    with pytest.raises(DomainError) as refused:
        decode_cursor("nonsense", "before")
    assert refused.value.field == "before"


def test_list_connection_pages_a_computed_list_both_ways():
    items = list("abcdefg")
    first = list_connection(items, str.upper, 3, None)
    assert [e.node for e in first.edges] == ["A", "B", "C"] and first.page_info.has_next_page
    rest = list_connection(items, str.upper, 10, first.page_info.end_cursor)
    assert [e.node for e in rest.edges] == ["D", "E", "F", "G"] and not rest.page_info.has_next_page
    back = list_connection(items, str.upper, None, None, last=2, before=rest.page_info.start_cursor)
    assert [e.node for e in back.edges] == ["B", "C"]
    assert (back.page_info.has_previous_page, back.page_info.has_next_page) == (True, True)
