import strawberry

from components.coupons import graphql, graphql_mutations, models
from components.coupons.checkout import INPUT_DESCRIPTION, INPUT_FIELD
from components.coupons.examples import dougong_examples  # noqa: F401  (a hook of this plugin)
from components.coupons.service import CouponsService
from core.hookspecs import hookimpl


@hookimpl
def dougong_tables(registrar):
    for model in (models.Template, models.Holding, models.Coupon):
        registrar.table(model)


@hookimpl
def dougong_services(registrar):
    registrar.service("coupons", CouponsService(registrar.kernel, registrar.settings))


@hookimpl
def dougong_schema(registrar):
    registrar.query(graphql.Query)
    registrar.mutation(graphql_mutations.Mutation)
    registrar.node(graphql.CouponTemplate, graphql.load_templates)
    registrar.node(graphql.Coupon, graphql.load_coupons)
    registrar.extend(
        "CheckoutPreview",
        "coupons",
        graphql.preview_coupons,
        "Coupons: every coupon in the member's wallet, usable on this checkout or with the reason not.",
    )


@hookimpl
def dougong_checkout(registrar):
    registrar.extend_input("CheckoutInput", INPUT_FIELD, list[strawberry.ID], INPUT_DESCRIPTION)
    registrar.checkout_participant(registrar.kernel.service("coupons").checkout)


@hookimpl
def dougong_price_adjusters(registrar):
    registrar.price_adjuster("coupon", registrar.kernel.service("coupons").checkout.price)


@hookimpl
def dougong_event_handlers(registrar):
    service = registrar.kernel.service("coupons")
    # After commit and idempotent: gifts are keyed by their cause, returns match only coupons
    # still marked used by that order.
    registrar.on("member.registered", service.on_member_registered)
    registrar.on("order.paid", service.on_order_paid)
    registrar.on("order.cancelled", service.on_order_cancelled)
    registrar.on("order.refunded", service.on_order_refunded)


@hookimpl
def dougong_permissions(registrar):
    registrar.permission(graphql.MANAGE, "Make coupon templates and push coupons to members", roles=("admin",))


ERROR_CODES = {
    "COUPONS_INVALID_TEMPLATE": "A template's terms are inconsistent; field names the culprit.",
    "COUPONS_NOT_AVAILABLE": "The template is not being given out (inactive).",
    "COUPONS_ENDED": "The template's validity has passed.",
    "COUPONS_SOLD_OUT": "Every coupon of the template was issued (its total quantity).",
    "COUPONS_LIMIT_REACHED": "The member holds as many of the template as it allows; details carry limit.",
    "COUPONS_NOT_CLAIMABLE": "The template is given (push, gifts), not claimed.",
    "COUPONS_NOT_PUSHABLE": "Only PUSH templates are pushed by staff.",
    "COUPONS_INVALID_PUSH": "A push names 1 to 500 members.",
    "COUPONS_LIVE_ROOM_UNAVAILABLE": "A live-room coupon in a blueprint without live rooms.",
    "COUPONS_ROOM_NOT_LIVE": "The live room's coupon is claimable only while the room is live; details carry status.",
    "COUPONS_NOT_IN_ROOM": "Only members in the live room may claim its coupon.",
    "COUPONS_NOT_USABLE": "The coupon cannot be used on this checkout; details carry reason.",
    "COUPONS_ONE_PER_ORDER": "More coupons than the brand allows on one order.",
    "COUPONS_ONE_PER_SCOPE": "Two coupons of one scope kind on an order.",
    "COUPONS_ALREADY_USED": "The coupon was used on another order meanwhile; nothing was placed.",
}


@hookimpl
def dougong_error_codes(registrar):
    for code, text in ERROR_CODES.items():
        registrar.error_code(code, text)


@hookimpl
async def dougong_seed_demo(kernel, tx):
    from components.coupons.demo import seed

    await seed(kernel, tx)
