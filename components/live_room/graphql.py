"""Live rooms in GraphQL: the types (rooms, shelves, comments, results) and the queries. The
mutations are in graphql_mutations.py, the event stream in graphql_stream.py, reservations in
reservation_graphql.py. Resolvers are thin; rules are in service.py."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import strawberry
from sqlalchemy import select

from components.catalog.graphql import Product, Sku
from components.live_room import models
from components.live_room.service import MANAGE, RUNNING, Results, comment_message, room_message
from core.errors import DomainError
from core.gql import Connection, Context, Money, Node, connection, decode_id, fetch_page, money
from core.gql.relay import to_global_id


@strawberry.enum
class LiveRoomStatus(enum.Enum):
    SCHEDULED = "scheduled"
    LIVE = "live"
    PAUSED = "paused"
    ENDED = "ended"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


@strawberry.enum(description="Which rooms a list shows.")
class LiveRoomListFilter(enum.Enum):
    UPCOMING = "upcoming"
    LIVE = "live"
    REPLAY = "replay"
    ALL = "all"


@strawberry.enum
class LiveRoomEventKind(enum.Enum):
    SNAPSHOT = "snapshot"
    COMMENT = "comment"
    LIKES = "likes"
    VIEWERS = "viewers"
    PRESENTING = "presenting"
    STATUS = "status"
    SHELF = "shelf"
    SETTINGS = "settings"


@strawberry.type(description="A comment said in a live room.")
class LiveRoomComment:
    id: strawberry.ID
    author: str = strawberry.field(description="The nickname shown with the comment.")
    text: str
    created_at: datetime
    member_pk: strawberry.Private[int]
    host_pk: strawberry.Private[int | None] = None

    @strawberry.field(description="The commenter's member id — for the room's host and live-room managers (to mute); null for others.")
    def author_member_id(self, info: strawberry.Info) -> strawberry.ID | None:
        runs = self.host_pk is not None and _runs(info.context, self.host_pk)
        return strawberry.ID(to_global_id("Member", self.member_pk)) if runs else None


@strawberry.type(description="A live-only price of one SKU, honoured only while the room is live.")
class LiveRoomPrice:
    live_price: Money
    sku_pk: strawberry.Private[int]

    @strawberry.field
    async def sku(self, info: strawberry.Info) -> Sku | None:
        return await info.context.loader("catalog.skus").load(self.sku_pk)


@strawberry.type(description="A product on a room's shelf (货架).")
class LiveRoomShelfItem:
    position: int
    on_shelf: bool
    is_presented: bool = strawberry.field(description="讲解中: the host is presenting it now.")
    live_prices: list[LiveRoomPrice]
    live_stock: int | None = strawberry.field(description="Units left at the live price (null: no cap).")
    per_member_limit: int | None = strawberry.field(description="Units one member may buy at the live price (null: no limit).")
    product_pk: strawberry.Private[int]

    @strawberry.field
    async def product(self, info: strawberry.Info) -> Product | None:
        return await info.context.loader("catalog.products").load(self.product_pk)


@strawberry.type(description="A session's figures: what brands report after a live session.")
class LiveRoomResults:
    unique_viewers: int
    peak_viewers: int = strawberry.field(description="Most viewers watching at once.")
    comments: int
    likes: int
    orders: int = strawberry.field(description="Orders placed from the room while it was live or paused.")
    paid_orders: int
    paying_members: int
    gmv: Money = strawberry.field(description="Paid order totals of the session (refunds not deducted; see refunded).")
    refunded: Money
    average_order_value: Money = strawberry.field(description="GMV / paid orders, rounded half up to the minor unit.")
    conversion_rate: float = strawberry.field(description="Paying members / unique viewers, 0 to 1, four decimals.")
    orders_after_session: int = strawberry.field(description="Orders attributed to the room after it ended (the replay page).")
    gmv_after_session: Money
    orders_before_session: int = strawberry.field(
        description="Orders attributed to the room before it went live (the warm-up page); all of them for a room that never did."
    )
    gmv_before_session: Money


@strawberry.type(description="A live selling session (直播间).")
class LiveRoom(Node):
    title: str
    cover_url: str | None
    status: LiveRoomStatus
    store_id: int | None
    scheduled_start_at: datetime
    scheduled_end_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    play_url: str | None = strawberry.field(description="Where viewers pull the stream; null unless live or paused.")
    replay_url: str | None = strawberry.field(description="The replay, once ended and if replay is switched on.")
    comments_enabled: bool
    likes_enabled: bool
    replay_enabled: bool
    muted_all: bool = strawberry.field(description="The host muted every viewer.")
    like_count: int
    comment_count: int
    viewer_count: int = strawberry.field(description="Watching now (joined, heartbeat fresh).")
    peak_viewers: int
    host_pk: strawberry.Private[int]
    presented_pk: strawberry.Private[int | None]
    push_url_value: strawberry.Private[str | None]  # None when built from a stream message (read on demand)

    @strawberry.field(description="The host's encoder URL: for the host and live-room managers only.")
    async def push_url(self, info: strawberry.Info) -> str | None:
        if not _runs(info.context, self.host_pk):
            return None
        if self.push_url_value is not None:
            return self.push_url_value
        session = await info.context.session()
        return await session.scalar(select(models.Room.push_url).where(models.Room.id == self.pk))

    @strawberry.field(description="The host's display name — public, unlike other staff: viewers see who hosts.")
    async def host_name(self, info: strawberry.Info) -> str | None:
        return await info.context.loader("live_room.host_names").load(self.host_pk)

    @strawberry.field(description="讲解中: the product the host is presenting now.")
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
    async def recent_comments(self, info: strawberry.Info, last: int = 20) -> list[LiveRoomComment]:
        if not 0 <= last <= 100:
            raise DomainError("KERNEL_INVALID_INPUT", "last is 0 to 100.", field="last")
        session = await info.context.session()
        rows = (
            await session.scalars(select(models.Comment).where(models.Comment.room_id == self.pk).order_by(models.Comment.id.desc()).limit(last))
        ).all()
        return [comment_node(comment_message(c), self.host_pk) for c in reversed(rows)]

    @strawberry.field(description="The session's figures: for the host and live-room managers.")
    async def results(self, info: strawberry.Info) -> LiveRoomResults:
        ctx: Context = info.context
        if ctx.actor.kind == "anonymous":
            ctx.require_staff()
        if not _runs(ctx, self.host_pk):
            raise DomainError("KERNEL_FORBIDDEN", "Only the room's host and live-room managers see its results.")
        session = await ctx.session()
        room = await session.get(models.Room, self.pk)
        return results_node(await ctx.kernel.service("live_room").results(session, room), ctx.kernel.blueprint.brand.currency)


async def load_shelf(ctx: Context, room: LiveRoom) -> list[LiveRoomShelfItem]:
    """The shelf as this actor sees it (viewers: what is on it; the host: everything)."""
    session = await ctx.session()
    stmt = select(models.ShelfItem).where(models.ShelfItem.room_id == room.pk)
    runs = _runs(ctx, room.host_pk)
    if not runs:
        stmt = stmt.where(models.ShelfItem.on_shelf.is_(True))
    items = (await session.scalars(stmt.order_by(models.ShelfItem.position, models.ShelfItem.id))).all()
    prices = (await session.scalars(select(models.LivePrice).where(models.LivePrice.room_id == room.pk).order_by(models.LivePrice.sku_id))).all()
    currency = ctx.kernel.blueprint.brand.currency
    by_product: dict[int, list[LiveRoomPrice]] = {}
    if not runs and room.status.value not in RUNNING:
        prices = []
    for price in prices:
        by_product.setdefault(price.product_id, []).append(LiveRoomPrice(live_price=money(price.price_minor, currency), sku_pk=price.sku_id))
    return [
        LiveRoomShelfItem(
            position=i.position,
            on_shelf=i.on_shelf,
            is_presented=i.product_id == room.presented_pk,
            live_prices=by_product.get(i.product_id, []),
            live_stock=i.live_stock,
            per_member_limit=i.per_member_limit,
            product_pk=i.product_id,
        )
        for i in items
    ]


def _runs(ctx: Context, host_pk: int) -> bool:
    actor = ctx.actor
    if not actor.is_staff:
        return False
    return (actor.id == host_pk and (actor.is_admin or actor.has_role("live_host"))) or ctx.can(MANAGE)


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


def results_node(r: Results, currency: str) -> LiveRoomResults:
    return LiveRoomResults(
        unique_viewers=r.unique_viewers,
        peak_viewers=r.peak_viewers,
        comments=r.comments,
        likes=r.likes,
        orders=r.orders,
        paid_orders=r.paid_orders,
        paying_members=r.paying_members,
        gmv=money(r.gmv_minor, currency),
        refunded=money(r.refunded_minor, currency),
        average_order_value=money(r.average_order_value_minor, currency),
        conversion_rate=r.conversion_rate,
        orders_after_session=r.orders_after_session,
        gmv_after_session=money(r.gmv_after_session_minor, currency),
        orders_before_session=r.orders_before_session,
        gmv_before_session=money(r.gmv_before_session_minor, currency),
    )


def comment_node(data: dict[str, Any], host_pk: int | None = None) -> LiveRoomComment:
    return LiveRoomComment(
        id=strawberry.ID(str(data["id"])),
        author=data["author"],
        text=data["text"],
        created_at=datetime.fromisoformat(data["createdAt"]),
        member_pk=data["memberId"],
        host_pk=host_pk,
    )


async def load_host_names(ctx: Context, keys: list[int]) -> list[str | None]:
    names = await ctx.kernel.service("members").staff_names(await ctx.session(), keys)
    return [names.get(k) for k in keys]


async def load_rooms(ctx: Context, keys: list[int]) -> list[LiveRoom | None]:
    session = await ctx.session()
    rows = {r.id: r for r in (await session.scalars(select(models.Room).where(models.Room.id.in_(keys)))).all()}
    return [room_node(rows[k]) if k in rows else None for k in keys]


@strawberry.type
class Query:
    @strawberry.field(description="Rooms: UPCOMING (soonest first), LIVE, REPLAY (ended with replay on) or ALL (newest first).")
    async def live_rooms(
        self, info: strawberry.Info, first: int | None = 20, after: str | None = None, filter: LiveRoomListFilter = LiveRoomListFilter.ALL
    ) -> Connection[LiveRoom]:  # noqa: A002
        ctx: Context = info.context
        stmt = select(models.Room)
        descending = True
        if filter is LiveRoomListFilter.UPCOMING:
            stmt, descending = stmt.where(models.Room.status == "scheduled"), False
        elif filter is LiveRoomListFilter.LIVE:
            stmt = stmt.where(models.Room.status.in_(RUNNING))
        elif filter is LiveRoomListFilter.REPLAY:
            stmt = stmt.where(models.Room.status == "ended", models.Room.replay_enabled.is_(True))
        page = await fetch_page(await ctx.session(), stmt, models.Room.id, first, after, descending=descending)
        return connection(page, room_node)

    @strawberry.field
    async def live_room(self, info: strawberry.Info, id: strawberry.ID) -> LiveRoom | None:  # noqa: A002
        return (await load_rooms(info.context, [decode_id(id, "LiveRoom", field="id")]))[0]
