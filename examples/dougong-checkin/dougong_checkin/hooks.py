"""dougong-checkin's hook implementations: thin, they only register things."""

from core.hookspecs import hookimpl
from dougong_checkin import blocks, demo, graphql, models
from dougong_checkin.service import CHECKED_IN, CheckinService


@hookimpl
def dougong_tables(registrar):
    registrar.table(models.Checkin)


@hookimpl
def dougong_services(registrar):
    registrar.service("checkin", CheckinService(registrar.kernel, registrar.settings))


@hookimpl
def dougong_schema(registrar):
    registrar.query(graphql.Query)
    registrar.mutation(graphql.Mutation)
    registrar.type(graphql.CheckinStreak)
    registrar.node(graphql.Checkin, graphql.load_checkins)


@hookimpl
def dougong_page_blocks(registrar):
    blocks.register(registrar)


@hookimpl
def dougong_error_codes(registrar):
    registrar.error_code("CHECKIN_ALREADY_TODAY", "The member has already checked in today")
    registrar.error_code("CHECKIN_NOTE_TOO_LONG", "The note is longer than the brand allows")


@hookimpl
def dougong_events(registrar):
    registrar.event(CHECKED_IN, "A member checked in for the day", payload={
        "checkinId": "int: the check-in", "memberId": "int: who checked in",
        "day": "str: the brand's calendar day, ISO 8601", "streak": "int: consecutive days reached"})


@hookimpl
def dougong_examples(registrar):
    registrar.example("Check in", "mutation CheckIn { checkIn(input: {note: \"早安\"}) "
                                  "{ checkin { id day streak } streak { days goal } userErrors { code message } } }")
    registrar.example("My streak", "query MyStreak { myCheckinStreak { days goal checkedInToday } }")


@hookimpl
async def dougong_seed_demo(kernel, tx):
    await demo.seed(kernel, tx)
