"""Orders' mutations on GraphQL (placing, paying, cancelling, fulfilling, completing and refunding
an order) and their inputs; the types they answer with are in ``graphql``."""

from __future__ import annotations

from typing import Annotated

import strawberry

from components.orders import models
from components.orders.client_parameters import PaymentClientParameters, client_parameters
from components.orders.graphql import (
    FULFIL,
    REFUND,
    DeliveryType,
    Order,
    OrderLineInput,
    OrderPayload,
    OrderPayment,
    OrderSourceInput,
    PaymentOutcome,
    load_orders,
    load_payments,
)
from components.orders.graphql_access import _order_payload, _orders, _own_order, _source_input, _staff_order, line_text, node_key, one_of
from core.errors import DomainError
from core.gql import Context, Payload, decode_id, run_mutation

_KEY = "Replaying a request with the same key answers as the first did and changes nothing more."
_LINE_ID = "The OrderLine's global id (a bare line number is still accepted for one release)."


@strawberry.input(description="An order to place without a preview (deprecated createOrder).")
class CreateOrderInput:
    lines: list[OrderLineInput] = strawberry.field(description="The SKUs and units to order.")
    delivery_type: DeliveryType = strawberry.field(default=DeliveryType.SHIPPING, description="How the order reaches the member.")
    store_id: int | None = strawberry.field(
        default=None, description="The pickup store's number.", deprecation_reason="Use pickupStoreId; removed in the next release."
    )
    pickup_store_id: strawberry.ID | None = strawberry.field(default=None, description="The PickupStore to collect at (PICKUP orders only).")
    source: OrderSourceInput | None = strawberry.field(default=None, description="Where the order came from (attribution).")
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


@strawberry.input(description="Start paying an order.")
class PayOrderInput:
    order_id: strawberry.ID = strawberry.field(description="The Order to pay (your own).")
    provider: str = strawberry.field(default="sandbox", description="The payment provider: wechat_pay, or sandbox in development.")
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


@strawberry.input(description="Development: what the sandbox provider answers for one payment attempt.")
class SandboxSettlePaymentInput:
    payment_id: strawberry.ID = strawberry.field(
        description="The OrderPayment's global id (a bare payment number is still accepted for one release)."
    )
    outcome: PaymentOutcome = strawberry.field(default=PaymentOutcome.SUCCEEDED, description="Whether the money arrived.")


@strawberry.input(description="An order to cancel, fulfil or complete.")
class OrderIdInput:
    order_id: strawberry.ID = strawberry.field(description="The Order.")
    reason: str | None = strawberry.field(default=None, description="Why (cancelOrder only; kept as the order's cancelReason).")
    # cancelOrder releases stock; a replayed cancel (or fulfil, complete) with the same key
    # answers as the first call did instead of "not cancellable".
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


@strawberry.input(description="Some units of one line of the order.")
class RefundLineInput:
    line_id: strawberry.ID = strawberry.field(description=_LINE_ID)
    quantity: int = strawberry.field(description="Units to refund, at least 1 and at most what is left of the line.")


@strawberry.input(description="A staff refund of a whole order or of some units of some lines.")
class RefundOrderInput:
    order_id: strawberry.ID = strawberry.field(description="The Order to refund.")
    lines: list[RefundLineInput] | None = strawberry.field(default=None, description="The units to refund; leave out to refund everything left.")
    reason: str = strawberry.field(default="refund", description="Why (kept with the refund and sent in the order.refunded event).")
    goods_returned: bool = strawberry.field(
        default=False, description="The shipped units came back: they go on the shelf again (units never shipped always do)."
    )
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


@strawberry.type(description="The answer of payOrder: the payment attempt and what the client hands to the provider's SDK.")
class PayOrderPayload(Payload):
    order: Order | None = strawberry.field(default=None, description="The order being paid.")
    payment: OrderPayment | None = strawberry.field(default=None, description="The payment attempt just started.")
    client_payload: strawberry.scalars.JSON | None = strawberry.field(
        default=None, description="The provider's parameters, untyped.", deprecation_reason="Use clientParameters; removed in the next release."
    )
    client_parameters: PaymentClientParameters | None = strawberry.field(
        default=None, description="What to pass to the provider's SDK (for WeChat Pay: wx.requestPayment's parameters)."
    )


