"""GraphQL for the rest of an order's life: the address book, shipments, after-sale requests."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy import select

from components.orders import models
from components.orders.aftersale_types import (
    ADDRESS_HELP,
    RefundKind,
    RefundRequest,
    RefundRequestStatus,
    ShippingAddress,
    address_node,
    load_addresses,
    load_requests,
    order_refund_requests,
    order_shipments,
    order_shipping_address,
    request_node,
)
from components.orders.graphql import FULFIL, REFUND, VIEW, Order, OrderPayload, load_orders, store_scoped
from components.orders.graphql_access import _own_order, _staff_order, line_text, node_key
from core.gql import Connection, Context, Long, Payload, connection, decode_id, fetch_page, run_mutation
from core.gql.relay import After, Before, First, Last

RequestLines = list[tuple[int, int]]


# -- inputs and payloads ---------------------------------------------------------------------------------
_KEY = "Replaying a request with the same key answers as the first did and changes nothing more."


@strawberry.input(description="A new address for your book.")
class ShippingAddressInput:
    recipient: str = strawberry.field(description=ADDRESS_HELP["recipient"])
    phone: str = strawberry.field(description=ADDRESS_HELP["phone"])
    province: str = strawberry.field(description=ADDRESS_HELP["province"])
    city: str = strawberry.field(description=ADDRESS_HELP["city"])
    district: str = strawberry.field(description=ADDRESS_HELP["district"])
    detail: str = strawberry.field(description=ADDRESS_HELP["detail"])
    latitude: float | None = strawberry.field(default=None, description=ADDRESS_HELP["latitude"])
    longitude: float | None = strawberry.field(default=None, description=ADDRESS_HELP["longitude"])
    is_default: bool = strawberry.field(default=False, description="Make it the default (the first address always is).")


@strawberry.input(description="Changes to one address of your book; fields left out stay as they are.")
class UpdateShippingAddressInput:
    address_id: strawberry.ID = strawberry.field(description="The ShippingAddress to change.")
    recipient: str | None = strawberry.field(default=None, description=ADDRESS_HELP["recipient"])
    phone: str | None = strawberry.field(default=None, description=ADDRESS_HELP["phone"])
    province: str | None = strawberry.field(default=None, description=ADDRESS_HELP["province"])
    city: str | None = strawberry.field(default=None, description=ADDRESS_HELP["city"])
    district: str | None = strawberry.field(default=None, description=ADDRESS_HELP["district"])
    detail: str | None = strawberry.field(default=None, description=ADDRESS_HELP["detail"])
    latitude: float | None = strawberry.field(default=None, description=ADDRESS_HELP["latitude"])
    longitude: float | None = strawberry.field(default=None, description=ADDRESS_HELP["longitude"])
    is_default: bool | None = strawberry.field(default=None, description="True makes it the default.")


@strawberry.input(description="An address to remove from your book.")
class RemoveShippingAddressInput:
    address_id: strawberry.ID = strawberry.field(description="The ShippingAddress to remove.")


@strawberry.type(description="The answer of an address-book change.")
class ShippingAddressPayload(Payload):
    address: ShippingAddress | None = strawberry.field(default=None, description="The address added or changed; null after a removal.")
    addresses: list[ShippingAddress] = strawberry.field(default_factory=list, description="The whole book after the change.")


@strawberry.input(description="Some units of one line of the order.")
class LineQuantityInput:
    line_id: strawberry.ID = strawberry.field(description="The OrderLine's global id (a bare line number is still accepted for one release).")
    quantity: int = strawberry.field(description="Units of the line, at least 1.")


@strawberry.input(description="Units handed to a carrier.")
class ShipOrderInput:
    order_id: strawberry.ID = strawberry.field(description="The Order to ship.")
    carrier: str = strawberry.field(description="The carrier's name (SF Express, 中通, …).")
    tracking_number: str = strawberry.field(description="The carrier's tracking number.")
    lines: list[LineQuantityInput] | None = strawberry.field(default=None, description="Leave out to ship everything left.")
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


@strawberry.input(description="An after-sale request for some lines of your order.")
class RequestRefundInput:
    order_id: strawberry.ID = strawberry.field(description="Your Order.")
    kind: RefundKind = strawberry.field(description="Refund only, or return and refund.")
    lines: list[LineQuantityInput] = strawberry.field(description="The units you want money back for.")
    reason: str = strawberry.field(description="Why, in your words.")
    photo_urls: list[str] = strawberry.field(default_factory=list, description="Photos of the goods (URLs of uploaded images).")
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


@strawberry.input(description="Approve an after-sale request, whole or a smaller amount.")
class ApproveRefundRequestInput:
    request_id: strawberry.ID = strawberry.field(description="The RefundRequest.")
    amount: Long | None = strawberry.field(default=None, description="Less than requested, in minor units; leave out for all.")
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


@strawberry.input(description="An after-sale request to act on.")
class RefundRequestIdInput:
    request_id: strawberry.ID = strawberry.field(description="The RefundRequest.")
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


@strawberry.input(description="Reject an after-sale request.")
class RejectRefundRequestInput:
    request_id: strawberry.ID = strawberry.field(description="The RefundRequest.")
    reason: str = strawberry.field(description="Why, shown to the member as the request's note.")


@strawberry.type(description="The answer of an after-sale mutation: the request and its order as they are now.")
class RefundRequestPayload(Payload):
    request: RefundRequest | None = strawberry.field(default=None, description="The request after the change.")
    order: Order | None = strawberry.field(default=None, description="Its order after the change.")


ShippingAddressArg = Annotated[ShippingAddressInput, strawberry.argument(description="The address.")]
UpdateShippingAddressArg = Annotated[UpdateShippingAddressInput, strawberry.argument(description="The address and its changes.")]
RemoveShippingAddressArg = Annotated[RemoveShippingAddressInput, strawberry.argument(description="The address.")]
ShipOrderArg = Annotated[ShipOrderInput, strawberry.argument(description="The order, carrier and units.")]
RequestRefundArg = Annotated[RequestRefundInput, strawberry.argument(description="The order, kind, units and reason.")]
ApproveRefundRequestArg = Annotated[ApproveRefundRequestInput, strawberry.argument(description="The request and the amount.")]
RefundRequestIdArg = Annotated[RefundRequestIdInput, strawberry.argument(description="The request.")]
RejectRefundRequestArg = Annotated[RejectRefundRequestInput, strawberry.argument(description="The request and why.")]


def _lines(items: list[LineQuantityInput]) -> RequestLines:
    return [(node_key(item.line_id, "OrderLine", f"input.lines[{index}].lineId"), item.quantity) for index, item in enumerate(items)]


def _orders(ctx: Context) -> Any:
    return ctx.kernel.service("orders")


async def _request_payload(ctx: Context, result: dict | None, errors: list) -> RefundRequestPayload:
    if errors:
        return RefundRequestPayload(user_errors=errors)
    request = (await load_requests(ctx, [result["requestId"]]))[0]
    return RefundRequestPayload(request=request, order=(await load_orders(ctx, [result["orderId"]]))[0])


async def _address_payload(ctx: Context, result: dict | None, errors: list) -> ShippingAddressPayload:
    if errors:
        return ShippingAddressPayload(user_errors=errors)
    rows = await _orders(ctx).addresses.of_member(await ctx.session(), ctx.actor.id)
    nodes = [address_node(r) for r in rows]
    return ShippingAddressPayload(address=next((n for n in nodes if n.pk == result.get("addressId")), None), addresses=nodes)


async def _staff_request(ctx: Context, tx: Any, request_id: Any, permission: str) -> models.RefundRequest:
    ctx.require(permission)
    request = await _orders(ctx).after_sale.get(tx.session, decode_id(request_id, "RefundRequest", field="input.requestId"))
    await _staff_order(ctx, tx, request.order_id, permission)  # clerks: their stores only
    return request


@strawberry.type
class Query:
    @strawberry.field(description="Signed-in member: your address book, the default first. Null with an error for anyone else.")
    async def my_shipping_addresses(self, info: strawberry.Info) -> list[ShippingAddress] | None:
        ctx: Context = info.context
        return [address_node(r) for r in await _orders(ctx).addresses.of_member(await ctx.session(), ctx.require_member())]

    @strawberry.field(
        description="Staff (orders.view): after-sale requests, newest first; a clerk sees their stores' only. Null with an error for anyone else."
    )
    async def refund_requests(
        self,
        info: strawberry.Info,
        first: First = None,
        after: After = None,
        status: Annotated[RefundRequestStatus | None, strawberry.argument(description="Only requests in this status.")] = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[RefundRequest] | None:
        ctx: Context = info.context
        ctx.require(VIEW)
        stmt = select(models.RefundRequest)
        if status is not None:
            stmt = stmt.where(models.RefundRequest.status == status.value)
        if store_scoped(ctx):  # a clerk: the requests of their stores' orders only
            store_orders = select(models.Order.id).where(models.Order.store_id.in_(sorted(ctx.actor.store_ids)))
            stmt = stmt.where(models.RefundRequest.order_id.in_(store_orders))
        page = await fetch_page(await ctx.session(), stmt, models.RefundRequest.id, first, after, last=last, before=before, descending=True)
        currency = ctx.kernel.blueprint.brand.currency
        return connection(page, lambda row: request_node(row, currency))


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Member: add an address to your book (the first one becomes the default).")
    async def add_shipping_address(self, info: strawberry.Info, input: ShippingAddressArg) -> ShippingAddressPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            values = {k: getattr(input, k) for k in ("recipient", "phone", "province", "city", "district", "detail", "latitude", "longitude")}
            address = await _orders(ctx).addresses.add(tx, ctx.require_member(), values, is_default=input.is_default)
            return {"addressId": address.id}

        return await _address_payload(ctx, *await run_mutation(ctx, work))

    @strawberry.mutation(description="Member: change an address of your book (placed orders keep their own copy).")
    async def update_shipping_address(self, info: strawberry.Info, input: UpdateShippingAddressArg) -> ShippingAddressPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            changes = {k: getattr(input, k) for k in ("recipient", "phone", "province", "city", "district", "detail", "latitude", "longitude")}
            address_id = decode_id(input.address_id, "ShippingAddress", field="input.addressId")
            await _orders(ctx).addresses.update(tx, ctx.require_member(), address_id, changes, is_default=input.is_default)
            return {"addressId": address_id}

        return await _address_payload(ctx, *await run_mutation(ctx, work))

    @strawberry.mutation(description="Member: remove an address from your book.")
    async def remove_shipping_address(self, info: strawberry.Info, input: RemoveShippingAddressArg) -> ShippingAddressPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            address_id = decode_id(input.address_id, "ShippingAddress", field="input.addressId")
            await _orders(ctx).addresses.remove(tx, ctx.require_member(), address_id)
            return {}

        return await _address_payload(ctx, *await run_mutation(ctx, work))

    @strawberry.mutation(
        description="Staff (orders.fulfil): ship units with a carrier and tracking number; when nothing is "
        "left to ship the order is fulfilled and completes by itself after auto_complete_after."
    )
    async def ship_order(self, info: strawberry.Info, input: ShipOrderArg) -> OrderPayload:  # noqa: A002
        ctx: Context = info.context
        request = [
            str(input.order_id),
            input.carrier,
            input.tracking_number,
            [(line_text(item.line_id), item.quantity) for item in input.lines or []],
        ]

        async def work(tx):  # noqa: ANN001, ANN202
            order_id = decode_id(input.order_id, "Order", field="input.orderId")
            await _staff_order(ctx, tx, order_id, FULFIL)
            await _orders(ctx).ship(
                tx,
                order_id,
                carrier=input.carrier,
                tracking_number=input.tracking_number,
                lines=_lines(input.lines) if input.lines is not None else None,
            )
            return {"orderId": order_id}

        result, errors = await run_mutation(ctx, work, idempotency=("orders.ship", input.idempotency_key, request))
        if errors:
            return OrderPayload(user_errors=errors)
        return OrderPayload(order=(await load_orders(ctx, [result["orderId"]]))[0])

    @strawberry.mutation(
        description="Member: ask for money back for some lines (refund only, or return and refund) while "
        "the order is paid, shipped, or completed within the after-sale window."
    )
    async def request_refund(self, info: strawberry.Info, input: RequestRefundArg) -> RefundRequestPayload:  # noqa: A002
        ctx: Context = info.context
        request = [
            str(input.order_id),
            input.kind.value,
            [(line_text(item.line_id), item.quantity) for item in input.lines],
            input.reason,
            list(input.photo_urls),
        ]

        async def work(tx):  # noqa: ANN001, ANN202
            member_id = ctx.require_member()
            order = await _own_order(ctx, tx, decode_id(input.order_id, "Order", field="input.orderId"))
            record = await _orders(ctx).after_sale.request(
                tx,
                member_id=member_id,
                order_id=order.id,
                kind=input.kind.value,
                lines=_lines(input.lines),
                reason=input.reason,
                photos=list(input.photo_urls),
            )
            return {"requestId": record.id, "orderId": order.id}

        return await _request_payload(ctx, *await run_mutation(ctx, work, idempotency=("orders.request_refund", input.idempotency_key, request)))

    @strawberry.mutation(description="Member: withdraw your refund request while staff have not decided.")
    async def cancel_refund_request(self, info: strawberry.Info, input: RefundRequestIdArg) -> RefundRequestPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            request_id = decode_id(input.request_id, "RefundRequest", field="input.requestId")
            record = await _orders(ctx).after_sale.cancel(tx, request_id, member_id=ctx.require_member())
            return {"requestId": record.id, "orderId": record.order_id}

        return await _request_payload(ctx, *await run_mutation(ctx, work))

    @strawberry.mutation(
        description="Staff (orders.refund): approve a request, whole or a smaller amount. Refund only: the "
        "money goes back now; return and refund: once the goods are received."
    )
    async def approve_refund_request(self, info: strawberry.Info, input: ApproveRefundRequestArg) -> RefundRequestPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            record = await _staff_request(ctx, tx, input.request_id, REFUND)
            await _orders(ctx).after_sale.approve(tx, record.id, amount_minor=input.amount)
            return {"requestId": record.id, "orderId": record.order_id}

        return await _request_payload(
            ctx, *await run_mutation(ctx, work, idempotency=("orders.approve_refund", input.idempotency_key, [str(input.request_id), input.amount]))
        )

    @strawberry.mutation(
        description="Staff (orders.refund): the returned goods arrived; they go back on the shelf and the approved amount is refunded."
    )
    async def receive_returned_goods(self, info: strawberry.Info, input: RefundRequestIdArg) -> RefundRequestPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            record = await _staff_request(ctx, tx, input.request_id, REFUND)
            await _orders(ctx).after_sale.goods_received(tx, record.id)
            return {"requestId": record.id, "orderId": record.order_id}

        return await _request_payload(
            ctx, *await run_mutation(ctx, work, idempotency=("orders.goods_received", input.idempotency_key, [str(input.request_id)]))
        )

    @strawberry.mutation(description="Staff (orders.refund): reject a request, saying why.")
    async def reject_refund_request(self, info: strawberry.Info, input: RejectRefundRequestArg) -> RefundRequestPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            record = await _staff_request(ctx, tx, input.request_id, REFUND)
            await _orders(ctx).after_sale.reject(tx, record.id, note=input.reason)
            return {"requestId": record.id, "orderId": record.order_id}

        return await _request_payload(ctx, *await run_mutation(ctx, work))


def register(registrar: Any) -> None:
    registrar.query(Query)
    registrar.mutation(Mutation)
    registrar.node(ShippingAddress, load_addresses)
    registrar.node(RefundRequest, load_requests)
    registrar.extend("Order", "shippingAddress", order_shipping_address, "Where a shipping order goes (a snapshot).")
    registrar.extend("Order", "shipments", order_shipments, "Units handed to carriers, with tracking numbers.")
    registrar.extend("Order", "refundRequests", order_refund_requests, "After-sale requests for this order.")
