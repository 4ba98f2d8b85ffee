import strawberry

from components.points_mall import deduction, graphql, graphql_mutations, graphql_queries, models
from components.points_mall.checkout import LINE_DESCRIPTION, LINE_FIELD
from components.points_mall.examples import dougong_examples  # noqa: F401  (a hook of this plugin)
from components.points_mall.service import EXPIRE_JOB, EXPIRE_MORE_JOB, GRANT_JOB, PointsService
from core.hookspecs import hookimpl


@hookimpl
def dougong_tables(registrar):
    for model in (models.Account, models.Entry, models.Lot, models.Item, models.Redemption):
        registrar.table(model)


@hookimpl
def dougong_services(registrar):
    registrar.service("points_mall", PointsService(registrar.kernel, registrar.settings))


@hookimpl
def dougong_schema(registrar):
    registrar.query(graphql_queries.Query)
    registrar.mutation(graphql_mutations.Mutation)
    registrar.type(graphql.PointsBalance)
    registrar.node(graphql.PointsLedgerEntry, graphql.load_entries)
    registrar.node(graphql.PointsMallItem, graphql.load_items)
    registrar.node(graphql.PointsRedemption, graphql.load_redemptions)
    registrar.extend(
        "Order", "pointsRedemption", graphql.order_points_redemption, "The points-mall redemption this order delivers; null for other orders."
    )


@hookimpl
def dougong_dataloaders(registrar):
    registrar.dataloader("points_mall.redemptions_by_order", graphql.load_redemptions_by_order)


@hookimpl
def dougong_checkout(registrar):
    mall = registrar.kernel.service("points_mall").checkout
    registrar.extend_input("CheckoutLineInput", LINE_FIELD, strawberry.ID, LINE_DESCRIPTION)
    registrar.checkout_participant(mall)
    registrar.extend_input("CheckoutInput", deduction.INPUT_FIELD, int, deduction.INPUT_DESCRIPTION)
    registrar.checkout_participant(registrar.kernel.service("points_mall").payment)


@hookimpl
def dougong_price_adjusters(registrar):
    service = registrar.kernel.service("points_mall")
    registrar.price_adjuster("points", service.checkout.price)  # a redemption line costs its cash part
    registrar.price_adjuster("points", service.payment.price)  # then points offered pay part of the rest


@hookimpl
def dougong_event_handlers(registrar):
    service = registrar.kernel.service("points_mall")
    # All after commit and idempotent: each compares with what the ledger already holds.
    registrar.on("order.paid", service.on_order_event)
    registrar.on("order.completed", service.on_order_event)
    registrar.on("order.refunded", service.on_order_refunded)
    registrar.on("order.cancelled", service.on_order_cancelled)


@hookimpl
def dougong_jobs(registrar):
    service = registrar.kernel.service("points_mall")
    registrar.every(EXPIRE_JOB, service.expiry_check_every.total_seconds(), service.expire_due)
    registrar.job(EXPIRE_MORE_JOB, service.expire_due)
    registrar.job(GRANT_JOB, service.on_grant_due)


@hookimpl
def dougong_permissions(registrar):
    registrar.permission(graphql.ADJUST, "See members' points and adjust them with a reason", roles=("admin",))
    registrar.permission(graphql.MANAGE, "Manage mall items and member tiers", roles=("admin",))


ERROR_CODES = {
    "POINTS_MALL_NOT_ENOUGH_POINTS": "The balance does not cover it; details carry balance and needed.",
    "POINTS_MALL_SOLD_OUT": "The item's own stock is used up.",
    "POINTS_MALL_LIMIT_REACHED": "The member reached the item's per-member limit; details carry limit and redeemed.",
    "POINTS_MALL_TIER_NOT_ALLOWED": "The item is for a higher member tier; details carry tier and minTier.",
    "POINTS_MALL_OUTSIDE_WINDOW": "The item cannot be redeemed at this time; details carry startsAt and endsAt.",
    "POINTS_MALL_INVALID_QUANTITY": "A quantity or points amount is not a positive whole number in range.",
    "POINTS_MALL_ALREADY_SIGNED_IN": "The member already signed in today (brand time zone).",
    "POINTS_MALL_INVALID_ITEM": "The item's settings are inconsistent; field names the culprit.",
    "POINTS_MALL_REASON_REQUIRED": "A staff adjustment needs a note saying why.",
    "POINTS_MALL_PICKUP_UNAVAILABLE": "Pickup was asked for, but store pickup is off or the reward is not physical.",
    "POINTS_MALL_STORE_REQUIRED": "A pickup redemption names the store.",
    "POINTS_MALL_IDEMPOTENCY_CONFLICT": "The idempotency key already wrote a different change of points; details carry entryId.",
    "POINTS_MALL_POINTS_PAYMENT_OFF": "Points cannot pay for this order (the brand does not take them, or it is a redemption).",
}


@hookimpl
def dougong_error_codes(registrar):
    for code, text in ERROR_CODES.items():
        registrar.error_code(code, text)


@hookimpl
async def dougong_seed_demo(kernel, tx):
    from components.points_mall.demo import seed

    await seed(kernel, tx)


@hookimpl
def dougong_events(registrar):
    registrar.event(
        "points_mall.redeemed",
        "A member redeemed a mall item (points taken, order placed)",
        payload={
            "redemptionId": "int",
            "memberId": "int",
            "itemId": "int",
            "quantity": "int",
            "points": "int",
            "cashMinor": "int",
            "orderId": "int | None: the order delivering it (none for a reward without a SKU)",
            "deliveryType": "str | None",
            "storeId": "int | None",
        },
    )
    registrar.event(
        "points_mall.redemption_returned",
        "Units of a redemption came back (cancel or refund); points returned",
        payload={"redemptionId": "int", "memberId": "int", "itemId": "int", "units": "int", "points": "int", "orderId": "int", "status": "str"},
    )
    registrar.event(
        "points_mall.shortfall",
        "Points to take back exceeded the balance; the rest is owed",
        payload={"memberId": "int", "entryId": "int", "reference": "str", "reason": "str", "missing": "int"},
    )


@hookimpl
def dougong_page_blocks(registrar):
    from components.points_mall import blocks

    blocks.register(registrar)
