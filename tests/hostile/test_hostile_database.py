"""Issue 28: every database failure answers the same way on every path.

A pool with one connection, held by the test: a query on the fast path (core.gql.fast) and
the same query on graphql-core's path both answer KERNEL_DATABASE_UNAVAILABLE, with no
traceback in the log; and a statement stuck behind a lock past the brand's statement_timeout
answers the same instead of waiting.
"""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy import text

from core.gql.fast import FastQueries

SHOP = """\
dougong: 1
brand: {slug: dbfail, name: DB failures, currency: CNY, timezone: Asia/Shanghai}
storage: {statement_timeout: 1s}
components:
  catalog: {}
"""
PRODUCTS = "{ products(first: 5) { edges { node { id title skus { id } } } } }"


@pytest.fixture
def small_pool(monkeypatch):
    monkeypatch.setenv("DOUGONG_POOL_SIZE", "1")
    monkeypatch.setenv("DOUGONG_POOL_OVERFLOW", "0")
    monkeypatch.setenv("DOUGONG_POOL_TIMEOUT", "0.3")


def _assert_unavailable(body: dict) -> None:
    assert body.get("data") is None or body["data"].get("products") is None, body
    codes = [e.get("extensions", {}).get("code") for e in body["errors"]]
    assert codes and set(codes) == {"KERNEL_DATABASE_UNAVAILABLE"}, body


@pytest.mark.parametrize("fast", [True, False], ids=["fast-path", "graphql-core"])
async def test_an_exhausted_pool_is_unavailable_on_both_paths(kernel_factory, graphql, small_pool, monkeypatch, caplog, fast):
    monkeypatch.setattr(FastQueries, "enabled", fast)
    kernel = await kernel_factory(SHOP, database="postgresql")
    kernel.response_cache = None  # every request must reach the database
    async with kernel.transaction() as tx:
        await kernel.service("catalog").create_product(tx, title="Tea", skus=[{"title": "50g", "price_minor": 1000}])
    client = graphql(kernel)
    assert (await client.data(PRODUCTS))["products"]["edges"]  # the path works while a connection is free
    answered = FastQueries.answered
    caplog.clear()
    async with kernel.db.write_engine.connect() as held:  # the only connection, taken
        await held.execute(text("SELECT 1"))
        bodies = await asyncio.gather(*[client.execute(PRODUCTS) for _ in range(5)])
    for body in bodies:
        _assert_unavailable(body)
    assert FastQueries.answered == answered  # nothing answered from the fast path, and it did not crash
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert (await client.data(PRODUCTS))["products"]["edges"]  # and it recovers


async def test_a_statement_stuck_behind_a_lock_times_out_as_unavailable(kernel_factory, graphql, caplog):
    kernel = await kernel_factory(SHOP, database="postgresql")
    kernel.response_cache = None
    async with kernel.transaction() as tx:
        await kernel.service("catalog").create_product(tx, title="Tea", skus=[{"title": "50g", "price_minor": 1000}])
    client = graphql(kernel)
    async with kernel.db.write_engine.connect() as locker:
        # ACCESS EXCLUSIVE blocks even readers: the query waits for the lock until its timeout.
        await locker.execute(text("LOCK TABLE catalog_product IN ACCESS EXCLUSIVE MODE"))
        body = await client.execute(PRODUCTS)
        await locker.rollback()
    _assert_unavailable(body)
    assert not [r for r in caplog.records if r.exc_info]


async def test_sql_parameters_stay_out_of_the_logs(kernel_factory):
    kernel = await kernel_factory(SHOP, database="postgresql")
    with pytest.raises(Exception) as failed:
        async with kernel.db.read() as session:
            await session.execute(text("SELECT id FROM no_such_table WHERE phone = :phone"), {"phone": "13800000004"})
    # SQLAlchemy's message (what a log line carries) names the statement, not its values.
    assert "no_such_table" in str(failed.value) and "13800000004" not in str(failed.value)
