from components.distribution import graphql, graphql_mutations, graphql_queries, models
from components.distribution.commissions import UNFREEZE_JOB
from components.distribution.service import DistributionService
from core.hookspecs import hookimpl


@hookimpl
def dougong_tables(registrar):
    for model in (models.Promoter, models.Binding, models.Rule, models.Commission, models.Entry, models.Withdrawal, models.Spend):
        registrar.table(model)


@hookimpl
def dougong_services(registrar):
    registrar.service("distribution", DistributionService(registrar.kernel, registrar.settings))


@hookimpl
def dougong_schema(registrar):
    registrar.query(graphql_queries.Query)
    registrar.mutation(graphql_mutations.Mutation)
    registrar.node(graphql.Promoter, graphql.load_promoters)
    registrar.node(graphql.PromoterCommission, graphql.load_commissions)
    registrar.node(graphql.PromoterLedgerEntry, graphql.load_entries)
    registrar.node(graphql.PromoterWithdrawal, graphql.load_withdrawals)
    registrar.node(graphql.PromoterCommissionRule, graphql.load_rules)


@hookimpl
def dougong_event_handlers(registrar):
    commissions = registrar.kernel.service("distribution").commissions
    # In the order's own transaction: the ledger follows the money at every commit, and a
    # refund's reversal can never run before the payment's accrual (commissions.py).
    registrar.on("order.paid", commissions.on_order_paid, in_transaction=True)
    registrar.on("order.refunded", commissions.on_order_refunded, in_transaction=True)
    registrar.on("order.completed", commissions.on_order_completed, in_transaction=True)


@hookimpl
def dougong_jobs(registrar):
    registrar.job(UNFREEZE_JOB, registrar.kernel.service("distribution").commissions.unfreeze)


@hookimpl
def dougong_permissions(registrar):
    registrar.permission(graphql.MANAGE, "Review promoters and withdrawals, set commission rules, read distribution reports", roles=("admin",))


ERROR_CODES = {
    "DISTRIBUTION_NOT_FOUND": "No such promoter or withdrawal.",
    "DISTRIBUTION_INVALID_INPUT": "A rejection needs a reason (1 to 500 characters).",
    "DISTRIBUTION_ALREADY_APPLIED": "The member is already a promoter or their application is waiting; details carry status.",
    "DISTRIBUTION_SPEND_TOO_LOW": "The member's paid spend is below the brand's threshold; details carry both.",
    "DISTRIBUTION_NOT_PENDING": "The application or withdrawal was already decided; details carry status.",
    "DISTRIBUTION_NOT_A_PROMOTER": "The share code's holder, or the member withdrawing, is not an active promoter.",
    "DISTRIBUTION_INVALID_SHARE_CODE": "Not a member share code this brand issued.",
    "DISTRIBUTION_SELF_BINDING": "A member cannot be bound to themself.",
    "DISTRIBUTION_BINDING_LOOP": "The promoter is, up their chain, the member's own customer.",
    "DISTRIBUTION_ALREADY_BOUND": "The member is bound to another promoter and the binding mode keeps it.",
    "DISTRIBUTION_INVALID_RULE": "A commission rule's SKU, level, kind or value is out of range.",
    "DISTRIBUTION_INVALID_AMOUNT": "A withdrawal is a positive amount.",
    "DISTRIBUTION_BELOW_MINIMUM": "Below the smallest withdrawal, or the fee would take it all; details carry the figure.",
    "DISTRIBUTION_INSUFFICIENT_BALANCE": "The available balance is less than the amount; details carry availableMinor.",
    "DISTRIBUTION_PAYOUT_UNAVAILABLE": "The payout provider cannot pay this promoter (no WeChat merchant settings or openid).",
}


@hookimpl
def dougong_error_codes(registrar):
    for code, text in ERROR_CODES.items():
        registrar.error_code(code, text)


@hookimpl
async def dougong_seed_demo(kernel, tx):
    from components.distribution.demo import seed

    await seed(kernel, tx)


@hookimpl
def dougong_examples(registrar):
    registrar.example(
        "Distribution: my promoter status",
        """\
query MyPromoter {
  myPromoter { id status available { amountMinor } frozen { amountMinor }
               standing { tier monthSales { amountMinor } monthlyTarget { amountMinor } targetReached customers } }
  myCommissions(first: 10) { nodes { id status level amount { amountMinor } paid { amountMinor } } }
}
""",
    )
