"""A live room's event stream (liveRoomEvents): a snapshot, then every comment, like, viewer count,
presented product and status change until the room ends."""

from __future__ import annotations

from typing import Annotated, Any, AsyncGenerator

import strawberry

from components.catalog.graphql import Product
from components.live_room import models
from components.live_room.graphql import LiveRoom, LiveRoomEventKind, LiveRoomStatus, room_from_message
from components.live_room.graphql_types import LiveRoomComment, LiveRoomShelfItem, comment_node, load_shelf
from components.live_room.service import channel, room_message
from core.gql import Context, decode_id
from core.gql.fanout_rules import VIEWER_INDEPENDENT
from core.gql.relay import to_global_id
from core.gql.stream import StreamPosition, no_position, snapshot_position, stream_position


@strawberry.type(description="One thing that happened in a room, with the room's state right after it.")
class LiveRoomEvent:
    kind: LiveRoomEventKind = strawberry.field(description="What happened.")
    room: LiveRoom = strawberry.field(description="The room right after the event: the node a normalised client cache merges by its `id`.")
    room_id: strawberry.ID = strawberry.field(deprecation_reason="Use `room { id }`.", description="The room's global id.")
    status: LiveRoomStatus = strawberry.field(deprecation_reason="Use `room { status }`.", description="The room's status.")
    viewer_count: int = strawberry.field(deprecation_reason="Use `room { viewerCount }`.", description="Watching now.")
    peak_viewers: int = strawberry.field(deprecation_reason="Use `room { peakViewers }`.", description="The most watching at once.")
    like_count: int = strawberry.field(deprecation_reason="Use `room { likeCount }`.", description="Likes so far.")
    comment_count: int = strawberry.field(deprecation_reason="Use `room { commentCount }`.", description="Comments so far.")
    comments_enabled: bool = strawberry.field(deprecation_reason="Use `room { commentsEnabled }`.", description="Viewers may comment.")
    likes_enabled: bool = strawberry.field(deprecation_reason="Use `room { likesEnabled }`.", description="Viewers may like.")
    muted_all: bool = strawberry.field(deprecation_reason="Use `room { mutedAll }`.", description="The host muted every viewer.")
    comment: LiveRoomComment | None = strawberry.field(description="The comment said, on COMMENT events; null on others.")
    presented_pk: strawberry.Private[int | None] = None
    stream: StreamPosition = strawberry.field(default_factory=no_position, description="Where this payload stands in the live stream.")

    @strawberry.field(
        description="On SNAPSHOT and SHELF events the shelf as this subscriber sees it (what the page shows); null on other "
        "events, so a like or a viewer count costs no read. Select it here rather than `room { shelf }`, which reads on every event."
    )
    async def shelf(self, info: strawberry.Info) -> list[LiveRoomShelfItem] | None:
        if self.kind not in (LiveRoomEventKind.SNAPSHOT, LiveRoomEventKind.SHELF):
            return None
        return await load_shelf(info.context, self.room)

    @strawberry.field(description="The product being presented (讲解中), if any.", deprecation_reason="Use `room { presentedProduct }`.")
    async def presented_product(self, info: strawberry.Info) -> Product | None:
        if self.presented_pk is None:
            return None
        return await info.context.loader("catalog.products").load(self.presented_pk)


def event_node(data: dict[str, Any]) -> LiveRoomEvent:
    return LiveRoomEvent(
        kind=LiveRoomEventKind(data["kind"]),
        room=room_from_message(data),
        room_id=strawberry.ID(to_global_id("LiveRoom", data["roomId"])),
        status=LiveRoomStatus(data["status"]),
        viewer_count=data["viewerCount"],
        peak_viewers=data["peakViewers"],
        like_count=data["likeCount"],
        comment_count=data["commentCount"],
        comments_enabled=data["commentsEnabled"],
        likes_enabled=data["likesEnabled"],
        muted_all=data["mutedAll"],
        comment=comment_node(data["comment"], data.get("hostStaffId")) if data.get("comment") else None,
        presented_pk=data.get("presentedProductId"),
    )


FINAL = ("ended", "cancelled", "expired")


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="A room's events: comments, likes, viewers, the presented product, status. Public. Starts with a SNAPSHOT; "
        "completes after the room ends, is cancelled or expires (at once, after the snapshot, for a room already over).",
        metadata=VIEWER_INDEPENDENT,  # payloads are built from the message alone: viewers may share one execution
    )
    async def live_room_events(
        self, info: strawberry.Info, room_id: Annotated[strawberry.ID, strawberry.argument(description="The room's global id.")]
    ) -> AsyncGenerator[LiveRoomEvent, None]:
        ctx: Context = info.context
        pk = decode_id(room_id, "LiveRoom", field="roomId")
        async with ctx.kernel.broadcast.subscribe(channel(pk)) as messages:
            async with ctx.kernel.db.read() as session:
                row = await session.get(models.Room, pk)
            if row is None:
                return
            snapshot = event_node(room_message(row, "snapshot"))
            snapshot.stream = snapshot_position(ctx.kernel.broadcast, channel(pk))
            yield snapshot
            # Each event is resolved before the generator resumes: close its read session so an
            # idle subscriber holds no database connection (a thousand viewers would drain the pool).
            await ctx.reset_session()
            if row.status in FINAL:
                return
            async for message in messages:
                event = event_node(message)
                event.stream = stream_position(message)
                yield event
                await ctx.reset_session()
                if message["kind"] == "status" and message["status"] in FINAL:
                    return
