"""A cache of whole responses to anonymous GraphQL queries (the storefront's hot path).

Anonymous shoppers browsing the catalog all get the same bytes for the same request, so
the response is kept and served again — until the database changes. Freshness rests on a
*generation*: the kernel's :class:`core.db.Database` counts committed write transactions,
and an entry is served only while the generation is the one seen when its request
*started*. A request that raced a commit therefore stores an entry that is already stale
and never served; the first request after a price or stock change executes again. The
generation moves once per write, when the COMMIT has returned (the ordering argument is in
:meth:`core.db.Database._count_commits`): requests that arrive while a COMMIT is on its way
are still answered from the entry before it — the write is not committed yet, so that answer
is exact — and every request after it joins one recomputation (single flight, below). It
used to move also as the COMMIT began, which made each write cost two recomputations in a row.

Only these are cached: POST with a JSON body, no ``Authorization`` header (anonymous: the
actor cannot change the answer), a query operation (never a mutation or subscription), a
200 response without errors. Entries also expire after ``ttl`` seconds of real time or of
the kernel's clock, which bounds what a generation cannot see: answers that change with time
alone (an offer that ends) and writes made by another process. With Redis configured (the
scale-out setup: several processes share one database) the cache is off unless
``DOUGONG_RESPONSE_CACHE=1`` asks for it.

The tail: when an entry goes out of date, many shoppers ask for it in the same instant. Two
rules keep them from all executing the page at once (which made the 16-connection p99 ten
times a single execution):

- *single flight*: concurrent misses for the same request at the same generation wait for
  the one execution already running (:meth:`ResponseCache.flight`) and share its bytes. A
  request joins only a flight that started at the generation it saw itself, so the answer
  it gets is never older than the last write committed before it arrived.
- *stale while revalidating, for time only*: an entry expired by its TTL while the generation
  is unchanged (nothing was written in this process) is still served, for up to one more
  TTL, to the requests that arrive while one request recomputes it. A write always wins:
  after a commit no request is answered from an older generation. If the recomputation
  took off within that window, the entry stays servable until it lands (at most
  ``STALE_CAP`` TTLs old): on SQLite under load one recomputation took about a second, the
  window closed while it ran, and every other connection then waited for it — the cached
  path's p99 of 0.4–0.7 s (issue 26; ``bench/profiles/``).

Hits (fresh, or stale while a recomputation runs) are answered by :mod:`core.gql.cached_route`
before FastAPI routes the request; everything else by ``DougongRouter._run`` in core/app.py.

Settings (environment): ``DOUGONG_RESPONSE_CACHE`` (``0``/``1``), ``DOUGONG_RESPONSE_CACHE_TTL``
(seconds, default 1), ``DOUGONG_RESPONSE_CACHE_SIZE`` (entries, default 256).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:  # pragma: no cover
    from core.kernel import Kernel

DEFAULT_TTL = 1.0
DEFAULT_SIZE = 256
MAX_KEY_BYTES = 64 * 1024  # a bigger body is not a storefront query: not worth keeping
STALE_CAP = 10  # TTLs: the oldest answer served while a recomputation that took off in time runs


@dataclass(frozen=True)
class Entry:
    body: bytes
    generation: int
    stored_monotonic: float
    stored_clock: datetime


class ResponseCache:
    def __init__(self, generation: Callable[[], int], now: Callable[[], datetime], *, ttl: float = DEFAULT_TTL, maxsize: int = DEFAULT_SIZE) -> None:
        self._generation = generation
        self._now = now
        self.ttl = ttl
        self.maxsize = maxsize
        self._entries: OrderedDict[bytes, Entry] = OrderedDict()
        self._flights: dict[tuple[bytes, int], asyncio.Future[bytes | None]] = {}
        # (key, generation) -> the entry's age when that flight took off, where it had one
        self._took_off_at: dict[tuple[bytes, int], float] = {}
        self.hits = 0
        self.misses = 0
        self.shared = 0  # answers taken from another request's flight
        self.stale_served = 0

    @classmethod
    def for_kernel(cls, kernel: Kernel, *, scaled_out: bool) -> ResponseCache | None:
        """The kernel's cache as the environment configures it, or None when it is off."""
        switch = os.environ.get("DOUGONG_RESPONSE_CACHE", "").strip().lower()
        if switch in ("0", "false", "no", "off") or (scaled_out and switch not in ("1", "true", "yes", "on")):
            return None
        ttl = float(os.environ.get("DOUGONG_RESPONSE_CACHE_TTL", DEFAULT_TTL))
        size = int(os.environ.get("DOUGONG_RESPONSE_CACHE_SIZE", DEFAULT_SIZE))
        if ttl <= 0 or size <= 0:
            return None
        return cls(lambda: kernel.db.generation, kernel.clock.now, ttl=ttl, maxsize=size)

    def generation(self) -> int:
        return self._generation()

    def _age(self, entry: Entry) -> float:
        """The entry's age in seconds: the older reading of real time and the kernel's clock
        (a test or a time-travel clock moves only the second); negative ages count as expired."""
        age = time.monotonic() - entry.stored_monotonic
        clock_age = (self._now() - entry.stored_clock).total_seconds()
        return float("inf") if age < 0 or clock_age < 0 else max(age, clock_age)

    def get(self, key: bytes) -> bytes | None:
        """The fresh answer for ``key``, or None (a miss: execute, or join a :meth:`flight`)."""
        entry = self._entries.get(key)
        if entry is not None and entry.generation == self._generation() and self._age(entry) < self.ttl:
            self._entries.move_to_end(key)
            self.hits += 1
            return entry.body
        if entry is not None and (entry.generation != self._generation() or not self._servable_stale(key, entry)):
            del self._entries[key]  # beyond any use, even stale
        self.misses += 1
        return None

    def lookup(self, key: bytes) -> bytes | None:
        """A fresh answer, or one expired by time alone while another request recomputes it;
        None otherwise (counted by neither hits nor misses: the router then decides, see
        :mod:`core.gql.cached_route`)."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        generation = self._generation()
        if entry.generation == generation and self._age(entry) < self.ttl:
            self._entries.move_to_end(key)
            self.hits += 1
            return entry.body
        if (key, generation) in self._flights:
            return self.stale(key)
        return None

    def stale(self, key: bytes) -> bytes | None:
        """An answer expired by time alone (same generation, less than two TTLs old, or older
        while a recomputation that took off before two TTLs runs), which may be served while
        another request recomputes it; None after any write."""
        entry = self._entries.get(key)
        if entry is None or entry.generation != self._generation() or not self._servable_stale(key, entry):
            return None
        self.stale_served += 1
        return entry.body

    def _servable_stale(self, key: bytes, entry: Entry) -> bool:
        age = self._age(entry)
        if age < 2 * self.ttl:
            return True
        took_off_at = self._took_off_at.get((key, entry.generation))
        return took_off_at is not None and took_off_at < 2 * self.ttl and age < STALE_CAP * self.ttl

    def flight(self, key: bytes, generation: int) -> asyncio.Future[bytes | None] | None:
        """The execution of ``key`` already running since ``generation``, if any: its future
        gives the answer's bytes, or None when that answer was not cacheable (an error, a
        cancelled request), in which case the waiter executes for itself."""
        return self._flights.get((key, generation))

    def take_off(self, key: bytes, generation: int) -> asyncio.Future[bytes | None] | None:
        """Register this request as the one executing ``key`` at ``generation``; None when
        another request already is (this one then executes without others waiting on it)."""
        if (key, generation) in self._flights:
            return None
        future: asyncio.Future[bytes | None] = asyncio.get_running_loop().create_future()
        self._flights[(key, generation)] = future
        entry = self._entries.get(key)
        if entry is not None and entry.generation == generation:
            self._took_off_at[(key, generation)] = self._age(entry)
        return future

    def land(self, key: bytes, generation: int, future: asyncio.Future[bytes | None] | None, body: bytes | None) -> None:
        """End the flight ``future`` (from :meth:`take_off`), handing ``body`` (None: not
        cacheable) to every request waiting on it."""
        if future is None:
            return
        if self._flights.get((key, generation)) is future:
            del self._flights[(key, generation)]
            self._took_off_at.pop((key, generation), None)
        if not future.done():
            future.set_result(body)

    def put(self, key: bytes, body: bytes, generation: int, started_clock: datetime, started_monotonic: float) -> None:
        """Keep ``body`` under the generation and times seen when its request *started*."""
        if generation != self._generation():
            return  # the database changed while this answer was computed: it may be stale already
        self._entries[key] = Entry(body, generation, started_monotonic, started_clock)
        self._entries.move_to_end(key)
        while len(self._entries) > self.maxsize:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()
        for (key, generation), future in list(self._flights.items()):
            self.land(key, generation, future, None)

    def __len__(self) -> int:
        return len(self._entries)
