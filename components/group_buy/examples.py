"""Example operations the studio's sandbox opens in GraphiQL (checked against the schema at boot)."""

from core.hookspecs import hookimpl


@hookimpl
def dougong_examples(registrar):
    registrar.example(
        "Group-buy: offers on products",
        """\
query GroupBuyOffers {
  products(first: 10) {
    nodes { title groupBuyOffers { id groupSize groupPrice { amount } endsAt stockLeft } }
  }
}
""",
    )
    registrar.example(
        "Group-buy: running offers",
        """\
query RunningGroupBuyOffers {
  groupBuyOffers(first: 10) {
    nodes { id groupSize durationSeconds groupPrice { amount } stockLeft endsAt product { title } }
    pageInfo { hasNextPage endCursor }
  }
}
""",
    )
