"""Auctions in GraphQL: lots, bids, deposits and the lot's live stream."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from sqlalchemy import select

from components.bidding_sale import models
from components.bidding_sale.graphql_types import (
    AuctionBid,
    AuctionDepositEntry,
    AuctionDepositMovement,
    AuctionDepositState,
    AuctionLotStatus,
)
from components.bidding_sale.messages import lot_message, mask
from components.catalog.graphql import Sku
from components.orders.graphql import Order, load_orders
from core.clock import as_utc
from core.gql import Connection, Context, Money, Node, connection, decode_id, fetch_page, money
from core.gql.relay import After, Before, First, Last, to_global_id

MANAGE = "bidding_sale.manage"


@strawberry.type(description="An auction lot (竞拍品). Public (drafts only for staff who manage lots). Money in minor units of the brand currency.")
class AuctionLot(Node):
    status: AuctionLotStatus = strawberry.field(description="Where the lot is in its life.")
    start_price: Money = strawberry.field(description="The first bid's minimum.")
    current_price: Money | None = strawberry.field(description="The price now; null before the first bid.")
    next_minimum_bid: Money | None = strawberry.field(description="The least a bid may be now; null unless the lot is OPEN.")
    buy_now_price: Money | None = strawberry.field(description="Offered only until the first bid.")
    deposit: Money = strawberry.field(description="The deposit (保证金) a member pays before bidding; zero: none asked.")
    starts_at: datetime = strawberry.field(description="When bidding opens (ISO 8601 UTC).")
    ends_at: datetime = strawberry.field(description="When bidding closes, after any soft-close extensions (ISO 8601 UTC).")
    time_left_seconds: int = strawberry.field(description="Seconds until endsAt while scheduled or open, as of this answer; 0 after.")
    reserve_met: bool | None = strawberry.field(description="Null when the lot has no reserve; never the reserve itself.")
    leader: str | None = strawberry.field(description="The leading bidder, masked (who, not which member); null before the first bid.")
    bid_count: int = strawberry.field(description="Accepted bids so far.")
    extensions: int = strawberry.field(description="How many times late bids extended the close so far (soft close).")
    extend_window_seconds: int = strawberry.field(description="A bid this close to the end extends it (soft close).")
    extend_by_seconds: int = strawberry.field(description="An extension moves the end to the bid's time plus this.")
    max_extensions: int = strawberry.field(description="The most extensions the lot allows.")
    payment_due_seconds: int = strawberry.field(description="How long the winner has to pay.")
    sku_pk: strawberry.Private[int]

    @strawberry.field(description="The SKU on auction; null if the catalog no longer has it.")
    async def sku(self, info: strawberry.Info) -> Sku | None:
        return await info.context.loader("catalog.skus").load(self.sku_pk)

    @strawberry.field(
        description="Accepted bids, newest first (the latest 100 at most).", deprecation_reason="Use bidHistory; removed in the next release."
    )
    async def bids(
        self, info: strawberry.Info, first: Annotated[int, strawberry.argument(description="How many of the latest bids, at most 100.")] = 50
    ) -> list[AuctionBid]:
        ctx: Context = info.context
        stmt = select(models.Bid).where(models.Bid.lot_id == self.pk).order_by(models.Bid.seq.desc()).limit(max(0, min(first, 100)))
        rows = await (await ctx.session()).scalars(stmt)
        return [bid_node(ctx, b) for b in rows.all()]

    @strawberry.field(description="Accepted bids, newest first, paged (public; bidders masked).")
    async def bid_history(
        self,
        info: strawberry.Info,
        first: Annotated[int | None, strawberry.argument(description="Bids from the newest (or after `after`), at most 100; 20 by default.")] = None,
        after: Annotated[str | None, strawberry.argument(description="Read the bids after (older than) this cursor.")] = None,
        last: Annotated[int | None, strawberry.argument(description="Bids from the oldest end (or before `before`), at most 100.")] = None,
        before: Annotated[str | None, strawberry.argument(description="Read the bids before (newer than) this cursor.")] = None,
    ) -> Connection[AuctionBid]:
        ctx: Context = info.context
        stmt = select(models.Bid).where(models.Bid.lot_id == self.pk)
        # Bid ids grow with seq within a lot (one insert per accepted step), so they order it.
        page = await fetch_page(await ctx.session(), stmt, models.Bid.id, first, after, last=last, before=before, descending=True)
        return connection(page, lambda b: bid_node(ctx, b))

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

    @strawberry.field(
        description="Staff who manage lots: every movement of this lot's deposits (paid, refunded, applied, forfeited). Null, with an "
        "error at its path, for anyone else; the rest of the lot still answers."
    )
    async def deposit_ledger(self, info: strawberry.Info) -> list[AuctionDepositEntry] | None:
        ctx: Context = info.context
        ctx.require(MANAGE)
        rows = await ctx.kernel.service("bidding_sale").deposits.ledger(await ctx.session(), self.pk)
        currency = ctx.kernel.blueprint.brand.currency
        return [
            AuctionDepositEntry(
                member_id=strawberry.ID(to_global_id("Member", r.member_id)),
                order_id=strawberry.ID(to_global_id("Order", r.order_id)),
                kind=r.kind,
                movement=AuctionDepositMovement(r.kind),
                amount=money(r.amount_minor, currency),
                created_at=as_utc(r.created_at),
            )
            for r in rows
        ]

    @strawberry.field(
        description="Staff who manage lots: where the deposit ledger disagrees with the deposit orders' payments (empty: it "
        "reconciles). Null, with an error at its path, for anyone else."
    )
    async def deposit_discrepancies(self, info: strawberry.Info) -> list[str] | None:
        ctx: Context = info.context
        ctx.require(MANAGE)
        async with ctx.kernel.transaction() as tx:  # reads only; orders are read through their service
            return await ctx.kernel.service("bidding_sale").deposits.reconcile(tx, self.pk)

    @strawberry.field(
        description="The signed-in member's deposit state as text: none, pending, frozen, released, applied, forfeited or returned.",
        deprecation_reason="Use myDepositState; removed in the next release.",
    )
    async def my_deposit(self, info: strawberry.Info) -> str | None:
        state = await self._my_deposit_state(info.context)
        return state.value if state is not None else None

    @strawberry.field(description="The signed-in member's deposit (保证金) on this lot; null when not signed in as a member.")
    async def my_deposit_state(self, info: strawberry.Info) -> AuctionDepositState | None:
        return await self._my_deposit_state(info.context)

    async def _my_deposit_state(self, ctx: Context) -> AuctionDepositState | None:
        if not ctx.actor.is_member:
            return None
        session = await ctx.session()
        state = await session.scalar(
            select(models.Bidder.deposit_state).where(models.Bidder.lot_id == self.pk, models.Bidder.member_id == ctx.actor.id)
        )
        return AuctionDepositState(state or "none")

    @strawberry.field(description="The winner's order: for the winner and staff who may see it; null for anyone else or before the close.")
    async def winner_order(self, info: strawberry.Info) -> Order | None:
        session = await info.context.session()
        row = await session.get(models.LotOrder, self.pk)
        return (await load_orders(info.context, [row.order_id]))[0] if row else None


def bid_node(ctx: Context, bid: models.Bid) -> AuctionBid:
    me = ctx.actor.id if ctx.actor.is_member else None
    return AuctionBid(
        seq=bid.seq,
        amount=money(bid.amount, ctx.kernel.blueprint.brand.currency),
        bidder=mask(bid.member_id),
        is_proxy=bid.kind == "proxy",
        is_mine=bid.member_id == me,
        created_at=as_utc(bid.created_at),
    )


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


async def load_lots(ctx: Context, keys: list[int]) -> list[AuctionLot | None]:
    session = await ctx.session()
    rows = {r.id: r for r in (await session.scalars(select(models.Lot).where(models.Lot.id.in_(keys)))).all()}
    visible = lambda r: r.status != "draft" or (ctx.actor.is_staff and ctx.can(MANAGE))  # noqa: E731
    return [lot_node(rows[k], ctx) if k in rows and visible(rows[k]) else None for k in keys]


async def load_lots_of_orders(ctx: Context, order_ids: list[int]) -> list[AuctionLot | None]:
    """The lot each order belongs to: the winner's order (its LotOrder row) or a bidder's deposit order."""
    session = await ctx.session()
    won = await session.execute(select(models.LotOrder.order_id, models.LotOrder.lot_id).where(models.LotOrder.order_id.in_(order_ids)))
    deposits = await session.execute(
        select(models.Bidder.deposit_order_id, models.Bidder.lot_id).where(models.Bidder.deposit_order_id.in_(order_ids))
    )
    lot_of = {**dict(deposits.all()), **dict(won.all())}
    lots = {lot.pk: lot for lot in await load_lots(ctx, sorted(set(lot_of.values()))) if lot is not None}
    return [lots.get(lot_of[k]) if k in lot_of else None for k in order_ids]


async def order_auction_lot(root, info: strawberry.Info) -> AuctionLot | None:  # noqa: ANN001  (root: orders' Order)
    """The lot an order belongs to (the winner's order or a deposit order); null for other orders."""
    return await info.context.loader("bidding_sale.lots_of_orders").load(root.pk)


def _mine(member_id: int):  # noqa: ANN202
    """The lots a member bid on (a deposit alone does not make a lot theirs)."""
    return (
        select(models.Lot)
        .join(models.Bidder, models.Bidder.lot_id == models.Lot.id)
        .where(models.Bidder.member_id == member_id, models.Bidder.first_bid_at.is_not(None))
    )


@strawberry.type
class Query:
    @strawberry.field(
        description="Lots, newest first (public; drafts only for staff who manage lots). `status: OPEN` is the list of open lots "
        "a frontend shows: the lots taking bids now."
    )
    async def auction_lots(
        self,
        info: strawberry.Info,
        first: First = None,
        after: After = None,
        status: Annotated[
            AuctionLotStatus | None, strawberry.argument(description="Only lots in this status (OPEN: taking bids now); null: every status.")
        ] = None,
        last: Last = None,
        before: Before = None,
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
        page = await fetch_page(await ctx.session(), stmt, models.Lot.id, first, after, last=last, before=before, descending=True)
        return connection(page, lambda row: lot_node(row, ctx))

    @strawberry.field(description="One lot by its global id (public); null when there is none, or a draft for anyone but lot managers.")
    async def auction_lot(
        self,
        info: strawberry.Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The lot's global id.")],  # noqa: A002
    ) -> AuctionLot | None:
        return (await load_lots(info.context, [decode_id(id, "AuctionLot", field="id")]))[0]

    @strawberry.field(
        description="The signed-in member's auctions: lots they bid on, newest first. Null, with an error at its path, when not "
        "signed in as a member."
    )
    async def my_auctions(
        self, info: strawberry.Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[AuctionLot] | None:
        ctx: Context = info.context
        stmt = _mine(ctx.require_member())
        page = await fetch_page(await ctx.session(), stmt, models.Lot.id, first, after, last=last, before=before, descending=True)
        return connection(page, lambda row: lot_node(row, ctx))

    @strawberry.field(
        description="Lots the signed-in member bid on (the latest 100).",
        deprecation_reason="Use myAuctions (a connection); removed in the next release.",
    )
    async def my_auction_lots(self, info: strawberry.Info) -> list[AuctionLot] | None:
        ctx: Context = info.context
        stmt = _mine(ctx.require_member())
        rows = await (await ctx.session()).scalars(stmt.order_by(models.Lot.id.desc()).limit(100))
        return [lot_node(r, ctx) for r in rows.all()]
