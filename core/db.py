"""Storage: one async SQLAlchemy database per kernel, SQLite by default, PostgreSQL by URL.

SQLite allows one writer at a time. Rather than letting concurrent writers spin in SQLite's
busy handler (slow, and deferred transactions that later upgrade to writers can fail outright),
write transactions on SQLite start with ``BEGIN IMMEDIATE`` and are queued in-process behind an
``asyncio.Lock``. Reads use a second engine with deferred transactions (WAL: readers never
block the writer). On PostgreSQL both are one engine, and races are settled by conditional
updates and row locks in the services.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from pathlib import Path
from typing import Any, AsyncIterator

from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Session

from core import fast_json, inline_reads

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# One metadata for every component's tables, so a component can point a foreign key at a
# dependency's table by name. Each kernel creates only the tables its components claimed.
metadata = MetaData(naming_convention=NAMING_CONVENTION)


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means the database could not be reached (stopped, restarting, network
    gone, pool exhausted) rather than a bug. Such failures get a typed, retryable error for the
    client instead of "internal error": the request may simply be tried again.

    The cause chain is walked because the driver's error arrives wrapped: a dead pooled
    connection found by ``pool_pre_ping`` is replaced, and the reconnect's
    ``ConnectionRefusedError`` surfaces bare or inside SQLAlchemy's ``DBAPIError``.
    """
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (ConnectionError, TimeoutError, PoolTimeout)):
            return True
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        # asyncpg's "server is shutting down / starting up / connection lost" family.
        if type(current).__module__.startswith("asyncpg") and type(current).__name__ in _ASYNCPG_UNAVAILABLE:
            return True
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return False


_ASYNCPG_UNAVAILABLE = {
    "CannotConnectNowError",
    "ConnectionDoesNotExistError",
    "ConnectionFailureError",
    "AdminShutdownError",
    "CrashShutdownError",
    "ClientCannotConnectError",
    "ConnectionRejectionError",
    # statement_timeout: the statement waited (on a lock, a busy server) past the brand's limit
    "QueryCanceledError",
}


class Base(DeclarativeBase):
    metadata = metadata


def _pool_timeout() -> float:
    """Seconds a request waits for a pooled connection (both databases), then KERNEL_BUSY."""
    return float(os.environ.get("DOUGONG_POOL_TIMEOUT", "30"))


def _sqlite_connections(sync_engine: Any, begin: str, pragmas: tuple[str, ...]) -> None:
    """Every connection of ``sync_engine``: transaction control taken away from the driver, so
    that BEGIN is ours to choose (``begin``: deferred for reads, IMMEDIATE for writes), then
    each of ``pragmas``."""

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection, _record):  # noqa: ANN001
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in pragmas:
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection):  # noqa: ANN001
        connection.exec_driver_sql(begin)


