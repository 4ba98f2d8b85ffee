"""The Redis fan-out: optional at run time, never in the way of a write.

- **Publishing never waits on Redis.** ``publish`` puts the message in a bounded outbox and
  returns; a background task sends it. While Redis hangs (SIGSTOP, a dead network) the write
  that produced the message has long been answered. When the outbox is full the oldest
  message is dropped, counted and its channel remembered (see below).
- **Messages go out while this process listens**: a send waits (briefly) for the process's own
  listener, so a message is not sent into a Redis that no one here hears yet.
- **A send that fails is retried** with backoff, the same message first: after a Redis restart
  the pooled connection is stale, the first send fails, the retry on a fresh connection
  delivers it. A message older than ``MAX_MESSAGE_AGE`` is dropped rather than sent late.
- **Sequence numbers are Redis's** (``INCR`` per channel in the same script as ``PUBLISH``), so
  they count across every worker and host. A channel that lost a message while Redis was
  away gets its counter bumped once Redis is back, so every subscriber, in any process, sees
  the jump and is told of the gap. A Redis restart resets counters: the lower number is a gap too.
- **The listener reconnects** with backoff; every local subscriber is told of a gap when it does.
- **Starting with Redis down works**: the worker serves, ``connected`` is false (``/healthz``
  says ``broadcast: unavailable``) until the listener gets through.

Delivery is at least once across a pause: a send that timed out may still run when Redis
resumes, and the retry sends it again. Live messages are states (a room's counts, a lot's
price), so a repeat is harmless; ``seq`` tells them apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import OrderedDict, deque
from typing import Any

from core.broadcast import Broadcaster

log = logging.getLogger("dougong.broadcast")

OUTBOX_LIMIT = 10_000  # messages waiting for Redis, per process and brand
MAX_MESSAGE_AGE = 60.0  # seconds: older messages are dropped, not sent late
SEND_TIMEOUT = 2.0  # seconds for one send (socket timeout of the publishing client)
COUNTER_TTL = 7 * 24 * 3600  # a channel's counter outlives any subscription to it

# One round trip: the next number of the channel's stream, then the message carrying it.
_PUBLISH = """
local seq = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('PUBLISH', ARGV[1], seq .. '\\n' .. ARGV[2])
return seq
"""
_SKIP = """
local seq = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[1])
return seq
"""


class RedisBroadcaster(Broadcaster):
    RECONNECT_MAX_SECONDS = 2.0
    START_WAIT_SECONDS = 2.0

    def __init__(self, url: str, prefix: str) -> None:
        super().__init__(prefix)
        import redis.asyncio as redis

        # Two clients: the listener blocks on its socket for as long as nothing is published,
        # so it has no read timeout; the publisher's sends do.
        self._publisher = redis.from_url(url, socket_timeout=SEND_TIMEOUT, socket_connect_timeout=SEND_TIMEOUT)
        self._listener = redis.from_url(url, socket_connect_timeout=SEND_TIMEOUT, socket_keepalive=True)
        self._outbox: deque[tuple[str, str, float]] = deque()
        self._outbox_ready = asyncio.Event()
        self._lost: OrderedDict[str, None] = OrderedDict()  # channels that lost messages, to mark once Redis is back
        self._tasks: list[asyncio.Task] = []
        self._subscribed = asyncio.Event()
        self._publishing_ok = True
        self.reconnects = 0

    @property
    def connected(self) -> bool:
        return self._subscribed.is_set() and self._publishing_ok

    async def start(self) -> None:
        if self._tasks:
            return
        self._tasks = [asyncio.create_task(self._listen()), asyncio.create_task(self._send_outbox())]
        # Wait briefly for the subscription, so a message published right after start() is
        # seen; Redis being down must not stop the worker from starting.
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._subscribed.wait(), self.START_WAIT_SECONDS)
        if not self._subscribed.is_set():
            log.warning("Redis is unreachable for %s*; serving without cross-process live messages until it is back", self.prefix)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        self._subscribed.clear()
        for client in (self._publisher, self._listener):
            with contextlib.suppress(Exception):
                await client.aclose()

    # -- publishing ---------------------------------------------------------------------------
    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        """Queue ``message``; returns at once (no I/O)."""
        try:
            data = json.dumps(message, default=str)
        except (TypeError, ValueError):
            self.dropped += 1
            log.error("a live message on %s%s is not JSON; dropped", self.prefix, channel)
            return
        if len(self._outbox) >= OUTBOX_LIMIT:
            lost_channel, _, _ = self._outbox.popleft()
            self._lose(lost_channel)
        self._outbox.append((channel, data, time.monotonic()))
        self._outbox_ready.set()

    def _lose(self, channel: str) -> None:
        self.dropped += 1
        self._lost[channel] = None
        self._lost.move_to_end(channel)
        while len(self._lost) > OUTBOX_LIMIT:
            self._lost.popitem(last=False)
        self._mark_gap([channel])  # this process's subscribers know at once

    def _counter(self, channel: str) -> str:
        return f"{self.prefix}seq:{channel}"

    async def _send_outbox(self) -> None:
        delay = 0.05
        failing_since: float | None = None
        while True:
            if not self._outbox:
                self._outbox_ready.clear()
                await self._outbox_ready.wait()
                continue
            if not self._subscribed.is_set():
                # Send only while this process listens too: a message sent before our own
                # listener is back would reach Redis and then no one here.
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._subscribed.wait(), 1.0)
            channel, data, queued = self._outbox[0]
            if time.monotonic() - queued > MAX_MESSAGE_AGE:
                self._outbox.popleft()
                self._lose(channel)
                continue
            try:
                while self._lost:  # Redis is back: make the lost messages visible as a jump
                    lost = next(iter(self._lost))
                    await self._publisher.eval(_SKIP, 1, self._counter(lost), COUNTER_TTL)
                    self._lost.pop(lost, None)
                await self._publisher.eval(_PUBLISH, 1, self._counter(channel), self.prefix + channel, data, COUNTER_TTL)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._publishing_ok = False
                if failing_since is None:
                    failing_since = time.monotonic()
                    log.warning("cannot publish to Redis (%s); %d live message(s) wait, retrying with backoff", type(exc).__name__, len(self._outbox))
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.RECONNECT_MAX_SECONDS)
                continue
            self._outbox.popleft()
            if failing_since is not None:
                log.warning("publishing to Redis again after %.1fs", time.monotonic() - failing_since)
                failing_since = None
            self._publishing_ok = True
            delay = 0.05

    # -- listening ----------------------------------------------------------------------------
    async def _listen(self) -> None:
        delay = 0.1
        ever_subscribed = False
        while True:
            pubsub = self._listener.pubsub()
            try:
                await pubsub.psubscribe(f"{_glob_escape(self.prefix)}*")
                self._subscribed.set()
                if ever_subscribed:
                    self.reconnects += 1
                    log.warning("reconnected to Redis for %s*", self.prefix)
                # Whoever subscribed before this moment (after an outage, or while a worker
                # started with Redis down) may have missed messages from other processes.
                self._mark_gap()
                ever_subscribed = True
                delay = 0.1
                async for item in pubsub.listen():
                    self._deliver(item)
                raise ConnectionError("the Redis subscription ended")
            except asyncio.CancelledError:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                raise
            except Exception as exc:
                if self._subscribed.is_set():  # one line per outage, not one per retry
                    log.warning("Redis listener for %s* lost its connection (%s); retrying with backoff", self.prefix, type(exc).__name__)
                self._subscribed.clear()
                self._mark_gap()
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.RECONNECT_MAX_SECONDS)

    def _deliver(self, item: dict[str, Any]) -> None:
        if item.get("type") not in ("pmessage", "message"):
            return
        channel = item["channel"].decode() if isinstance(item["channel"], bytes) else item["channel"]
        seq, message = _decode(item["data"])
        if message is None:  # a malformed message must stop neither the listener nor a subscriber
            self.dropped += 1
            log.warning("bad broadcast message on %s; dropped", channel)
            return
        self._fan_out(channel[len(self.prefix) :], seq, message)


def _decode(data: Any) -> tuple[int | None, dict[str, Any] | None]:
    """``<seq>\\n<json object>`` as published here, or a bare JSON object (seq unknown)."""
    try:
        text = data.decode() if isinstance(data, bytes) else str(data)
        head, newline, body = text.partition("\n")
        seq = None
        if newline and head.isascii() and head.isdigit():
            seq, text = int(head), body
        message = json.loads(text)
    except (ValueError, RecursionError):
        return None, None
    return (seq, message) if isinstance(message, dict) else (None, None)


def _glob_escape(text: str) -> str:
    """Escape Redis glob characters so a prefix matches only itself."""
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)
