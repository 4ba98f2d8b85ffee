"""Example operations the studio's sandbox opens in GraphiQL (checked against the schema at boot)."""

from core.hookspecs import hookimpl


@hookimpl
def dougong_examples(registrar):
    registrar.example(
        "Points mall: items on offer",
        """\
query PointsMallItems {
  pointsMallItems(first: 10) {
    nodes { id title image pointsPrice cashPrice { amount } stockLeft perMemberLimit }
  }
}
""",
    )
