"""Live rooms in GraphQL: rooms and shelves, host controls, viewer interaction, ordering from
the room, results, and the room's event stream. Resolvers are thin; rules are in service.py."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, AsyncGenerator

import strawberry
from sqlalchemy import select

from components.catalog.graphql import Product, Sku
from components.live_room import models
from components.live_room.checkout import EXPECT_LIVE_PRICE, LINE_FIELD
from components.live_room.service import MANAGE, RUNNING, Results, ShelfEntry, channel, comment_message, room_message
from components.orders.graphql import DeliveryType, OrderLineInput, OrderPayload, load_orders
from core.clock import as_utc
from core.errors import DomainError
from core.gql import (
    Connection, Context, Money, MoneyInput, Node, Payload, connection, decode_id, fetch_page, minor_from_input, money,
    run_mutation,
)
from core.gql.relay import to_global_id
from core.gql.stream import StreamPosition, no_position, snapshot_position, stream_position


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
    orders_before_session: int = strawberry.field(description="Orders attributed to the room before it went live (the "
                                                              "warm-up page); all of them for a room that never did.")
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
    push_url_value: strawberry.Private[str | None]

    @strawberry.field(description="The host's encoder URL: for the host and live-room managers only.")
    def push_url(self, info: strawberry.Info) -> str | None:
        return self.push_url_value if _runs(info.context, self.host_pk) else None

    @strawberry.field(description="The host's display name — public, unlike other staff: viewers see who hosts.")
    async def host_name(self, info: strawberry.Info) -> str | None:
        return await info.context.loader("live_room.host_names").load(self.host_pk)

    @strawberry.field(description="讲解中: the product the host is presenting now.")
    async def presented_product(self, info: strawberry.Info) -> Product | None:
        if self.presented_pk is None:
            return None
        return await info.context.loader("catalog.products").load(self.presented_pk)

    @strawberry.field(description="The shelf in display order; viewers see what is on the shelf, the host sees all. "
                                  "Live prices are shown to viewers only while the room is live or paused (a "
                                  "surprise price is not announced before the session).")
    async def shelf(self, info: strawberry.Info) -> list[LiveRoomShelfItem]:
        ctx: Context = info.context
        session = await ctx.session()
        stmt = select(models.ShelfItem).where(models.ShelfItem.room_id == self.pk)
        runs = _runs(ctx, self.host_pk)
        if not runs:
            stmt = stmt.where(models.ShelfItem.on_shelf.is_(True))
        items = (await session.scalars(stmt.order_by(models.ShelfItem.position, models.ShelfItem.id))).all()
        prices = (await session.scalars(select(models.LivePrice).where(models.LivePrice.room_id == self.pk)
                                        .order_by(models.LivePrice.sku_id))).all()
        currency = ctx.kernel.blueprint.brand.currency
        by_product: dict[int, list[LiveRoomPrice]] = {}
        if not runs and self.status.value not in RUNNING:
            prices = []
        for price in prices:
            by_product.setdefault(price.product_id, []).append(LiveRoomPrice(live_price=money(price.price_minor, currency), sku_pk=price.sku_id))
        return [LiveRoomShelfItem(position=i.position, on_shelf=i.on_shelf, is_presented=i.product_id == self.presented_pk,
                                  live_prices=by_product.get(i.product_id, []), live_stock=i.live_stock,
                                  per_member_limit=i.per_member_limit, product_pk=i.product_id) for i in items]

    @strawberry.field(description="The latest comments, oldest first (at most 100).")
    async def recent_comments(self, info: strawberry.Info, last: int = 20) -> list[LiveRoomComment]:
        if not 0 <= last <= 100:
            raise DomainError("KERNEL_INVALID_INPUT", "last is 0 to 100.", field="last")
        session = await info.context.session()
        rows = (await session.scalars(select(models.Comment).where(models.Comment.room_id == self.pk)
                                      .order_by(models.Comment.id.desc()).limit(last))).all()
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


def _runs(ctx: Context, host_pk: int) -> bool:
    actor = ctx.actor
    if not actor.is_staff:
        return False
    return (actor.id == host_pk and (actor.is_admin or actor.has_role("live_host"))) or ctx.can(MANAGE)


def room_node(row: models.Room) -> LiveRoom:
    status = row.status
    return LiveRoom(
        pk=row.id, title=row.title, cover_url=row.cover_url, status=LiveRoomStatus(status), store_id=row.store_id,
        scheduled_start_at=as_utc(row.scheduled_start_at), scheduled_end_at=as_utc(row.scheduled_end_at),
        started_at=as_utc(row.started_at) if row.started_at else None, ended_at=as_utc(row.ended_at) if row.ended_at else None,
        play_url=row.play_url if status in RUNNING else None,
        replay_url=row.replay_url if status == "ended" and row.replay_enabled else None,
        comments_enabled=row.comments_enabled, likes_enabled=row.likes_enabled, replay_enabled=row.replay_enabled,
        muted_all=row.muted_all, like_count=int(row.like_count), comment_count=row.comment_count, viewer_count=row.viewer_count,
        peak_viewers=row.peak_viewers, host_pk=row.host_staff_id, presented_pk=row.presented_product_id, push_url_value=row.push_url,
    )


def results_node(r: Results, currency: str) -> LiveRoomResults:
    return LiveRoomResults(
        unique_viewers=r.unique_viewers, peak_viewers=r.peak_viewers, comments=r.comments, likes=r.likes, orders=r.orders,
        paid_orders=r.paid_orders, paying_members=r.paying_members, gmv=money(r.gmv_minor, currency),
        refunded=money(r.refunded_minor, currency), average_order_value=money(r.average_order_value_minor, currency),
        conversion_rate=r.conversion_rate, orders_after_session=r.orders_after_session,
        gmv_after_session=money(r.gmv_after_session_minor, currency),
        orders_before_session=r.orders_before_session, gmv_before_session=money(r.gmv_before_session_minor, currency),
    )


def comment_node(data: dict[str, Any], host_pk: int | None = None) -> LiveRoomComment:
    return LiveRoomComment(id=strawberry.ID(str(data["id"])), author=data["author"], text=data["text"],
                           created_at=datetime.fromisoformat(data["createdAt"]), member_pk=data["memberId"], host_pk=host_pk)


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
    async def live_rooms(self, info: strawberry.Info, first: int | None = 20, after: str | None = None,
                         filter: LiveRoomListFilter = LiveRoomListFilter.ALL) -> Connection[LiveRoom]:  # noqa: A002
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


# -- inputs and payloads ---------------------------------------------------------------------------

@strawberry.input
class LiveRoomPriceInput:
    sku_id: strawberry.ID
    price: MoneyInput


@strawberry.input
class LiveRoomShelfItemInput:
    product_id: strawberry.ID
    on_shelf: bool = True
    position: int | None = None
    live_stock: int | None = strawberry.field(default=None, description="Units to sell at the live price (直播专享库存); "
                                                                        "left out: unchanged.")
    per_member_limit: int | None = strawberry.field(default=None, description="Units one member may buy at the live "
                                                                              "price (限购); 0 removes the limit.")
    live_prices: list[LiveRoomPriceInput] | None = strawberry.field(
        default=None, description="Replaces the product's live prices in this room when given; an empty list clears "
                                  "them; left out, they stay as they are.")


@strawberry.input
class CreateLiveRoomInput:
    title: str
    scheduled_start_at: datetime
    scheduled_end_at: datetime
    host_id: strawberry.ID | None = strawberry.field(default=None, description="A Staff id; defaults to the caller.")
    store_id: int | None = None
    cover_url: str | None = None
    push_url: str | None = None
    play_url: str | None = None
    replay_url: str | None = None
    comments_enabled: bool = True
    likes_enabled: bool = True
    replay_enabled: bool = True
    shelf: list[LiveRoomShelfItemInput] | None = None


@strawberry.input
class UpdateLiveRoomInput:
    room_id: strawberry.ID
    title: str | None = None
    scheduled_start_at: datetime | None = None
    scheduled_end_at: datetime | None = None
    cover_url: str | None = None
    push_url: str | None = None
    play_url: str | None = None
    replay_url: str | None = None
    comments_enabled: bool | None = None
    likes_enabled: bool | None = None
    replay_enabled: bool | None = None


@strawberry.input
class LiveRoomIdInput:
    room_id: strawberry.ID


@strawberry.input
class SetLiveRoomShelfItemInput:
    room_id: strawberry.ID
    item: LiveRoomShelfItemInput


@strawberry.input
class PresentLiveRoomProductInput:
    room_id: strawberry.ID
    product_id: strawberry.ID | None = strawberry.field(default=None, description="Null stops presenting.")


@strawberry.input
class MuteLiveRoomViewerInput:
    room_id: strawberry.ID
    member_id: strawberry.ID
    minutes: int | None = strawberry.field(default=None, description="Omit to mute for the rest of the session.")
    unmute: bool = False


@strawberry.input
class MuteLiveRoomInput:
    room_id: strawberry.ID
    muted: bool


@strawberry.input
class JoinLiveRoomInput:
    room_id: strawberry.ID
    share_code: str | None = strawberry.field(default=None, description="The share code in the link (`myShareCode` of a member "
                                              "or guide): the only proof that credits whoever shared the room.")
    sharer_member_id: strawberry.ID | None = strawberry.field(
        default=None, description="Who shared the room link (a Member id); only with their share code (MEMBERS_UNPROVEN_SHARER).")
    guide_id: strawberry.ID | None = strawberry.field(
        default=None, description="The shopping guide who shared it (a Staff id): active staff with the `guide` role.")


@strawberry.input
class SendLiveRoomCommentInput:
    room_id: strawberry.ID
    text: str


@strawberry.input
class LikeLiveRoomInput:
    room_id: strawberry.ID
    taps: int = strawberry.field(default=1, description="Taps batched by the client since its last call.")


@strawberry.input
class CreateLiveRoomOrderInput:
    room_id: strawberry.ID
    lines: list[OrderLineInput]
    delivery_type: DeliveryType = DeliveryType.SHIPPING
    store_id: int | None = strawberry.field(
        default=None, deprecation_reason="Use placeOrder with pickup {storeId, slotId} and lines naming liveRoomId.")
    sharer_member_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only with that member's share code (MEMBERS_UNPROVEN_SHARER); usually left out: the "
                                  "room's order is credited to whoever the member joined through.")
    share_code: str | None = strawberry.field(default=None, description="A share code (`myShareCode`) to credit its holder.")
    expect_live_price: bool = strawberry.field(
        default=True, description="Refuse (LIVE_ROOM_NOT_LIVE) rather than charge the normal price if the room is no longer live.")
    idempotency_key: str | None = None


@strawberry.type
class LiveRoomPayload(Payload):
    room: LiveRoom | None = None


@strawberry.type
class LiveRoomViewerPayload(Payload):
    room: LiveRoom | None = None
    viewer_count: int | None = None


@strawberry.type
class SendLiveRoomCommentPayload(Payload):
    comment: LiveRoomComment | None = None


@strawberry.type
class LikeLiveRoomPayload(Payload):
    like_count: int | None = None


def _service(ctx: Context):  # noqa: ANN202
    return ctx.kernel.service("live_room")


def _room_id(value: strawberry.ID) -> int:
    return decode_id(value, "LiveRoom", field="input.roomId")


async def _room_payload(ctx: Context, result: dict | None, errors: list) -> LiveRoomPayload:
    if errors:
        return LiveRoomPayload(user_errors=errors)
    return LiveRoomPayload(room=(await load_rooms(ctx, [result["roomId"]]))[0])


def _shelf_entry(ctx: Context, item: LiveRoomShelfItemInput, field: str) -> ShelfEntry:
    currency = ctx.kernel.blueprint.brand.currency
    # Left out: the live prices stay; an empty list clears them.
    prices = None if item.live_prices is None else tuple(
        (decode_id(p.sku_id, "Sku", field=f"{field}.livePrices[{i}].skuId"),
         minor_from_input(p.price, currency, f"{field}.livePrices[{i}].price", allow_zero=False))
        for i, p in enumerate(item.live_prices))
    if item.position is not None and not 0 <= item.position <= 10_000:
        raise DomainError("KERNEL_INVALID_INPUT", "A position is 0 to 10000.", field=f"{field}.position")
    return ShelfEntry(product_id=decode_id(item.product_id, "Product", field=f"{field}.productId"), on_shelf=item.on_shelf,
                      live_prices=prices, position=item.position, live_stock=item.live_stock,
                      per_member_limit=item.per_member_limit)


def _host_control(name: str, description: str):  # noqa: ANN202
    """A host action that takes only the room id (start, pause, resume, end, cancel)."""

    async def resolver(self, info: strawberry.Info, input: LiveRoomIdInput) -> LiveRoomPayload:  # noqa: A002, ANN001
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require_staff()
            room_id = _room_id(input.room_id)
            await getattr(_service(ctx), name)(tx, ctx.actor, room_id)
            return {"roomId": room_id}

        return await _room_payload(ctx, *await run_mutation(ctx, work))

    return strawberry.mutation(resolver=resolver, description=description)


def _viewer_control(name: str, description: str):  # noqa: ANN202
    """A viewer action that takes only the room id (leave, heartbeat) and answers the count."""

    async def resolver(self, info: strawberry.Info, input: LiveRoomIdInput) -> LiveRoomViewerPayload:  # noqa: A002, ANN001
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            member = ctx.require_member()
            room_id = _room_id(input.room_id)
            return {"roomId": room_id, "viewerCount": await getattr(_service(ctx), name)(tx, room_id, member)}

        return await _viewer_payload(ctx, *await run_mutation(ctx, work))

    return strawberry.mutation(resolver=resolver, description=description)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Host or live-room manager: schedule a room with its shelf.")
    async def create_live_room(self, info: strawberry.Info, input: CreateLiveRoomInput) -> LiveRoomPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            actor = ctx.require_staff()
            shelf = [_shelf_entry(ctx, item, f"input.shelf[{i}]") for i, item in enumerate(input.shelf or [])]
            room_id = await _service(ctx).create_room(
                tx, actor, title=input.title,
                host_staff_id=decode_id(input.host_id, "Staff", field="input.hostId") if input.host_id else None,
                scheduled_start_at=input.scheduled_start_at, scheduled_end_at=input.scheduled_end_at, store_id=input.store_id,
                cover_url=input.cover_url, push_url=input.push_url, play_url=input.play_url, replay_url=input.replay_url,
                comments_enabled=input.comments_enabled, likes_enabled=input.likes_enabled, replay_enabled=input.replay_enabled,
                shelf=shelf)
            return {"roomId": room_id}

        return await _room_payload(ctx, *await run_mutation(ctx, work))

    @strawberry.mutation(description="Host: change the title, cover, URLs, switches (comments/likes/replay), or times before going live.")
    async def update_live_room(self, info: strawberry.Info, input: UpdateLiveRoomInput) -> LiveRoomPayload:  # noqa: A002
        ctx: Context = info.context
        names = {"title": "title", "scheduled_start_at": "scheduledStartAt", "scheduled_end_at": "scheduledEndAt",
                 "cover_url": "coverUrl", "push_url": "pushUrl", "play_url": "playUrl", "replay_url": "replayUrl",
                 "comments_enabled": "commentsEnabled", "likes_enabled": "likesEnabled", "replay_enabled": "replayEnabled"}
        changes = {key: getattr(input, attr) for attr, key in names.items() if getattr(input, attr) is not None}

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require_staff()
            room_id = _room_id(input.room_id)
            await _service(ctx).update_room(tx, ctx.actor, room_id, changes)
            return {"roomId": room_id}

        return await _room_payload(ctx, *await run_mutation(ctx, work))

    start_live_room = _host_control("start", "Host: go live (scheduled → live).")
    pause_live_room = _host_control("pause", "Host: pause (live → paused); live prices stop until resumed.")
    resume_live_room = _host_control("resume", "Host: resume (paused → live).")
    end_live_room = _host_control("end", "Host: end the session (live or paused → ended).")
    cancel_live_room = _host_control("cancel", "Host: cancel a room that has not gone live.")

    @strawberry.mutation(description="Host: put a product on or off the shelf, with its live prices and position.")
    async def set_live_room_shelf_item(self, info: strawberry.Info, input: SetLiveRoomShelfItemInput) -> LiveRoomPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require_staff()
            room_id = _room_id(input.room_id)
            await _service(ctx).set_shelf_item(tx, ctx.actor, room_id, _shelf_entry(ctx, input.item, "input.item"))
            return {"roomId": room_id}

        return await _room_payload(ctx, *await run_mutation(ctx, work))

    @strawberry.mutation(description="Host: present (讲解) a product on the shelf, or stop presenting with null.")
    async def present_live_room_product(self, info: strawberry.Info, input: PresentLiveRoomProductInput) -> LiveRoomPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require_staff()
            room_id = _room_id(input.room_id)
            product = decode_id(input.product_id, "Product", field="input.productId") if input.product_id else None
            await _service(ctx).present(tx, ctx.actor, room_id, product)
            return {"roomId": room_id}

        return await _room_payload(ctx, *await run_mutation(ctx, work))

    @strawberry.mutation(description="Host: mute one viewer (for some minutes or the session), or unmute.")
    async def mute_live_room_viewer(self, info: strawberry.Info, input: MuteLiveRoomViewerInput) -> LiveRoomPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require_staff()
            room_id = _room_id(input.room_id)
            member = decode_id(input.member_id, "Member", field="input.memberId")
            await _service(ctx).mute(tx, ctx.actor, room_id, member, minutes=input.minutes, unmute=input.unmute)
            return {"roomId": room_id}

        return await _room_payload(ctx, *await run_mutation(ctx, work))

    @strawberry.mutation(description="Host: mute or unmute every viewer at once.")
    async def mute_live_room(self, info: strawberry.Info, input: MuteLiveRoomInput) -> LiveRoomPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require_staff()
            room_id = _room_id(input.room_id)
            await _service(ctx).mute_room(tx, ctx.actor, room_id, input.muted)
            return {"roomId": room_id}

        return await _room_payload(ctx, *await run_mutation(ctx, work))

    @strawberry.mutation(description="Member: enter a room (counted as watching until leave or a missed heartbeat).")
    async def join_live_room(self, info: strawberry.Info, input: JoinLiveRoomInput) -> LiveRoomViewerPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            member = ctx.require_member()
            room_id = _room_id(input.room_id)
            sharer = decode_id(input.sharer_member_id, "Member", field="input.sharerMemberId") if input.sharer_member_id else None
            guide = decode_id(input.guide_id, "Staff", field="input.guideId") if input.guide_id else None
            count = await _service(ctx).join(tx, room_id, member, sharer_member_id=sharer, guide_id=guide,
                                             share_code=input.share_code)
            return {"roomId": room_id, "viewerCount": count}

        return await _viewer_payload(ctx, *await run_mutation(ctx, work))

    leave_live_room = _viewer_control("leave", "Member: leave a room.")
    heartbeat_live_room = _viewer_control("heartbeat", "Member: still watching (send every ~20 s; silence past the timeout stops counting).")

    @strawberry.mutation(description="Member: say something in the room (rate- and length-limited).")
    async def send_live_room_comment(self, info: strawberry.Info, input: SendLiveRoomCommentInput) -> SendLiveRoomCommentPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            member = ctx.require_member()
            comment = await _service(ctx).comment(tx, _room_id(input.room_id), member, input.text)
            return {"comment": comment_message(comment)}

        result, errors = await run_mutation(ctx, work)
        if errors:
            return SendLiveRoomCommentPayload(user_errors=errors)
        return SendLiveRoomCommentPayload(comment=comment_node(result["comment"]))

    @strawberry.mutation(description="Member: like (taps batched by the client; accepted once per interval).")
    async def like_live_room(self, info: strawberry.Info, input: LikeLiveRoomInput) -> LikeLiveRoomPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            member = ctx.require_member()
            return {"likeCount": await _service(ctx).like(tx, _room_id(input.room_id), member, input.taps)}

        result, errors = await run_mutation(ctx, work)
        if errors:
            return LikeLiveRoomPayload(user_errors=errors)
        return LikeLiveRoomPayload(like_count=result["likeCount"])

    @strawberry.mutation(description="Member: order from the room — live prices while it is live, attributed to the room and its sharer.")
    async def create_live_room_order(self, info: strawberry.Info, input: CreateLiveRoomOrderInput) -> OrderPayload:  # noqa: A002
        ctx: Context = info.context
        request = {"room": str(input.room_id), "lines": [(str(l.sku_id), l.quantity) for l in input.lines],
                   "delivery": input.delivery_type.value, "store": input.store_id, "sharer": input.sharer_member_id,
                   "code": input.share_code, "expect": input.expect_live_price}

        async def work(tx):  # noqa: ANN001, ANN202
            member = ctx.require_member()
            room_id = _room_id(input.room_id)
            if input.sharer_member_id:
                decode_id(input.sharer_member_id, "Member", field="input.sharerMemberId")
            lines = [(decode_id(l.sku_id, "Sku", field=f"input.lines[{i}].skuId"), l.quantity) for i, l in enumerate(input.lines)]
            source = {"liveRoomId": to_global_id("LiveRoom", room_id), "sharerMemberId": input.sharer_member_id,
                      "shareCode": input.share_code}
            # A convenience over the one checkout: the same as placeOrder with every line's
            # liveRoomId set, plus "refuse rather than charge more once the room is not live".
            order_id = await ctx.kernel.service("orders").create_order(
                tx, member_id=member, lines=lines, delivery_type=input.delivery_type.value,
                inputs={"pickup": {"storeId": str(input.store_id)}} if input.store_id is not None else None,
                line_inputs=[{LINE_FIELD: to_global_id("LiveRoom", room_id)} for _ in lines],
                source={k: str(v) for k, v in source.items() if v is not None},
                attributes={EXPECT_LIVE_PRICE: True} if input.expect_live_price else None,
                idempotency_key=input.idempotency_key)
            return {"orderId": order_id}

        result, errors = await run_mutation(ctx, work, idempotency=("live_room.order", input.idempotency_key, request))
        if errors:
            return OrderPayload(user_errors=errors)
        return OrderPayload(order=(await load_orders(ctx, [result["orderId"]]))[0])


async def _viewer_payload(ctx: Context, result: dict | None, errors: list) -> LiveRoomViewerPayload:
    if errors:
        return LiveRoomViewerPayload(user_errors=errors)
    return LiveRoomViewerPayload(room=(await load_rooms(ctx, [result["roomId"]]))[0], viewer_count=result["viewerCount"])


# -- the stream ----------------------------------------------------------------------------------

@strawberry.type(description="One thing that happened in a room, with the room's state right after it.")
class LiveRoomEvent:
    kind: LiveRoomEventKind
    room_id: strawberry.ID
    status: LiveRoomStatus
    viewer_count: int
    peak_viewers: int
    like_count: int
    comment_count: int
    comments_enabled: bool
    likes_enabled: bool
    muted_all: bool
    comment: LiveRoomComment | None = strawberry.field(description="Set on COMMENT events.")
    presented_pk: strawberry.Private[int | None] = None
    stream: StreamPosition = strawberry.field(default_factory=no_position, description="Where this payload stands in the live stream.")

    @strawberry.field(description="The product being presented (讲解中), if any.")
    async def presented_product(self, info: strawberry.Info) -> Product | None:
        if self.presented_pk is None:
            return None
        return await info.context.loader("catalog.products").load(self.presented_pk)


def event_node(data: dict[str, Any]) -> LiveRoomEvent:
    return LiveRoomEvent(
        kind=LiveRoomEventKind(data["kind"]), room_id=strawberry.ID(to_global_id("LiveRoom", data["roomId"])),
        status=LiveRoomStatus(data["status"]), viewer_count=data["viewerCount"], peak_viewers=data["peakViewers"],
        like_count=data["likeCount"], comment_count=data["commentCount"], comments_enabled=data["commentsEnabled"],
        likes_enabled=data["likesEnabled"], muted_all=data["mutedAll"],
        comment=comment_node(data["comment"], data.get("hostStaffId")) if data.get("comment") else None, presented_pk=data.get("presentedProductId"),
    )


FINAL = ("ended", "cancelled", "expired")


@strawberry.type
class Subscription:
    @strawberry.subscription(description="A room's events: comments, likes, viewers, the presented product, status. "
                                         "Starts with a SNAPSHOT; ends after the room ends.")
    async def live_room_events(self, info: strawberry.Info, room_id: strawberry.ID) -> AsyncGenerator[LiveRoomEvent, None]:
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


