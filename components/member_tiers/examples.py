"""Example operations the studio's sandbox opens in GraphiQL (checked against the schema at boot)."""

from core.hookspecs import hookimpl


@hookimpl
def dougong_examples(registrar):
    registrar.example(
        "Member tiers: the tiers and the paid terms on sale",
        """\
query TiersAndTerms {
  memberTiers { level code name threshold keep discountPercent pointsPercent }
  membershipTerms { code name price { amount } days discountPercent pointsPercent }
}
""",
    )
