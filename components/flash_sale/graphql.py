"""Flash sales in GraphQL (thin). Buying is ``placeOrder`` with a line naming
``flashSaleItemId`` (the one checkout); this module lists sessions with their countdown and
lets staff make them."""

from __future__ import annotations

import enum
import functools
from datetime import datetime
from typing import Annotated

import strawberry
from sqlalchemy import select

from components.catalog.graphql import Sku
from components.flash_sale import models
from components.flash_sale.checkout import GATED, LINE_FIELD
from components.flash_sale.early import refuse_if_sold_out
from components.flash_sale.gate import PASSED, REFUSED
from components.flash_sale.service import countdown, phase
from components.orders.graphql import OrderPayload, load_orders
from core.checkout import CheckoutRequest, LineRequest
from core.clock import as_utc
from core.errors import DomainError
from core.gql import Connection, Context, Money, MoneyInput, Node, Payload, connection, decode_id, fetch_page, minor_from_input, money, run_mutation
from core.gql.payload import user_error
from core.gql.relay import After, Before, First, Last, to_global_id

MANAGE = "flash_sale.manage"


# Refusals that mean the units are really gone: the gate keeps what such a buyer took.
GONE = {"FLASH_SALE_SOLD_OUT", "INVENTORY_OUT_OF_STOCK", "INVENTORY_ACTIVITY_SOLD_OUT"}


@strawberry.enum(description="UPCOMING until it starts, RUNNING while it sells, ENDED after.")
class FlashSaleStatus(enum.Enum):
    UPCOMING = strawberry.enum_value("upcoming", description="Not started yet.")
    RUNNING = strawberry.enum_value("running", description="Selling now.")
    ENDED = strawberry.enum_value("ended", description="Over; nothing more is sold.")


@strawberry.type(description="A SKU in a flash-sale session, at its flash price, from the session's own quantity.")
class FlashSaleItem(Node):
    flash_price: Money = strawberry.field(description="The price per unit in this session.")
    list_price: Money | None = strawberry.field(description="The SKU's usual price, to show beside the flash price.")
    quantity: int = strawberry.field(description="Units the session sells in all (its own stock, not the SKU's).")
    stock_left: int = strawberry.field(description="Units not yet in an order (unpaid orders hold theirs until the window ends).")
    per_member_limit: int = strawberry.field(description="Most units one member may buy in this session.")
    sku_pk: strawberry.Private[int]
    session_pk: strawberry.Private[int]

    @strawberry.field(description="Units not yet in an order.", deprecation_reason="Use stockLeft; removed in the next release.")
    def left(self) -> int:
        return self.stock_left

    @strawberry.field(description="The SKU sold; null if the catalog no longer shows it.")
    async def sku(self, info: strawberry.Info) -> Sku | None:
        return await info.context.loader("catalog.skus").load(self.sku_pk)


@strawberry.type(description="A flash-sale time slot with its items and a countdown computed by the server.")
class FlashSaleSession(Node):
    title: str = strawberry.field(description="The session's name as members see it.")
    starts_at: datetime = strawberry.field(description="When selling starts (ISO 8601, UTC).")
    ends_at: datetime = strawberry.field(description="When selling ends (ISO 8601, UTC).")
    status: FlashSaleStatus = strawberry.field(description="Upcoming, running or ended, by the server's clock.")
    server_time: datetime = strawberry.field(description="The server's clock when this was read (for the countdown).")
    seconds_to_start: int = strawberry.field(description="0 once started.")
    seconds_to_end: int = strawberry.field(description="0 once ended.")
    payment_window_seconds: int = strawberry.field(description="How long a flash-sale order waits for its payment.")
    items: list[FlashSaleItem] = strawberry.field(description="The session's SKUs with their flash prices and what is left.")


def item_node(row: models.Item, currency: str, list_price: int | None = None) -> FlashSaleItem:
    return FlashSaleItem(
        pk=row.id,
        flash_price=money(row.flash_price_minor, currency),
        list_price=money(list_price, currency) if list_price is not None else None,
        quantity=row.quantity,
        stock_left=max(0, row.quantity - row.sold),
        per_member_limit=row.per_member_limit,
        sku_pk=row.sku_id,
        session_pk=row.session_id,
    )


