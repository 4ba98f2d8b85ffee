from components.guide_attribution import demo, graphql, graphql_mutations, models
from components.guide_attribution.examples import dougong_examples  # noqa: F401  (a hook of this plugin)
from components.guide_attribution.service import GuideAttributionService
from core.hookspecs import hookimpl


@hookimpl
def dougong_tables(registrar):
    for model in (models.Binding, models.Attribution, models.RefundLine, models.DailyFigure):
        registrar.table(model)


@hookimpl
def dougong_services(registrar):
    registrar.service("guide_attribution", GuideAttributionService(registrar.kernel, registrar.settings))


@hookimpl
def dougong_schema(registrar):
    registrar.query(graphql.Query)
    registrar.mutation(graphql_mutations.Mutation)
    registrar.extend(
        "Order",
        "guideAttribution",
        graphql.order_attribution,
        "Guide attribution: whom the order is credited to (guide, store, sharer) and the rule that decided.",
    )


@hookimpl
def dougong_checkout(registrar):
    # placed() writes the order's attribution in the placing transaction.
    registrar.checkout_participant(registrar.kernel.service("guide_attribution").crediting)


@hookimpl
def dougong_event_handlers(registrar):
    service = registrar.kernel.service("guide_attribution")
    # After commit, idempotent: a payment flips paid_minor once, a refund is keyed by its event.
    registrar.on("member.registered", service.bindings.on_member_registered)
    registrar.on("order.paid", service.crediting.on_order_paid)
    registrar.on("order.refunded", service.crediting.on_order_refunded)


@hookimpl
def dougong_permissions(registrar):
    registrar.permission(graphql.MANAGE, "Print store codes, see any guide's customers and transfer them", roles=("admin",))
    registrar.permission(graphql.REPORT, "Read guide and store figures, leaderboards and idle guides", roles=("admin",))
    registrar.permission(graphql.PLACE_FOR_CUSTOMER, "Place an order for a customer (代客下单)", roles=("guide",))


ERROR_CODES = {
    "GUIDE_ATTRIBUTION_INVALID_CODE": "The channel code was not issued by this brand (malformed, forged, another brand's).",
    "GUIDE_ATTRIBUTION_GUIDE_INACTIVE": "The guide of the code has left or is no longer a guide; nothing was bound.",
    "GUIDE_ATTRIBUTION_OWN_CODE": "A member touched their own share code; nothing was bound.",
    "GUIDE_ATTRIBUTION_NOT_A_GUIDE": "The staff member is not active with the guide role.",
    "GUIDE_ATTRIBUTION_SAME_GUIDE": "A transfer names the same guide twice.",
    "GUIDE_ATTRIBUTION_INVALID_PERIOD": "A report's period ends before it starts or is longer than 366 days.",
}


@hookimpl
def dougong_error_codes(registrar):
    for code in ERROR_CODES:
        registrar.error_code(code, ERROR_CODES[code])


@hookimpl
async def dougong_seed_demo(kernel, tx):
    await demo.seed(kernel, tx)  # the guide of members' demo data, with two customers
