"""Opening hours: weekly hours plus holidays and special dates, as plain functions.

Hours are one JSON object in the brand's time zone::

    {"mon": ["09:00-21:00"], "fri": ["09:00-12:00", "13:00-22:00"], "sat": ["20:00-02:00"],
     "2027-02-10": [], "2027-02-11": ["10:00-16:00"]}

A weekday key gives that weekday's ranges; a weekday left out is closed. An ISO date key
(a holiday, a special date) replaces the weekday's hours on that date: ``[]`` closes the store
all day, ranges give that day's own hours. A range that ends before it starts runs past
midnight (its tail belongs to the day it started on, so a special date's late opening runs
into the next morning). No weekday keys at all means open whenever the store is open, except
on the special dates listed; no hours at all means always open.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any, Mapping

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOURS = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])-([01][0-9]|2[0-4]):([0-5][0-9])$")
MAX_SPECIAL_DATES = 400  # a year of holidays and then some: the JSON stays small


def _special_date(key: str) -> date | None:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", key):
        return None
    try:
        return date.fromisoformat(key)
    except ValueError:
        return None


def normalise_hours(hours: Mapping[str, Any] | None, field: str = "input.hours") -> dict[str, list[str]]:
    """Check and tidy hours (see the module); refuses unknown keys and malformed ranges."""
    from core.errors import DomainError

    out: dict[str, list[str]] = {}
    specials = 0
    for day, ranges in (hours or {}).items():
        if day not in WEEKDAYS:
            if _special_date(str(day)) is None:
                raise DomainError(
                    "KERNEL_INVALID_INPUT", f"Keys are weekdays ({', '.join(WEEKDAYS)}) or dates like 2027-02-10.", field=f"{field}.{day}"
                )
            specials += 1
            if specials > MAX_SPECIAL_DATES:
                raise DomainError("KERNEL_INVALID_INPUT", f"At most {MAX_SPECIAL_DATES} special dates.", field=field)
        out[str(day)] = clean_ranges(ranges, f"{field}.{day}")
    return out


def clean_ranges(ranges: Any, field: str) -> list[str]:
    """One day's ranges checked and stripped (``"09:00-21:00"``; a single string is a list of one)."""
    from core.errors import DomainError

    if isinstance(ranges, str):
        ranges = [ranges]
    if not isinstance(ranges, (list, tuple)):
        raise DomainError("KERNEL_INVALID_INPUT", 'Opening hours are a list like ["09:00-21:00"].', field=field)
    clean = []
    for text in ranges:
        match = HOURS.match(str(text).strip())
        if not match or match.group(1, 2) == match.group(3, 4):
            raise DomainError("KERNEL_INVALID_INPUT", 'Opening hours are written like "09:00-21:00".', field=field)
        clean.append(str(text).strip())
    return clean


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def ranges_on(hours: Mapping[str, list[str]], day: date) -> list[str] | None:
    """The ranges of ``day`` (a special date's own, else its weekday's); ``None``: open all day."""
    special = hours.get(day.isoformat())
    if special is not None:
        return list(special)
    if not any(weekday in hours for weekday in WEEKDAYS):
        return None
    return list(hours.get(WEEKDAYS[day.weekday()], ()))


def open_at(hours: Mapping[str, list[str]] | None, local: datetime) -> bool:
    """Whether opening hours cover ``local`` (a time in the brand's zone)."""
    if not hours:
        return True
    minute = local.hour * 60 + local.minute
    today = ranges_on(hours, local.date())
    if today is None:
        return True
    for text in today:
        start, end = (_minutes(t) for t in text.split("-"))
        if (start < end and start <= minute < end) or (end < start and minute >= start):
            return True
    for text in ranges_on(hours, local.date() - timedelta(days=1)) or ():
        start, end = (_minutes(t) for t in text.split("-"))
        if end < start and minute < end:  # the tail of last night's late opening
            return True
    return False


def special_dates(hours: Mapping[str, list[str]] | None) -> list[tuple[str, list[str]]]:
    """The special dates of some hours, in date order."""
    return sorted((key, list(value)) for key, value in (hours or {}).items() if key not in WEEKDAYS)
