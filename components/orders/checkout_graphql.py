"""GraphQL for the cart and the one checkout: ``myCart``, ``previewCheckout``, ``placeOrder``.

``CheckoutInput`` and ``CheckoutLineInput`` are extensible: components add their fields
(``pickup``, ``groupBuy``, ``liveRoomId``, …) with ``registrar.extend_input``; what a client
sends for them reaches the component as plain data in ``draft.input(...)``/``line.input(...)``.
"""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from components.orders.checkout import CheckoutRequest, LineRequest
from components.orders.checkout_types import Cart, CartPayload, CheckoutPreviewPayload, cart_node, preview_node
from components.orders.graphql import DeliveryType, OrderPayload, OrderSourceInput, load_orders
from components.orders.graphql_access import _source_input, node_key
from core.errors import DomainError
from core.gql import Context, Long, decode_id, run_mutation
from core.gql.extensible import ExtensibleInput, extensible_input, plain
from core.gql.payload import user_error
from core.transaction import Transaction

_KEY = "Replaying a request with the same key answers as the first did and changes nothing more."
_CART_LINE = "The CartLine's global id (a bare cart line number is still accepted for one release)."


@extensible_input
@strawberry.input(description="One line to check out. Components add fields (a group-buy offer, a live room, a mall item).")
class CheckoutLineInput(ExtensibleInput):
    sku_id: strawberry.ID = strawberry.field(description="The Sku to buy.")
    quantity: int = strawberry.field(description="Units, at least 1.")


@extensible_input
@strawberry.input(description="What to check out. Components add fields (the pickup store and slot, points to use, coupons).")
class CheckoutInput(ExtensibleInput):
    lines: list[CheckoutLineInput] | None = strawberry.field(default=None, description="The lines; leave out to check out the cart.")
    delivery_type: DeliveryType = strawberry.field(default=DeliveryType.SHIPPING, description="How the order reaches the member.")
    source: OrderSourceInput | None = strawberry.field(default=None, description="Where the order came from (attribution).")


@strawberry.input(description="Place the order a preview showed.")
class PlaceOrderInput:
    checkout: CheckoutInput = strawberry.field(description="The same checkout previewCheckout priced.")
    expected_total: Long | None = strawberry.field(
        default=None,
        description="The preview's total in minor units: if the price changed since, nothing is placed and ORDERS_PRICE_CHANGED says the new total.",
    )
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


@strawberry.input(description="Units of a SKU to put in your cart.")
class AddCartLineInput:
    line: CheckoutLineInput = strawberry.field(description="The SKU, units and the line's checkout fields (kept for checkout).")
    idempotency_key: str | None = strawberry.field(
        default=None, description="Adding adds units to what is there, so a retried request would add twice; with a key it does not."
    )


@strawberry.input(description="A new quantity for one cart line.")
class UpdateCartLineInput:
    line_id: strawberry.ID = strawberry.field(description=_CART_LINE)
    quantity: int = strawberry.field(description="The units wanted, at least 1.")


@strawberry.input(description="A cart line to take out.")
class RemoveCartLineInput:
    line_id: strawberry.ID = strawberry.field(description=_CART_LINE)


CheckoutArg = Annotated[CheckoutInput, strawberry.argument(description="What to check out: lines (or the cart), delivery and components' fields.")]
PlaceOrderArg = Annotated[PlaceOrderInput, strawberry.argument(description="The checkout and the total the preview showed.")]
AddCartLineArg = Annotated[AddCartLineInput, strawberry.argument(description="The line to add.")]
UpdateCartLineArg = Annotated[UpdateCartLineInput, strawberry.argument(description="The line and its new quantity.")]
RemoveCartLineArg = Annotated[RemoveCartLineInput, strawberry.argument(description="The line.")]


# -- from GraphQL to a checkout request ------------------------------------------------------------
def _line_inputs(line: Any) -> dict[str, Any]:
    return {name: plain(value) for name, value in getattr(line, "_extensions", {}).items() if value is not None}


async def checkout_request(ctx: Context, session: Any, input: CheckoutInput, member_id: int) -> CheckoutRequest:  # noqa: A002
    if input.lines is None:
        cart = ctx.kernel.service("orders").cart
        lines = [LineRequest(row.sku_id, row.quantity, dict(row.inputs or {})) for row in await cart.lines(session, member_id)]
        if not lines:
            raise DomainError("ORDERS_EMPTY", "The cart is empty.", field="input.lines")
    else:
        lines = [
            LineRequest(decode_id(line.sku_id, "Sku", field=f"input.lines[{i}].skuId"), line.quantity, _line_inputs(line))
            for i, line in enumerate(input.lines)
        ]
    return CheckoutRequest(
        member_id=member_id,
        lines=lines,
        delivery_type=input.delivery_type.value,
        inputs={name: plain(value) for name, value in getattr(input, "_extensions", {}).items() if value is not None},
        source=_source_input(input.source),
    )


