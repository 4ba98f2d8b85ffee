"""Check-ins in GraphQL (thin: the rules are in rules.py and service.py)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from sqlalchemy import select

from core.clock import as_utc
from core.gql import Connection, Context, Node, Payload, connection, fetch_page, run_mutation
from dougong_checkin import models


def _service(ctx: Context):  # noqa: ANN202
    return ctx.kernel.service("checkin")


@strawberry.type(description="A member's check-in on one day of the brand's calendar.")
class Checkin(Node):
    day: dt.date = strawberry.field(description="The brand's calendar day (its timezone).")
    streak: int = strawberry.field(description="Consecutive days this check-in reached.")
    note: str = strawberry.field(description="The member's words for the day; empty when they gave none.")
    created_at: dt.datetime = strawberry.field(description="When the member checked in (ISO 8601, UTC).")


@strawberry.type(description="Where a member's streak stands today.")
class CheckinStreak:
    days: int = strawberry.field(description="Consecutive days up to yesterday or today; 0 after a gap.")
    goal: int = strawberry.field(description="Days that complete a streak (the brand's setting).")
    checked_in_today: bool = strawberry.field(description="True once the member has checked in on today's calendar day.")


def checkin_node(row: models.Checkin) -> Checkin:
    return Checkin(pk=row.id, day=row.day, streak=row.streak, note=row.note, created_at=as_utc(row.created_at))


async def load_checkins(ctx: Context, keys: list[int]) -> list[Checkin | None]:
    """For node(id): a member sees only their own check-ins."""
    session = await ctx.session()
    rows = {r.id: r for r in (await session.scalars(select(models.Checkin).where(models.Checkin.id.in_(keys)))).all()}
    mine = ctx.actor.id if ctx.actor.kind == "member" else None
    return [checkin_node(rows[k]) if k in rows and rows[k].member_id == mine else None for k in keys]


@strawberry.input(description="Today's check-in; the whole input may be left out.")
class CheckInInput:
    note: str | None = strawberry.field(default=None, description="Optional words for the day.")
    idempotency_key: str | None = strawberry.field(default=None, description="A retried tap with the same key gets the first answer.")


@strawberry.type(description="The check-in made, and the streak after it.")
class CheckInPayload(Payload):
    checkin: Checkin | None = strawberry.field(default=None, description="Today's check-in; null when refused.")
    streak: CheckinStreak | None = strawberry.field(default=None, description="The member's streak including today; null when refused.")


@strawberry.type
class Query:
    # Signed-in-only root fields are nullable: a refusal nulls this field (with an error at its
    # path), never the rest of the page (the README's error model).
    @strawberry.field(description="The signed-in member's check-ins, newest first; null (with an error) for anyone else.")
    async def my_checkins(
        self,
        info: strawberry.Info,
        first: Annotated[int | None, strawberry.argument(description="At most this many from the start (at most 100; 20 by default).")] = None,
        after: Annotated[str | None, strawberry.argument(description="Start after this cursor.")] = None,
        last: Annotated[int | None, strawberry.argument(description="At most this many from the end (at most 100).")] = None,
        before: Annotated[str | None, strawberry.argument(description="End before this cursor.")] = None,
    ) -> Connection[Checkin] | None:
        ctx: Context = info.context
        stmt = select(models.Checkin).where(models.Checkin.member_id == ctx.require_member())
        page = await fetch_page(await ctx.session(), stmt, models.Checkin.id, first, after, last=last, before=before, descending=True)
        return connection(page, checkin_node)

    @strawberry.field(description="The signed-in member's streak; null (with an error) for anyone else.")
    async def my_checkin_streak(self, info: strawberry.Info) -> CheckinStreak | None:
        ctx: Context = info.context
        streak = await _service(ctx).streak(await ctx.session(), ctx.require_member())
        return CheckinStreak(days=streak.days, goal=streak.goal, checked_in_today=streak.checked_in_today)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Check in for today (once a day in the brand's timezone).")
    async def check_in(
        self,
        info: strawberry.Info,
        input: Annotated[CheckInInput | None, strawberry.argument(description="An optional note and idempotency key.")] = None,  # noqa: A002
    ) -> CheckInPayload:
        ctx: Context = info.context
        note = input.note if input else None

        async def work(tx):  # noqa: ANN001, ANN202
            row = await _service(ctx).check_in(tx, ctx.require_member(), note)
            return {"checkinId": row.id}

        key = input.idempotency_key if input else None
        result, errors = await run_mutation(ctx, work, idempotency=("checkin.check_in", key, [note]))
        if errors:
            return CheckInPayload(user_errors=errors)
        checkin = (await load_checkins(ctx, [result["checkinId"]]))[0]
        streak = await _service(ctx).streak(await ctx.session(), ctx.actor.id)
        return CheckInPayload(checkin=checkin, streak=CheckinStreak(days=streak.days, goal=streak.goal,
                                                                   checked_in_today=streak.checked_in_today))
