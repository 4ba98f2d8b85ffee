"""The after-sale GraphQL types (an address of the book, an order's address snapshot, a
shipment, an after-sale request), how rows become them, their loaders, and the fields they add
to ``Order``. The mutations and queries are in ``aftersale_graphql``."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry
from sqlalchemy import select

from components.orders import models
from components.orders.graphql import Order, OrderLine, may_see
from core.clock import as_utc
from core.gql import Context, Money, Node, money, to_global_id

# What each address field holds, for the output types here and the inputs in aftersale_graphql.
ADDRESS_HELP = {
    "recipient": "Who receives the parcel.",
    "phone": "The recipient's phone number.",
    "province": "Province (省).",
    "city": "City (市).",
    "district": "District (区/县).",
    "detail": "Street, building and room.",
    "latitude": "WGS-84 latitude of a point the member picked on a map; null if none.",
    "longitude": "WGS-84 longitude of a point the member picked on a map; null if none.",
}


@strawberry.type(description="The address a shipping order goes to, as it was when the order was placed.")
class OrderAddress:
    recipient: str = strawberry.field(description=ADDRESS_HELP["recipient"])
    phone: str = strawberry.field(description=ADDRESS_HELP["phone"])
    province: str = strawberry.field(description=ADDRESS_HELP["province"])
    city: str = strawberry.field(description=ADDRESS_HELP["city"])
    district: str = strawberry.field(description=ADDRESS_HELP["district"])
    detail: str = strawberry.field(description=ADDRESS_HELP["detail"])


@strawberry.type(description="An address in the member's address book, or the snapshot an order ships to. Only its member sees it.")
class ShippingAddress(Node, OrderAddress):
    latitude: float | None = strawberry.field(description=ADDRESS_HELP["latitude"])
    longitude: float | None = strawberry.field(description=ADDRESS_HELP["longitude"])
    is_default: bool = strawberry.field(description="The address checkout offers first.")


@strawberry.type(description="Some units of one order line (shipped together, or asked back in a refund request).")
class OrderLineQuantity:
    quantity: int = strawberry.field(description="Units of the line.")
    line_pk: strawberry.Private[int]

    @strawberry.field(description="The OrderLine's global id.")
    def line_id(self) -> strawberry.ID:
        return strawberry.ID(to_global_id("OrderLine", self.line_pk))

    @strawberry.field(description="The order line itself (null if the caller may not see its order).")
    async def line(self, info: strawberry.Info) -> OrderLine | None:
        return await info.context.loader("orders.line_nodes").load(self.line_pk)


def line_quantities(items: list[dict] | None) -> list[OrderLineQuantity]:
    return [OrderLineQuantity(quantity=item["quantity"], line_pk=item["lineId"]) for item in items or []]


_RAW_LINES = "[{lineId, quantity}] with bare line numbers."
_GONE = "Use {}; removed in the next release."


@strawberry.type(description="Units handed to a carrier.")
class Shipment:
    carrier: str = strawberry.field(description="The carrier's name as staff typed it (SF Express, 中通, …).")
    tracking_number: str = strawberry.field(description="The carrier's tracking number.")
    lines: strawberry.scalars.JSON = strawberry.field(description=_RAW_LINES, deprecation_reason=_GONE.format("shippedLines"))
    shipped_lines: list[OrderLineQuantity] = strawberry.field(description="The units this shipment carries, per line.")
    shipped_at: datetime = strawberry.field(description="When it was handed over (ISO 8601, UTC).")


@strawberry.enum(description="What the member asks for after sale.")
class RefundKind(enum.Enum):
    REFUND_ONLY = strawberry.enum_value("refund_only", description="Money back, the goods stay with the member (or never arrived).")
    RETURN_AND_REFUND = strawberry.enum_value("return_and_refund", description="The goods go back; money is refunded once they arrive.")


@strawberry.enum(description="Where an after-sale request stands (see the orders README for the transitions).")
class RefundRequestStatus(enum.Enum):
    REQUESTED = strawberry.enum_value("requested", description="Waiting for staff to decide.")
    APPROVED = strawberry.enum_value("approved", description="Approved: waiting for the returned goods (return and refund).")
    REJECTED = strawberry.enum_value("rejected", description="Staff said no (see note). Final.")
    REFUNDED = strawberry.enum_value("refunded", description="The approved amount went back. Final.")
    CANCELLED = strawberry.enum_value("cancelled", description="The member withdrew it. Final.")


@strawberry.type(description="An after-sale request (售后) for some lines of an order; its member and staff who may see the order see it.")
class RefundRequest(Node):
    kind: RefundKind = strawberry.field(description="Refund only, or return and refund.")
    status: RefundRequestStatus = strawberry.field(description="Where the request stands.")
    lines: strawberry.scalars.JSON = strawberry.field(description=_RAW_LINES, deprecation_reason=_GONE.format("requestedLines"))
    requested_lines: list[OrderLineQuantity] = strawberry.field(description="The units asked back, per line.")
    reason: str = strawberry.field(description="The member's reason, as written.")
    photo_urls: list[str] = strawberry.field(description="Photos the member attached (URLs).")
    requested: Money = strawberry.field(description="What the units are worth, in minor units: the most staff can approve.")
    approved: Money | None = strawberry.field(description="What staff approved; null until approved.")
    refunded: Money | None = strawberry.field(description="What went back; null until refunded.")
    note: str | None = strawberry.field(description="Why staff rejected it.")
    created_at: datetime = strawberry.field(description="When the member asked (ISO 8601, UTC).")
    resolved_at: datetime | None = strawberry.field(description="When it was refunded, rejected or cancelled (ISO 8601, UTC); null while open.")
    order_pk: strawberry.Private[int]

    @strawberry.field(description="The order the request is about.")
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
        requested_lines=line_quantities(row.lines),
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
    return [
        Shipment(
            carrier=r.carrier,
            tracking_number=r.tracking_number,
            lines=r.lines,
            shipped_lines=line_quantities(r.lines),
            shipped_at=as_utc(r.shipped_at),
        )
        for r in rows.all()
    ]


async def order_refund_requests(root: Order, info: strawberry.Info) -> list[RefundRequest]:
    session = await info.context.session()
    rows = await session.scalars(select(models.RefundRequest).where(models.RefundRequest.order_id == root.pk).order_by(models.RefundRequest.id))
    return [request_node(r, info.context.kernel.blueprint.brand.currency) for r in rows.all()]
