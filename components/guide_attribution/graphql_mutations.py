"""guide_attribution's mutations: a member's touch, staff's transfer, a guide's order for a
customer (代客下单). Thin: the rules are in bindings.py and service.py."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from components.guide_attribution.graphql import MANAGE, PLACE_FOR_CUSTOMER, GuideBinding, OrderGuideAttribution, attribution_node, binding_node
from components.orders.graphql import Order, load_orders
from core.errors import DomainError
from core.gql import Context, Long, Payload, decode_id, run_mutation
from core.gql.relay import to_global_id

MAX_LINES = 50


@strawberry.input(description="A channel code the member arrived through (a scanned QR code, a share link).")
class TouchChannelCodeInput:
    code: str = strawberry.field(description="A guide's, store's or sharing member's channel code.")


@strawberry.type(description="The member's binding after the touch.")
class TouchChannelCodePayload(Payload):
    binding: GuideBinding | None = strawberry.field(default=None, description="The binding now (null: still bound to nobody).")
    bound: bool | None = strawberry.field(
        default=None, description="True when this touch bound or re-bound the member; false when the rules kept the binding as it was."
    )


@strawberry.input(description="Move a guide's customers to another guide.")
class TransferGuideCustomersInput:
    from_guide_id: strawberry.ID = strawberry.field(description="The guide who leaves (a Staff id).")
    to_guide_id: strawberry.ID = strawberry.field(description="The guide who takes them over: active staff with the guide role.")
    idempotency_key: str | None = strawberry.field(default=None, description="A replay returns the first answer, moving nobody.")


@strawberry.type(description="How many customers moved.")
class TransferGuideCustomersPayload(Payload):
    moved: int | None = strawberry.field(default=None, description="Customers moved by this call.")
    remaining: int | None = strawberry.field(
        default=None, description="Customers still with the first guide (a large book moves in several calls); 0 when done."
    )


@strawberry.input(description="One line of an order a guide places for a customer.")
class GuideOrderLineInput:
    sku_id: strawberry.ID = strawberry.field(description="The SKU.")
    quantity: int = strawberry.field(description="Units, at least 1.")


@strawberry.input(description="An order a guide places for a member (代客下单); the member pays it.")
class PlaceOrderForCustomerInput:
    member_id: strawberry.ID = strawberry.field(description="The customer (a Member id).")
    lines: list[GuideOrderLineInput] = strawberry.field(description="What they buy, 1 to 50 lines.")
    shipping_address_id: strawberry.ID | None = strawberry.field(
        default=None, description="One of the member's shipping addresses; without one the brand's shipping rule decides."
    )
    expected_total: Long | None = strawberry.field(
        default=None,
        description="The total the guide showed the customer, in minor units: if the price changed, nothing is placed (ORDERS_PRICE_CHANGED).",
    )
    idempotency_key: str | None = strawberry.field(default=None, description="A replay returns the first order, placing nothing.")


@strawberry.type(description="The order a guide placed for a customer.")
class PlaceOrderForCustomerPayload(Payload):
    order_id: strawberry.ID | None = strawberry.field(default=None, description="The order (an Order id); the member pays it.")
    attribution: OrderGuideAttribution | None = strawberry.field(default=None, description="Whom it is credited to (the guide).")
    order: Order | None = strawberry.field(
        default=None, description="The order itself, for staff whom orders lets see it (a guide without order rights gets null)."
    )


def _service(ctx: Context) -> Any:
    return ctx.kernel.service("guide_attribution")


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Member: the channel code you arrived through; binds you to its guide and store on "
        "the first touch, or as the brand's binding rules allow."
    )
    async def touch_channel_code(
        self,
        info: strawberry.Info,
        input: Annotated[TouchChannelCodeInput, strawberry.argument(description="The channel code the member arrived through.")],
    ) -> TouchChannelCodePayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            outcome = await _service(ctx).bindings.touch(tx, ctx.require_member(), input.code)
            return {"bound": outcome.bound}

        result, errors = await run_mutation(ctx, work)
        if errors:
            return TouchChannelCodePayload(user_errors=errors)
        row = await _service(ctx).bindings.of_member(await ctx.session(), ctx.require_member())
        return TouchChannelCodePayload(binding=binding_node(row) if row is not None else None, bound=result["bound"])

    @strawberry.mutation(
        description="Staff (guide_attribution.manage): move a leaving guide's customers to another guide, "
        "in bulk. A replayed idempotencyKey changes nothing."
    )
    async def transfer_guide_customers(
        self, info: strawberry.Info, input: Annotated[TransferGuideCustomersInput, strawberry.argument(description="Whose customers go to whom.")]
    ) -> TransferGuideCustomersPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require(MANAGE)
            moved, left = await _service(ctx).bindings.transfer(
                tx, decode_id(input.from_guide_id, "Staff", field="input.fromGuideId"), decode_id(input.to_guide_id, "Staff", field="input.toGuideId")
            )
            return {"moved": moved, "remaining": left}

        request = [str(input.from_guide_id), str(input.to_guide_id)]
        result, errors = await run_mutation(ctx, work, idempotency=("guide_attribution.transfer", input.idempotency_key, request))
        if errors:
            return TransferGuideCustomersPayload(user_errors=errors)
        return TransferGuideCustomersPayload(moved=result["moved"], remaining=result["remaining"])

    @strawberry.mutation(
        description="Guide (guide_attribution.place_for_customer): place an order for a member (代客下单) "
        "through the one checkout; the member pays it and it is credited to you first. A "
        "replayed idempotencyKey returns the first order."
    )
    async def place_order_for_customer(
        self,
        info: strawberry.Info,
        input: Annotated[PlaceOrderForCustomerInput, strawberry.argument(description="The customer, the lines and how they are delivered.")],
    ) -> PlaceOrderForCustomerPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require(PLACE_FOR_CUSTOMER)
            if not 1 <= len(input.lines) <= MAX_LINES:
                raise DomainError("KERNEL_INVALID_INPUT", f"An order has 1 to {MAX_LINES} lines.", field="input.lines")
            lines = [(decode_id(line.sku_id, "Sku", field=f"input.lines[{i}].skuId"), line.quantity) for i, line in enumerate(input.lines)]
            inputs = {"shippingAddressId": str(input.shipping_address_id)} if input.shipping_address_id is not None else {}
            order_id = await _service(ctx).place_for_customer(
                tx,
                guide_id=int(ctx.require_staff().id or 0),
                member_id=decode_id(input.member_id, "Member", field="input.memberId"),
                lines=lines,
                inputs=inputs,
                expected_total_minor=input.expected_total,
                idempotency_key=input.idempotency_key,
            )
            return {"orderId": order_id}

        request = {
            "memberId": str(input.member_id),
            "lines": [[str(line.sku_id), line.quantity] for line in input.lines],
            "shippingAddressId": str(input.shipping_address_id),
            "expectedTotal": input.expected_total,
        }
        result, errors = await run_mutation(ctx, work, idempotency=("guide_attribution.place", input.idempotency_key, request))
        if errors:
            return PlaceOrderForCustomerPayload(user_errors=errors)
        order_id = result["orderId"]
        return PlaceOrderForCustomerPayload(
            order_id=strawberry.ID(to_global_id("Order", order_id)),
            attribution=await attribution_node(ctx, order_id),
            order=(await load_orders(ctx, [order_id]))[0],
        )
