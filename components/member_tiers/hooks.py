from components.member_tiers import graphql, models
from components.member_tiers.examples import dougong_examples  # noqa: F401  (a hook of this plugin)
from components.member_tiers.service import TiersService
from components.member_tiers.terms import EXPIRY_JOB
from components.member_tiers.tiers import REVIEW_JOB, TIER_CHANGED
from core.hookspecs import hookimpl


@hookimpl
def dougong_tables(registrar):
    for model in (models.Account, models.Entry, models.Line, models.TermProduct, models.Purchase):
        registrar.table(model)


@hookimpl
def dougong_services(registrar):
    service = TiersService(registrar.kernel, registrar.settings)
    registrar.service("member_tiers", service)
    # A term order is a membership, not goods: never shipped (orders is a dependency, its service exists).
    registrar.kernel.service("orders").add_fulfilment_guard("member_tiers", service.guard)


@hookimpl
def dougong_schema(registrar):
    registrar.query(graphql.Query)
    registrar.mutation(graphql.Mutation)
    registrar.type(graphql.MemberTierStatus)
    registrar.node(graphql.GrowthLedgerEntry, graphql.load_entries)


@hookimpl
def dougong_checkout(registrar):
    registrar.checkout_participant(registrar.kernel.service("member_tiers"))


@hookimpl
def dougong_price_adjusters(registrar):
    service = registrar.kernel.service("member_tiers")
    # A term line costs the term's price (an activity price); plain lines get the member price.
    registrar.price_adjuster("activity", service.term_price)
    registrar.price_adjuster("discount", service.price)


@hookimpl
def dougong_event_handlers(registrar):
    service = registrar.kernel.service("member_tiers")
    # All after commit and idempotent: the ledger keys each line's payment and each refund event
    # of a line once; a purchase moves only from the state its event expects.
    registrar.on("order.paid", service.on_order_paid)
    registrar.on("order.refunded", service.on_order_refunded)
    registrar.on("order.paid", service.on_term_paid)
    registrar.on("order.cancelled", service.on_term_cancelled)
    registrar.on("order.refunded", service.on_term_refunded)


@hookimpl
def dougong_jobs(registrar):
    service = registrar.kernel.service("member_tiers")
    registrar.job(REVIEW_JOB, service.on_review_due)
    registrar.job(EXPIRY_JOB, service.on_term_expiry)


@hookimpl
def dougong_permissions(registrar):
    registrar.permission(graphql.ADJUST, "See members' tiers and growth, and correct growth with a reason", roles=("admin",))


ERROR_CODES = {
    "MEMBER_TIERS_UNKNOWN_TERM": "No membership term of that code is on sale.",
    "MEMBER_TIERS_TERM_QUANTITY": "A membership term is bought one at a time (quantity 1).",
    "MEMBER_TIERS_INVALID_DELTA": "A growth correction is a non-zero whole number that keeps growth at zero or more; details carry growth.",
    "MEMBER_TIERS_REASON_REQUIRED": "A growth correction needs a reason of 1 to 200 characters.",
}


@hookimpl
def dougong_error_codes(registrar):
    for code, text in ERROR_CODES.items():
        registrar.error_code(code, text)


@hookimpl
def dougong_events(registrar):
    registrar.event(
        TIER_CHANGED,
        "A member's tier went up (growth passed a threshold) or down (a review)",
        payload={
            "memberId": "int",
            "fromTier": "str: the tier code before",
            "toTier": "str: the tier code after",
            "direction": "str: up | down",
            "growth": "int: growth after",
            "cause": "str: order:<id>, adjust:<entry id> or review",
        },
    )
    registrar.event(
        "member_tiers.term_started",
        "A paid membership term started or was extended (its order was paid)",
        payload={
            "memberId": "int",
            "orderId": "int",
            "termCode": "str",
            "expiresAt": "str: ISO time",
            "extended": "bool: a running term was extended",
        },
    )
    registrar.event(
        "member_tiers.term_ended",
        "A paid membership term ended (expired, or its order was refunded)",
        payload={"memberId": "int", "termCode": "str | None", "reason": "str: expired | refunded"},
    )


@hookimpl
async def dougong_startup(kernel):
    # points_mall learns tiers and multipliers through its extension point, when the blueprint has it.
    if kernel.has_component("points_mall"):
        kernel.service("points_mall").use_member_standing("member_tiers", kernel.service("member_tiers").standing)


@hookimpl
async def dougong_seed_demo(kernel, tx):
    from components.member_tiers.demo import seed

    await seed(kernel, tx)
