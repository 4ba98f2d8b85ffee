"""Example operations the studio's sandbox opens in GraphiQL (checked against the schema at boot)."""

from core.hookspecs import hookimpl


@hookimpl
def dougong_examples(registrar):
    registrar.example(
        "Flash sale: sessions with their countdown",
        """\
query FlashSaleSessions {
  flashSaleSessions(first: 5) {
    nodes { id title status secondsToStart secondsToEnd items { id flashPrice { amount } stockLeft perMemberLimit sku { title } } }
  }
}
""",
    )
