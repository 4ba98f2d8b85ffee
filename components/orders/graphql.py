"""Orders' GraphQL surface. A member sees only their own orders; staff need orders.view."""

from __future__ import annotations

import enum
from collections import defaultdict
from datetime import datetime
from typing import Any

import strawberry
from sqlalchemy import select

from components.catalog.graphql import Sku
from components.members.graphql import Member
from components.orders import models
from core.clock import as_utc
from core.errors import DomainError
from core.gql import Connection, Context, Money, Node, Payload, connection, decode_id, fetch_page, money

VIEW, REFUND, FULFIL, MANAGE = "orders.view", "orders.refund", "orders.fulfil", "orders.manage"


@strawberry.enum
class OrderStatus(enum.Enum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    FULFILLED = "fulfilled"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


@strawberry.enum
class DeliveryType(enum.Enum):
    SHIPPING = "shipping"
    PICKUP = "pickup"


@strawberry.enum
class PaymentOutcome(enum.Enum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@strawberry.type(description="One change the price pipeline made, and who made it.")
class PriceAdjustment:
    component: str
    stage: str
    label: str
    amount: Money


@strawberry.type(
    description="Where the order came from: live room, group, guide, share code. A sharer or guide "
    "appears only when the server could prove them (a share code it issued, the room the "
    "member joined through one, an active guide)."
)
class OrderSource:
    live_room_id: strawberry.ID | None = None
    group_id: strawberry.ID | None = None
    guide_id: strawberry.ID | None = None
    share_code: str | None = None
    sharer_member_id: strawberry.ID | None = None
    credit_refused: str | None = strawberry.field(
        default=None,
        description="Why the share code credits nobody: `SELF_SHARE` (the buyer's own code) or "
        "`GUIDE_INACTIVE` (the guide left or is no longer a guide). The order went ahead.",
    )


@strawberry.type
class OrderLine:
    id: strawberry.ID
    title: str
    quantity: int
    list_unit_price: Money
    unit_price: Money
    adjustments: list[PriceAdjustment]
    total: Money
    refunded_quantity: int
    sku_pk: strawberry.Private[int]

    @strawberry.field(description="The SKU as it is now (null if withdrawn from sale); the line keeps its own title and prices.")
    async def sku(self, info: strawberry.Info) -> Sku | None:
        return await info.context.loader("catalog.skus").load(self.sku_pk)


@strawberry.type(description="A payment attempt.")
class OrderPayment:
    id: strawberry.ID
    provider: str
    amount: Money
    status: str
    created_at: datetime


@strawberry.type(description="A member's order.")
class Order(Node):
    status: OrderStatus
    kind: str
    subtotal: Money
    adjustments_total: Money
    total: Money
    refunded: Money
    order_adjustments: list[PriceAdjustment]
    delivery_type: DeliveryType
    store_id: int | None
    source: OrderSource
    created_at: datetime
    paid_at: datetime | None
    payment_due_at: datetime | None
    cancel_reason: str | None
    member_pk: strawberry.Private[int]
    store_pk: strawberry.Private[int | None] = None

    @strawberry.field
    async def lines(self, info: strawberry.Info) -> list[OrderLine]:
        return await info.context.loader("orders.lines").load(self.pk)

    @strawberry.field
    async def payments(self, info: strawberry.Info) -> list[OrderPayment]:
        return await info.context.loader("orders.payments").load(self.pk)

    @strawberry.field(description="Who placed the order: for staff who may view members (and the member themself); else null.")
    async def member(self, info: strawberry.Info) -> Member | None:
        # The members component decides who may see a member; orders only points at one.
        return await info.context.loader("members.members").load(self.member_pk)


def adjustment_nodes(items: list[dict[str, Any]], currency: str) -> list[PriceAdjustment]:
    return [
        PriceAdjustment(component=a["component"], stage=a["stage"], label=a["label"], amount=money(a["amountMinor"], currency)) for a in items or []
    ]


def _source(data: dict[str, Any]) -> OrderSource:
    return OrderSource(
        live_room_id=data.get("liveRoomId"),
        group_id=data.get("groupId"),
        guide_id=data.get("guideId"),
        share_code=data.get("shareCode"),
        sharer_member_id=data.get("sharerMemberId"),
        credit_refused=data.get("creditRefused"),
    )


def order_node(row: models.Order) -> Order:
    c = row.currency
    return Order(
        pk=row.id,
        status=OrderStatus(row.status),
        kind=row.kind,
        subtotal=money(row.subtotal_minor, c),
        adjustments_total=money(row.adjustments_minor, c),
        total=money(row.total_minor, c),
        refunded=money(row.refunded_minor, c),
        order_adjustments=adjustment_nodes(row.order_adjustments, c),
        delivery_type=DeliveryType(row.delivery_type),
        store_id=row.store_id,
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
        id=strawberry.ID(str(row.id)),
        title=row.title,
        quantity=row.quantity,
        list_unit_price=money(row.list_unit_price_minor, currency),
        unit_price=money(row.unit_price_minor, currency),
        adjustments=adjustment_nodes([a for a in row.adjustments or []], currency),
        total=money(row.total_minor, currency),
        refunded_quantity=row.refunded_quantity,
        sku_pk=row.sku_id,
    )


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
        grouped[row.order_id].append(
            OrderPayment(
                id=strawberry.ID(str(row.id)),
                provider=row.provider,
                amount=money(row.amount_minor, currency),
                status=row.status,
                created_at=as_utc(row.created_at),
            )
        )
    return [grouped.get(k, []) for k in order_ids]


@strawberry.input(description="Narrow the staff order list; every given field must match.")
class OrderFilter:
    status: OrderStatus | None = None
    member_id: strawberry.ID | None = None
    kind: str | None = strawberry.field(default=None, description="plain, group_buy, auction, points, …")
    store_id: int | None = None


@strawberry.type
class Query:
    @strawberry.field(description="The signed-in member's orders, newest first.")
    async def my_orders(
        self, info: strawberry.Info, first: int | None = 20, after: str | None = None, status: OrderStatus | None = None
    ) -> Connection[Order]:
        ctx: Context = info.context
        member_id = ctx.require_member()
        stmt = select(models.Order).where(models.Order.member_id == member_id)
        if status is not None:
            stmt = stmt.where(models.Order.status == status.value)
        page = await fetch_page(await ctx.session(), stmt, models.Order.id, first, after, descending=True)
        return connection(page, order_node)

    @strawberry.field(description="One order: the member's own, or any for staff with orders.view.")
    async def order(self, info: strawberry.Info, id: strawberry.ID) -> Order | None:  # noqa: A002
        return await info.context.loader("orders.orders").load(decode_id(id, "Order", field="id"))

    @strawberry.field(description="Staff (orders.view): orders, newest first; a store clerk sees their stores' orders only.")
    async def orders(
        self, info: strawberry.Info, first: int | None = 20, after: str | None = None, filter: OrderFilter | None = None
    ) -> Connection[Order]:  # noqa: A002
        ctx: Context = info.context
        ctx.require(VIEW)
        stmt = select(models.Order)
        if store_scoped(ctx):
            stmt = stmt.where(models.Order.store_id.in_(sorted(ctx.actor.store_ids)))
        if filter is not None:
            if filter.status is not None:
                stmt = stmt.where(models.Order.status == filter.status.value)
            if filter.member_id is not None:
                stmt = stmt.where(models.Order.member_id == decode_id(filter.member_id, "Member", field="filter.memberId"))
            if filter.kind is not None:
                stmt = stmt.where(models.Order.kind == filter.kind)
            if filter.store_id is not None:
                stmt = stmt.where(models.Order.store_id == filter.store_id)
        page = await fetch_page(await ctx.session(), stmt, models.Order.id, first, after, descending=True)
        return connection(page, order_node)


@strawberry.input
class OrderLineInput:
    sku_id: strawberry.ID
    quantity: int


@strawberry.input
class OrderSourceInput:
    live_room_id: strawberry.ID | None = None
    group_id: strawberry.ID | None = None
    guide_id: strawberry.ID | None = strawberry.field(
        default=None, description="A guide (Staff id): must be active staff with the `guide` role (MEMBERS_NOT_A_GUIDE)."
    )
    share_code: str | None = strawberry.field(
        default=None, description="A share code from `myShareCode` (a member's or a guide's): the proof that credits them."
    )
    sharer_member_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only together with that member's share code (MEMBERS_UNPROVEN_SHARER otherwise)."
    )


@strawberry.type
class OrderPayload(Payload):
    order: Order | None = None


def _orders(ctx: Context):  # noqa: ANN202
    return ctx.kernel.service("orders")


async def _order_payload(ctx: Context, result: dict | None, errors: list) -> OrderPayload:
    if errors:
        return OrderPayload(user_errors=errors)
    return OrderPayload(order=(await load_orders(ctx, [result["orderId"]]))[0])


async def _own_order(ctx: Context, tx: Any, order_id: int) -> models.Order:
    """The order if the caller is its member (or staff who may manage orders); else not found."""
    order = await _orders(ctx).get(tx, order_id)
    if ctx.actor.is_member and order.member_id == ctx.actor.id:
        return order
    if ctx.actor.is_staff:
        ctx.require(MANAGE)  # staff without it are told so, not that the order is missing
        return order
    if ctx.actor.kind == "anonymous":
        ctx.require_member()
    raise DomainError("KERNEL_NOT_FOUND", "No such order.", field="input.orderId")


async def _staff_order(ctx: Context, tx: Any, order_id: int, permission: str) -> models.Order:
    """The order if the staff caller holds ``permission`` and (store clerks) it is at their store."""
    ctx.require(permission)
    order = await _orders(ctx).get(tx, order_id)
    if not staff_may_touch(ctx, order.store_id, permission):
        raise DomainError("KERNEL_NOT_FOUND", "No such order.", field="input.orderId")
    return order


def _source_input(source: OrderSourceInput | None) -> dict[str, Any]:
    if source is None:
        return {}
    data = {
        "liveRoomId": source.live_room_id,
        "groupId": source.group_id,
        "guideId": source.guide_id,
        "shareCode": source.share_code,
        "sharerMemberId": source.sharer_member_id,
    }
    if source.share_code is not None and len(source.share_code) > 64:
        raise DomainError("KERNEL_INVALID_INPUT", "A share code has at most 64 characters.", field="input.source.shareCode")
    return {k: str(v) for k, v in data.items() if v is not None}
