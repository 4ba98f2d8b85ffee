"""A request's reads (issue 26): inline on SQLite (core.inline_reads), one session per request
shared with the caller's rights, given back before a mutation writes and when a request is
refused before any operation ran."""

from __future__ import annotations

import asyncio
import gc
import warnings

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from core.app import create_app
from core.auth import Actor
from core.gql.payload import run_mutation
from core.inline_reads import InlineSession

BRAND = """\
dougong: 1
brand: {slug: reads, name: Reads, currency: CNY, timezone: Asia/Shanghai}
components:
  catalog: {}
  inventory: {}
  members: {}
"""
PAGE = "{ products(first: 5) { edges { node { title skus { stockLeft } } } } }"


async def _product(kernel, title: str) -> int:  # noqa: ANN001
    async with kernel.transaction() as tx:
        return await kernel.service("catalog").create_product(tx, title=title, skus=[{"title": "50g", "price_minor": 1000}])


def _checked_out(kernel) -> int:  # noqa: ANN001
    engine = kernel.db.inline_read_engine or kernel.db.read_engine.sync_engine
    return engine.pool.checkedout()


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_every_request_gives_its_connection_back_whatever_happened(kernel_factory, database) -> None:  # noqa: ANN001
    kernel = await kernel_factory(BRAND, database=database)
    await _product(kernel, "龙井")
    async with kernel.transaction() as tx:
        member_id = await kernel.service("members").create_member(tx, phone="13800000001", nickname="m")
    token = kernel.issue_token(Actor("member", member_id))
    app = create_app([kernel], run_worker=False)
    before = _checked_out(kernel)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        await _requests(app, token)
        gc.collect()
    # A session left open would be found by the garbage collector, not given back (SQLAlchemy
    # says so with a warning, and on PostgreSQL terminates the connection).
    assert not [w for w in caught if "non-checked-in" in str(w.message)]
    assert _checked_out(kernel) == before


async def _requests(app, token: str) -> None:  # noqa: ANN001
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        signed_in = {"authorization": f"Bearer {token}"}
        ok = await client.post("/graphql", json={"query": PAGE}, headers=signed_in)
        assert ok.status_code == 200 and ok.json()["data"]["products"]["edges"][0]["node"]["title"] == "龙井"
        # Refused before any operation ran: a malformed body, an unparsable document, a bad token.
        bad_body = await client.post("/graphql", content=b"{not json", headers={**signed_in, "content-type": "application/json"})
        assert bad_body.status_code == 400
        bad_doc = await client.post("/graphql", json={"query": "{ products("}, headers=signed_in)
        assert bad_doc.json()["errors"]
        bad_token = await client.post("/graphql", json={"query": PAGE}, headers={"authorization": "Bearer nope"})
        assert bad_token.status_code == 401
        # Many at once: none waits for another's connection.
        answers = await asyncio.gather(*(client.post("/graphql", json={"query": PAGE}, headers=signed_in) for _ in range(40)))
        assert all(a.status_code == 200 and "errors" not in a.json() for a in answers)


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_a_mutation_gives_the_read_session_back_before_it_writes(kernel_factory, database) -> None:  # noqa: ANN001
    from core.gql.context import Context

    kernel = await kernel_factory(BRAND, database=database)
    ctx = Context(kernel, Actor("member", 1))
    session = await ctx.session()
    await session.execute(text("SELECT 1"))  # the rights read opened it
    held_during_write: list[int] = []

    async def work(tx):  # noqa: ANN001, ANN202
        held_during_write.append(_checked_out(kernel) if kernel.db.inline_read_engine is not None else -1)
        assert ctx._session is None  # given back: the write is the request's only connection
        return {"ok": True}

    result, errors = await run_mutation(ctx, work)
    assert result == {"ok": True} and errors == []
    if kernel.db.inline_read_engine is not None:
        assert held_during_write == [0]
    await ctx.close()


async def test_sqlite_reads_run_inline_and_cannot_write(kernel_factory) -> None:  # noqa: ANN001
    kernel = await kernel_factory(BRAND)
    assert kernel.db.inline_read_engine is not None
    session = kernel.db.request_session()
    assert isinstance(session, InlineSession)
    try:
        assert (await session.execute(text("SELECT count(*) FROM catalog_product"))).scalar_one() == 0
        with pytest.raises(OperationalError, match="readonly"):
            await session.execute(text("INSERT INTO catalog_category (name, position) VALUES ('x', 0)"))
    finally:
        await session.close()
    # A write committed elsewhere is seen by the next request's session.
    await _product(kernel, "碧螺春")
    session = kernel.db.request_session()
    try:
        assert (await session.execute(text("SELECT title FROM catalog_product"))).scalar_one() == "碧螺春"
    finally:
        await session.close()


async def test_inline_reads_can_be_turned_off(kernel_factory, graphql, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("DOUGONG_SQLITE_INLINE_READS", "0")
    kernel = await kernel_factory(BRAND)
    assert kernel.db.inline_read_engine is None
    assert not isinstance(kernel.db.request_session(), InlineSession)
    await _product(kernel, "白茶")
    async with kernel.transaction() as tx:
        member_id = await kernel.service("members").create_member(tx, phone="13800000002", nickname="m")
    data = await graphql(kernel, Actor("member", member_id)).data(PAGE)
    assert data["products"]["edges"][0]["node"]["title"] == "白茶"
