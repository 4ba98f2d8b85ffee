from components.store_pickup import checkout, graphql, graphql_links, graphql_mutations, graphql_queries, models
from components.store_pickup.examples import dougong_examples  # noqa: F401  (a hook of this plugin)
from components.store_pickup.service import EXPIRE_JOB, REMIND_JOB, StorePickupService
from core.hookspecs import hookimpl


@hookimpl
def dougong_tables(registrar):
    for model in (models.Store, models.Slot, models.Pickup, models.Attempt):
        registrar.table(model)


@hookimpl
def dougong_services(registrar):
    service = StorePickupService(registrar.kernel, registrar.settings)
    registrar.service("store_pickup", service)
    # Store clerks are assigned pickup stores (members checks the ids against this list).
    registrar.stores(service.existing_store_ids)
    # Authorization: a paid pickup is handed over with the customer's code, never by marking
    # its order fulfilled (orders is a dependency, so its service already exists).
    registrar.kernel.service("orders").add_fulfilment_guard("store_pickup", service.fulfilment_guard)


@hookimpl
def dougong_schema(registrar):
    registrar.query(graphql_queries.Query)
    registrar.mutation(graphql_mutations.Mutation)
    registrar.node(graphql.PickupStore, graphql.load_stores)
    registrar.node(graphql.PickupSlot, graphql.load_slots)
    registrar.node(graphql.PickupOrder, graphql.load_pickups)
    graphql_links.register(registrar)


@hookimpl
def dougong_dataloaders(registrar):
    registrar.dataloader("store_pickup.pickup_by_order", graphql_links.load_pickups_by_order)
    registrar.dataloader("store_pickup.stores", graphql.load_stores)


@hookimpl
def dougong_event_handlers(registrar):
    service = registrar.kernel.service("store_pickup")
    # In the order's transaction (the checkout participant opened the pickup as the order was placed).
    registrar.on("order.paid", service.on_order_paid, in_transaction=True)
    registrar.on("order.cancelled", service.on_order_cancelled, in_transaction=True)
    registrar.on("order.refunded", service.on_order_refunded, in_transaction=True)


@hookimpl
def dougong_checkout(registrar):
    # An order is a pickup order only with its store checked, its slot taken and its code
    # allocated in the checkout that places it — or it is not placed at all.
    registrar.extend_input(
        "CheckoutInput", "pickup", checkout.PickupChoiceInput, description="Collect at this store (and slot); needs deliveryType PICKUP."
    )
    registrar.checkout_participant(checkout.PickupCheckout(registrar.kernel.service("store_pickup")))


@hookimpl
def dougong_jobs(registrar):
    registrar.job(EXPIRE_JOB, registrar.kernel.service("store_pickup").expire)
    registrar.job(REMIND_JOB, registrar.kernel.service("store_pickup").remind_expiry)


@hookimpl
def dougong_permissions(registrar):
    registrar.permission(graphql.MANAGE, "Open and change pickup stores and their slots", roles=("admin",))
    registrar.permission(graphql.VERIFY, "Verify pickup codes at one's own stores", roles=("store_clerk",))
    registrar.permission(graphql.VIEW, "See the pickups and results of one's own stores", roles=("store_clerk",))


@hookimpl
def dougong_error_codes(registrar):
    for code, text in {
        "STORE_PICKUP_UNKNOWN_STORE": "No pickup store has that id.",
        "STORE_PICKUP_STORE_CLOSED": "The store is closed or suspended and takes no pickup orders.",
        "STORE_PICKUP_SLOT_REQUIRED": "The brand asks for a pickup time slot.",
        "STORE_PICKUP_SLOT_UNAVAILABLE": "The slot is not the store's, or has started.",
        "STORE_PICKUP_SLOT_FULL": "The slot is fully booked.",
        "STORE_PICKUP_ORDER_NOT_PENDING": "Only an unpaid order can change where it is collected.",
        "STORE_PICKUP_STOCK_ELSEWHERE": "The order holds another location's stock (per-store stock).",
        "STORE_PICKUP_NOT_YOUR_STORE": "Clerks verify and see pickups only at their own stores.",
        "STORE_PICKUP_WRONG_STORE": "The pickup is to be collected at another store.",
        "STORE_PICKUP_WRONG_CODE": "No pickup at this store has that code.",
        "STORE_PICKUP_INVALID_QR": "The QR payload is malformed or its signature does not hold.",
        "STORE_PICKUP_ALREADY_PICKED_UP": "The pickup was already collected.",
        "STORE_PICKUP_NOT_PAID": "The order has not been paid.",
        "STORE_PICKUP_REFUND_IN_PROGRESS": "A refund of the order is under way.",
        "STORE_PICKUP_REFUNDED": "The order was refunded.",
        "STORE_PICKUP_GROUP_NOT_FORMED": "A group-buy order whose group has not succeeded yet.",
        "STORE_PICKUP_ON_HOLD": "Another component holds the order back from fulfilment.",
        "STORE_PICKUP_EXPIRED": "The pickup window passed.",
        "STORE_PICKUP_RATE_LIMITED": "Too many refused verification attempts by this clerk or at this store.",
    }.items():
        registrar.error_code(code, text)


@hookimpl
async def dougong_seed_demo(kernel, tx):
    from components.store_pickup import demo

    await demo.seed(kernel, tx)


@hookimpl
def dougong_events(registrar):
    pickup = {
        "pickupId": "int",
        "orderId": "int",
        "memberId": "int",
        "storeId": "int",
        "slotId": "int | None",
        "state": "str",
        "kind": "str",
        "totalMinor": "int",
        "currency": "str",
    }
    registrar.event(
        "store_pickup.ready",
        "A paid pickup order is ready at its store (a reminder to come and collect it)",
        payload={**pickup, "expiresAt": "str: ISO 8601 UTC, the end of the pickup window"},
    )
    registrar.event(
        "store_pickup.expiring_soon",
        "A pickup still waits and its window ends soon (expiry_reminder_before)",
        payload={**pickup, "expiresAt": "str: ISO 8601 UTC"},
    )
    registrar.event("store_pickup.picked_up", "A clerk handed a pickup over", payload={**pickup, "clerkId": "int"})
    registrar.event("store_pickup.overdue", "A pickup was not collected in time (reminder)", payload=pickup)
    registrar.event("store_pickup.expired", "An uncollected pickup expired and was refunded", payload={**pickup, "refundedMinor": "int"})


@hookimpl
def dougong_page_blocks(registrar):
    from components.store_pickup import blocks

    blocks.register(registrar)
