"""``StreamPosition``: where a subscription payload stands in its live stream.

Live messages are best effort (see :mod:`core.broadcast`); what a client must know is when
it may have missed some, so that the page refetches instead of showing stale counts.
Every subscription payload type carries a ``stream`` field built here.
"""

from __future__ import annotations

from typing import Any

import strawberry

from core.gql.scalars import Long


@strawberry.type(
    description=(
        "Where a subscription payload stands in its live stream. `seq` numbers the stream's "
        "messages (across every server process when they travel through Redis); `gap` is true "
        "when messages may have been missed since the previous payload (the fan-out was "
        "unreachable or reconnected, or the reader fell behind): refetch what the page shows."
    )
)
class StreamPosition:
    seq: Long | None = strawberry.field(description="The message's number in its stream; null if unknown.")
    gap: bool = strawberry.field(default=False, description="Messages may have been missed since the previous payload.")


def stream_position(message: Any) -> StreamPosition:
    """The position of a message received from ``broadcast.subscribe`` (a StreamMessage)."""
    return StreamPosition(seq=getattr(message, "seq", None), gap=bool(getattr(message, "gap", False)))


def snapshot_position(broadcast: Any, channel: str) -> StreamPosition:
    """The position of a snapshot read just after subscribing: at least as new as the last
    message this process saw on the channel."""
    return StreamPosition(seq=broadcast.position(channel), gap=False)


def no_position() -> StreamPosition:
    return StreamPosition(seq=None, gap=False)
