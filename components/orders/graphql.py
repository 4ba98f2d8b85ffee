"""Orders' GraphQL types: an order, its lines and payments as nodes, and the loaders that keep
them private. A member sees only their own orders; staff need orders.view (a store clerk, only
their stores' orders). The queries are in ``graphql_queries``, the mutations in
``graphql_mutations``; the enums in ``enums``."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

import strawberry
from sqlalchemy import select

from components.catalog.graphql import Sku
from components.members.graphql import Member
from components.orders import models
from components.orders.enums import (
    DeliveryType,
    OrderKind,
    OrderPaymentStatus,
    OrderStatus,
    PaymentOutcome,
    PriceStage,
    ShareCreditRefusal,
    optional_enum,
    order_kind,
)
from core.clock import as_utc
from core.gql import Context, Money, Node, Payload, money, to_global_id

VIEW, REFUND, FULFIL, MANAGE = "orders.view", "orders.refund", "orders.fulfil", "orders.manage"
__all__ = ["DeliveryType", "OrderKind", "OrderPaymentStatus", "OrderStatus", "PaymentOutcome", "PriceStage"]
_GONE = "Use {}; removed in the next release."


@strawberry.type(description="One change the price pipeline made to a line or the order, and the component that made it.")
class PriceAdjustment:
    component: str = strawberry.field(description="The component that made the change (e.g. coupons, group_buy).")
    stage: str = strawberry.field(description="The price stage, lowercase.", deprecation_reason=_GONE.format("priceStage"))
    price_stage: PriceStage = strawberry.field(description="The price stage the change was made in.")
    label: str = strawberry.field(description="What the buyer reads for it (a coupon's name, 'Group price').")
    amount: Money = strawberry.field(description="The change in minor units of the brand currency: negative lowers the price.")


@strawberry.type(
    description="Where the order came from: live room, group, guide, share code. A sharer or guide "
    "appears only when the server could prove them (a share code it issued, the room the "
    "member joined through one, an active guide)."
)
class OrderSource:
    live_room_id: strawberry.ID | None = strawberry.field(default=None, description="The LiveRoom the order was placed from, if any.")
    group_id: strawberry.ID | None = strawberry.field(default=None, description="The GroupBuyGroup the order opened or joined, if any.")
    guide_id: strawberry.ID | None = strawberry.field(default=None, description="The guide (Staff) credited with the sale, if proven.")
    share_code: str | None = strawberry.field(default=None, description="The share code the buyer came through, as sent.")
    sharer_member_id: strawberry.ID | None = strawberry.field(default=None, description="The Member whose share code it was, if proven.")
    credit_refused: str | None = strawberry.field(
        default=None,
        description="Why the share code credits nobody: `SELF_SHARE` (the buyer's own code) or "
        "`GUIDE_INACTIVE` (the guide left or is no longer a guide). The order went ahead.",
        deprecation_reason=_GONE.format("creditRefusal"),
    )
    credit_refusal: ShareCreditRefusal | None = strawberry.field(
        default=None, description="Why the share code credits nobody; null when it credits its holder or there was none."
    )


@strawberry.type(description="One line of an order: a SKU, its units and what they cost. Visible to whoever may see the order.")
class OrderLine(Node):
    title: str = strawberry.field(description="The SKU's title as it was when the order was placed.")
    quantity: int = strawberry.field(description="Units ordered.")
    list_unit_price: Money = strawberry.field(description="The catalogue price of one unit when placed, before any adjustment.")
    unit_price: Money = strawberry.field(description="The price of one unit after the line's own adjustments.")
    adjustments: list[PriceAdjustment] = strawberry.field(description="The line's adjustments, its share of order-level ones included.")
    total: Money = strawberry.field(description="What was paid for this line, in minor units of the brand currency.")
    refunded_quantity: int = strawberry.field(description="Units of this line refunded so far.")
    sku_pk: strawberry.Private[int]
    order_pk: strawberry.Private[int]

    @strawberry.field(description="The SKU as it is now (null if withdrawn from sale); the line keeps its own title and prices.")
    async def sku(self, info: strawberry.Info) -> Sku | None:
        return await info.context.loader("catalog.skus").load(self.sku_pk)

    @strawberry.field(description="The order the line belongs to.")
    async def order(self, info: strawberry.Info) -> Order | None:
        return await info.context.loader("orders.orders").load(self.order_pk)


@strawberry.type(description="One payment attempt of an order through a provider. Visible to whoever may see the order.")
class OrderPayment(Node):
    provider: str = strawberry.field(description="The provider's name: sandbox, wechat_pay, …")
    amount: Money = strawberry.field(description="The amount asked, in minor units of the brand currency.")
    status: str = strawberry.field(description="The status, lowercase.", deprecation_reason=_GONE.format("paymentStatus"))
    payment_status: OrderPaymentStatus = strawberry.field(description="Where the attempt stands.")
    created_at: datetime = strawberry.field(description="When the attempt started (ISO 8601, UTC).")
    order_pk: strawberry.Private[int]

    @strawberry.field(description="The order being paid.")
    async def order(self, info: strawberry.Info) -> Order | None:
        return await info.context.loader("orders.orders").load(self.order_pk)


@strawberry.type(description="A member's order: the member who placed it and staff with orders.view (clerks: their stores) see it.")
class Order(Node):
    status: OrderStatus = strawberry.field(description="Where the order is in its life.")
    kind: str = strawberry.field(description="What made the order, lowercase.", deprecation_reason=_GONE.format("orderKind"))
    order_kind: OrderKind = strawberry.field(description="What made the order: a plain checkout or an activity.")
    subtotal: Money = strawberry.field(description="The lines at their catalogue prices, before any adjustment.")
    adjustments_total: Money = strawberry.field(description="The sum of every adjustment (negative when the price went down).")
    total: Money = strawberry.field(description="What the member pays: subtotal plus adjustments, in minor units.")
    refunded: Money = strawberry.field(description="What has gone back to the member so far.")
    order_adjustments: list[PriceAdjustment] = strawberry.field(description="Adjustments made to the whole order (spread over lines).")
    delivery_type: DeliveryType = strawberry.field(description="How the order reaches the member.")
    store_id: int | None = strawberry.field(description="The pickup store's number.", deprecation_reason=_GONE.format("pickupStoreId"))
    pickup_store_id: strawberry.ID | None = strawberry.field(description="The PickupStore of a pickup order; null for shipping.")
    source: OrderSource = strawberry.field(description="Where the order came from (attribution).")
    created_at: datetime = strawberry.field(description="When it was placed (ISO 8601, UTC).")
    paid_at: datetime | None = strawberry.field(description="When the payment was confirmed (ISO 8601, UTC); null until paid.")
    payment_due_at: datetime | None = strawberry.field(
        description="When an unpaid order is cancelled if not paid (ISO 8601, UTC); null once it is not pending payment."
    )
    cancel_reason: str | None = strawberry.field(description="Why it was cancelled (free text); null unless cancelled.")
    member_pk: strawberry.Private[int]
    store_pk: strawberry.Private[int | None] = None

    @strawberry.field(description="The order's lines, in the order they were placed.")
    async def lines(self, info: strawberry.Info) -> list[OrderLine]:
        return await info.context.loader("orders.lines").load(self.pk)

    @strawberry.field(description="Every payment attempt, oldest first.")
    async def payments(self, info: strawberry.Info) -> list[OrderPayment]:
        return await info.context.loader("orders.payments").load(self.pk)

    @strawberry.field(description="Who placed the order: for staff who may view members (and the member themself); else null.")
    async def member(self, info: strawberry.Info) -> Member | None:
        # The members component decides who may see a member; orders only points at one.
        return await info.context.loader("members.members").load(self.member_pk)


def adjustment_nodes(items: list[dict[str, Any]], currency: str) -> list[PriceAdjustment]:
    return [
        PriceAdjustment(
            component=a["component"], stage=a["stage"], price_stage=PriceStage(a["stage"]), label=a["label"], amount=money(a["amountMinor"], currency)
        )
        for a in items or []
    ]


def _source(data: dict[str, Any]) -> OrderSource:
    return OrderSource(
        live_room_id=data.get("liveRoomId"),
        group_id=data.get("groupId"),
        guide_id=data.get("guideId"),
        share_code=data.get("shareCode"),
        sharer_member_id=data.get("sharerMemberId"),
        credit_refused=data.get("creditRefused"),
        credit_refusal=optional_enum(ShareCreditRefusal, data.get("creditRefused")),  # type: ignore[arg-type]
    )


def order_node(row: models.Order) -> Order:
    c = row.currency
    return Order(
        pk=row.id,
        status=OrderStatus(row.status),
        kind=row.kind,
        order_kind=order_kind(row.kind),
        subtotal=money(row.subtotal_minor, c),
        adjustments_total=money(row.adjustments_minor, c),
        total=money(row.total_minor, c),
        refunded=money(row.refunded_minor, c),
        order_adjustments=adjustment_nodes(row.order_adjustments, c),
        delivery_type=DeliveryType(row.delivery_type),
        store_id=row.store_id,
        pickup_store_id=strawberry.ID(to_global_id("PickupStore", row.store_id)) if row.store_id is not None else None,
        source=_source(row.source or {}),
        created_at=as_utc(row.created_at),
        paid_at=as_utc(row.paid_at) if row.paid_at else None,
        payment_due_at=as_utc(row.payment_due_at) if row.payment_due_at and row.status == "pending_payment" else None,
        cancel_reason=row.cancel_reason,
        member_pk=row.member_id,
        store_pk=row.store_id,
    )


def line_node(row: models.OrderLine, currency: str) -> OrderLine:
    return OrderLine(
        pk=row.id,
        title=row.title,
        quantity=row.quantity,
        list_unit_price=money(row.list_unit_price_minor, currency),
        unit_price=money(row.unit_price_minor, currency),
        adjustments=adjustment_nodes([a for a in row.adjustments or []], currency),
        total=money(row.total_minor, currency),
        refunded_quantity=row.refunded_quantity,
        sku_pk=row.sku_id,
        order_pk=row.order_id,
    )


def payment_node(row: models.Payment, currency: str) -> OrderPayment:
    return OrderPayment(
        pk=row.id,
        provider=row.provider,
        amount=money(row.amount_minor, currency),
        status=row.status,
        payment_status=OrderPaymentStatus(row.status),
        created_at=as_utc(row.created_at),
        order_pk=row.order_id,
    )


# -- who may see what ------------------------------------------------------------------------------
def store_scoped(ctx: Context) -> bool:
    """A store clerk (not an admin) works at some stores: they see and hand over the orders of
    those stores only, never the brand's whole order book."""
    return ctx.actor.is_staff and not ctx.actor.is_admin and ctx.actor.has_role("store_clerk")


