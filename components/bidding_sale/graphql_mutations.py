"""Auction mutations: staff manage lots; members pay deposits, bid and buy now."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from components.bidding_sale.graphql import MANAGE, AuctionLot, load_lots
from components.orders.graphql import Order, load_orders
from core.errors import DomainError
from core.gql import Context, MoneyInput, Payload, decode_id, minor_from_input, run_mutation
from core.units import parse_duration


def _duration(value: str | None, field: str):  # noqa: ANN202
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise DomainError("BIDDING_SALE_INVALID_LOT", str(exc), field=field) from None


@strawberry.input(description="One rung of an increment ladder: from this price on, bids go up by this step.")
class IncrementInput:
    from_price: MoneyInput = strawberry.field(description="The price from which this step applies (minor units).")
    step: MoneyInput = strawberry.field(description="The increment above that price (minor units, above zero).")


@strawberry.input(description="A lot to put up for auction. Money in minor units of the brand currency; times ISO 8601 with an offset.")
class CreateAuctionLotInput:
    sku_id: strawberry.ID = strawberry.field(description="The SKU on auction (global id); one unit is held from its stock.")
    start_price: MoneyInput = strawberry.field(description="The first bid's minimum.")
    increment: MoneyInput | None = strawberry.field(default=None, description="A fixed step; or give `ladder`.")
    ladder: list[IncrementInput] | None = strawberry.field(default=None, description="Steps that grow with the price; or give `increment`.")
    starts_at: datetime = strawberry.field(description="When bidding opens.")
    ends_at: datetime = strawberry.field(description="When bidding closes (late bids may extend it: soft close).")
    reserve_price: MoneyInput | None = strawberry.field(default=None, description="Below this the lot goes unsold; never shown to bidders.")
    buy_now_price: MoneyInput | None = strawberry.field(default=None, description="A price to buy at once, offered until the first bid.")
    deposit: MoneyInput | None = strawberry.field(default=None, description="The deposit (保证金) a member pays before bidding; none by default.")
    schedule: bool = strawberry.field(default=True, description="false keeps the lot a draft (schedule it later with scheduleAuctionLot).")
    extend_window: str | None = strawberry.field(default=None, description='Soft close window, e.g. "60s"; the brand\'s by default.')
    extend_by: str | None = strawberry.field(default=None, description='How far an extension moves the end, e.g. "2m"; the brand\'s by default.')
    max_extensions: int | None = strawberry.field(default=None, description="At most this many extensions; the brand's by default.")
    payment_due: str | None = strawberry.field(default=None, description='How long the winner has to pay, e.g. "24h"; the brand\'s by default.')


@strawberry.input(description="Names one lot, with a key for replays.")
class LotIdInput:
    lot_id: strawberry.ID = strawberry.field(description="The lot (global id).")
    # payLotDeposit freezes money and cancelAuctionLot releases it: like every money mutation
    # they take a key, and a replay answers as the first call did (not with "already done").
    idempotency_key: str | None = strawberry.field(
        default=None, description="A replay with the same key answers the first result and does nothing more."
    )


@strawberry.input(description="A bid on a lot.")
class PlaceBidInput:
    lot_id: strawberry.ID = strawberry.field(description="The lot (global id).")
    amount: MoneyInput = strawberry.field(description="The bid: at least the lot's nextMinimumBid, on the increment ladder.")
    maximum: MoneyInput | None = strawberry.field(default=None, description="Bid for me up to this (proxy bidding).")
    idempotency_key: str | None = strawberry.field(
        default=None, description="A replay with the same key answers the first result and bids nothing more."
    )


@strawberry.input(description="Buy a lot at its buy-now price.")
class BuyNowInput:
    lot_id: strawberry.ID = strawberry.field(description="The lot (global id).")
    idempotency_key: str | None = strawberry.field(
        default=None, description="A replay with the same key answers the first result and buys nothing more."
    )


@strawberry.type(description="The lot after a change (and, for payLotDeposit, the deposit order), or why it was refused.")
class AuctionLotPayload(Payload):
    lot: AuctionLot | None = strawberry.field(default=None, description="The lot as it is now; null when refused.")
    # On this payload rather than a new one, so payLotDeposit keeps its type for frontends.
    order: Order | None = strawberry.field(default=None, description="payLotDeposit: the deposit order, to pay with payOrder.")


@strawberry.type(description="The lot after a bid or a buy-now, and whether the member leads, or why it was refused.")
class PlaceBidPayload(Payload):
    lot: AuctionLot | None = strawberry.field(default=None, description="The lot as it is now; null when refused.")
    leading: bool | None = strawberry.field(default=None, description="The member leads after this call (a proxy may have outbid them at once).")


CreateArg = Annotated[CreateAuctionLotInput, strawberry.argument(description="The lot to create.")]
LotArg = Annotated[LotIdInput, strawberry.argument(description="The lot, and an idempotency key.")]
BidArg = Annotated[PlaceBidInput, strawberry.argument(description="The lot and the bid.")]
BuyArg = Annotated[BuyNowInput, strawberry.argument(description="The lot.")]


def _service(ctx: Context):  # noqa: ANN202
    return ctx.kernel.service("bidding_sale")


async def _lot_payload(ctx: Context, result: dict | None, errors: list) -> AuctionLotPayload:
    if errors:
        return AuctionLotPayload(user_errors=errors)
    return AuctionLotPayload(lot=(await load_lots(ctx, [result["lotId"]]))[0])


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Staff: create a lot (scheduled unless `schedule: false`).")
    async def create_auction_lot(self, info: strawberry.Info, input: CreateArg) -> AuctionLotPayload:  # noqa: A002
        ctx: Context = info.context
        currency = ctx.kernel.blueprint.brand.currency

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require(MANAGE)
            if (input.increment is None) == (input.ladder is None):
                raise DomainError("BIDDING_SALE_INVALID_LOT", "Give either increment or ladder.", field="input.increment")
            if input.increment is not None:
                increments = [(0, minor_from_input(input.increment, currency, "input.increment", allow_zero=False))]
            else:
                increments = [
                    (
                        minor_from_input(r.from_price, currency, f"input.ladder[{i}].fromPrice"),
                        minor_from_input(r.step, currency, f"input.ladder[{i}].step", allow_zero=False),
                    )
                    for i, r in enumerate(input.ladder)
                ]
            if input.starts_at.tzinfo is None or input.ends_at.tzinfo is None:
                raise DomainError("BIDDING_SALE_INVALID_LOT", "Times need a time zone offset.", field="input.startsAt")
            lot_id = await _service(ctx).create_lot(
                tx,
                sku_id=decode_id(input.sku_id, "Sku", field="input.skuId"),
                start_price=minor_from_input(input.start_price, currency, "input.startPrice"),
                increments=increments,
                starts_at=input.starts_at,
                ends_at=input.ends_at,
                reserve_price=minor_from_input(input.reserve_price, currency, "input.reservePrice") if input.reserve_price else None,
                buy_now_price=minor_from_input(input.buy_now_price, currency, "input.buyNowPrice") if input.buy_now_price else None,
                deposit=minor_from_input(input.deposit, currency, "input.deposit") if input.deposit else 0,
                schedule=input.schedule,
                extend_window=_duration(input.extend_window, "input.extendWindow"),
                extend_by=_duration(input.extend_by, "input.extendBy"),
                max_extensions=input.max_extensions,
                payment_due=_duration(input.payment_due, "input.paymentDue"),
            )
            return {"lotId": lot_id}

        return await _lot_payload(ctx, *await run_mutation(ctx, work))

    @strawberry.mutation(description="Staff: schedule a draft lot.")
    async def schedule_auction_lot(self, info: strawberry.Info, input: LotArg) -> AuctionLotPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require(MANAGE)
            lot_id = decode_id(input.lot_id, "AuctionLot", field="input.lotId")
            await _service(ctx).schedule(tx, lot_id)
            return {"lotId": lot_id}

        return await _lot_payload(
            ctx, *await run_mutation(ctx, work, idempotency=("bidding_sale.schedule", input.idempotency_key, [str(input.lot_id)]))
        )

    @strawberry.mutation(description="Staff: cancel a lot that has not closed; deposits are released.")
    async def cancel_auction_lot(self, info: strawberry.Info, input: LotArg) -> AuctionLotPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require(MANAGE)
            lot_id = decode_id(input.lot_id, "AuctionLot", field="input.lotId")
            await _service(ctx).cancel(tx, lot_id)
            return {"lotId": lot_id}

        return await _lot_payload(
            ctx, *await run_mutation(ctx, work, idempotency=("bidding_sale.cancel", input.idempotency_key, [str(input.lot_id)]))
        )

    @strawberry.mutation(
        description="Member: the lot's deposit (保证金) as an order to pay with payOrder (any provider); "
        "once paid you may bid. Asking again returns the same unpaid order."
    )
    async def pay_lot_deposit(self, info: strawberry.Info, input: LotArg) -> AuctionLotPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            lot_id = decode_id(input.lot_id, "AuctionLot", field="input.lotId")
            bidder = await _service(ctx).request_deposit(tx, lot_id, ctx.require_member())
            return {"lotId": lot_id, "orderId": bidder.deposit_order_id}

        result, errors = await run_mutation(ctx, work, idempotency=("bidding_sale.deposit", input.idempotency_key, [str(input.lot_id)]))
        if errors:
            return AuctionLotPayload(user_errors=errors)
        return AuctionLotPayload(lot=(await load_lots(ctx, [result["lotId"]]))[0], order=(await load_orders(ctx, [result["orderId"]]))[0])

    @strawberry.mutation(description="Member: bid, optionally with a maximum the system bids up to for you.")
    async def place_bid(self, info: strawberry.Info, input: BidArg) -> PlaceBidPayload:  # noqa: A002
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
    async def buy_now(self, info: strawberry.Info, input: BuyArg) -> PlaceBidPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            member_id = ctx.require_member()
            return await _service(ctx).buy_now(tx, decode_id(input.lot_id, "AuctionLot", field="input.lotId"), member_id)

        result, errors = await run_mutation(ctx, work, idempotency=("bidding_sale.buy_now", input.idempotency_key, [str(input.lot_id)]))
        if errors:
            return PlaceBidPayload(user_errors=errors)
        return PlaceBidPayload(lot=(await load_lots(ctx, [result["lotId"]]))[0], leading=True)
