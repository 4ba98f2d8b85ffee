"""GraphQL for the cart and the one checkout: ``myCart``, ``previewCheckout``, ``placeOrder``.

``CheckoutInput`` and ``CheckoutLineInput`` are extensible: components add their fields
(``pickup``, ``groupBuy``, ``liveRoomId``, …) with ``registrar.extend_input``; what a client
sends for them reaches the component as plain data in ``draft.input(...)``/``line.input(...)``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from components.catalog.graphql import Sku
from components.orders.checkout import CheckoutRequest, LineRequest
from components.orders.graphql import DeliveryType, OrderPayload, OrderSourceInput, PriceAdjustment, adjustment_nodes, load_orders
from core.checkout import Draft
from core.errors import DomainError
from core.gql import Context, Long, Money, Payload, decode_id, money, run_mutation
from core.gql.extensible import ExtensibleInput, extensible_input, plain
from core.gql.payload import user_error
from core.transaction import Transaction


@extensible_input
@strawberry.input(description="One line to check out. Components add fields (a group-buy offer, a live room, a mall item).")
class CheckoutLineInput(ExtensibleInput):
    sku_id: strawberry.ID
    quantity: int


@extensible_input
@strawberry.input(description="What to check out. Components add fields (the pickup store and slot, points to use, coupons).")
class CheckoutInput(ExtensibleInput):
    lines: list[CheckoutLineInput] | None = strawberry.field(default=None, description="The lines; leave out to check out the cart.")
    delivery_type: DeliveryType = DeliveryType.SHIPPING
    source: OrderSourceInput | None = None


@strawberry.input
class PlaceOrderInput:
    checkout: CheckoutInput
    expected_total: Long | None = strawberry.field(
        default=None,
        description="The preview's total in minor units: if the price changed since, nothing is placed and ORDERS_PRICE_CHANGED says the new total.",
    )
    idempotency_key: str | None = None


@strawberry.type(description="The activity a line belongs to, and the component that owns it.")
class LineActivity:
    component: str
    ref: str


@strawberry.type(description="A line as checkout would place it.")
class CheckoutLine:
    index: int
    title: str
    quantity: int
    list_unit_price: Money
    unit_price: Money
    adjustments: list[PriceAdjustment]
    total: Money = strawberry.field(description="What is paid for this line, its share of order-level amounts included.")
    activity: LineActivity | None
    sku_pk: strawberry.Private[int]

    @strawberry.field
    async def sku(self, info: strawberry.Info) -> Sku | None:
        return await info.context.loader("catalog.skus").load(self.sku_pk)


@strawberry.type(description="A pickup slot with room left.")
class DeliverySlot:
    id: strawberry.ID
    starts_at: datetime
    ends_at: datetime
    remaining: int


@strawberry.type(description="A store the order could be collected at.")
class DeliveryStore:
    id: strawberry.ID
    name: str
    address: str | None
    distance_meters: int | None
    slots: list[DeliverySlot]


@strawberry.type(description="A way this order can reach the member.")
class DeliveryOption:
    type: DeliveryType
    component: str
    stores: list[DeliveryStore]


@strawberry.type(description="Something a component still needs from the buyer.")
class CheckoutNeed:
    component: str
    field: str
    message: str


@strawberry.type(description="Exactly what placeOrder would write now, without writing anything.")
class CheckoutPreview:
    lines: list[CheckoutLine]
    subtotal: Money
    order_adjustments: list[PriceAdjustment]
    total: Money
    delivery_options: list[DeliveryOption]
    needs: list[CheckoutNeed]
    # Components that extend CheckoutPreview (registrar.extend) read the priced draft from here.
    draft: strawberry.Private[Any] = None


@strawberry.type
class CheckoutPreviewPayload(Payload):
    preview: CheckoutPreview | None = None


@strawberry.type(description="A line of the member's cart.")
class CartLine:
    id: strawberry.ID
    quantity: int
    inputs: JSON = strawberry.field(description="The line's checkout inputs (e.g. liveRoomId), as sent.")
    unavailable_reason: str | None = strawberry.field(description="NOT_ON_SALE, OUT_OF_STOCK or NOT_ENOUGH_STOCK; null when buyable.")
    sku_pk: strawberry.Private[int]

    @strawberry.field
    async def sku(self, info: strawberry.Info) -> Sku | None:
        return await info.context.loader("catalog.skus").load(self.sku_pk)


@strawberry.type(description="The signed-in member's cart.")
class Cart:
    lines: list[CartLine]


@strawberry.type
class CartPayload(Payload):
    cart: Cart | None = None


@strawberry.input
class AddCartLineInput:
    line: CheckoutLineInput
    idempotency_key: str | None = strawberry.field(
        default=None, description="Adding adds units to what is there, so a retried request would add twice; with a key it does not."
    )


@strawberry.input
class UpdateCartLineInput:
    line_id: strawberry.ID
    quantity: int


@strawberry.input
class RemoveCartLineInput:
    line_id: strawberry.ID


# -- from GraphQL to a checkout request ------------------------------------------------------------
def _line_inputs(line: Any) -> dict[str, Any]:
    return {name: plain(value) for name, value in getattr(line, "_extensions", {}).items() if value is not None}


async def checkout_request(ctx: Context, session: Any, input: CheckoutInput, member_id: int) -> CheckoutRequest:  # noqa: A002
    from components.orders.graphql import _source_input

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


def _activity(line: Any) -> LineActivity | None:
    return LineActivity(component=line.activity[0], ref=line.activity[1]) if line.activity else None


def preview_node(draft: Draft, options: list[dict[str, Any]]) -> CheckoutPreview:
    c = draft.currency
    return CheckoutPreview(
        lines=[
            CheckoutLine(
                index=l.index,
                title=l.title,
                quantity=l.quantity,
                list_unit_price=money(l.list_unit_price_minor, c),
                unit_price=money(l.unit_price_minor, c),
                adjustments=adjustment_nodes(l.adjustments, c),
                total=money(l.total_minor, c),
                activity=_activity(l),
                sku_pk=l.sku_id,
            )
            for l in draft.lines
        ],
        subtotal=money(draft.subtotal_minor, c),
        order_adjustments=adjustment_nodes(draft.order_adjustments, c),
        total=money(draft.total_minor, c),
        delivery_options=[
            DeliveryOption(
                type=DeliveryType(o["type"]),
                component=o["component"],
                stores=[
                    DeliveryStore(
                        id=s["id"],
                        name=s["name"],
                        address=s.get("address"),
                        distance_meters=s.get("distanceMeters"),
                        slots=[
                            DeliverySlot(id=t["id"], starts_at=t["startsAt"], ends_at=t["endsAt"], remaining=t["remaining"])
                            for t in s.get("slots", [])
                        ],
                    )
                    for s in o.get("stores", [])
                ],
            )
            for o in options
        ],
        needs=[CheckoutNeed(**n) for n in draft.needs],
        draft=draft,
    )


async def cart_node(ctx: Context, member_id: int) -> Cart:
    session = await ctx.session()
    cart = ctx.kernel.service("orders").cart
    rows = await cart.lines(session, member_id)
    reasons = await cart.unavailable_reasons(session, ctx.kernel, rows)
    return Cart(
        lines=[
            CartLine(id=strawberry.ID(str(r.id)), quantity=r.quantity, inputs=r.inputs or {}, unavailable_reason=reasons.get(r.id), sku_pk=r.sku_id)
            for r in rows
        ]
    )


def _cart_line_id(value: strawberry.ID) -> int:
    text = str(value)
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise DomainError("KERNEL_INVALID_ID", "Not a cart line id.", field="input.lineId")
    return int(text)


@strawberry.type
class Query:
    @strawberry.field(description="Member: the lines in your cart, each flagged when it can no longer be bought.")
    async def my_cart(self, info: strawberry.Info) -> Cart:
        ctx: Context = info.context
        return await cart_node(ctx, ctx.require_member())

    @strawberry.field(
        description="Member: price a checkout exactly as placeOrder would, writing nothing: every line with its "
        "adjustments (component, stage, label), the totals, delivery options and what is still needed."
    )
    async def preview_checkout(self, info: strawberry.Info, input: CheckoutInput) -> CheckoutPreviewPayload:  # noqa: A002
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
    async def place_order(self, info: strawberry.Info, input: PlaceOrderInput) -> OrderPayload:  # noqa: A002
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
    async def add_cart_line(self, info: strawberry.Info, input: AddCartLineInput) -> CartPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            member_id = ctx.require_member()
            sku_id = decode_id(input.line.sku_id, "Sku", field="input.line.skuId")
            await ctx.kernel.service("orders").cart.add(tx, member_id, sku_id, input.line.quantity, _line_inputs(input.line))
            return {}

        idempotency = ("orders.cart.add", input.idempotency_key, plain(input.line))
        return await _cart_payload(ctx, *await run_mutation(ctx, work, idempotency=idempotency))

    @strawberry.mutation(description="Member: change the quantity of a cart line.")
    async def update_cart_line(self, info: strawberry.Info, input: UpdateCartLineInput) -> CartPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            await ctx.kernel.service("orders").cart.set_quantity(tx, ctx.require_member(), _cart_line_id(input.line_id), input.quantity)
            return {}

        return await _cart_payload(ctx, *await run_mutation(ctx, work))

    @strawberry.mutation(description="Member: take a line out of your cart.")
    async def remove_cart_line(self, info: strawberry.Info, input: RemoveCartLineInput) -> CartPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            await ctx.kernel.service("orders").cart.remove(tx, ctx.require_member(), _cart_line_id(input.line_id))
            return {}

        return await _cart_payload(ctx, *await run_mutation(ctx, work))


async def _cart_payload(ctx: Context, result: dict | None, errors: list) -> CartPayload:
    if errors:
        return CartPayload(user_errors=errors)
    return CartPayload(cart=await cart_node(ctx, ctx.require_member()))
