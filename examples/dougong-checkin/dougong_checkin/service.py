"""Checking in: the component's one write, and what the queries read. No GraphQL here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.errors import DomainError
from dougong_checkin import models
from dougong_checkin.rules import brand_day, clean_note, next_streak

CHECKED_IN = "checkin.checked_in"


@dataclass(frozen=True)
class Streak:
    days: int
    goal: int
    checked_in_today: bool


class CheckinService:
    def __init__(self, kernel: Any, settings: Mapping[str, Any]) -> None:
        self.kernel = kernel
        self.goal = int(settings["streak_goal"])
        self.max_note_length = int(settings["max_note_length"])

    def today(self) -> Any:
        return brand_day(self.kernel.clock.now(), self.kernel.blueprint.brand.timezone)

    async def last(self, session: Any, member_id: int) -> models.Checkin | None:
        stmt = select(models.Checkin).where(models.Checkin.member_id == member_id).order_by(models.Checkin.day.desc()).limit(1)
        return await session.scalar(stmt)

    async def check_in(self, tx: Any, member_id: int, note: str | None = None) -> models.Checkin:
        text = clean_note(note, self.max_note_length)
        today = brand_day(tx.now(), self.kernel.blueprint.brand.timezone)
        last = await self.last(tx.session, member_id)
        if last is not None and last.day == today:
            raise DomainError("CHECKIN_ALREADY_TODAY", "You have already checked in today.", day=today.isoformat())
        row = models.Checkin(member_id=member_id, day=today, note=text, created_at=tx.now(),
                             streak=next_streak(last.day if last else None, last.streak if last else 0, today, self.goal))
        try:
            # A savepoint: a twin request that committed first trips the unique constraint, and
            # the answer is then the same typed refusal, never a 500.
            async with tx.session.begin_nested():
                tx.session.add(row)
                await tx.session.flush()
        except IntegrityError:
            raise DomainError("CHECKIN_ALREADY_TODAY", "You have already checked in today.", day=today.isoformat()) from None
        await tx.emit(CHECKED_IN, {"checkinId": row.id, "memberId": member_id, "day": today.isoformat(), "streak": row.streak})
        return row

    async def streak(self, session: Any, member_id: int) -> Streak:
        last = await self.last(session, member_id)
        today = self.today()
        if last is None or (today - last.day).days > 1:
            return Streak(0, self.goal, False)
        return Streak(last.streak, self.goal, last.day == today)
