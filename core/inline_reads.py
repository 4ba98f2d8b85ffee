"""SQLite reads run on the event loop's own thread, with the standard ``sqlite3`` driver.

Why (issue 26, the executing path): through aiosqlite every statement is handed to the
driver's thread and its answer handed back (a queue, a self-pipe wake-up, a greenlet switch
and the GIL passed twice). A storefront page made ~38 such round trips for 7 statements; the
hand-off, not SQLite, was most of what its reads cost. A read in WAL mode never waits for a
lock (readers see the last committed snapshot; only the writer queues), and the pages a
request reads are in SQLite's cache, so running the statement where the request already is
costs less than handing it over.

What stays as it was: writes (``Kernel.transaction``, the write engine with ``BEGIN
IMMEDIATE`` and the in-process writer slot) and ``Database.read()`` (jobs, previews, streams)
keep aiosqlite; PostgreSQL is unchanged (asyncpg has no thread to hand over to). Only a
request's context session — the reads of a GraphQL operation — and the caller's rights read
come here. ``DOUGONG_SQLITE_INLINE_READS=0`` turns it off.

Safety (the engine is ``Database._inline_read_engine``): the connections are opened ``PRAGMA query_only`` (a write attempted through a read
session fails at once, loudly, instead of taking the file's write lock on the loop's thread),
with a short busy timeout (a reader only ever waits while SQLite recovers a WAL after a
crash), and the pool never blocks (overflow unbounded): a request waiting on the loop's
thread for a connection only another request on the same loop could return would wait
forever.
"""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy.orm import Session


def enabled() -> bool:
    return os.environ.get("DOUGONG_SQLITE_INLINE_READS", "1") != "0"


BUSY_TIMEOUT_MS = 2000  # the read engine's (``Database._inline_read_engine``)


class InlineSession:
    """An ``AsyncSession`` in all a read needs (``execute``, ``scalar``, ``scalars``, ``get``,
    ``refresh``, ``close`` are awaitable and return what the async session returns), backed by
    a synchronous session: each call has finished when it returns.

    Because every call completes before the next can start, concurrently resolved fields
    need no lock around it (the aiosqlite session needs ``SerialSession``)."""

    __slots__ = ("_session",)

    def __init__(self, session: Session) -> None:
        self._session = session

    async def execute(self, statement: Any, params: Any = None, **kwargs: Any) -> Any:
        return self._session.execute(statement, params, **kwargs)

    async def scalar(self, statement: Any, params: Any = None, **kwargs: Any) -> Any:
        return self._session.scalar(statement, params, **kwargs)

    async def scalars(self, statement: Any, params: Any = None, **kwargs: Any) -> Any:
        return self._session.scalars(statement, params, **kwargs)

    async def get(self, entity: Any, ident: Any, **kwargs: Any) -> Any:
        return self._session.get(entity, ident, **kwargs)

    async def refresh(self, instance: Any, attribute_names: Any = None, **kwargs: Any) -> None:
        self._session.refresh(instance, attribute_names, **kwargs)

    async def close(self) -> None:
        self._session.close()

    def __getattr__(self, name: str) -> Any:
        # Synchronous helpers (expunge, in_transaction, info, ...) pass through; anything that
        # would write fails on the connection's query_only.
        return getattr(self._session, name)