CreateOrderArg = Annotated[CreateOrderInput, strawberry.argument(description="The order to place.")]
PayOrderArg = Annotated[PayOrderInput, strawberry.argument(description="The order and the provider.")]
SandboxSettlePaymentArg = Annotated[SandboxSettlePaymentInput, strawberry.argument(description="The payment attempt and the outcome.")]
OrderIdArg = Annotated[OrderIdInput, strawberry.argument(description="The order.")]
RefundOrderArg = Annotated[RefundOrderInput, strawberry.argument(description="The order and what to refund.")]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Member: place an order; stock is held until payment or timeout.",
        deprecation_reason="Use placeOrder (previewCheckout first); createOrder goes through the same checkout.",
    )
    async def create_order(self, info: strawberry.Info, input: CreateOrderArg) -> OrderPayload:  # noqa: A002
        ctx: Context = info.context
        request = {
            "lines": [(str(item.sku_id), item.quantity) for item in input.lines],
            "delivery": input.delivery_type.value,
            "store": input.store_id,
            "pickupStore": input.pickup_store_id,
            "source": _source_input(input.source) if input.source else {},
        }

        async def work(tx):  # noqa: ANN001, ANN202
            member_id = ctx.require_member()
            lines = [(decode_id(item.sku_id, "Sku", field=f"input.lines[{i}].skuId"), item.quantity) for i, item in enumerate(input.lines)]
            inputs = {}
            store = one_of(input.pickup_store_id, input.store_id, "input.pickupStoreId", "input.storeId")
            if store is not None:
                field = "input.storeId" if input.store_id is not None else "input.pickupStoreId"
                if input.delivery_type is not DeliveryType.PICKUP:
                    raise DomainError("ORDERS_STORE_NOT_ALLOWED", "Only pickup orders name a store.", field=field)
                if input.pickup_store_id is not None:
                    decode_id(input.pickup_store_id, "PickupStore", field=field)  # a wrong type or garbage is named here
                inputs["pickup"] = {"storeId": str(store)}
            order_id = await _orders(ctx).create_order(
                tx,
                member_id=member_id,
                lines=lines,
                delivery_type=input.delivery_type.value,
                inputs=inputs,
                source=_source_input(input.source),
                idempotency_key=input.idempotency_key,
            )
            return {"orderId": order_id}

        result, errors = await run_mutation(ctx, work, idempotency=("orders.create", input.idempotency_key, request))
        return await _order_payload(ctx, result, errors)

    @strawberry.mutation(description="Member: start paying an order with a provider (sandbox in development).")
    async def pay_order(self, info: strawberry.Info, input: PayOrderArg) -> PayOrderPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            order = await _own_order(ctx, tx, decode_id(input.order_id, "Order", field="input.orderId"))
            payment, client = await _orders(ctx).begin_payment(tx, order.id, input.provider)
            # Kept in the idempotent result, so a replayed payOrder hands back the same payload.
            return {"orderId": order.id, "paymentId": payment.id, "client": client}

        result, errors = await run_mutation(ctx, work, idempotency=("orders.pay", input.idempotency_key, [str(input.order_id), input.provider]))
        if errors:
            return PayOrderPayload(user_errors=errors)
        payments = await load_payments(ctx, [result["orderId"]])
        payment = next((p for p in payments[0] if p.pk == result["paymentId"]), None)
        return PayOrderPayload(
            order=(await load_orders(ctx, [result["orderId"]]))[0],
            payment=payment,
            client_payload=result["client"],
            client_parameters=client_parameters(input.provider, result["client"]),
        )

    @strawberry.mutation(description="Development: act as the sandbox provider's callback for a payment.")
    async def sandbox_settle_payment(self, info: strawberry.Info, input: SandboxSettlePaymentArg) -> OrderPayload:  # noqa: A002
        ctx: Context = info.context
        service = _orders(ctx)

        async def work(tx):  # noqa: ANN001, ANN202
            payment_id = node_key(input.payment_id, "OrderPayment", "input.paymentId")
            payment = await tx.session.get(models.Payment, payment_id)
            if payment is None or payment.provider != "sandbox":
                raise DomainError("KERNEL_NOT_FOUND", "No such sandbox payment.", field="input.paymentId")
            service.provider("sandbox")  # refuses in production
            order = await _own_order(ctx, tx, payment.order_id)
            if input.outcome is PaymentOutcome.FAILED:
                await service.payment_failed(tx, "sandbox", payment.provider_ref)
                return {"orderId": order.id, "took": False}
            took = await service.mark_paid(tx, order.id, provider="sandbox", provider_ref=payment.provider_ref, amount_minor=payment.amount_minor)
            return {"orderId": order.id, "took": took}

        result, errors = await run_mutation(ctx, work)
        payload = await _order_payload(ctx, result, errors)
        if result is not None and input.outcome is PaymentOutcome.SUCCEEDED and not result["took"]:
            from core.gql import UserError

            payload.user_errors.append(
                UserError(code="ORDERS_NOT_PAYABLE", field="input.paymentId", message="The order could not take this payment; it was refunded.")
            )
        return payload

    @strawberry.mutation(description="Member (own unpaid order) or staff: cancel; held stock is released.")
    async def cancel_order(self, info: strawberry.Info, input: OrderIdArg) -> OrderPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            order = await _own_order(ctx, tx, decode_id(input.order_id, "Order", field="input.orderId"))
            await _orders(ctx).cancel(tx, order.id, reason=(input.reason or "cancelled by " + ctx.actor.kind)[:100], by=ctx.actor)
            return {"orderId": order.id}

        return await _order_payload(
            ctx, *await run_mutation(ctx, work, idempotency=("orders.cancel", input.idempotency_key, [str(input.order_id), input.reason]))
        )

    @strawberry.mutation(
        description="Staff: refund a paid, shipped or completed order, whole or some units of some lines; "
        "units that never left return to stock, shipped ones only with goodsReturned."
    )
    async def refund_order(self, info: strawberry.Info, input: RefundOrderArg) -> OrderPayload:  # noqa: A002
        ctx: Context = info.context
        request = [str(input.order_id), [(line_text(item.line_id), item.quantity) for item in input.lines or []], input.reason, input.goods_returned]

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require(REFUND)
            order_id = decode_id(input.order_id, "Order", field="input.orderId")
            lines = None
            if input.lines is not None:
                lines = []
                for i, line in enumerate(input.lines):
                    lines.append((node_key(line.line_id, "OrderLine", f"input.lines[{i}].lineId"), line.quantity))
            await _orders(ctx).refund(tx, order_id, lines=lines, reason=input.reason, goods_returned=input.goods_returned)
            return {"orderId": order_id}

        return await _order_payload(ctx, *await run_mutation(ctx, work, idempotency=("orders.refund", input.idempotency_key, request)))

    @strawberry.mutation(description="Staff: mark a paid order shipped or handed over.")
    async def fulfil_order(self, info: strawberry.Info, input: OrderIdArg) -> OrderPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require(FULFIL)
            order_id = decode_id(input.order_id, "Order", field="input.orderId")
            await _staff_order(ctx, tx, order_id, FULFIL)
            await _orders(ctx).fulfil(tx, order_id)
            return {"orderId": order_id}

        return await _order_payload(ctx, *await run_mutation(ctx, work, idempotency=("orders.fulfil", input.idempotency_key, [str(input.order_id)])))

    @strawberry.mutation(description="Member (confirming receipt) or staff: complete a fulfilled order.")
    async def complete_order(self, info: strawberry.Info, input: OrderIdArg) -> OrderPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            order_id = decode_id(input.order_id, "Order", field="input.orderId")
            if ctx.actor.is_staff:
                await _staff_order(ctx, tx, order_id, FULFIL)
            else:
                await _own_order(ctx, tx, order_id)
            await _orders(ctx).complete(tx, order_id, by=ctx.actor)
            return {"orderId": order_id}

        return await _order_payload(
            ctx, *await run_mutation(ctx, work, idempotency=("orders.complete", input.idempotency_key, [str(input.order_id)]))
        )
