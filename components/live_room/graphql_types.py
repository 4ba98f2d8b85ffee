"""The live room's smaller GraphQL types: comments, live prices, shelf items and a session's
figures, with the functions that build them. The room itself and the queries are in graphql.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from sqlalchemy import select

from components.catalog.graphql import Product, Sku
from components.live_room import models
from components.live_room.service import MANAGE, RUNNING, Results
from components.live_room.states import comment_message
from core.gql import Context, Money, Node, money
from core.gql.relay import to_global_id


def runs(ctx: Context, host_pk: int) -> bool:
    """The actor runs the room: its host (a live host or an admin) or a live-room manager."""
    actor = ctx.actor
    if not actor.is_staff:
        return False
    return (actor.id == host_pk and (actor.is_admin or actor.has_role("live_host"))) or ctx.can(MANAGE)


@strawberry.type(description="A comment said in a live room; public, like the room (node(id) reads one).")
class LiveRoomComment(Node):
    author: str = strawberry.field(description="The nickname shown with the comment, as it was when the member spoke.")
    text: str = strawberry.field(description="What was said, trimmed; at most the brand's comment_max_length characters.")
    created_at: datetime = strawberry.field(description="When it was said (ISO 8601 UTC).")
    member_pk: strawberry.Private[int]
    host_pk: strawberry.Private[int | None] = None

    @strawberry.field(description="The commenter's member id — for the room's host and live-room managers (to mute); null for others.")
    def author_member_id(self, info: strawberry.Info) -> strawberry.ID | None:
        shown = self.host_pk is not None and runs(info.context, self.host_pk)
        return strawberry.ID(to_global_id("Member", self.member_pk)) if shown else None


@strawberry.type(description="A live-only price of one SKU, honoured only while the room is live.")
class LiveRoomPrice:
    live_price: Money = strawberry.field(description="The price in the room while it is live (minor units of the brand currency).")
    sku_pk: strawberry.Private[int]

    @strawberry.field(description="The SKU this price is for; null if the catalog no longer has it.")
    async def sku(self, info: strawberry.Info) -> Sku | None:
        return await info.context.loader("catalog.skus").load(self.sku_pk)


@strawberry.type(description="A product on a room's shelf (货架).")
class LiveRoomShelfItem:
    position: int = strawberry.field(description="Display order on the shelf, lowest first (0 to 10000).")
    on_shelf: bool = strawberry.field(description="Viewers see it; false: only the host and managers see it (taken off the shelf).")
    is_presented: bool = strawberry.field(description="讲解中: the host is presenting it now.")
    live_prices: list[LiveRoomPrice] = strawberry.field(
        description="Live-only prices per SKU; empty for viewers before and after the session (a surprise price is not announced early)."
    )
    live_stock: int | None = strawberry.field(description="Units left at the live price (null: no cap).")
    per_member_limit: int | None = strawberry.field(description="Units one member may buy at the live price (null: no limit).")
    product_pk: strawberry.Private[int]

    @strawberry.field(description="The product; null if the catalog no longer has it.")
    async def product(self, info: strawberry.Info) -> Product | None:
        return await info.context.loader("catalog.products").load(self.product_pk)


@strawberry.type(description="A session's figures: what brands report after a live session. Money in minor units of the brand currency.")
class LiveRoomResults:
    unique_viewers: int = strawberry.field(description="Members who joined the room at least once.")
    peak_viewers: int = strawberry.field(description="Most viewers watching at once.")
    comments: int = strawberry.field(description="Comments said in the room.")
    likes: int = strawberry.field(description="Like taps received.")
    orders: int = strawberry.field(description="Orders placed from the room while it was live or paused.")
    paid_orders: int = strawberry.field(description="Of those orders, the ones paid.")
    paying_members: int = strawberry.field(description="Distinct members who paid an order of the session.")
    gmv: Money = strawberry.field(description="Paid order totals of the session (refunds not deducted; see refunded).")
    refunded: Money = strawberry.field(description="Refunded so far on the session's orders.")
    average_order_value: Money = strawberry.field(description="GMV / paid orders, rounded half up to the minor unit.")
    conversion_rate: float = strawberry.field(description="Paying members / unique viewers, 0 to 1, four decimals.")
    orders_after_session: int = strawberry.field(description="Orders attributed to the room after it ended (the replay page).")
    gmv_after_session: Money = strawberry.field(description="Paid totals of the orders placed after the session ended.")
    orders_before_session: int = strawberry.field(
        description="Orders attributed to the room before it went live (the warm-up page); all of them for a room that never did."
    )
    gmv_before_session: Money = strawberry.field(description="Paid totals of the orders placed before the session began.")


async def load_shelf(ctx: Context, room: Any) -> list[LiveRoomShelfItem]:
    """The shelf of a room node as this actor sees it (viewers: what is on it; the host: everything)."""
    session = await ctx.session()
    stmt = select(models.ShelfItem).where(models.ShelfItem.room_id == room.pk)
    hosting = runs(ctx, room.host_pk)
    if not hosting:
        stmt = stmt.where(models.ShelfItem.on_shelf.is_(True))
    items = (await session.scalars(stmt.order_by(models.ShelfItem.position, models.ShelfItem.id))).all()
    prices = (await session.scalars(select(models.LivePrice).where(models.LivePrice.room_id == room.pk).order_by(models.LivePrice.sku_id))).all()
    currency = ctx.kernel.blueprint.brand.currency
    by_product: dict[int, list[LiveRoomPrice]] = {}
    if not hosting and room.status.value not in RUNNING:
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
        pk=data["id"],
        author=data["author"],
        text=data["text"],
        created_at=datetime.fromisoformat(data["createdAt"]),
        member_pk=data["memberId"],
        host_pk=host_pk,
    )


async def load_comments(ctx: Context, keys: list[int]) -> list[LiveRoomComment | None]:
    """Comments by primary key for node(id): public like the room they were said in."""
    session = await ctx.session()
    rows = await session.execute(
        select(models.Comment, models.Room.host_staff_id)
        .join(models.Room, models.Room.id == models.Comment.room_id)
        .where(models.Comment.id.in_(keys))
    )
    found = {comment.id: (comment, host) for comment, host in rows.all()}
    return [comment_node(comment_message(found[k][0]), found[k][1]) if k in found else None for k in keys]
