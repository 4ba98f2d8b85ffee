"""Time, as every component must read it: timezone-aware UTC, movable in tests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone


class Clock:
    """The wall clock. Components call ``kernel.clock.now()``, never ``datetime.now()``,
    so tests can move time past a deadline and see timers fire."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class MovableClock(Clock):
    """A clock that only moves when told to. Starts at a fixed instant unless given one."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 5, 2, 0, tzinfo=timezone.utc)
        if self._now.tzinfo is None:
            raise ValueError("MovableClock needs a timezone-aware start")

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        self._now += delta if delta is not None else timedelta(**kwargs)
        return self._now

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("set() needs a timezone-aware datetime")
        self._now = when


def as_utc(value: datetime) -> datetime:
    """SQLite gives back naive datetimes; stored values are UTC by convention."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)
