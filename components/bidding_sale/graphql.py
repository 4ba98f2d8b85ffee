"""Auctions in GraphQL: lots, bids, deposits and the lot's live stream."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import AsyncGenerator

import strawberry
from sqlalchemy import select

from components.bidding_sale import models
from components.bidding_sale.service import channel, lot_message, mask
from components.catalog.graphql import Sku
from components.orders.graphql import Order, load_orders
from core.clock import as_utc
from core.errors import DomainError
from core.gql import (
    Connection, Context, Money, MoneyInput, Node, Payload, connection, decode_id, fetch_page, minor_from_input, money,
    run_mutation,
)

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


@strawberry.type(description="A lot's price, leader, end and status at one moment.")
class AuctionLotUpdate:
    lot_id: strawberry.ID
    status: AuctionLotStatus
    current_price: Money | None
    leader: str | None
    ends_at: datetime
    bid_count: int
    seq: int


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
    sku_pk: strawberry.Private[int]

    @strawberry.field
    async def sku(self, info: strawberry.Info) -> Sku | None:
        return await info.context.loader("catalog.skus").load(self.sku_pk)

    @strawberry.field(description="Accepted bids, newest first.")
    async def bids(self, info: strawberry.Info, first: int = 50) -> list[AuctionBid]:
        ctx: Context = info.context
        session = await ctx.session()
        rows = await session.scalars(select(models.Bid).where(models.Bid.lot_id == self.pk).order_by(models.Bid.seq.desc())
                                     .limit(max(0, min(first, 100))))
        currency = ctx.kernel.blueprint.brand.currency
        me = ctx.actor.id if ctx.actor.is_member else None
        return [AuctionBid(seq=b.seq, amount=money(b.amount, currency), bidder=mask(b.member_id), is_proxy=b.kind == "proxy",
                           is_mine=b.member_id == me, created_at=as_utc(b.created_at)) for b in rows.all()]

    @strawberry.field(description="The signed-in member's maximum on this lot (hidden from others).")
    async def my_maximum(self, info: strawberry.Info) -> Money | None:
        ctx: Context = info.context
        if not ctx.actor.is_member:
            return None
        session = await ctx.session()
        bidder = await session.scalar(select(models.Bidder).where(models.Bidder.lot_id == self.pk, models.Bidder.member_id == ctx.actor.id))
        return money(bidder.max_amount, ctx.kernel.blueprint.brand.currency) if bidder and bidder.max_amount else None

    @strawberry.field(description="The signed-in member's deposit state: none, frozen, released, applied or forfeited.")
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
    currency = ctx.kernel.blueprint.brand.currency
    now = ctx.kernel.clock.now()
    data = lot_message(row, now)
    service = ctx.kernel.service("bidding_sale")
    open_now = data["status"] == "open"
    reserve_met = None if row.reserve_price is None else (row.current_price or 0) >= row.reserve_price
    return AuctionLot(
        pk=row.id, status=AuctionLotStatus(data["status"]), start_price=money(row.start_price, currency),
        current_price=money(row.current_price, currency) if row.current_price is not None else None,
        next_minimum_bid=money(service.minimum_bid(row), currency) if open_now else None,
        buy_now_price=money(row.buy_now_price, currency) if row.buy_now_price is not None and row.bid_count == 0 else None,
        deposit=money(row.deposit, currency), starts_at=as_utc(row.starts_at), ends_at=as_utc(row.ends_at),
        time_left_seconds=max(0, int((as_utc(row.ends_at) - now).total_seconds())) if row.status == "scheduled" else 0,
        reserve_met=reserve_met, leader=data["leader"], bid_count=row.bid_count, extensions=row.extensions, sku_pk=row.sku_id,
    )


def update_node(data: dict, currency: str) -> AuctionLotUpdate:
    return AuctionLotUpdate(
        lot_id=strawberry.ID(data["lotId"]), status=AuctionLotStatus(data["status"]),
        current_price=money(data["currentPrice"], currency) if data["currentPrice"] is not None else None,
        leader=data["leader"], ends_at=datetime.fromisoformat(data["endsAt"]), bid_count=data["bidCount"], seq=data["seq"],
    )


async def load_lots(ctx: Context, keys: list[int]) -> list[AuctionLot | None]:
    session = await ctx.session()
    rows = {r.id: r for r in (await session.scalars(select(models.Lot).where(models.Lot.id.in_(keys)))).all()}
    visible = lambda r: r.status != "draft" or (ctx.actor.is_staff and ctx.can(MANAGE))  # noqa: E731
    return [lot_node(rows[k], ctx) if k in rows and visible(rows[k]) else None for k in keys]


@strawberry.type
class Query:
    @strawberry.field(description="Lots, newest first; drafts only for staff.")
    async def auction_lots(self, info: strawberry.Info, first: int | None = 20, after: str | None = None,
                           status: AuctionLotStatus | None = None) -> Connection[AuctionLot]:
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
        rows = await session.scalars(select(models.Lot).join(models.Bidder, models.Bidder.lot_id == models.Lot.id)
                                     .where(models.Bidder.member_id == member_id, models.Bidder.first_bid_at.is_not(None))
                                     .order_by(models.Lot.id.desc()).limit(100))
        return [lot_node(r, ctx) for r in rows.all()]


@strawberry.input
class IncrementInput:
    from_price: MoneyInput
    step: MoneyInput


@strawberry.input
class CreateAuctionLotInput:
    sku_id: strawberry.ID
    start_price: MoneyInput
    increment: MoneyInput | None = strawberry.field(default=None, description="A fixed step; or give `ladder`.")
    ladder: list[IncrementInput] | None = None
    starts_at: datetime
    ends_at: datetime
    reserve_price: MoneyInput | None = None
    buy_now_price: MoneyInput | None = None
    deposit: MoneyInput | None = None
    schedule: bool = True


@strawberry.input
class LotIdInput:
    lot_id: strawberry.ID
    # payLotDeposit freezes money and cancelAuctionLot releases it: like every money mutation
    # they take a key, and a replay answers as the first call did (not with "already done").
    idempotency_key: str | None = None


@strawberry.input
class PlaceBidInput:
    lot_id: strawberry.ID
    amount: MoneyInput
    maximum: MoneyInput | None = strawberry.field(default=None, description="Bid for me up to this (proxy bidding).")
    idempotency_key: str | None = None


@strawberry.input
class BuyNowInput:
    lot_id: strawberry.ID
    idempotency_key: str | None = None


@strawberry.type
class AuctionLotPayload(Payload):
    lot: AuctionLot | None = None


@strawberry.type
class PlaceBidPayload(Payload):
    lot: AuctionLot | None = None
    leading: bool | None = None


def _service(ctx: Context):  # noqa: ANN202
    return ctx.kernel.service("bidding_sale")


async def _lot_payload(ctx: Context, result: dict | None, errors: list) -> AuctionLotPayload:
    if errors:
        return AuctionLotPayload(user_errors=errors)
    return AuctionLotPayload(lot=(await load_lots(ctx, [result["lotId"]]))[0])


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Staff: create a lot (scheduled unless `schedule: false`).")
    async def create_auction_lot(self, info: strawberry.Info, input: CreateAuctionLotInput) -> AuctionLotPayload:  # noqa: A002
        ctx: Context = info.context
        currency = ctx.kernel.blueprint.brand.currency

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require(MANAGE)
            if (input.increment is None) == (input.ladder is None):
                raise DomainError("BIDDING_SALE_INVALID_LOT", "Give either increment or ladder.", field="input.increment")
            if input.increment is not None:
                increments = [(0, minor_from_input(input.increment, currency, "input.increment", allow_zero=False))]
            else:
                increments = [(minor_from_input(r.from_price, currency, f"input.ladder[{i}].fromPrice"),
                               minor_from_input(r.step, currency, f"input.ladder[{i}].step", allow_zero=False))
                              for i, r in enumerate(input.ladder)]
            if input.starts_at.tzinfo is None or input.ends_at.tzinfo is None:
                raise DomainError("BIDDING_SALE_INVALID_LOT", "Times need a time zone offset.", field="input.startsAt")
            lot_id = await _service(ctx).create_lot(
                tx, sku_id=decode_id(input.sku_id, "Sku", field="input.skuId"),
                start_price=minor_from_input(input.start_price, currency, "input.startPrice"), increments=increments,
                starts_at=input.starts_at, ends_at=input.ends_at,
                reserve_price=minor_from_input(input.reserve_price, currency, "input.reservePrice") if input.reserve_price else None,
                buy_now_price=minor_from_input(input.buy_now_price, currency, "input.buyNowPrice") if input.buy_now_price else None,
                deposit=minor_from_input(input.deposit, currency, "input.deposit") if input.deposit else 0, schedule=input.schedule)
            return {"lotId": lot_id}

        return await _lot_payload(ctx, *await run_mutation(ctx, work))

    @strawberry.mutation(description="Staff: schedule a draft lot.")
    async def schedule_auction_lot(self, info: strawberry.Info, input: LotIdInput) -> AuctionLotPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require(MANAGE)
            lot_id = decode_id(input.lot_id, "AuctionLot", field="input.lotId")
            await _service(ctx).schedule(tx, lot_id)
            return {"lotId": lot_id}

        return await _lot_payload(ctx, *await run_mutation(ctx, work, idempotency=("bidding_sale.schedule", input.idempotency_key, [str(input.lot_id)])))

    @strawberry.mutation(description="Staff: cancel a lot that has not closed; deposits are released.")
    async def cancel_auction_lot(self, info: strawberry.Info, input: LotIdInput) -> AuctionLotPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require(MANAGE)
            lot_id = decode_id(input.lot_id, "AuctionLot", field="input.lotId")
            await _service(ctx).cancel(tx, lot_id)
            return {"lotId": lot_id}

        return await _lot_payload(ctx, *await run_mutation(ctx, work, idempotency=("bidding_sale.cancel", input.idempotency_key, [str(input.lot_id)])))

    @strawberry.mutation(description="Member: freeze the lot's deposit (保证金) so you may bid.")
    async def pay_lot_deposit(self, info: strawberry.Info, input: LotIdInput) -> AuctionLotPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            lot_id = decode_id(input.lot_id, "AuctionLot", field="input.lotId")
            await _service(ctx).pay_deposit(tx, lot_id, ctx.require_member())
            return {"lotId": lot_id}

        return await _lot_payload(ctx, *await run_mutation(ctx, work, idempotency=("bidding_sale.deposit", input.idempotency_key, [str(input.lot_id)])))

    @strawberry.mutation(description="Member: bid, optionally with a maximum the system bids up to for you.")
    async def place_bid(self, info: strawberry.Info, input: PlaceBidInput) -> PlaceBidPayload:  # noqa: A002
        ctx: Context = info.context
        currency = ctx.kernel.blueprint.brand.currency

        async def work(tx):  # noqa: ANN001, ANN202
            member_id = ctx.require_member()
            lot_id = decode_id(input.lot_id, "AuctionLot", field="input.lotId")
            amount = minor_from_input(input.amount, currency, "input.amount", allow_zero=False)
            maximum = minor_from_input(input.maximum, currency, "input.maximum", allow_zero=False) if input.maximum else None
            return await _service(ctx).place_bid(tx, lot_id, member_id, amount, maximum)

        request = [str(input.lot_id), input.amount.amount_minor, input.maximum.amount_minor if input.maximum else None]
        result, errors = await run_mutation(ctx, work, idempotency=("bidding_sale.bid", input.idempotency_key, request))
        if errors:
            return PlaceBidPayload(user_errors=errors)
        return PlaceBidPayload(lot=(await load_lots(ctx, [result["lotId"]]))[0], leading=result["leading"])

    @strawberry.mutation(description="Member: buy at the buy-now price (only before the first bid).")
    async def buy_now(self, info: strawberry.Info, input: BuyNowInput) -> PlaceBidPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            member_id = ctx.require_member()
            return await _service(ctx).buy_now(tx, decode_id(input.lot_id, "AuctionLot", field="input.lotId"), member_id)

        result, errors = await run_mutation(ctx, work, idempotency=("bidding_sale.buy_now", input.idempotency_key, [str(input.lot_id)]))
        if errors:
            return PlaceBidPayload(user_errors=errors)
        return PlaceBidPayload(lot=(await load_lots(ctx, [result["lotId"]]))[0], leading=True)


@strawberry.type
class Subscription:
    @strawberry.subscription(description="A lot's price, leader, end and status as they change.")
    async def auction_lot_updates(self, info: strawberry.Info, lot_id: strawberry.ID) -> AsyncGenerator[AuctionLotUpdate, None]:
        ctx: Context = info.context
        pk = decode_id(lot_id, "AuctionLot", field="lotId")
        currency = ctx.kernel.blueprint.brand.currency
        async with ctx.kernel.broadcast.subscribe(channel(pk)) as messages:
            async with ctx.kernel.db.read() as session:
                row = await session.get(models.Lot, pk)
            if row is None or row.status == "draft":
                return
            first = lot_message(row, ctx.kernel.clock.now())
            yield update_node(first, currency)
            last_seq = first["seq"]
            async for message in messages:
                if message["seq"] < last_seq:
                    continue  # older than what the client already has
                last_seq = message["seq"]
                yield update_node(message, currency)
                if message["status"] in ("unsold", "cancelled", "paid", "defaulted", "refunded"):
                    return  # final; a "sold" lot still reports its payment or default
