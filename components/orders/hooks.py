from core.hookspecs import hookimpl

from components.orders import demo, graphql, models
from components.orders.service import TIMEOUT_JOB, OrdersService


@hookimpl
def dougong_tables(registrar):
    for model in (models.Order, models.OrderLine, models.Payment, models.Refund):
        registrar.table(model)


@hookimpl
def dougong_services(registrar):
    registrar.service("orders", OrdersService(registrar.kernel, registrar.settings))


@hookimpl
def dougong_schema(registrar):
    registrar.query(graphql.Query)
    registrar.mutation(graphql.Mutation)
    registrar.node(graphql.Order, graphql.load_orders)


@hookimpl
def dougong_dataloaders(registrar):
    registrar.dataloader("orders.orders", graphql.load_orders)
    registrar.dataloader("orders.lines", graphql.load_lines)
    registrar.dataloader("orders.payments", graphql.load_payments)


@hookimpl
def dougong_jobs(registrar):
    service = registrar.kernel.service("orders")
    registrar.job(TIMEOUT_JOB, service.on_payment_timeout)


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
    }.items():
        registrar.error_code(code, text)


@hookimpl
async def dougong_seed_demo(kernel, tx):
    await demo.seed(kernel, tx)