class Database:
    def __init__(self, url: str, *, echo: bool = False, statement_timeout: float | None = None) -> None:
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.is_postgresql = self.url.get_backend_name() == "postgresql"
        self.statements = 0  # SQL statements executed; tests read it to prove "no N+1"
        # Committed write transactions, bumped once each COMMIT has returned (see _count_commits):
        # the response cache serves an answer only while this is what it was when computed.
        self.generation = 0
        self._watch: Any = None  # the connection change_counter() reads (SQLite)
        if self.is_sqlite:
            database = self.url.database or ""
            if database in ("", ":memory:"):
                raise ValueError("dougong needs a file for SQLite (two engines share it); use sqlite+aiosqlite:///path.db")
            Path(database).parent.mkdir(parents=True, exist_ok=True)
            self.write_engine = self._sqlite_engine(begin="BEGIN IMMEDIATE", echo=echo)
            self.read_engine = self._sqlite_engine(begin="BEGIN", echo=echo)
            self._write_lock: asyncio.Lock | None = asyncio.Lock()
            # A request's reads run on the loop's thread (core.inline_reads: why, and its limits).
            self.inline_read_engine = self._inline_read_engine(database, echo=echo) if inline_reads.enabled() else None
        else:
            # Connections per process: pool size + overflow. A request waits up to the pool
            # timeout for one; mutations that wait longer answer KERNEL_BUSY (nothing written).
            # hide_parameters: a failing statement's log line must not carry a member's phone.
            server_settings = {"statement_timeout": str(int(statement_timeout * 1000))} if statement_timeout else {}
            self.write_engine = create_async_engine(
                url,
                echo=echo,
                hide_parameters=True,
                json_deserializer=fast_json.loads,
                connect_args={"server_settings": server_settings},
                pool_size=int(os.environ.get("DOUGONG_POOL_SIZE", "10")),
                max_overflow=int(os.environ.get("DOUGONG_POOL_OVERFLOW", "20")),
                pool_timeout=_pool_timeout(),
                pool_pre_ping=True,
            )
            self.read_engine = self.write_engine
            self._write_lock = None
            self.inline_read_engine = None
        for engine in {self.write_engine, self.read_engine}:
            event.listen(engine.sync_engine, "before_cursor_execute", self._count)
        if self.inline_read_engine is not None:
            event.listen(self.inline_read_engine, "before_cursor_execute", self._count)
        self._count_commits(self.write_engine)
        self.write_sessions = async_sessionmaker(self.write_engine, expire_on_commit=False)
        self.read_sessions = async_sessionmaker(self.read_engine, expire_on_commit=False)

    def _sqlite_engine(self, *, begin: str, echo: bool) -> AsyncEngine:
        engine = create_async_engine(
            self.url,
            echo=echo,
            hide_parameters=True,
            json_deserializer=fast_json.loads,
            connect_args={"timeout": 30},
            pool_size=8,
            max_overflow=16,
            # The same wait as PostgreSQL's pool: a crowd larger than the pool queues this long,
            # then is answered KERNEL_BUSY (it was SQLAlchemy's fixed 30 s here).
            pool_timeout=_pool_timeout(),
        )

        _sqlite_connections(engine.sync_engine, begin, ("journal_mode=WAL", "busy_timeout=30000", "foreign_keys=ON", "synchronous=NORMAL"))
        return engine

    def _inline_read_engine(self, database: str, *, echo: bool) -> Engine:
        """The synchronous engine of a request's reads on SQLite (``core.inline_reads``: why,
        and why query-only, a short busy timeout and a pool that never blocks)."""
        busy_ms = inline_reads.BUSY_TIMEOUT_MS
        engine = create_engine(
            f"sqlite:///{database}",
            echo=echo,
            hide_parameters=True,
            json_deserializer=fast_json.loads,
            connect_args={"check_same_thread": False, "timeout": busy_ms / 1000},
            pool_size=8,
            max_overflow=-1,  # never wait for a connection on the loop's thread
        )
        _sqlite_connections(engine, "BEGIN", (f"busy_timeout={busy_ms}", "foreign_keys=ON", "query_only=ON"))
        return engine

    def _count(self, *_args) -> None:  # noqa: ANN002
        self.statements += 1

    def _count_commits(self, engine: AsyncEngine) -> None:
        """Bump :attr:`generation` once per COMMIT on ``engine``, right after the database
        has taken it — every write counts: a service's transaction, a raw session, a job's.

        Why after and only after (issue 26; it was bumped both before and after, and every
        write then cost the response cache two recomputations in a row). The cache keeps an
        answer under the generation read when its request *started*, and serves it only
        while the generation is unchanged (``core.gql.response_cache``). Take a request R
        and a COMMIT C:

        - R reads the generation before C returned: it sees g. Whatever it then reads, old
          rows or new, is stored under g, and C's bump to g+1 ends it before any request
          that starts after C returned is served.
        - R reads the generation after C returned: it sees g+1, and every statement R runs
          starts after C was durable and visible (SQLite WAL: a read transaction begins at
          its first statement; PostgreSQL read committed: each statement's snapshot), so R
          sees the write. An answer under g+1 is never a pre-write answer.

        A bump *before* the COMMIT added nothing to exactness (an answer computed while the
        COMMIT ran is stored under g and still ended by the bump after it) and cost one more
        recomputation. The bump also happens when the COMMIT fails: the outcome is then
        unknown, and one needless recomputation is the safe side.

        SQLAlchemy's ``commit`` event fires *before* the COMMIT is sent, and there is no
        event after it, hence the wrapped ``do_commit``: with the async drivers it returns
        on the event loop's thread once the driver's COMMIT has completed.
        """
        dialect = engine.sync_engine.dialect
        commit = dialect.do_commit

        def do_commit(dbapi_connection: Any) -> None:
            try:
                commit(dbapi_connection)
            finally:
                self.generation += 1

        dialect.do_commit = do_commit  # type: ignore[method-assign]

    @contextlib.asynccontextmanager
    async def write_slot(self) -> AsyncIterator[None]:
        """Hold SQLite's single writer slot (no-op on PostgreSQL)."""
        if self._write_lock is None:
            yield
            return
        async with self._write_lock:
            yield

    def request_session(self) -> Any:
        """A session for one request's reads: inline on SQLite (``core.inline_reads``), else
        an ``AsyncSession`` on the read engine. The caller closes it."""
        if self.inline_read_engine is not None:
            return inline_reads.InlineSession(Session(self.inline_read_engine, expire_on_commit=False))
        return self.read_sessions()

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self.read_sessions() as session:
            yield session

    async def create_tables(self, tables: list) -> None:
        """Create the given tables where missing. Tables may live on other MetaData objects
        (a third-party component may keep its own), so each group is created by its own."""
        groups: dict[int, tuple[MetaData, list]] = {}
        for table in tables:
            groups.setdefault(id(table.metadata), (table.metadata, []))[1].append(table)
        async with self.write_slot():
            async with self.write_engine.begin() as conn:
                for md, group in groups.values():
                    await conn.run_sync(md.create_all, tables=group)

    @contextlib.asynccontextmanager
    async def exclusive(self, name: str) -> AsyncIterator[None]:
        """Run a block in one process at a time, across every process on this database.

        For boot-time work that checks then creates (migrations, recurring timer rows): with
        ``serve --workers N`` every worker boots at once. PostgreSQL: a session advisory lock
        on a connection of its own, outside the pool (the block needs pool connections).
        SQLite: nothing to do, its write transactions (``BEGIN IMMEDIATE``) already queue
        across processes.
        """
        if not self.is_postgresql:
            yield
            return
        from sqlalchemy import text
        from sqlalchemy.pool import NullPool

        key = int.from_bytes(hashlib.sha256(f"dougong:{name}".encode()).digest()[:8], "big", signed=True)
        engine = create_async_engine(self.url, poolclass=NullPool)
        try:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
                await conn.commit()
                try:
                    yield
                finally:
                    await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                    await conn.commit()
        finally:
            await engine.dispose()

    def change_counter(self) -> int | None:
        """A number that changes whenever any connection — of this process or another — has
        committed to the SQLite file since it was last read (``PRAGMA data_version`` on a
        connection of its own that never writes); None on PostgreSQL, which has no such thing.

        Synchronous and cheap (no pool, no thread hop): a value remembered with something read
        in a write transaction says, while it is unchanged, that what was read still holds."""
        if not self.is_sqlite:
            return None
        if self._watch is None:
            import sqlite3

            self._watch = sqlite3.connect(self.url.database or "", check_same_thread=False, isolation_level=None)
        return int(self._watch.execute("PRAGMA data_version").fetchone()[0])

    async def ping(self) -> None:
        from sqlalchemy import text

        async with self.read_engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        if self._watch is not None:
            self._watch.close()
            self._watch = None
        await self.write_engine.dispose()
        if self.inline_read_engine is not None:
            self.inline_read_engine.dispose()
        if self.read_engine is not self.write_engine:
            await self.read_engine.dispose()
