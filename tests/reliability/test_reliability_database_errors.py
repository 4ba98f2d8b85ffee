"""Which failures count as "the database is unavailable" (a retryable, typed error) and which
stay "internal error" (a bug to look at). Runs without PostgreSQL, unlike the outage test."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from core.db import database_unavailable


def wrapped(outer: BaseException, inner: BaseException) -> BaseException:
    try:
        try:
            raise inner
        except BaseException as exc:
            raise outer from exc
    except BaseException as exc:
        return exc


class CannotConnectNowError(Exception):
    """Stands in for asyncpg's (matched by module and name, so asyncpg need not be imported)."""


CannotConnectNowError.__module__ = "asyncpg.exceptions"


@pytest.mark.parametrize("error", [
    ConnectionRefusedError(111, "Connect call failed"),
    ConnectionResetError(),
    asyncio.TimeoutError(),
    PoolTimeout("QueuePool limit reached"),
    DBAPIError("SELECT 1", {}, Exception("gone"), connection_invalidated=True),
    wrapped(RuntimeError("while handling the request"), ConnectionRefusedError(111, "refused")),
    CannotConnectNowError("the database system is starting up"),
])
def test_outages_are_recognised(error):
    assert database_unavailable(error)


@pytest.mark.parametrize("error", [
    ValueError("a bug"),
    KeyError("a bug"),
    OperationalError("SELECT * FROM missing", {}, sqlite3.OperationalError("no such table: missing")),
    ProgrammingError("SELEC 1", {}, Exception("syntax error")),
    DBAPIError("UPDATE x", {}, Exception("constraint"), connection_invalidated=False),
])
def test_bugs_stay_internal(error):
    assert not database_unavailable(error)
