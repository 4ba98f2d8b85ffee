"""Live messages for subscriptions: in-process by default, Redis pub/sub across processes.

Subscriptions read from a channel (``live_room:12``); services publish through
``tx.publish`` so nothing is seen before commit. With ``REDIS_URL`` (or ``storage.redis`` in
the blueprint) every process publishes to Redis and every process's subscribers receive it.

Every message a subscriber receives is a :class:`StreamMessage`: the dict that was published,
plus its per-channel sequence number (``seq``) and ``gap``, true when the subscriber may have
missed messages since the previous one (a Redis outage or reconnect, a publish that had to be
dropped, a reader too slow for its queue). A page that sees ``gap`` refetches what it shows.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter, defaultdict
from typing import Any, AsyncIterator

QUEUE_LIMIT = 1000  # a subscriber this far behind is dropping messages, not stalling publishers


class StreamMessage(dict):
    """A live message as published, with where it stands in its channel's stream."""

    seq: int | None = None
    gap: bool = False


class _Subscriber:
    __slots__ = ("gap", "last", "queue")

    def __init__(self, last: int | None) -> None:
        self.queue: asyncio.Queue[tuple[int | None, dict[str, Any]]] = asyncio.Queue(maxsize=QUEUE_LIMIT)
        self.last = last
        self.gap = False


class Broadcaster:
    """In-process fan-out; sequence numbers count per channel in this process."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self._subscribers: dict[str, set[_Subscriber]] = defaultdict(set)
        self._last: dict[str, int] = {}  # last seq fanned out, for channels with subscribers
        self._counters: Counter[str] = Counter()
        self.dropped = 0  # messages that could not be published, decoded or kept for a reader

    @property
    def connected(self) -> bool:
        """Whether live messages reach every process (always, in one process)."""
        return True

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        if channel in self._subscribers:
            self._counters[channel] += 1
            self._fan_out(channel, self._counters[channel], message)

    def position(self, channel: str) -> int:
        """The last sequence number this process has seen on ``channel`` (0 for none): what a
        snapshot read now is at least as new as."""
        return self._last.get(channel, 0)

    def _fan_out(self, channel: str, seq: int | None, message: dict[str, Any]) -> None:
        subscribers = self._subscribers.get(channel)
        if not subscribers:
            return
        if seq is not None:
            self._last[channel] = seq
        for subscriber in list(subscribers):
            if subscriber.queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    subscriber.queue.get_nowait()  # drop the oldest for a slow reader
                subscriber.gap = True
                self.dropped += 1
            subscriber.queue.put_nowait((seq, message))

    def _mark_gap(self, channels: Any = None) -> None:
        """Tell the subscribers of ``channels`` (all by default) that they may have missed messages."""
        for channel in list(self._subscribers) if channels is None else channels:
            for subscriber in self._subscribers.get(channel, ()):
                subscriber.gap = True

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[StreamMessage]]:
        subscriber = _Subscriber(self._last.get(channel))
        self._subscribers[channel].add(subscriber)
        await self._on_first_subscriber(channel)

        async def messages() -> AsyncIterator[StreamMessage]:
            while True:
                seq, message = await subscriber.queue.get()
                out = StreamMessage(message)
                out.seq = seq
                # A number that does not follow the previous one: messages were lost between
                # them (or Redis restarted and its counters began again).
                out.gap = subscriber.gap or (seq is not None and subscriber.last is not None and seq != subscriber.last + 1)
                subscriber.gap = False
                if seq is not None:
                    subscriber.last = seq
                yield out

        try:
            yield messages()
        finally:
            self._subscribers[channel].discard(subscriber)
            if not self._subscribers[channel]:
                del self._subscribers[channel]
                self._last.pop(channel, None)
                self._counters.pop(channel, None)

    async def _on_first_subscriber(self, channel: str) -> None:
        return None
