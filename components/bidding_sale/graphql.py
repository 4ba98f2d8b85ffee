"""Auctions in GraphQL: lots, bids, deposits and the lot's live stream."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import AsyncGenerator

import strawberry
from sqlalchemy import select

from components.bidding_sale import models
from components.bidding_sale.messages import channel, lot_message, mask
from components.catalog.graphql import Sku
from components.orders.graphql import Order, load_orders
from core.clock import as_utc
from core.gql import Connection, Context, Money, Node, connection, decode_id, fetch_page, money
from core.gql.relay import to_global_id
from core.gql.stream import StreamPosition, no_position, snapshot_position, stream_position

MANAGE = "bidding_sale.manage"


@strawberry.enum
class AuctionLotStatus(enum.Enum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    OPEN = "open"
    SOLD = "sold"
    PAID = "paid"
    UNSOLD = "unsold"
    CANCELLED = "cancelled"
    DEFAULTED = "defaulted"
    REFUNDED = "refunded"


@strawberry.type(description="One accepted step of a lot's price.")
class AuctionBid:
    seq: int
    amount: Money
    bidder: str = strawberry.field(description="Masked: who, not which member.")
    is_proxy: bool
    is_mine: bool
    created_at: datetime


@strawberry.type(description="One line of a lot's deposit ledger.")
class AuctionDepositEntry:
    member_id: strawberry.ID
    order_id: strawberry.ID = strawberry.field(description="The deposit order the money moved through.")
    kind: str = strawberry.field(description="paid | refunded (money through the provider) | applied | forfeited")
    amount: Money
    created_at: datetime


@strawberry.type(description="An auction lot (竞拍品).")
class AuctionLot(Node):
    status: AuctionLotStatus
    start_price: Money
    current_price: Money | None
    next_minimum_bid: Money | None
    buy_now_price: Money | None = strawberry.field(description="Offered only until the first bid.")
    deposit: Money
    starts_at: datetime
    ends_at: datetime
    time_left_seconds: int
    reserve_met: bool | None = strawberry.field(description="Null when the lot has no reserve; never the reserve itself.")
    leader: str | None
    bid_count: int
    extensions: int
    extend_window_seconds: int = strawberry.field(description="A bid this close to the end extends it (soft close).")
    extend_by_seconds: int = strawberry.field(description="An extension moves the end to the bid's time plus this.")
    max_extensions: int
    payment_due_seconds: int = strawberry.field(description="How long the winner has to pay.")
    sku_pk: strawberry.Private[int]

    @strawberry.field
    async def sku(self, info: strawberry.Info) -> Sku | None:
        return await info.context.loader("catalog.skus").load(self.sku_pk)

    @strawberry.field(description="Accepted bids, newest first.")
    async def bids(self, info: strawberry.Info, first: int = 50) -> list[AuctionBid]:
        ctx: Context = info.context
        session = await ctx.session()
        rows = await session.scalars(
            select(models.Bid).where(models.Bid.lot_id == self.pk).order_by(models.Bid.seq.desc()).limit(max(0, min(first, 100)))
        )
        currency = ctx.kernel.blueprint.brand.currency
        me = ctx.actor.id if ctx.actor.is_member else None
        return [
            AuctionBid(
                seq=b.seq,
                amount=money(b.amount, currency),
                bidder=mask(b.member_id),
                is_proxy=b.kind == "proxy",
                is_mine=b.member_id == me,
                created_at=as_utc(b.created_at),
            )
            for b in rows.all()
        ]

    @strawberry.field(description="The signed-in member's maximum on this lot (hidden from others).")
    async def my_maximum(self, info: strawberry.Info) -> Money | None:
        ctx: Context = info.context
        if not ctx.actor.is_member:
            return None
        session = await ctx.session()
        bidder = await session.scalar(select(models.Bidder).where(models.Bidder.lot_id == self.pk, models.Bidder.member_id == ctx.actor.id))
        return money(bidder.max_amount, ctx.kernel.blueprint.brand.currency) if bidder and bidder.max_amount else None

    @strawberry.field(description="The signed-in member's deposit order (保证金), paid with payOrder like any order.")
    async def my_deposit_order(self, info: strawberry.Info) -> Order | None:
        ctx: Context = info.context
        if not ctx.actor.is_member:
            return None
        session = await ctx.session()
        order_id = await session.scalar(
            select(models.Bidder.deposit_order_id).where(models.Bidder.lot_id == self.pk, models.Bidder.member_id == ctx.actor.id)
        )
        return (await load_orders(ctx, [order_id]))[0] if order_id else None

    @strawberry.field(description="Staff: every movement of this lot's deposits (paid, refunded, applied, forfeited).")
    async def deposit_ledger(self, info: strawberry.Info) -> list[AuctionDepositEntry]:
        ctx: Context = info.context
        ctx.require(MANAGE)
        rows = await ctx.kernel.service("bidding_sale").deposits.ledger(await ctx.session(), self.pk)
        currency = ctx.kernel.blueprint.brand.currency
        return [
            AuctionDepositEntry(
                member_id=strawberry.ID(to_global_id("Member", r.member_id)),
                order_id=strawberry.ID(to_global_id("Order", r.order_id)),
                kind=r.kind,
                amount=money(r.amount_minor, currency),
                created_at=as_utc(r.created_at),
            )
            for r in rows
        ]

    @strawberry.field(description="Staff: where the deposit ledger disagrees with the deposit orders' payments (empty: it reconciles).")
    async def deposit_discrepancies(self, info: strawberry.Info) -> list[str]:
        ctx: Context = info.context
        ctx.require(MANAGE)
        async with ctx.kernel.transaction() as tx:  # reads only; orders are read through their service
            return await ctx.kernel.service("bidding_sale").deposits.reconcile(tx, self.pk)

    @strawberry.field(description="The signed-in member's deposit: none, pending (order unpaid), frozen, released, applied, forfeited or returned.")
    async def my_deposit(self, info: strawberry.Info) -> str | None:
        ctx: Context = info.context
        if not ctx.actor.is_member:
            return None
        session = await ctx.session()
        bidder = await session.scalar(select(models.Bidder).where(models.Bidder.lot_id == self.pk, models.Bidder.member_id == ctx.actor.id))
        return bidder.deposit_state if bidder else "none"

    @strawberry.field(description="The winner's order (only for the winner and staff).")
    async def winner_order(self, info: strawberry.Info) -> Order | None:
        session = await info.context.session()
        row = await session.get(models.LotOrder, self.pk)
        return (await load_orders(info.context, [row.order_id]))[0] if row else None


def lot_node(row: models.Lot, ctx: Context) -> AuctionLot:
    return lot_from_message(lot_message(row, ctx.kernel.clock.now()), ctx)


def lot_from_message(data: dict, ctx: Context) -> AuctionLot:
    """The lot node from its channel message: the query and every stream payload build it the
    same way, and a subscriber never reads the lot again per publish."""
    currency = ctx.kernel.blueprint.brand.currency
    now = ctx.kernel.clock.now()
    ends_at = datetime.fromisoformat(data["endsAt"])
    due = data["paymentDueSeconds"]

    def cash(minor: int | None) -> Money | None:
        return money(minor, currency) if minor is not None else None

    return AuctionLot(
        pk=data["lotPk"],
        status=AuctionLotStatus(data["status"]),
        start_price=money(data["startPrice"], currency),
        current_price=cash(data["currentPrice"]),
        next_minimum_bid=cash(data["nextMinimumBid"]),
        buy_now_price=cash(data["buyNowPrice"]),
        deposit=money(data["deposit"], currency),
        starts_at=datetime.fromisoformat(data["startsAt"]),
        ends_at=ends_at,
        time_left_seconds=max(0, int((ends_at - now).total_seconds())) if data["status"] in ("scheduled", "open") else 0,
        reserve_met=data["reserveMet"],
        leader=data["leader"],
        bid_count=data["bidCount"],
        extensions=data["extensions"],
        extend_window_seconds=data["extendWindowSeconds"],
        extend_by_seconds=data["extendBySeconds"],
        max_extensions=data["maxExtensions"],
        payment_due_seconds=due if due else int(ctx.kernel.service("bidding_sale").payment_due.total_seconds()),
        sku_pk=data["skuPk"],
    )


@strawberry.type(description="A lot's price, leader, end and status at one moment.")
class AuctionLotUpdate:
    lot: AuctionLot = strawberry.field(description="The lot as it stands now: the node a normalised client cache merges by its `id`.")
    lot_id: strawberry.ID = strawberry.field(deprecation_reason="Use `lot { id }`.", description="The lot's global id.")
    status: AuctionLotStatus = strawberry.field(deprecation_reason="Use `lot { status }`.", description="The lot's status.")
    current_price: Money | None = strawberry.field(deprecation_reason="Use `lot { currentPrice }`.", description="The price now.")
    leader: str | None = strawberry.field(deprecation_reason="Use `lot { leader }`.", description="The masked leader.")
    ends_at: datetime = strawberry.field(deprecation_reason="Use `lot { endsAt }`.", description="When the lot ends.")
    bid_count: int = strawberry.field(deprecation_reason="Use `lot { bidCount }`.", description="Accepted bids so far.")
    seq: int = strawberry.field(description="The lot's change counter: a payload with a lower seq than one already applied is stale.")
    stream: StreamPosition = strawberry.field(default_factory=no_position, description="Where this payload stands in the live stream.")


def update_node(data: dict, ctx: Context) -> AuctionLotUpdate:
    lot = lot_from_message(data, ctx)
    return AuctionLotUpdate(
        lot=lot,
        lot_id=strawberry.ID(data["lotId"]),
        status=lot.status,
        current_price=lot.current_price,
        leader=lot.leader,
        ends_at=lot.ends_at,
        bid_count=lot.bid_count,
        seq=data["seq"],
    )


# After these a lot never changes again; a "sold" lot still reports its payment or default.
FINAL = ("unsold", "cancelled", "paid", "defaulted", "refunded")


async def load_lots(ctx: Context, keys: list[int]) -> list[AuctionLot | None]:
    session = await ctx.session()
    rows = {r.id: r for r in (await session.scalars(select(models.Lot).where(models.Lot.id.in_(keys)))).all()}
    visible = lambda r: r.status != "draft" or (ctx.actor.is_staff and ctx.can(MANAGE))  # noqa: E731
    return [lot_node(rows[k], ctx) if k in rows and visible(rows[k]) else None for k in keys]


@strawberry.type
class Query:
    @strawberry.field(description="Lots, newest first; drafts only for staff.")
    async def auction_lots(
        self, info: strawberry.Info, first: int | None = 20, after: str | None = None, status: AuctionLotStatus | None = None
    ) -> Connection[AuctionLot]:
        ctx: Context = info.context
        stmt = select(models.Lot)
        if not (ctx.actor.is_staff and ctx.can(MANAGE)):
            stmt = stmt.where(models.Lot.status != "draft")
        if status is not None:
            now = ctx.kernel.clock.now()
            if status is AuctionLotStatus.OPEN:
                stmt = stmt.where(models.Lot.status == "scheduled", models.Lot.starts_at <= now)
            elif status is AuctionLotStatus.SCHEDULED:
                stmt = stmt.where(models.Lot.status == "scheduled", models.Lot.starts_at > now)
            else:
                stmt = stmt.where(models.Lot.status == status.value)
        page = await fetch_page(await ctx.session(), stmt, models.Lot.id, first, after, descending=True)
        return connection(page, lambda row: lot_node(row, ctx))

    @strawberry.field
    async def auction_lot(self, info: strawberry.Info, id: strawberry.ID) -> AuctionLot | None:  # noqa: A002
        return (await load_lots(info.context, [decode_id(id, "AuctionLot", field="id")]))[0]

    @strawberry.field(description="Lots the signed-in member bid on.")
    async def my_auction_lots(self, info: strawberry.Info) -> list[AuctionLot]:
        ctx: Context = info.context
        member_id = ctx.require_member()
        session = await ctx.session()
        rows = await session.scalars(
            select(models.Lot)
            .join(models.Bidder, models.Bidder.lot_id == models.Lot.id)
            .where(models.Bidder.member_id == member_id, models.Bidder.first_bid_at.is_not(None))
            .order_by(models.Lot.id.desc())
            .limit(100)
        )
        return [lot_node(r, ctx) for r in rows.all()]


@strawberry.type
class Subscription:
    @strawberry.subscription(description="A lot's price, leader, end and status as they change.")
    async def auction_lot_updates(self, info: strawberry.Info, lot_id: strawberry.ID) -> AsyncGenerator[AuctionLotUpdate, None]:
        ctx: Context = info.context
        pk = decode_id(lot_id, "AuctionLot", field="lotId")
        async with ctx.kernel.broadcast.subscribe(channel(pk)) as messages:
            async with ctx.kernel.db.read() as session:
                row = await session.get(models.Lot, pk)
            if row is None or row.status == "draft":
                return
            first = lot_message(row, ctx.kernel.clock.now())
            snapshot = update_node(first, ctx)
            snapshot.stream = snapshot_position(ctx.kernel.broadcast, channel(pk))
            yield snapshot
            if first["status"] in FINAL:
                return  # nothing more will come: a terminal lot's stream completes at once
            last_seq = first["seq"]
            async for message in messages:
                if message["seq"] < last_seq:
                    continue  # older than what the client already has
                last_seq = message["seq"]
                update = update_node(message, ctx)
                update.stream = stream_position(message)
                yield update
                if message["status"] in FINAL:
                    return
