"""Example operations the studio's sandbox opens in GraphiQL (checked against the schema at boot)."""

from core.hookspecs import hookimpl


@hookimpl
def dougong_examples(registrar):
    registrar.example(
        "Auctions: lots",
        """\
query AuctionLots {
  auctionLots(first: 10) {
    nodes { id status startPrice { amount } currentPrice { amount } nextMinimumBid { amount } endsAt bidCount }
  }
}
""",
    )
