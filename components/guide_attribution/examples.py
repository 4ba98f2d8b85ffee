"""Example operations the studio's sandbox opens in GraphiQL (checked against the schema at boot)."""

from core.hookspecs import hookimpl


@hookimpl
def dougong_examples(registrar):
    registrar.example(
        "Guide attribution: this month's guide leaderboard and idle guides",
        """\
query GuideBoard {
  guideLeaderboard(holderKind: GUIDE, metric: MEMBERS_ADDED, first: 10) {
    rank figures { holderId membersAdded orders gmv { amountMinor } net { amountMinor } }
  }
  idleGuides(first: 50) { nodes { id name } }
}
""",
    )
