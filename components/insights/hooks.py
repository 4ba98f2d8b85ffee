from components.insights import graphql, models
from components.insights.service import REBUILD_JOB, InsightsService
from core.hookspecs import hookimpl


@hookimpl
def dougong_tables(registrar):
    for model in (models.Fact, models.Daily, models.Customer, models.Joined, models.JoinedFact):
        registrar.table(model)


@hookimpl
def dougong_services(registrar):
    registrar.service("insights", InsightsService(registrar.kernel, registrar.settings))


@hookimpl
def dougong_schema(registrar):
    registrar.query(graphql.Query)


@hookimpl
def dougong_event_handlers(registrar):
    service = registrar.kernel.service("insights")
    # After commit: a report must never fail a payment. Idempotent through the ledger's facts.
    registrar.on("order.paid", service.on_order_paid)
    registrar.on("order.refunded", service.on_order_refunded)
    registrar.on("member.registered", service.on_member_registered)


@hookimpl
def dougong_jobs(registrar):
    registrar.job(REBUILD_JOB, registrar.kernel.service("insights").on_rebuild_timer)


@hookimpl
def dougong_permissions(registrar):
    registrar.permission(graphql.VIEW, "See the brand's insights (reach, customer value, referral, GMV)", roles=("admin",))


ERROR_CODES = {
    "INSIGHTS_PERIOD_REVERSED": "The period's last day is before its first.",
    "INSIGHTS_PERIOD_TOO_LONG": "The period covers more days than the brand allows; details carry maxDays.",
}


@hookimpl
def dougong_error_codes(registrar):
    for code, text in ERROR_CODES.items():
        registrar.error_code(code, text)


@hookimpl
def dougong_examples(registrar):
    registrar.example(
        "Insights of a week",
        """query Insights {
  insights(period: {from: "2026-03-01", to: "2026-03-07"}) {
    reach { members wechatConnected subscriptionReachable newMembers }
    sales { orders gross { amount } refunded { amount } net { amount } averageOrderValue { amount } days { day net { amount } } }
    customerValue { newCustomers repurchaseRate lifetimeValue { amount } }
    referral { newCustomers referredNewCustomers rate }
    gmvBy(dimension: CHANNEL, first: 10) { nodes { channel sales { net { amount } } } }
  }
}""",
    )


@hookimpl
async def dougong_seed_demo(kernel, tx):
    from components.insights.demo import seed

    await seed(kernel, tx)
