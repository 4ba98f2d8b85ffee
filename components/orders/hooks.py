import strawberry

from components.orders import (
    aftersale_graphql,
    checkout_graphql,
    checkout_types,
    demo,
    graphql,
    graphql_mutations,
    graphql_queries,
    intents_graphql,
    models,
    shipping,
)
from components.orders.history import OrderHistory
from components.orders.intents import EVENT_PAYLOAD as INTENT_PAYLOAD
from components.orders.service import AUTO_COMPLETE_JOB, TIMEOUT_JOB, OrdersService
from core.hookspecs import hookimpl

ORDER_PAYLOAD = {
    "orderId": "int",
    "memberId": "int",
    "kind": "str: plain or the activity that made it",
    "status": "str",
    "subtotalMinor": "int",
    "totalMinor": "int",
    "refundedMinor": "int",
    "currency": "str",
    "deliveryType": "str",
    "storeId": "int | None",
    "source": "dict: attribution (liveRoomId, groupId, shareCode, …)",
    "attributes": "dict",
}
REQUEST = {
    "requestId": "int",
    "requestKind": "refund_only or return_and_refund",
    "requestStatus": "str",
    "lines": "list[dict]: lineId, quantity",
    "requestedMinor": "int",
    "approvedMinor": "int | None",
}
LINES = {"lines": "list[dict]: lineId, skuId, quantity, unitPriceMinor, totalMinor, refundedQuantity, activity {component, ref}"}


@hookimpl
def dougong_events(registrar):
    registrar.event(
        "order.created", "An order was placed through checkout (stock held, participants' rows written)", payload={**ORDER_PAYLOAD, **LINES}
    )
    registrar.event(
        "order.paid",
        "An order's payment succeeded (a zero-total order is paid as it is placed)",
        payload={**ORDER_PAYLOAD, **LINES, "provider": "str", "providerRef": "str"},
    )
    registrar.event(
        "order.cancelled",
        "An unpaid order was cancelled (member, staff or payment timeout); stock released",
        payload={**ORDER_PAYLOAD, **LINES, "reason": "str"},
    )
    registrar.event(
        "order.refunded",
        "Money went back for some lines or all of them; stock returned",
        payload={
            **ORDER_PAYLOAD,
            "amountMinor": "int",
            "full": "bool",
            "reason": "str",
            "lines": "list[dict]: lineId, skuId, quantity, amountMinor, activity",
        },
    )
    registrar.event("order.fulfilled", "A paid order was shipped or handed over", payload={**ORDER_PAYLOAD, **LINES})
    registrar.event("order.completed", "A fulfilled order was completed", payload={**ORDER_PAYLOAD, **LINES})
    registrar.event("order.refund_requested", "A member asked for money back for some lines (after-sale)", payload={**ORDER_PAYLOAD, **REQUEST})
    registrar.event(
        "order.refund_resolved",
        "Staff approved, rejected or refunded an after-sale request, or the member cancelled it",
        payload={**ORDER_PAYLOAD, **REQUEST},
    )
    registrar.event(
        "order.intent_succeeded", "A payment intent (not a goods order: a deposit) was paid; its owner acts on its purpose", payload=INTENT_PAYLOAD
    )
    registrar.event("order.intent_failed", "A payment intent will not be paid (the provider closed or refused it)", payload=INTENT_PAYLOAD)
    registrar.event(
        "order.intent_refunded",
        "Some or all of a payment intent's money went back to the payer",
        payload={
            **INTENT_PAYLOAD,
            "refundMinor": "int: this refund",
            "full": "bool",
            "reason": "str",
            "refundRef": "str: the provider's refund reference",
        },
    )
    registrar.event(
        "order.payment_returned",
        "A payment arrived for an order that could no longer take it and was refunded",
        payload={**ORDER_PAYLOAD, "amountMinor": "int"},
    )


@hookimpl
def dougong_tables(registrar):
    for model in (
        models.Order,
        models.OrderLine,
        models.Payment,
        models.Refund,
        models.CartLine,
        models.Address,
        models.Shipment,
        models.RefundRequest,
        models.PaymentIntent,
    ):
        registrar.table(model)


@hookimpl
def dougong_services(registrar):
    registrar.service("orders", OrdersService(registrar.kernel, registrar.settings))
    registrar.service("orders.history", OrderHistory())


@hookimpl
def dougong_schema(registrar):
    registrar.query(graphql_queries.Query)
    registrar.mutation(graphql_mutations.Mutation)
    registrar.query(checkout_graphql.Query)
    registrar.mutation(checkout_graphql.Mutation)
    registrar.node(graphql.Order, graphql.load_orders)
    registrar.node(graphql.OrderLine, graphql.load_line_nodes)
    registrar.node(graphql.OrderPayment, graphql.load_payment_nodes)
    registrar.node(checkout_types.CartLine, checkout_types.load_cart_lines)
    # Extensible: components add their checkout fields with registrar.extend_input.
    registrar.type(checkout_graphql.CheckoutInput)
    registrar.type(checkout_graphql.CheckoutLineInput)
    # Extensible: components add fields to the preview (the coupons usable on it).
    registrar.type(checkout_types.CheckoutPreview)
    aftersale_graphql.register(registrar)
    registrar.node(intents_graphql.PaymentIntent, intents_graphql.load_intents)  # owners return it from their own mutations
    registrar.mutation(intents_graphql.Mutation)


