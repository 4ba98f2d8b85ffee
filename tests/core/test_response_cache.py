"""The response cache for anonymous queries: served again only while nothing changed.

Every test counts SQL statements to tell a cached answer (no statement) from an executed
one, and checks the answer's content, so a cache that served stale data would fail.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from components.catalog.models import Sku
from components.inventory.models import Stock
from core.gql.relay import to_global_id
from core.gql.response_cache import ResponseCache
from core.testing import member, staff

SHOP = """\
dougong: 1
brand: {slug: shop, name: Shop, currency: CNY, timezone: Asia/Shanghai}
components:
  inventory: {}
"""

PAGE = "{ products(first: 10) { edges { node { id title skus { id price { amountMinor } stock } } } } }"


async def shop(kernel_factory, database: str = "sqlite"):
    kernel = await kernel_factory(SHOP, database=database)
    async with kernel.transaction() as tx:
        product = await kernel.service("catalog").create_product(tx, title="Longjing", skus=[{"title": "50g", "price_minor": 9900}])
        sku = (await tx.session.scalars(select(Sku.id).where(Sku.product_id == product))).one()
        await kernel.service("inventory").set_stock(tx, sku, 5)
    return kernel, sku


def first_sku(data: dict) -> dict:
    return data["products"]["edges"][0]["node"]["skus"][0]


async def timed(kernel, client, doc: str = PAGE, **variables) -> tuple[dict, int]:
    before = kernel.db.statements
    body = await client.execute(doc, **variables)
    return body, kernel.db.statements - before


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_a_price_change_is_visible_on_the_very_next_request(kernel_factory, graphql, database):
    kernel, sku = await shop(kernel_factory, database)
    shopper, admin = graphql(kernel), graphql(kernel, staff(1, "admin"))
    first, executed = await timed(kernel, shopper)
    again, cached = await timed(kernel, shopper)
    assert executed > 0 and cached == 0, "the second anonymous request should be served from the cache"
    assert again == first and first_sku(first["data"])["price"]["amountMinor"] == 9900
    payload = await admin.mutate(
        'mutation($id: ID!) { updateSku(input: {id: $id, price: {amountMinor: 8800, currency: "CNY"}}) { userErrors { code } } }',
        id=to_global_id("Sku", sku),
    )
    assert payload["userErrors"] == []
    after, statements = await timed(kernel, shopper)
    assert statements > 0 and first_sku(after["data"])["price"]["amountMinor"] == 8800


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_a_stock_change_is_visible_on_the_very_next_request(kernel_factory, graphql, database):
    kernel, sku = await shop(kernel_factory, database)
    shopper = graphql(kernel)
    await timed(kernel, shopper)
    assert first_sku((await timed(kernel, shopper))[0]["data"])["stock"] == 5
    # A reservation (an order being placed) changes what is available, through the service...
    async with kernel.transaction() as tx:
        await kernel.service("inventory").reserve(tx, sku, 2, reason="order", ref="o-1")
    assert first_sku((await timed(kernel, shopper))[0]["data"])["stock"] == 3
    assert first_sku((await timed(kernel, shopper))[0]["data"])["stock"] == 3
    # ...and so does a plain write on the write engine that bypasses every service.
    async with kernel.db.write_sessions() as session:
        async with session.begin():
            await session.execute(update(Stock).where(Stock.sku_id == sku).values(on_hand=50))
    assert first_sku((await timed(kernel, shopper))[0]["data"])["stock"] == 48


async def test_signed_in_callers_errors_and_mutations_are_never_cached(kernel_factory, graphql):
    kernel, sku = await shop(kernel_factory)
    for client in (graphql(kernel, member(1)), graphql(kernel, staff(2, "admin"))):
        for _ in range(2):
            assert (await timed(kernel, client))[1] > 0
    shopper = graphql(kernel)
    bad = '{ product(id: "not-an-id") { id } }'
    for _ in range(2):
        body, statements = await timed(kernel, shopper, bad)
        assert body["errors"][0]["extensions"]["code"] == "KERNEL_INVALID_ID"
    assert len(kernel.response_cache) == 0
    # An anonymous mutation is refused each time, never answered from a cache.
    mutation = 'mutation { createCategory(input: {name: "x"}) { userErrors { code } category { id } } }'
    for _ in range(2):
        body = await shopper.execute(mutation)
        assert body["data"]["createCategory"]["userErrors"][0]["code"] == "KERNEL_UNAUTHENTICATED"
    assert len(kernel.response_cache) == 0


async def test_a_bad_token_is_still_refused_after_the_query_was_cached(kernel_factory, graphql):
    kernel, _ = await shop(kernel_factory)
    await graphql(kernel).execute(PAGE)
    assert len(kernel.response_cache) == 1
    from httpx import ASGITransport, AsyncClient

    from core.app import create_app

    async with AsyncClient(transport=ASGITransport(app=create_app([kernel], run_worker=False)), base_url="http://t") as http:
        response = await http.post("/graphql", json={"query": PAGE}, headers={"authorization": "Bearer forged"})
    assert response.status_code == 401


async def test_entries_expire_with_time(kernel_factory, graphql, clock):
    kernel, _ = await shop(kernel_factory)
    shopper = graphql(kernel)
    await timed(kernel, shopper)
    assert (await timed(kernel, shopper))[1] == 0
    clock.advance(timedelta(seconds=kernel.response_cache.ttl))
    assert (await timed(kernel, shopper))[1] > 0


def test_an_answer_computed_across_a_commit_is_not_kept():
    generation = [0]
    noon = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)
    cache = ResponseCache(lambda: generation[0], lambda: noon, ttl=60)
    started = generation[0]
    generation[0] += 1  # a write committed while the answer was being computed
    cache.put(b"k", b"old", started, noon, time.monotonic())
    assert cache.get(b"k") is None
    cache.put(b"k", b"new", generation[0], noon, time.monotonic())
    assert cache.get(b"k") == b"new"
    generation[0] += 1
    assert cache.get(b"k") is None and len(cache) == 0


def test_the_cache_can_be_switched_off_and_is_off_when_scaled_out(monkeypatch, tmp_path):
    from core.kernel import Kernel

    def kernel(**kwargs):
        return Kernel.from_text(SHOP, database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", **kwargs)

    assert kernel().response_cache is not None
    assert kernel(redis_url="redis://127.0.0.1:1/0").response_cache is None
    monkeypatch.setenv("DOUGONG_RESPONSE_CACHE", "1")
    assert kernel(redis_url="redis://127.0.0.1:1/0").response_cache is not None
    monkeypatch.setenv("DOUGONG_RESPONSE_CACHE", "0")
    assert kernel().response_cache is None


async def test_concurrent_misses_share_one_execution(kernel_factory, graphql):
    """Ten shoppers asking for the same expired page in the same instant cost one execution
    (single flight), and all get the same, fresh answer."""
    import asyncio

    kernel, _ = await shop(kernel_factory)
    shopper = graphql(kernel)
    alone, one_execution = await timed(kernel, shopper)
    kernel.response_cache.clear()
    before = kernel.db.statements
    bodies = await asyncio.gather(*(shopper.execute(PAGE) for _ in range(10)))
    assert kernel.db.statements - before == one_execution, "the ten misses should have shared one execution"
    assert all(body == alone for body in bodies)
    assert kernel.response_cache.shared == 9


async def test_a_request_after_a_write_never_joins_an_older_flight(kernel_factory, graphql):
    """A flight started before a commit is not shared with requests that arrive after it: they
    execute and see the write (the exactness the cache promised before single flight)."""
    kernel, sku = await shop(kernel_factory)
    shopper, cache = graphql(kernel), kernel.response_cache
    before_write, _ = await timed(kernel, shopper)
    (key,) = list(cache._entries)
    older = cache.generation()
    pending = cache.take_off(key, older)  # a request of this very page is executing since then
    async with kernel.transaction() as tx:
        await tx.session.execute(update(Stock).where(Stock.sku_id == sku).values(on_hand=1))
    assert cache.flight(key, cache.generation()) is None, "a flight of an older generation must not be joined"
    after, executed = await timed(kernel, shopper)
    assert executed > 0 and first_sku(after["data"])["stock"] == 1 and first_sku(before_write["data"])["stock"] == 5
    cache.land(key, older, pending, None)
    assert pending.result() is None


async def test_an_answer_expired_by_time_is_served_while_one_request_recomputes_it(kernel_factory, graphql, clock):
    kernel, sku = await shop(kernel_factory)
    shopper = graphql(kernel)
    first, _ = await timed(kernel, shopper)
    clock.advance(timedelta(seconds=kernel.response_cache.ttl))
    cache = kernel.response_cache
    (key,) = list(cache._entries)
    flight = cache.take_off(key, cache.generation())  # one request is recomputing it
    stale, executed = await timed(kernel, shopper)
    assert executed == 0 and stale == first and cache.stale_served == 1
    cache.land(key, cache.generation(), flight, None)
    # two TTLs old: no longer served even while recomputed, and after a write never
    clock.advance(timedelta(seconds=kernel.response_cache.ttl))
    assert cache.stale(key) is None
    fresh, executed = await timed(kernel, shopper)
    assert executed > 0
    async with kernel.transaction() as tx:
        await tx.session.execute(update(Stock).where(Stock.sku_id == sku).values(on_hand=2))
    clock.advance(timedelta(seconds=kernel.response_cache.ttl))
    assert cache.stale(key) is None, "a write ends every stale answer"


async def test_a_failed_flight_lets_its_waiters_execute_for_themselves():
    import asyncio

    generation = [0]
    noon = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)
    cache = ResponseCache(lambda: generation[0], lambda: noon, ttl=60)
    leader = cache.take_off(b"k", 0)
    assert leader is not None and cache.take_off(b"k", 0) is None, "one flight per request and generation"
    waiter = asyncio.ensure_future(asyncio.shield(cache.flight(b"k", 0)))
    await asyncio.sleep(0)
    cache.land(b"k", 0, leader, None)  # the leader's answer had errors: nothing to share
    assert await waiter is None and cache.flight(b"k", 0) is None


async def test_a_hit_answered_before_routing_is_the_routers_answer_byte_for_byte(kernel_factory):
    """core.gql.cached_route answers hits ahead of FastAPI: same status, body and headers as
    the router's answer (security headers included), no SQL; anything it does not handle
    (a token, another path, a body that is not JSON) goes on to the routes as before."""
    from httpx import ASGITransport, AsyncClient

    from core.app import create_app

    kernel, _ = await shop(kernel_factory)
    cache = kernel.response_cache
    async with AsyncClient(transport=ASGITransport(app=create_app([kernel], run_worker=False)), base_url="http://t") as http:
        first = await http.post("/graphql", json={"query": PAGE})
        hits, before = cache.hits, kernel.db.statements
        again = await http.post("/graphql", json={"query": PAGE})
        assert (cache.hits - hits, kernel.db.statements - before) == (1, 0)
        assert again.status_code == first.status_code == 200 and again.content == first.content
        assert {k: v for k, v in again.headers.items() if k != "date"} == {k: v for k, v in first.headers.items() if k != "date"}
        branded = await http.post(f"/brands/{kernel.blueprint.brand.slug}/graphql", json={"query": PAGE})
        assert branded.json() == first.json()
        assert (await http.post("/graphql", json={"query": PAGE}, headers={"authorization": "Bearer forged"})).status_code == 401
        text = await http.post("/graphql", content=PAGE, headers={"content-type": "text/plain"})
        assert text.status_code != 200 or text.json() != first.json()


def test_a_stale_answer_lasts_while_a_recomputation_that_took_off_in_time_runs():
    """On a loaded SQLite one recomputation took about a TTL; the stale window closed while
    it ran and every other request waited for it. A flight that took off while the entry was
    still servable keeps it servable until it lands — never after a write, never past
    STALE_CAP TTLs."""
    from core.gql import response_cache

    generation, now = [0], [datetime(2026, 12, 1, 12, tzinfo=timezone.utc)]
    cache = ResponseCache(lambda: generation[0], lambda: now[0], ttl=60)

    def at(seconds: float) -> None:
        now[0] = datetime(2026, 12, 1, 12, tzinfo=timezone.utc) + timedelta(seconds=seconds)

    async def scenario() -> None:
        cache.put(b"k", b"old", 0, now[0], time.monotonic())
        at(90)  # expired by time alone
        assert cache.lookup(b"k") is None, "no stale answer unless someone recomputes it"
        flight = cache.take_off(b"k", 0)
        assert cache.lookup(b"k") == b"old"
        at(150)  # two TTLs old, but the recomputation took off in time
        assert cache.lookup(b"k") == b"old" and cache.get(b"k") is None and cache.stale(b"k") == b"old"
        at(60 * response_cache.STALE_CAP)
        assert cache.stale(b"k") is None, "never older than STALE_CAP TTLs"
        at(150)
        generation[0] = 1  # a write: nothing older is served, flight or not
        assert cache.lookup(b"k") is None and cache.stale(b"k") is None
        generation[0] = 0
        cache.land(b"k", 0, flight, None)
        assert cache.stale(b"k") is None, "landed: the window is two TTLs again"
        late = cache.take_off(b"k", 0)  # took off when the entry was already too old
        assert cache.lookup(b"k") is None
        cache.land(b"k", 0, late, None)

    import asyncio

    asyncio.run(scenario())


def _pause_commits(monkeypatch, database: str, pauses: list):
    """Make the driver's COMMIT stop twice, before it is sent and once the database has taken
    it (before the driver returns): at each stop it awaits the next coroutine of ``pauses``."""
    from sqlalchemy.util import await_only

    if database == "sqlite":
        from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_connection as adapter
    else:
        from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection as adapter
    real = adapter.commit

    def commit(self) -> None:  # noqa: ANN001
        if not pauses:
            return real(self)
        await_only(pauses.pop(0)())
        real(self)
        await_only(pauses.pop(0)())

    monkeypatch.setattr(adapter, "commit", commit)


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_reads_interleaved_with_a_commit_are_never_kept_as_after_it(kernel_factory, graphql, database, monkeypatch):
    """Issue 26: the generation moves once per write, after the COMMIT has returned. Requests
    that execute while the COMMIT is on its way (old rows) or taken but not yet returned (new
    rows) are kept under the old generation, which that one bump ends: the first request
    after the write executes and sees it; its answer is then served to the next."""
    kernel, sku = await shop(kernel_factory, database)
    shopper, cache = graphql(kernel), kernel.response_cache
    page_a = PAGE.replace("first: 10", "first: 9")
    page_b = PAGE.replace("first: 10", "first: 8")
    await timed(kernel, shopper)  # PAGE cached before the write
    before = cache.generation()
    seen: dict[str, tuple[int, int, int]] = {}

    async def read(name: str, doc: str) -> None:
        body, statements = await timed(kernel, shopper, doc)
        seen[name] = (first_sku(body["data"])["stock"], statements, cache.generation())

    async def on_its_way() -> None:
        await read("page before the commit is sent", PAGE)
        await read("page_a while the commit is on its way", page_a)

    async def taken() -> None:
        await read("page_b once the database took the commit", page_b)

    _pause_commits(monkeypatch, database, [on_its_way, taken])
    async with kernel.transaction() as tx:
        await tx.session.execute(update(Stock).where(Stock.sku_id == sku).values(on_hand=1))
    assert seen == {
        "page before the commit is sent": (5, 0, before),  # the cached answer still stands
        "page_a while the commit is on its way": (5, seen["page_a while the commit is on its way"][1], before),
        "page_b once the database took the commit": (1, seen["page_b once the database took the commit"][1], before),
    }
    assert seen["page_a while the commit is on its way"][1] > 0 and seen["page_b once the database took the commit"][1] > 0
    assert cache.generation() == before + 1, "one write, one bump: one recomputation per page"
    for doc in (PAGE, page_a, page_b):
        after, executed = await timed(kernel, shopper, doc)
        assert executed > 0 and first_sku(after["data"])["stock"] == 1, "an answer kept during the commit was served after it"
        again, cached = await timed(kernel, shopper, doc)
        assert cached == 0 and again == after


async def test_every_commit_moves_the_generation_once_even_one_that_fails(tmp_path, monkeypatch):
    """Raw connections count as well as a service's transaction, and a COMMIT whose outcome is
    unknown (the driver raised) still ends what the cache holds: one needless recomputation is
    the safe side."""
    import sqlite3

    from sqlalchemy import text
    from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_connection

    from core.db import Database

    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'g.db'}")
    try:
        async with db.write_engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (n INTEGER)"))
        assert db.generation == 1
        async with db.read() as session:
            await session.execute(text("SELECT 1"))
            await session.commit()  # a read transaction on the read engine is no write
        assert db.generation == 1

        def refused(self) -> None:  # noqa: ANN001
            raise sqlite3.OperationalError("disk I/O error")

        monkeypatch.setattr(AsyncAdapt_aiosqlite_connection, "commit", refused)
        with pytest.raises(Exception, match="disk I/O error"):
            async with db.write_engine.begin() as conn:
                await conn.execute(text("INSERT INTO t VALUES (1)"))
        assert db.generation == 2
    finally:
        await db.dispose()
