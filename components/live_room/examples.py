"""Example operations the studio's sandbox opens in GraphiQL (checked against the schema at boot)."""

from core.hookspecs import hookimpl


@hookimpl
def dougong_examples(registrar):
    registrar.example(
        "Live room: rooms",
        """\
query LiveRooms {
  liveRooms(first: 10) {
    nodes { id title status scheduledStartAt likeCount commentCount }
  }
}
""",
    )