@hookimpl
def dougong_checkout(registrar):
    # Orders joins its own checkout like any component: the address is an input field it
    # declares and a participant reads.
    registrar.extend_input(
        "CheckoutInput",
        "shippingAddressId",
        strawberry.ID,
        description="Ship to this address of your address book (a snapshot is kept on the order).",
    )
    required = registrar.settings.get("shipping_address", "optional") == "required"
    registrar.checkout_participant(shipping.ShippingCheckout(required))


@hookimpl
def dougong_price_adjusters(registrar):
    fee = shipping.delivery_fee(registrar.settings, registrar.kernel.blueprint.brand.currency)
    if fee is not None:
        registrar.price_adjuster("delivery", fee)


@hookimpl
def dougong_dataloaders(registrar):
    registrar.dataloader("orders.orders", graphql.load_orders)
    registrar.dataloader("orders.lines", graphql.load_lines)
    registrar.dataloader("orders.payments", graphql.load_payments)
    registrar.dataloader("orders.line_nodes", graphql.load_line_nodes)  # a line by its own id, if its order is visible


@hookimpl
def dougong_jobs(registrar):
    service = registrar.kernel.service("orders")
    registrar.job(TIMEOUT_JOB, service.on_payment_timeout)
    registrar.job(AUTO_COMPLETE_JOB, service.on_auto_complete)


@hookimpl
def dougong_permissions(registrar):
    registrar.permission(graphql.VIEW, "See every member's orders", roles=("admin", "store_clerk"))
    registrar.permission(graphql.MANAGE, "Cancel or pay any order on a member's behalf", roles=("admin",))
    registrar.permission(graphql.REFUND, "Refund paid orders", roles=("admin",))
    registrar.permission(graphql.FULFIL, "Mark orders fulfilled and completed", roles=("admin", "store_clerk"))


@hookimpl
def dougong_error_codes(registrar):
    for code, text in {
        "ORDERS_EMPTY": "An order needs at least one line.",
        "ORDERS_TOO_MANY_LINES": "More lines than the brand allows.",
        "ORDERS_INVALID_QUANTITY": "A quantity is outside what can be ordered or refunded.",
        "ORDERS_SKU_UNAVAILABLE": "The SKU does not exist or is not on sale.",
        "ORDERS_STORE_REQUIRED": "Pickup orders must name a store.",
        "ORDERS_NEGATIVE_TOTAL": "Price adjustments took a line or the order below zero.",
        "ORDERS_ILLEGAL_TRANSITION": "The order's status does not allow this; details carry the status.",
        "ORDERS_UNKNOWN_PROVIDER": "No such payment provider is installed or enabled.",
        "ORDERS_PAYMENT_MISMATCH": "The payment does not match the order.",
        "ORDERS_NOT_PAYABLE": "The order could not take the payment, which was refunded.",
        "ORDERS_UNKNOWN_LINE": "The line is not part of the order.",
        "ORDERS_NOTHING_TO_REFUND": "Everything was refunded already.",
        "ORDERS_FULFILMENT_BLOCKED": "A component refuses fulfilment yet (e.g. a group not yet formed).",
        "ORDERS_PRICE_CHANGED": "The total differs from the preview's; details carry the new prices. Nothing was placed.",
        "ORDERS_UNKNOWN_SOURCE": "The order's source names a live room or group no loaded component knows.",
        "ORDERS_STORE_NOT_ALLOWED": "Only pickup orders name a store (a shipping order is not a store's business).",
        "ORDERS_NEEDS_OWN_ORDER": "A line's activity needs an order of its own (no other lines).",
        "ORDERS_CHECKOUT_INCOMPLETE": "A component still needs something from the buyer (details list what).",
        "ORDERS_INVALID_ADDRESS": "An address field is missing or malformed (details name it).",
        "ORDERS_ADDRESS_NOT_ALLOWED": "Only shipping orders take a shipping address.",
        "ORDERS_AFTER_SALE_CLOSED": "The order is past its after-sale window, or not paid.",
        "ORDERS_REFUND_REQUEST_OPEN": "A line already has an open refund request.",
        "ORDERS_REQUEST_NOT_OPEN": "The refund request's status does not allow this; details carry it.",
        "ORDERS_NOTHING_TO_RETURN": "Nothing of the line was shipped, so nothing can be returned.",
        "ORDERS_NOTHING_TO_SHIP": "Everything was shipped or refunded already.",
        "ORDERS_INVALID_AMOUNT": "The amount is outside what the units are worth.",
        "ORDERS_CART_FULL": "The cart has as many lines as it may hold.",
    }.items():
        registrar.error_code(code, text)


@hookimpl
async def dougong_seed_demo(kernel, tx):
    await demo.seed(kernel, tx)


@hookimpl
def dougong_examples(registrar):
    registrar.example(
        "Orders: my orders with their lines and payments",
        """\
query MyOrders($after: String) {
  myOrders(first: 10, after: $after) {
    nodes { id status orderKind deliveryType pickupStoreId createdAt total { amountMinor currency }
            lines { id title quantity total { amountMinor } adjustments { component priceStage label amount { amountMinor } } }
            payments { id provider paymentStatus amount { amountMinor } } }
    pageInfo { hasNextPage endCursor }
  }
}
""",
    )
    registrar.example(
        "Orders: pay an order and hand the provider's parameters to wx.requestPayment",
        """\
mutation PayOrder($orderId: ID!, $provider: String!) {
  payOrder(input: {orderId: $orderId, provider: $provider}) {
    payment { id paymentStatus }
    clientParameters { provider timeStamp nonceStr package signType paySign sandbox providerRef }
    userErrors { code field message }
  }
}
""",
        {"orderId": "T3JkZXI6MQ", "provider": "sandbox"},
    )
