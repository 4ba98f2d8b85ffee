"""Example operations the studio's sandbox opens in GraphiQL (checked against the schema at boot)."""

from core.hookspecs import hookimpl


@hookimpl
def dougong_examples(registrar):
    registrar.example(
        "Coupons: the claim centre",
        """\
query ClaimCentre {
  couponTemplates(first: 10) {
    nodes { id title kind amountOff { amount } percentOff threshold { amount } couponsLeft perMemberLimit validUntil validDays }
  }
}
""",
    )
