"""Durations and money as consultants write them in blueprints ("30m", "99.00")."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal, InvalidOperation

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
# [0-9], not \d: Python's \d also matches other scripts' digits, which nobody means here.
_DURATION = re.compile(r"(?:([0-9]+)w)?(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?")

# The look-ahead requires a non-zero digit, so "0m" and a bare "5" fail schema validation with
# the description as their message instead of failing later in parse_duration.
DURATION_PATTERN = r"^(?=.*[1-9])([0-9]+w)?([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?$"
DURATION_SCHEMA = {
    "type": "string",
    "pattern": DURATION_PATTERN,
    "description": "a duration such as 90s, 30m, 24h, 3d, 2w or 1h30m",
}
# Two decimals at most: no currency dougong knows has more (JPY has none, parse_money checks).
MONEY_PATTERN = r"^[0-9]{1,13}(\.[0-9]{1,2})?$"
MONEY_SCHEMA = {
    "type": "string",
    "pattern": MONEY_PATTERN,
    "description": 'an amount in the brand currency written as a quoted decimal string, e.g. "99.00"',
}
_MONEY = re.compile(r"[0-9]+(\.[0-9]+)?")

# ISO 4217 minor-unit exponents of the currencies brands here sell in.
CURRENCY_EXPONENT = {"CNY": 2, "HKD": 2, "MOP": 2, "TWD": 2, "USD": 2, "EUR": 2, "GBP": 2, "SGD": 2, "JPY": 0, "KRW": 0}


def parse_duration(text: str) -> timedelta:
    """``"1h30m"`` → 90 minutes. Units (w, d, h, m, s) in that order, each at most once."""
    match = _DURATION.fullmatch(str(text).strip()) if text else None
    if not match or not any(match.groups()):
        raise ValueError(f"{text!r} is not a duration; write it like 30m, 24h, 3d or 1h30m")
    weeks, days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    try:
        value = timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds)
    except OverflowError:
        raise ValueError(f"{text!r} is too long a duration") from None
    if value <= timedelta(0):
        raise ValueError(f"{text!r} must be longer than zero")
    return value


def format_duration(value: timedelta) -> str:
    """The inverse of :func:`parse_duration` for whole seconds: 5400 s → ``"1h30m"``."""
    seconds = int(value.total_seconds())
    parts = []
    for unit in ("w", "d", "h", "m", "s"):
        size = _UNITS[unit]
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts) or "0s"


def _exponent(currency: str) -> int:
    try:
        return CURRENCY_EXPONENT[currency]
    except KeyError:
        raise ValueError(f"unknown currency {currency!r}; known: {', '.join(sorted(CURRENCY_EXPONENT))}") from None


def parse_money(text: str, currency: str) -> int:
    """``"99.00"`` in CNY → 9900 minor units. Strings only: a float has already lost cents."""
    if not isinstance(text, str):
        raise ValueError(f'write amounts as quoted decimal strings like "99.00", not {text!r}')
    exponent = _exponent(currency)
    cleaned = text.strip()
    if cleaned.startswith("-"):
        raise ValueError(f"{text!r} is negative; amounts are zero or more")
    # Decimal alone would also take "1e3", "NaN" and "Infinity", none of which is a price.
    if not _MONEY.fullmatch(cleaned):
        raise ValueError(f'{text!r} is not an amount; write it like "99.00"')
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:  # pragma: no cover - the pattern already rules these out
        raise ValueError(f"{text!r} is not an amount") from None
    minor = amount.scaleb(exponent)
    if minor != minor.to_integral_value():
        raise ValueError(f"{text!r} has more decimals than {currency} allows ({exponent})")
    return int(minor)


def format_money(minor: int, currency: str) -> str:
    """9900 minor units in CNY → ``"99.00"``."""
    exponent = _exponent(currency)
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(int(minor)), 10**exponent)
    return f"{sign}{whole}.{frac:0{exponent}d}" if exponent else f"{sign}{whole}"
