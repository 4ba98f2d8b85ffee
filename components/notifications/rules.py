"""The blueprint's mapping from events to messages, as plain functions (fast tests).

A rule says: when ``event`` happens, send ``template`` on ``channel`` to the members named by
the payload key ``recipients`` (one id or a list), with ``fields`` rendered from the payload
(``"{groupId}"``, ``"{amountMinor|yuan}"``, ``"{room.title}"``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from datetime import timezone as dt_timezone
from typing import Any, Mapping
from zoneinfo import ZoneInfo

CHANNELS = ("wechat", "sms")
_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_.]+)(?:\|([a-z]+))?\}")
# WeChat subscription-message value limits by the key's kind (thing1, name2, …).
LIMITS = {
    "thing": 20,
    "name": 10,
    "phrase": 5,
    "character_string": 32,
    "number": 32,
    "letter": 32,
    "symbol": 5,
    "car_number": 8,
    "amount": 16,
    "phone_number": 17,
    "time": 32,
    "date": 32,
}


@dataclass(frozen=True)
class Rule:
    name: str
    event: str
    channel: str
    template: str
    recipients: str
    fields: Mapping[str, str] = field(default_factory=dict)
    page: str | None = None
    stale_after: str | None = None  # payload key of an ISO time after which the message is pointless


def rules_from(settings: Mapping[str, Any]) -> list[Rule]:
    found = []
    for index, raw in enumerate(settings.get("rules") or []):
        found.append(
            Rule(
                name=str(raw.get("name") or f"{raw['event']}#{index}"),
                event=raw["event"],
                channel=raw.get("channel", "wechat"),
                template=str(raw["template"]),
                recipients=raw.get("recipients", "memberId"),
                fields=dict(raw.get("fields") or {}),
                page=raw.get("page"),
                stale_after=raw.get("stale_after"),
            )
        )
    return found


def lookup(payload: Mapping[str, Any], path: str) -> Any:
    value: Any = payload
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def recipients(payload: Mapping[str, Any], key: str) -> list[int]:
    """Member ids named by ``key``: one id or a list of them; anything else names nobody."""
    value = lookup(payload, key)
    values = value if isinstance(value, list) else [value]
    ids = []
    for v in values:
        if isinstance(v, bool):
            continue
        if isinstance(v, int) or (isinstance(v, str) and v.isdigit()):
            if int(v) not in ids:
                ids.append(int(v))
    return ids


def _format(value: Any, how: str | None) -> str:
    if value is None:
        return ""
    if how == "yuan" and isinstance(value, int) and not isinstance(value, bool):
        sign = "-" if value < 0 else ""
        return f"{sign}{abs(value) // 100}.{abs(value) % 100:02d}"
    return str(value)


def render(text: str, payload: Mapping[str, Any]) -> str:
    """``"团 {groupId} 成功"`` → ``"团 7 成功"``; an unknown key renders empty (never a crash)."""
    return _PLACEHOLDER.sub(lambda m: _format(lookup(payload, m[1]), m[2]), text)


def render_fields(fields: Mapping[str, str], payload: Mapping[str, Any]) -> dict[str, str]:
    """Each field rendered and cut to WeChat's limit for its kind (``thing1`` → 20 characters)."""
    out = {}
    for key, text in fields.items():
        value = render(str(text), payload)
        kind = re.sub(r"\d+$", "", key)
        limit = LIMITS.get(kind)
        out[key] = value[:limit] if limit else value
    return out


def stale_at(payload: Mapping[str, Any], key: str | None) -> datetime | None:
    """The moment named by the payload key ``key`` (ISO 8601; naive means UTC), or None when
    there is no key, no value or no time in it: then the message never goes stale."""
    value = lookup(payload, key) if key else None
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt_timezone.utc)


def backoff(attempts: int, base_seconds: float, cap_seconds: float = 3600) -> timedelta:
    """Wait before attempt ``attempts + 1``: base, 2×base, 4×base, … at most ``cap``."""
    return timedelta(seconds=min(base_seconds * 2 ** max(attempts - 1, 0), cap_seconds))


def quiet_until(now: datetime, timezone: str, start: str | None, end: str | None) -> datetime | None:
    """If ``now`` falls in the brand's quiet hours (``"22:00"``–``"08:00"`` in its timezone,
    possibly across midnight), the moment they end (in UTC, as storage keeps times); else None."""
    if not start or not end:
        return None
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    begin, finish = time.fromisoformat(start), time.fromisoformat(end)
    t = local.time().replace(tzinfo=None)
    if begin == finish:
        return None
    inside = begin <= t < finish if begin < finish else (t >= begin or t < finish)
    if not inside:
        return None
    day = local.date() if (begin < finish or t < finish) else local.date() + timedelta(days=1)
    return datetime.combine(day, finish, tzinfo=zone).astimezone(dt_timezone.utc)