async def session_nodes(ctx: Context, rows: list[models.FlashSession]) -> list[FlashSaleSession]:
    session = await ctx.session()
    currency, now = ctx.kernel.blueprint.brand.currency, ctx.kernel.clock.now()
    items = (
        (await session.scalars(select(models.Item).where(models.Item.session_id.in_([r.id for r in rows])).order_by(models.Item.id))).all()
        if rows
        else []
    )
    prices = await ctx.kernel.service("catalog").skus(session, [i.sku_id for i in items])
    window = int(ctx.kernel.service("flash_sale").payment_window.total_seconds())
    out = []
    for row in rows:
        starts, ends = as_utc(row.starts_at), as_utc(row.ends_at)
        to_start, to_end = countdown(starts, ends, now)
        out.append(
            FlashSaleSession(
                pk=row.id,
                title=row.title,
                starts_at=starts,
                ends_at=ends,
                status=FlashSaleStatus(phase(starts, ends, now)),
                server_time=now,
                seconds_to_start=to_start,
                seconds_to_end=to_end,
                payment_window_seconds=window,
                items=[item_node(i, currency, prices[i.sku_id].price_minor if i.sku_id in prices else None) for i in items if i.session_id == row.id],
            )
        )
    return out


async def load_sessions(ctx: Context, keys: list[int]) -> list[FlashSaleSession | None]:
    session = await ctx.session()
    rows = {r.id: r for r in (await session.scalars(select(models.FlashSession).where(models.FlashSession.id.in_(keys)))).all()}
    visible = [rows[k] for k in keys if k in rows and (rows[k].active or ctx.can(MANAGE))]
    nodes = {n.pk: n for n in await session_nodes(ctx, visible)}
    return [nodes.get(k) for k in keys]


async def load_items(ctx: Context, keys: list[int]) -> list[FlashSaleItem | None]:
    session = await ctx.session()
    currency = ctx.kernel.blueprint.brand.currency
    rows = {r.id: r for r in (await session.scalars(select(models.Item).where(models.Item.id.in_(keys)))).all()}
    return [item_node(rows[k], currency) if k in rows else None for k in keys]


@strawberry.type
class Query:
    @strawberry.field(description="Flash-sale sessions that have not ended, in the order staff made them (`includeEnded` for all).")
    async def flash_sale_sessions(
        self,
        info: strawberry.Info,
        first: First = None,
        after: After = None,
        include_ended: Annotated[bool, strawberry.argument(description="Include sessions that have ended.")] = False,
        last: Last = None,
        before: Before = None,
    ) -> Connection[FlashSaleSession]:
        ctx: Context = info.context
        S = models.FlashSession
        stmt = select(S).where(S.active.is_(True))
        if not include_ended:
            stmt = stmt.where(S.ends_at > ctx.kernel.clock.now())
        page = await fetch_page(await ctx.session(), stmt, S.id, first, after, last=last, before=before)
        nodes = {n.pk: n for n in await session_nodes(ctx, [row for row in page.rows])}
        return connection(page, lambda row: nodes[row.id])

    @strawberry.field(description="One session by id; null if there is none or staff took it down.")
    async def flash_sale_session(
        self,
        info: strawberry.Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The session (a FlashSaleSession id).")],  # noqa: A002
    ) -> FlashSaleSession | None:
        return (await load_sessions(info.context, [decode_id(id, "FlashSaleSession", field="id")]))[0]


@strawberry.input(description="One SKU of a new session.")
class FlashSaleItemInput:
    sku_id: strawberry.ID = strawberry.field(description="The SKU (a Sku id).")
    flash_price: MoneyInput = strawberry.field(description="The price per unit in the session.")
    quantity: int = strawberry.field(description="Units the session sells in all.")
    per_member_limit: int = strawberry.field(default=1, description="Most units one member may buy.")


@strawberry.input(description="A new flash-sale session.")
class CreateFlashSaleSessionInput:
    title: str = strawberry.field(description="The session's name as members see it.")
    starts_at: datetime = strawberry.field(description="When selling starts (ISO 8601).")
    ends_at: datetime = strawberry.field(description="When selling ends (ISO 8601); after startsAt.")
    items: list[FlashSaleItemInput] = strawberry.field(description="The SKUs it sells (at least one).")


@strawberry.input(description="What to buy in a flash sale.")
class BuyFlashSaleItemInput:
    item_id: strawberry.ID = strawberry.field(description="The item (a FlashSaleItem id).")
    quantity: int = strawberry.field(default=1, description="Units to buy, 1 to 100.")
    idempotency_key: str | None = strawberry.field(
        default=None, description="Any string unique to this attempt; a replay answers the first order and changes nothing."
    )


MAX_UNITS = 100