def staff_may_touch(ctx: Context, store_id: int | None, permission: str) -> bool:
    if not (ctx.actor.is_staff and ctx.can(permission)):
        return False
    return not store_scoped(ctx) or (store_id is not None and store_id in ctx.actor.store_ids)


def may_see(ctx: Context, member_id: int, store_id: int | None = None) -> bool:
    return (ctx.actor.is_member and ctx.actor.id == member_id) or staff_may_touch(ctx, store_id, VIEW)


# -- loaders ---------------------------------------------------------------------------------------
async def load_orders(ctx: Context, keys: list[int]) -> list[Order | None]:
    session = await ctx.session()
    rows = {r.id: r for r in (await session.scalars(select(models.Order).where(models.Order.id.in_(keys)))).all()}
    return [order_node(rows[k]) if k in rows and may_see(ctx, rows[k].member_id, rows[k].store_id) else None for k in keys]


async def load_lines(ctx: Context, order_ids: list[int]) -> list[list[OrderLine]]:
    session = await ctx.session()
    currency = ctx.kernel.blueprint.brand.currency
    rows = await session.scalars(select(models.OrderLine).where(models.OrderLine.order_id.in_(order_ids)).order_by(models.OrderLine.id))
    grouped: dict[int, list[OrderLine]] = defaultdict(list)
    for row in rows.all():
        grouped[row.order_id].append(line_node(row, currency))
    return [grouped.get(k, []) for k in order_ids]


