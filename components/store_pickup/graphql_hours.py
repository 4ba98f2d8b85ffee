"""Opening hours in GraphQL: typed per weekday and per special date, in and out.

The stored form stays the one JSON object of ``hours.py``; these types are its typed face. The
JSON input (``hours``) is deprecated for one release: an input gives ``openingHours`` or
``hours``, never both.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import strawberry

from components.store_pickup.hours import WEEKDAYS, clean_ranges
from core.errors import DomainError, refuse_both

RANGES = 'Opening ranges like "09:00-21:00", in the brand\'s time zone; one ending before it starts runs past midnight.'


@strawberry.enum(description="A day of the week.")
class PickupWeekday(enum.Enum):
    MONDAY = strawberry.enum_value("mon", description="Monday.")
    TUESDAY = strawberry.enum_value("tue", description="Tuesday.")
    WEDNESDAY = strawberry.enum_value("wed", description="Wednesday.")
    THURSDAY = strawberry.enum_value("thu", description="Thursday.")
    FRIDAY = strawberry.enum_value("fri", description="Friday.")
    SATURDAY = strawberry.enum_value("sat", description="Saturday.")
    SUNDAY = strawberry.enum_value("sun", description="Sunday.")


@strawberry.type(description="Opening hours of one weekday, in the brand's time zone; a range may run past midnight.")
class PickupOpeningHours:
    weekday: str = strawberry.field(description="'mon' … 'sun'.", deprecation_reason="Use day; removed in the next release.")
    day: PickupWeekday = strawberry.field(description="The weekday these hours are for.")
    ranges: list[str] = strawberry.field(description=RANGES + " Empty: closed that weekday.")


@strawberry.type(description="A holiday or special date's own hours (an empty list: closed all day).")
class PickupSpecialHours:
    date: str = strawberry.field(description="The date, YYYY-MM-DD, in the brand's time zone.")
    ranges: list[str] = strawberry.field(description=RANGES + " Empty: closed all day.")


@strawberry.input(description="One weekday's opening hours.")
class PickupWeekdayHoursInput:
    day: PickupWeekday = strawberry.field(description="The weekday; each weekday at most once.")
    ranges: list[str] = strawberry.field(description=RANGES + " Empty: closed that weekday.")


@strawberry.input(description="A holiday or special date's own hours; they replace the weekday's on that date.")
class PickupSpecialHoursInput:
    date: dt.date = strawberry.field(description="The date in the brand's time zone; each date at most once.")
    ranges: list[str] = strawberry.field(description=RANGES + " Empty: closed all day.")


@strawberry.input(description="A store's opening hours. No weekdays given: open every day, except on the special dates.")
class PickupHoursInput:
    weekdays: list[PickupWeekdayHoursInput] = strawberry.field(
        default_factory=list, description="Hours per weekday; a weekday left out is closed (when any weekday is given)."
    )
    special_dates: list[PickupSpecialHoursInput] = strawberry.field(default_factory=list, description="Holidays and special dates.")


def opening_hours(hours: dict[str, Any]) -> list[PickupOpeningHours]:
    return [PickupOpeningHours(weekday=d, day=PickupWeekday(d), ranges=list(hours[d])) for d in WEEKDAYS if d in hours]


def hours_from_input(new: PickupHoursInput | None, old: Any, field: str = "input") -> Any:
    """The stored hours object from either form: ``None`` when neither was given, the old JSON
    as given (the service checks it), or the object the typed form spells. Both at once, a
    weekday or a date twice, or a malformed range is a typed error naming where."""
    refuse_both(new, old, new_name="openingHours", old_name="hours", field=f"{field}.openingHours")
    if new is None:
        if old is not None and not isinstance(old, dict):
            raise DomainError("KERNEL_INVALID_INPUT", "Hours are an object of weekdays.", field=f"{field}.hours")
        return old
    out: dict[str, list[str]] = {}
    for kind, entries in (("weekdays", new.weekdays), ("specialDates", new.special_dates)):
        for i, entry in enumerate(entries):
            where = f"{field}.openingHours.{kind}[{i}]"
            key = entry.day.value if kind == "weekdays" else entry.date.isoformat()
            if key in out:
                raise DomainError("KERNEL_INVALID_INPUT", f"{key} is given twice.", field=where)
            out[key] = clean_ranges(entry.ranges, f"{where}.ranges")
    return out
