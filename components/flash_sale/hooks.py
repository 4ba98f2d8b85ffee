import strawberry

from components.flash_sale import early, graphql, models
from components.flash_sale.checkout import LINE_DESCRIPTION, LINE_FIELD
from components.flash_sale.examples import dougong_examples  # noqa: F401  (a hook of this plugin)
from components.flash_sale.service import FlashSaleService
from core.hookspecs import hookimpl


@hookimpl
def dougong_tables(registrar):
    for model in (models.FlashSession, models.Item, models.Bought, models.Purchase):
        registrar.table(model)


@hookimpl
def dougong_services(registrar):
    registrar.service("flash_sale", FlashSaleService(registrar.kernel, registrar.settings))


@hookimpl
def dougong_schema(registrar):
    registrar.query(graphql.Query)
    registrar.mutation(graphql.Mutation)
    registrar.node(graphql.FlashSaleSession, graphql.load_sessions)
    registrar.node(graphql.FlashSaleItem, graphql.load_items)
    # A sold-out session's crowd is refused before GraphQL runs (core.gql.early_refusals).
    registrar.early_refusal("buyFlashSaleItem", early.refuse_crowd, queue=early.buyer_queue)


@hookimpl
def dougong_checkout(registrar):
    registrar.extend_input("CheckoutLineInput", LINE_FIELD, strawberry.ID, LINE_DESCRIPTION)
    registrar.checkout_participant(registrar.kernel.service("flash_sale").checkout)


@hookimpl
def dougong_price_adjusters(registrar):
    registrar.price_adjuster("activity", registrar.kernel.service("flash_sale").checkout.price)


@hookimpl
def dougong_event_handlers(registrar):
    service = registrar.kernel.service("flash_sale")
    # In the transaction: the units go back to the session together with the stock hold the
    # cancellation releases, so the session never shows units that inventory does not.
    registrar.on("order.cancelled", service.on_order_cancelled, in_transaction=True)
    registrar.on("order.paid", service.on_order_paid, in_transaction=True)


@hookimpl
def dougong_jobs(registrar):
    service = registrar.kernel.service("flash_sale")
    if service.gate_enabled:
        registrar.every("flash_sale.reconcile_gate", service.reconcile_every.total_seconds(), service.reconcile_gate)


@hookimpl
async def dougong_startup(kernel):
    await kernel.service("flash_sale").reconcile_gate()


@hookimpl
async def dougong_shutdown(kernel):
    service = kernel.service("flash_sale")
    if service.gate_enabled and service.gate is not None:
        await service.gate.close()


@hookimpl
def dougong_permissions(registrar):
    registrar.permission(graphql.MANAGE, "Make flash-sale sessions", roles=("admin",))


ERROR_CODES = {
    "FLASH_SALE_INVALID_SESSION": "A session's terms are inconsistent; field names the culprit.",
    "FLASH_SALE_NOT_STARTED": "The session has not started; details carry startsAt.",
    "FLASH_SALE_ENDED": "The session has ended; details carry endsAt.",
    "FLASH_SALE_SOLD_OUT": "The session's quantity of the item is used up.",
    "FLASH_SALE_LIMIT_REACHED": "The member holds as many as the item allows; details carry limit.",
    "FLASH_SALE_INVALID_QUANTITY": "A quantity is not a whole number from 1 to 100.",
}


@hookimpl
def dougong_error_codes(registrar):
    for code, text in ERROR_CODES.items():
        registrar.error_code(code, text)


@hookimpl
async def dougong_seed_demo(kernel, tx):
    from components.flash_sale.demo import seed

    await seed(kernel, tx)
