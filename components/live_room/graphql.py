"""Live rooms in GraphQL: the types (rooms, shelves, comments, results) and the queries. The
mutations are in graphql_mutations.py, the event stream in graphql_stream.py, reservations in
reservation_graphql.py. Resolvers are thin; rules are in service.py."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated

import strawberry
from sqlalchemy import select

from components.catalog.graphql import Product
from components.live_room import models
from components.live_room.graphql_types import (
    LiveRoomComment,
    LiveRoomResults,
    LiveRoomShelfItem,
    comment_node,
    load_shelf,
    results_node,
    runs,
)
from components.live_room.service import RUNNING, comment_message, room_message
from core.errors import DomainError
from core.gql import Connection, Context, Node, connection, decode_id, fetch_page
from core.gql.relay import to_global_id


@strawberry.enum(description="Where a room is in its life: scheduled → live ⇄ paused → ended; or cancelled, or expired.")
class LiveRoomStatus(enum.Enum):
    SCHEDULED = strawberry.enum_value("scheduled", description="Announced, not yet live; members may reserve it.")
    LIVE = strawberry.enum_value("live", description="On air: live prices, comments and likes are open.")
    PAUSED = strawberry.enum_value("paused", description="On a break: comments and likes stay open, live prices do not apply.")
    ENDED = strawberry.enum_value("ended", description="The session is over; the replay may be shown.")
    CANCELLED = strawberry.enum_value("cancelled", description="Called off by the host before it went live.")
    EXPIRED = strawberry.enum_value("expired", description="Its scheduled end passed without it ever going live.")


@strawberry.enum(description="Which rooms a list shows.")
class LiveRoomListFilter(enum.Enum):
    UPCOMING = strawberry.enum_value("upcoming", description="Scheduled rooms, soonest first.")
    LIVE = strawberry.enum_value("live", description="Rooms live or paused now, newest first.")
    REPLAY = strawberry.enum_value("replay", description="Ended rooms with replay on, newest first.")
    ALL = strawberry.enum_value("all", description="Every room, newest first.")


@strawberry.enum(description="What happened in a room (liveRoomEvents).")
class LiveRoomEventKind(enum.Enum):
    SNAPSHOT = strawberry.enum_value("snapshot", description="The first event of a stream: the room as it is now, with its shelf.")
    COMMENT = strawberry.enum_value("comment", description="A member said something (see comment).")
    LIKES = strawberry.enum_value("likes", description="Like taps arrived (see room.likeCount).")
    VIEWERS = strawberry.enum_value("viewers", description="The number watching changed.")
    PRESENTING = strawberry.enum_value("presenting", description="The host presents another product, or stopped presenting.")
    STATUS = strawberry.enum_value("status", description="The room's status changed (went live, paused, ended…).")
    SHELF = strawberry.enum_value("shelf", description="The shelf changed (see shelf).")
    SETTINGS = strawberry.enum_value("settings", description="The host changed the room's settings (switches, mute, title…).")


@strawberry.type(description="A live selling session (直播间). Public: anyone may read a room; some fields are for its host only.")
class LiveRoom(Node):
    title: str = strawberry.field(description="The room's title.")
    cover_url: str | None = strawberry.field(description="The cover picture's URL; null when none was set.")
    status: LiveRoomStatus = strawberry.field(description="Where the room is in its life.")
    store_id: int | None = strawberry.field(
        description="The store number the room belongs to.", deprecation_reason="Use pickupStoreId; removed in the next release."
    )
    scheduled_start_at: datetime = strawberry.field(description="When the session is planned to start (ISO 8601 UTC).")
    scheduled_end_at: datetime = strawberry.field(description="When the session is planned to end (ISO 8601 UTC).")
    started_at: datetime | None = strawberry.field(description="When it first went live (ISO 8601 UTC); null before.")
    ended_at: datetime | None = strawberry.field(description="When it ended, was cancelled or expired (ISO 8601 UTC); null before.")
    play_url: str | None = strawberry.field(description="Where viewers pull the stream; null unless live or paused.")
    replay_url: str | None = strawberry.field(description="The replay, once ended and if replay is switched on.")
    comments_enabled: bool = strawberry.field(description="Viewers may comment.")
    likes_enabled: bool = strawberry.field(description="Viewers may like.")
    replay_enabled: bool = strawberry.field(description="The replay is shown after the session.")
    muted_all: bool = strawberry.field(description="The host muted every viewer.")
    like_count: int = strawberry.field(description="Like taps so far.")
    comment_count: int = strawberry.field(description="Comments so far.")
    viewer_count: int = strawberry.field(description="Watching now (joined, heartbeat fresh).")
    peak_viewers: int = strawberry.field(description="The most viewers watching at once so far.")
    host_pk: strawberry.Private[int]
    presented_pk: strawberry.Private[int | None]
    push_url_value: strawberry.Private[str | None]  # None when built from a stream message (read on demand)

    @strawberry.field(description="The store the room belongs to (a PickupStore global id); null when it belongs to none.")
    def pickup_store_id(self) -> strawberry.ID | None:
        return strawberry.ID(to_global_id("PickupStore", self.store_id)) if self.store_id is not None else None

    @strawberry.field(description="The host's encoder URL: for the host and live-room managers only; null for others.")
    async def push_url(self, info: strawberry.Info) -> str | None:
        if not runs(info.context, self.host_pk):
            return None
        if self.push_url_value is not None:
            return self.push_url_value
        session = await info.context.session()
        return await session.scalar(select(models.Room.push_url).where(models.Room.id == self.pk))

    @strawberry.field(description="The host's display name — public, unlike other staff: viewers see who hosts.")
    async def host_name(self, info: strawberry.Info) -> str | None:
        return await info.context.loader("live_room.host_names").load(self.host_pk)

    @strawberry.field(description="讲解中: the product the host is presenting now; null when none.")
    async def presented_product(self, info: strawberry.Info) -> Product | None:
        if self.presented_pk is None:
            return None
        return await info.context.loader("catalog.products").load(self.presented_pk)

    @strawberry.field(
        description="The shelf in display order; viewers see what is on the shelf, the host sees all. "
        "Live prices are shown to viewers only while the room is live or paused (a "
        "surprise price is not announced before the session)."
    )
    async def shelf(self, info: strawberry.Info) -> list[LiveRoomShelfItem]:
        return await load_shelf(info.context, self)

    @strawberry.field(description="The latest comments, oldest first (at most 100).")
    async def recent_comments(
        self, info: strawberry.Info, last: Annotated[int, strawberry.argument(description="How many of the latest comments, 0 to 100.")] = 20
    ) -> list[LiveRoomComment]:
        if not 0 <= last <= 100:
            raise DomainError("KERNEL_INVALID_INPUT", "last is 0 to 100.", field="last")
        session = await info.context.session()
        rows = (
            await session.scalars(select(models.Comment).where(models.Comment.room_id == self.pk).order_by(models.Comment.id.desc()).limit(last))
        ).all()
        return [comment_node(comment_message(c), self.host_pk) for c in reversed(rows)]

    @strawberry.field(
        description="The session's figures: for the room's host and live-room managers. For anyone else it is null with an "
        "error at this field's path (extensions.code KERNEL_UNAUTHENTICATED or KERNEL_FORBIDDEN); the rest of the room still answers."
    )
    async def results(self, info: strawberry.Info) -> LiveRoomResults | None:
        ctx: Context = info.context
        self._require_runner(ctx)
        session = await ctx.session()
        room = await session.get(models.Room, self.pk)
        return results_node(await ctx.kernel.service("live_room").results(session, room), ctx.kernel.blueprint.brand.currency)

    def _require_runner(self, ctx: Context) -> None:
        if ctx.actor.kind == "anonymous":
            ctx.require_staff()
        if not runs(ctx, self.host_pk):
            raise DomainError("KERNEL_FORBIDDEN", "Only the room's host and live-room managers see its results.")


def room_node(row: models.Room) -> LiveRoom:
    node = room_from_message(room_message(row, "snapshot"))
    node.push_url_value = row.push_url
    return node


def room_from_message(data: dict) -> LiveRoom:
    """The room node from a stream message: the query and the stream build it the same way."""
    status = data["status"]
    at = lambda key: datetime.fromisoformat(data[key]) if data[key] else None  # noqa: E731
    return LiveRoom(
        pk=data["roomId"],
        title=data["title"],
        cover_url=data["coverUrl"],
        status=LiveRoomStatus(status),
        store_id=data["storeId"],
        scheduled_start_at=datetime.fromisoformat(data["scheduledStartAt"]),
        scheduled_end_at=datetime.fromisoformat(data["scheduledEndAt"]),
        started_at=at("startedAt"),
        ended_at=at("endedAt"),
        play_url=data["playUrl"] if status in RUNNING else None,
        replay_url=data["replayUrl"] if status == "ended" and data["replayEnabled"] else None,
        comments_enabled=data["commentsEnabled"],
        likes_enabled=data["likesEnabled"],
        replay_enabled=data["replayEnabled"],
        muted_all=data["mutedAll"],
        like_count=data["likeCount"],
        comment_count=data["commentCount"],
        viewer_count=data["viewerCount"],
        peak_viewers=data["peakViewers"],
        host_pk=data["hostStaffId"],
        presented_pk=data["presentedProductId"],
        push_url_value=None,
    )


async def load_host_names(ctx: Context, keys: list[int]) -> list[str | None]:
    names = await ctx.kernel.service("members").staff_names(await ctx.session(), keys)
    return [names.get(k) for k in keys]


async def load_rooms(ctx: Context, keys: list[int]) -> list[LiveRoom | None]:
    session = await ctx.session()
    rows = {r.id: r for r in (await session.scalars(select(models.Room).where(models.Room.id.in_(keys)))).all()}
    return [room_node(rows[k]) if k in rows else None for k in keys]


async def load_rooms_of_orders(ctx: Context, order_ids: list[int]) -> list[LiveRoom | None]:
    """The room each order was placed from (its attribution row), in one read per batch."""
    session = await ctx.session()
    rows = await session.execute(select(models.RoomOrder.order_id, models.RoomOrder.room_id).where(models.RoomOrder.order_id.in_(order_ids)))
    room_of = dict(rows.all())
    rooms = {room.pk: room for room in await load_rooms(ctx, sorted(set(room_of.values()))) if room is not None}
    return [rooms.get(room_of[k]) if k in room_of else None for k in order_ids]


async def order_live_room(root, info: strawberry.Info) -> LiveRoom | None:  # noqa: ANN001  (root: orders' Order)
    """The live room the order was placed from (attributed to); null for an order from no room."""
    return await info.context.loader("live_room.rooms_of_orders").load(root.pk)


@strawberry.type
class Query:
    @strawberry.field(description="Rooms: UPCOMING (soonest first), LIVE, REPLAY (ended with replay on) or ALL (newest first). Public.")
    async def live_rooms(
        self,
        info: strawberry.Info,
        first: Annotated[int | None, strawberry.argument(description="Rooms from the start (or after `after`), at most 100; 20 by default.")] = None,
        after: Annotated[str | None, strawberry.argument(description="Read the rooms after this cursor (an endCursor).")] = None,
        filter: Annotated[LiveRoomListFilter, strawberry.argument(description="Which rooms; ALL by default.")] = LiveRoomListFilter.ALL,  # noqa: A002
        last: Annotated[int | None, strawberry.argument(description="Rooms from the end (or before `before`), at most 100.")] = None,
        before: Annotated[str | None, strawberry.argument(description="Read the rooms before this cursor (a startCursor).")] = None,
    ) -> Connection[LiveRoom]:
        ctx: Context = info.context
        stmt = select(models.Room)
        descending = True
        if filter is LiveRoomListFilter.UPCOMING:
            stmt, descending = stmt.where(models.Room.status == "scheduled"), False
        elif filter is LiveRoomListFilter.LIVE:
            stmt = stmt.where(models.Room.status.in_(RUNNING))
        elif filter is LiveRoomListFilter.REPLAY:
            stmt = stmt.where(models.Room.status == "ended", models.Room.replay_enabled.is_(True))
        page = await fetch_page(await ctx.session(), stmt, models.Room.id, first, after, last=last, before=before, descending=descending)
        return connection(page, room_node)

    @strawberry.field(description="One room by its global id (public); null when there is none.")
    async def live_room(
        self,
        info: strawberry.Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The room's global id.")],  # noqa: A002
    ) -> LiveRoom | None:
        return (await load_rooms(info.context, [decode_id(id, "LiveRoom", field="id")]))[0]
