"""The check-in rules that need no database: plain functions, tested on their own."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from core.errors import DomainError


def brand_day(now: datetime, timezone: str) -> date:
    """The calendar day it is for the brand: a check-in at 23:30 in Shanghai counts for that
    day, not for the UTC day it already is in London."""
    return now.astimezone(ZoneInfo(timezone)).date()


def next_streak(previous_day: date | None, previous_streak: int, today: date, goal: int) -> int:
    """The streak a check-in today reaches: one more than yesterday's, 1 after a gap, and 1 again
    once the previous check-in completed the goal (a new round begins)."""
    if previous_day == today - timedelta(days=1) and previous_streak < goal:
        return previous_streak + 1
    return 1


def clean_note(note: str | None, max_length: int) -> str:
    text = (note or "").strip()
    if len(text) > max_length:
        raise DomainError("CHECKIN_NOTE_TOO_LONG", f"A check-in note has at most {max_length} characters.",
                          field="input.note", maxLength=max_length)
    return text
