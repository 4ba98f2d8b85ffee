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
    """Every publish goes through Redis; one listener per process fans messages out locally.

    Live messages are best effort, like the websocket that carries them: a publish that
    cannot reach Redis is logged and dropped (it runs after the commit, so raising would turn
    a committed mutation into an error), and a listener whose connection drops reconnects
    and re-subscribes with backoff instead of leaving every subscriber silent for good.
    """

    RECONNECT_MAX_SECONDS = 5.0

    def __init__(self, url: str, prefix: str) -> None:
        super().__init__(prefix)
        import redis.asyncio as redis

        self._redis = redis.from_url(url)
        self._task: asyncio.Task | None = None
        self.dropped = 0  # messages that could not be published or decoded

    async def start(self) -> None:
        if self._task is not None:
            return
        # Subscribe before returning, so a message published right after start() is seen.
        pubsub = await self._subscribe()
        self._task = asyncio.create_task(self._listen(pubsub))

    async def _subscribe(self) -> Any:
        pubsub = self._redis.pubsub()
        try:
            await pubsub.psubscribe(f"{_glob_escape(self.prefix)}*")
        except BaseException:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
            raise
        return pubsub

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        with contextlib.suppress(Exception):
            await self._redis.aclose()

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        try:
            await self._redis.publish(self.prefix + channel, json.dumps(message, default=str))
        except Exception:
            self.dropped += 1
            log.exception("cannot publish to Redis on %s%s; the live message is lost", self.prefix, channel)

    async def _listen(self, pubsub: Any) -> None:
        delay = 0.1
        while True:
            try:
                if pubsub is None:
                    pubsub = await self._subscribe()
                    log.warning("reconnected to Redis for %s*", self.prefix)
                async for item in pubsub.listen():
                    delay = 0.1
                    self._deliver(item)
                raise ConnectionError("the Redis subscription ended")
            except asyncio.CancelledError:
                with contextlib.suppress(Exception):
                    if pubsub is not None:
                        await pubsub.aclose()
                raise
            except Exception as exc:
                log.warning("Redis listener for %s* lost its connection (%r); retrying in %.1fs", self.prefix, exc, delay)
                with contextlib.suppress(Exception):
                    if pubsub is not None:
                        await pubsub.aclose()
                pubsub = None
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.RECONNECT_MAX_SECONDS)

    def _deliver(self, item: dict[str, Any]) -> None:
        if item.get("type") not in ("pmessage", "message"):
            return
        channel = item["channel"].decode() if isinstance(item["channel"], bytes) else item["channel"]
        try:
            message = json.loads(item["data"])
            if not isinstance(message, dict):
                raise ValueError(f"expected a JSON object, got {type(message).__name__}")
        except Exception:  # a malformed message must stop neither the listener nor a subscriber
            self.dropped += 1
            log.exception("bad broadcast message on %s", channel)
            return
        self._fan_out(channel[len(self.prefix):], message)


def _glob_escape(text: str) -> str:
    """Escape Redis glob characters so a prefix matches only itself."""
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)
