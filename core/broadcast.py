"""Live messages for subscriptions: in-process by default, Redis pub/sub across processes.

Subscriptions read from a channel (``live_room:12``); services publish through
``tx.publish`` so nothing is seen before commit. With ``REDIS_URL`` (or ``storage.redis`` in
the blueprint) every process publishes to Redis and every process's subscribers receive it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from typing import Any, AsyncIterator

log = logging.getLogger("dougong.broadcast")

QUEUE_LIMIT = 1000  # a subscriber this far behind is dropping messages, not stalling publishers


class Broadcaster:
    """In-process fan-out."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self._subscribers: dict[str, set[asyncio.Queue]] = defaultdict(set)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        self._fan_out(channel, message)

    def _fan_out(self, channel: str, message: dict[str, Any]) -> None:
        for queue in list(self._subscribers.get(channel, ())):
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()  # drop the oldest for a slow reader
            queue.put_nowait(message)

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        queue: asyncio.Queue = asyncio.Queue(maxsize=QUEUE_LIMIT)
        self._subscribers[channel].add(queue)
        await self._on_first_subscriber(channel)

        async def messages() -> AsyncIterator[dict[str, Any]]:
            while True:
                yield await queue.get()

        try:
            yield messages()
        finally:
            self._subscribers[channel].discard(queue)
            if not self._subscribers[channel]:
                del self._subscribers[channel]

    async def _on_first_subscriber(self, channel: str) -> None:
        return None


class RedisBroadcaster(Broadcaster):
    """Every publish goes through Redis; one listener per process fans messages out locally."""

    def __init__(self, url: str, prefix: str) -> None:
        super().__init__(prefix)
        import redis.asyncio as redis

        self._redis = redis.from_url(url)
        self._pubsub = None
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        self._pubsub = self._redis.pubsub()
        await self._pubsub.psubscribe(f"{self.prefix}*")
        self._task = asyncio.create_task(self._listen())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
        with contextlib.suppress(Exception):
            await self._redis.aclose()

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        await self._redis.publish(self.prefix + channel, json.dumps(message, default=str))

    async def _listen(self) -> None:
        assert self._pubsub is not None
        async for item in self._pubsub.listen():
            if item.get("type") not in ("pmessage", "message"):
                continue
            channel = item["channel"].decode() if isinstance(item["channel"], bytes) else item["channel"]
            try:
                self._fan_out(channel[len(self.prefix):], json.loads(item["data"]))
            except Exception:  # a malformed message must not stop the listener
                log.exception("bad broadcast message on %s", channel)