@strawberry.type(description="The result of createFlashSaleSession.")
class FlashSaleSessionPayload(Payload):
    session: FlashSaleSession | None = strawberry.field(default=None, description="The session made; null on error.")


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Staff: a flash-sale session with its SKUs, flash prices, quantities and limits. "
        "Members buy with placeOrder, naming flashSaleItemId on the line."
    )
    async def create_flash_sale_session(
        self,
        info: strawberry.Info,
        input: Annotated[CreateFlashSaleSessionInput, strawberry.argument(description="The session, its SKUs, prices and limits.")],
    ) -> FlashSaleSessionPayload:  # noqa: A002
        ctx: Context = info.context
        currency = ctx.kernel.blueprint.brand.currency

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require(MANAGE)
            items = [
                {
                    "sku_id": decode_id(i.sku_id, "Sku", field=f"input.items[{n}].skuId"),
                    "flash_price_minor": minor_from_input(i.flash_price, currency, f"input.items[{n}].flashPrice"),
                    "quantity": i.quantity,
                    "per_member_limit": i.per_member_limit,
                }
                for n, i in enumerate(input.items)
            ]
            session_id = await ctx.kernel.service("flash_sale").create_session(
                tx, title=input.title, starts_at=input.starts_at, ends_at=input.ends_at, items=items
            )
            return {"sessionId": session_id}

        result, errors = await run_mutation(ctx, work)
        if errors:
            return FlashSaleSessionPayload(user_errors=errors)
        return FlashSaleSessionPayload(session=(await load_sessions(ctx, [result["sessionId"]]))[0])

    @strawberry.mutation(
        description="Member: buy a flash-sale item — placeOrder with a line naming flashSaleItemId, in one "
        "step. With the Redis gate on, a buyer beyond the stock is refused before any database "
        "work. A replayed idempotencyKey answers the first order."
    )
    async def buy_flash_sale_item(
        self, info: strawberry.Info, input: Annotated[BuyFlashSaleItemInput, strawberry.argument(description="The item and how many.")]
    ) -> OrderPayload:  # noqa: A002
        ctx: Context = info.context
        service = ctx.kernel.service("flash_sale")
        try:
            item_id = decode_id(input.item_id, "FlashSaleItem", field="input.itemId")
            if isinstance(input.quantity, bool) or not 1 <= input.quantity <= MAX_UNITS:
                raise DomainError("FLASH_SALE_INVALID_QUANTITY", f"Buy 1 to {MAX_UNITS} at a time.", field="input.quantity")
        except DomainError as error:
            return OrderPayload(user_errors=[user_error(error)])
        answer = None
        if service.gate is not None and ctx.actor.is_member:
            replay = f"{ctx.actor.id}:{input.idempotency_key}" if input.idempotency_key else None
            answer = await service.gate.take(item_id, input.quantity, replay)
            if answer == REFUSED:
                return OrderPayload(user_errors=[user_error(DomainError("FLASH_SALE_SOLD_OUT", "Sold out in this session.", field="input.itemId"))])
        precheck = None
        if answer != PASSED and input.idempotency_key is None and ctx.actor.is_member:
            # A sold-out session answered without a write transaction, now and again when this
            # buyer's turn to write comes (early.py).
            try:
                await refuse_if_sold_out(service, ctx, item_id, input.quantity)
            except DomainError as early:
                return OrderPayload(user_errors=[user_error(early)])
            precheck = functools.partial(service.sold_out_memo.refuse, item_id, input.quantity)

        async def work(tx):  # noqa: ANN001, ANN202
            member_id = ctx.require_member()
            item, _session = await service.item(tx, item_id, "input.itemId")
            request = CheckoutRequest(
                member_id=member_id,
                idempotency_key=input.idempotency_key,
                attributes={GATED: answer is not None},
                lines=[LineRequest(item.sku_id, input.quantity, {LINE_FIELD: to_global_id("FlashSaleItem", item_id)})],
            )
            return {"orderId": await ctx.kernel.service("orders").place(tx, request)}

        request = [str(input.item_id), input.quantity]
        result, errors = await run_mutation(ctx, work, idempotency=("flash_sale.buy", input.idempotency_key, request), precheck=precheck)
        if errors:
            if answer == PASSED and not {str(e.code) for e in errors} & GONE:
                # Nothing was placed for a reason other than the units being gone (the member's
                # limit, the database unavailable): the units this buyer took go back to the gate.
                # When the database says sold out the gate was above the truth: let it drain.
                await service.gate.give_back(item_id, input.quantity)
            return OrderPayload(user_errors=errors)
        return OrderPayload(order=(await load_orders(ctx, [result["orderId"]]))[0])