def _cart_line_id(value: strawberry.ID) -> int:
    return node_key(value, "CartLine", "input.lineId")


@strawberry.type
class Query:
    @strawberry.field(
        description="Signed-in member: the lines in your cart, each flagged when it can no longer be bought. Null with an error for anyone else."
    )
    async def my_cart(self, info: strawberry.Info) -> Cart | None:
        ctx: Context = info.context
        return await cart_node(ctx, ctx.require_member())

    @strawberry.field(
        description="Member: price a checkout exactly as placeOrder would, writing nothing: every line with its "
        "adjustments (component, stage, label), the totals, delivery options and what is still needed. Null with an error "
        "for anyone but a signed-in member."
    )
    async def preview_checkout(self, info: strawberry.Info, input: CheckoutArg) -> CheckoutPreviewPayload | None:  # noqa: A002
        ctx: Context = info.context
        member_id = ctx.require_member()
        kernel = ctx.kernel
        try:
            async with kernel.db.read() as session:  # never committed: a preview changes nothing
                tx = Transaction(kernel, session)
                request = await checkout_request(ctx, session, input, member_id)
                draft, options = await kernel.service("orders").preview(tx, request)
        except DomainError as error:
            kernel.check_error_code(error.code)
            return CheckoutPreviewPayload(user_errors=[user_error(error)])
        return CheckoutPreviewPayload(preview=preview_node(draft, options))


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Member: place the order the preview showed (or a typed error saying what changed: price, "
        "stock, slot). Stock is held until payment or the payment timeout."
    )
    async def place_order(self, info: strawberry.Info, input: PlaceOrderArg) -> OrderPayload:  # noqa: A002
        ctx: Context = info.context
        fingerprint = {"checkout": plain(input.checkout), "expectedTotal": input.expected_total}

        async def work(tx):  # noqa: ANN001, ANN202
            member_id = ctx.require_member()
            service = ctx.kernel.service("orders")
            request = await checkout_request(ctx, tx.session, input.checkout, member_id)
            request.expected_total_minor = input.expected_total
            request.idempotency_key = input.idempotency_key
            order_id = await service.place(tx, request)
            if input.checkout.lines is None:
                await service.cart.remove_skus(tx, member_id, [line.sku_id for line in request.lines])
            return {"orderId": order_id}

        result, errors = await run_mutation(ctx, work, idempotency=("orders.place", input.idempotency_key, fingerprint))
        if errors:
            return OrderPayload(user_errors=errors)
        return OrderPayload(order=(await load_orders(ctx, [result["orderId"]]))[0])

    @strawberry.mutation(description="Member: put units of a SKU in your cart (added to what is there).")
    async def add_cart_line(self, info: strawberry.Info, input: AddCartLineArg) -> CartPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            member_id = ctx.require_member()
            sku_id = decode_id(input.line.sku_id, "Sku", field="input.line.skuId")
            await ctx.kernel.service("orders").cart.add(tx, member_id, sku_id, input.line.quantity, _line_inputs(input.line))
            return {}

        idempotency = ("orders.cart.add", input.idempotency_key, plain(input.line))
        return await _cart_payload(ctx, *await run_mutation(ctx, work, idempotency=idempotency))

    @strawberry.mutation(description="Member: change the quantity of a cart line.")
    async def update_cart_line(self, info: strawberry.Info, input: UpdateCartLineArg) -> CartPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            await ctx.kernel.service("orders").cart.set_quantity(tx, ctx.require_member(), _cart_line_id(input.line_id), input.quantity)
            return {}

        return await _cart_payload(ctx, *await run_mutation(ctx, work))

    @strawberry.mutation(description="Member: take a line out of your cart.")
    async def remove_cart_line(self, info: strawberry.Info, input: RemoveCartLineArg) -> CartPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            await ctx.kernel.service("orders").cart.remove(tx, ctx.require_member(), _cart_line_id(input.line_id))
            return {}

        return await _cart_payload(ctx, *await run_mutation(ctx, work))


async def _cart_payload(ctx: Context, result: dict | None, errors: list) -> CartPayload:
    if errors:
        return CartPayload(user_errors=errors)
    return CartPayload(cart=await cart_node(ctx, ctx.require_member()))