async def load_payments(ctx: Context, order_ids: list[int]) -> list[list[OrderPayment]]:
    session = await ctx.session()
    currency = ctx.kernel.blueprint.brand.currency
    rows = await session.scalars(select(models.Payment).where(models.Payment.order_id.in_(order_ids)).order_by(models.Payment.id))
    grouped: dict[int, list[OrderPayment]] = defaultdict(list)
    for row in rows.all():
        grouped[row.order_id].append(payment_node(row, currency))
    return [grouped.get(k, []) for k in order_ids]


async def _visible(ctx: Context, model: Any, keys: list[int]) -> dict[int, Any]:
    """Rows of an order's child table whose order the caller may see (node(id) of a line or payment)."""
    session = await ctx.session()
    stmt = select(model, models.Order.member_id, models.Order.store_id).join(models.Order, models.Order.id == model.order_id)
    rows = (await session.execute(stmt.where(model.id.in_(keys)))).all()
    return {row.id: row for row, member_id, store_id in rows if may_see(ctx, member_id, store_id)}


async def load_line_nodes(ctx: Context, keys: list[int]) -> list[OrderLine | None]:
    currency = ctx.kernel.blueprint.brand.currency
    found = await _visible(ctx, models.OrderLine, keys)
    return [line_node(found[k], currency) if k in found else None for k in keys]


async def load_payment_nodes(ctx: Context, keys: list[int]) -> list[OrderPayment | None]:
    currency = ctx.kernel.blueprint.brand.currency
    found = await _visible(ctx, models.Payment, keys)
    return [payment_node(found[k], currency) if k in found else None for k in keys]


# -- inputs and the payload other components reuse ---------------------------------------------------
@strawberry.input(description="A SKU and how many units of it (the deprecated createOrder).")
class OrderLineInput:
    sku_id: strawberry.ID = strawberry.field(description="The Sku to buy.")
    quantity: int = strawberry.field(description="Units, at least 1.")


@strawberry.input(description="Where an order came from; each id is checked against its owner and proven credit only.")
class OrderSourceInput:
    live_room_id: strawberry.ID | None = strawberry.field(default=None, description="The LiveRoom the member ordered from.")
    group_id: strawberry.ID | None = strawberry.field(default=None, description="The GroupBuyGroup the order belongs to.")
    guide_id: strawberry.ID | None = strawberry.field(
        default=None, description="A guide (Staff id): must be active staff with the `guide` role (MEMBERS_NOT_A_GUIDE)."
    )
    share_code: str | None = strawberry.field(
        default=None, description="A share code from `myShareCode` (a member's or a guide's): the proof that credits them."
    )
    sharer_member_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only together with that member's share code (MEMBERS_UNPROVEN_SHARER otherwise)."
    )


@strawberry.type(description="The answer of a mutation on one order: the order as it is now, or userErrors and no change.")
class OrderPayload(Payload):
    order: Order | None = strawberry.field(default=None, description="The order after the change; null when userErrors say why not.")
