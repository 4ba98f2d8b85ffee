"""The after-sale GraphQL types (an address of the book, an order's address snapshot, a
shipment, an after-sale request), how rows become them, their loaders, and the fields they add
to ``Order``. The mutations and queries are in ``aftersale_graphql``."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry
from sqlalchemy import select

from components.orders import models
from components.orders.graphql import Order, may_see
from core.clock import as_utc
from core.gql import Context, Money, Node, money


@strawberry.type(description="An address in the member's address book, or the snapshot an order ships to.")
class ShippingAddress(Node):
    recipient: str
    phone: str
    province: str
    city: str
    district: str
    detail: str
    latitude: float | None
    longitude: float | None
    is_default: bool


@strawberry.type(description="The address a shipping order goes to, as it was when the order was placed.")
class OrderAddress:
    recipient: str
    phone: str
    province: str
    city: str
    district: str
    detail: str


@strawberry.type(description="Units handed to a carrier.")
class Shipment:
    carrier: str
    tracking_number: str
    lines: strawberry.scalars.JSON = strawberry.field(description="[{lineId, quantity}]")
    shipped_at: datetime


@strawberry.enum
class RefundKind(enum.Enum):
    REFUND_ONLY = "refund_only"
    RETURN_AND_REFUND = "return_and_refund"


@strawberry.enum
class RefundRequestStatus(enum.Enum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    REFUNDED = "refunded"
    CANCELLED = "cancelled"


@strawberry.type(description="An after-sale request (售后) for some lines of an order.")
class RefundRequest(Node):
    kind: RefundKind
    status: RefundRequestStatus
    lines: strawberry.scalars.JSON = strawberry.field(description="[{lineId, quantity}]")
    reason: str
    photo_urls: list[str]
    requested: Money
    approved: Money | None
    refunded: Money | None
    note: str | None = strawberry.field(description="Why staff rejected it.")
    created_at: datetime
    resolved_at: datetime | None
    order_pk: strawberry.Private[int]

    @strawberry.field
    async def order(self, info: strawberry.Info) -> Order | None:
        return await info.context.loader("orders.orders").load(self.order_pk)


def address_node(row: models.Address) -> ShippingAddress:
    return ShippingAddress(
        pk=row.id,
        recipient=row.recipient,
        phone=row.phone,
        province=row.province,
        city=row.city,
        district=row.district,
        detail=row.detail,
        latitude=row.latitude,
        longitude=row.longitude,
        is_default=row.is_default,
    )


def request_node(row: models.RefundRequest, currency: str) -> RefundRequest:
    maybe = lambda minor: money(minor, currency) if minor is not None else None  # noqa: E731
    return RefundRequest(
        pk=row.id,
        kind=RefundKind(row.kind),
        status=RefundRequestStatus(row.status),
        lines=row.lines,
        reason=row.reason,
        photo_urls=list(row.photos or []),
        requested=money(row.requested_minor, currency),
        approved=maybe(row.approved_minor),
        refunded=maybe(row.refunded_minor),
        note=row.note,
        created_at=as_utc(row.created_at),
        resolved_at=as_utc(row.resolved_at) if row.resolved_at else None,
        order_pk=row.order_id,
    )


async def load_addresses(ctx: Context, keys: list[int]) -> list[ShippingAddress | None]:
    session = await ctx.session()
    rows = {r.id: r for r in (await session.scalars(select(models.Address).where(models.Address.id.in_(keys)))).all()}
    mine = ctx.actor.id if ctx.actor.is_member else None
    return [address_node(rows[k]) if k in rows and rows[k].member_id == mine else None for k in keys]


async def load_requests(ctx: Context, keys: list[int]) -> list[RefundRequest | None]:
    session = await ctx.session()
    currency = ctx.kernel.blueprint.brand.currency
    rows = (
        await session.execute(
            select(models.RefundRequest, models.Order.store_id)
            .join(models.Order, models.Order.id == models.RefundRequest.order_id)
            .where(models.RefundRequest.id.in_(keys))
        )
    ).all()
    found = {r.id: request_node(r, currency) for r, store in rows if may_see(ctx, r.member_id, store)}
    return [found.get(k) for k in keys]


# -- fields added to Order ---------------------------------------------------------------------------
async def order_shipping_address(root: Order, info: strawberry.Info) -> OrderAddress | None:
    session = await info.context.session()
    data = await session.scalar(select(models.Order.shipping_address).where(models.Order.id == root.pk))
    return OrderAddress(**{k: data[k] for k in ("recipient", "phone", "province", "city", "district", "detail")}) if data else None


async def order_shipments(root: Order, info: strawberry.Info) -> list[Shipment]:
    session = await info.context.session()
    rows = await session.scalars(select(models.Shipment).where(models.Shipment.order_id == root.pk).order_by(models.Shipment.id))
    return [Shipment(carrier=r.carrier, tracking_number=r.tracking_number, lines=r.lines, shipped_at=as_utc(r.shipped_at)) for r in rows.all()]


async def order_refund_requests(root: Order, info: strawberry.Info) -> list[RefundRequest]:
    session = await info.context.session()
    rows = await session.scalars(select(models.RefundRequest).where(models.RefundRequest.order_id == root.pk).order_by(models.RefundRequest.id))
    return [request_node(r, info.context.kernel.blueprint.brand.currency) for r in rows.all()]
