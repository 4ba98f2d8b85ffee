"""A cache of whole responses to anonymous GraphQL queries (the storefront's hot path).

Anonymous shoppers browsing the catalog all get the same bytes for the same request, so
the response is kept and served again — until the database changes. Freshness rests on a
*generation*: the kernel's :class:`core.db.Database` counts committed write transactions,
and an entry is served only while the generation is the one seen when its request
*started*. A request that raced a commit therefore stores an entry that is already stale
and never served; the first request after a price or stock change executes again.

Only these are cached: POST with a JSON body, no ``Authorization`` header (anonymous: the
actor cannot change the answer), a query operation (never a mutation or subscription), a
200 response without errors. Entries also expire after ``ttl`` seconds of real time or of
the kernel's clock, which bounds what a generation cannot see: answers that change with time
alone (an offer that ends) and writes made by another process. With Redis configured (the
scale-out setup: several processes share one database) the cache is off unless
``DOUGONG_RESPONSE_CACHE=1`` asks for it.

Settings (environment): ``DOUGONG_RESPONSE_CACHE`` (``0``/``1``), ``DOUGONG_RESPONSE_CACHE_TTL``
(seconds, default 1), ``DOUGONG_RESPONSE_CACHE_SIZE`` (entries, default 256).
"""

from __future__ import annotations

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
        self.hits = 0
        self.misses = 0

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

    def get(self, key: bytes) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        age = time.monotonic() - entry.stored_monotonic
        clock_age = (self._now() - entry.stored_clock).total_seconds()
        if entry.generation != self._generation() or not (0 <= age < self.ttl) or not (0 <= clock_age < self.ttl):
            del self._entries[key]
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry.body

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

    def __len__(self) -> int:
        return len(self._entries)
