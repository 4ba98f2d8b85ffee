"""core.keys_in: the same rows as ``IN`` on both databases, through the statement cache.

The statement is built anew for each call (as loaders do) with lists of different lengths,
so a cached compiled form must take each call's own keys: a mix-up would return the first
call's rows for the second."""

from __future__ import annotations

import pytest
from sqlalchemy import BigInteger, Column, MetaData, String, Table, insert, select
from sqlalchemy.ext.asyncio import create_async_engine

from core.keys_in import keys_in

META = MetaData()
THING = Table("keys_in_thing", META, Column("id", BigInteger, primary_key=True), Column("name", String(20)))


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_keys_in_matches_in_for_any_number_of_keys(database: str, request: pytest.FixtureRequest, tmp_path) -> None:  # noqa: ANN001
    url = request.getfixturevalue("postgres_url") if database == "postgresql" else f"sqlite+aiosqlite:///{tmp_path}/k.db"
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(META.create_all)
            await conn.execute(insert(THING), [{"id": n, "name": f"t{n}"} for n in range(1, 41)])
        async with engine.connect() as conn:
            for keys in ([3, 1, 2], [40], list(range(5, 35, 3)), [], [99, 7], {8, 9}):
                got = sorted((await conn.execute(select(THING.c.id, THING.c.name).where(keys_in(THING.c.id, keys)))).all())
                want = sorted((await conn.execute(select(THING.c.id, THING.c.name).where(THING.c.id.in_(list(keys))))).all())
                assert got == want and {r.id for r in got} == {k for k in keys if 1 <= k <= 40}
            if database == "postgresql":  # one array parameter: the count of keys does not change the text
                text = str(select(THING.c.id).where(keys_in(THING.c.id, [1, 2, 3])).compile(engine.sync_engine))
                assert "ANY" in text and text.count("%(") + text.count("$") <= 1, text
    finally:
        await engine.dispose()
