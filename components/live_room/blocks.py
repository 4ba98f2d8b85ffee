"""live_room's storefront block: the room on air, else the next one scheduled."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import literal, select, union_all

from components.live_room import models
from components.live_room.graphql import LiveRoom, room_node
from core.storefront import PageRequest, StorefrontBlock

RUNNING = ("live", "paused")


@strawberry.type(description="The live room on air now, or else the next one scheduled (with its start time).")
class LiveRoomBlock(StorefrontBlock):
    room: LiveRoom | None = strawberry.field(description="The room; null when none is on air or coming.")
    on_air: bool = strawberry.field(description="Whether the room is on air now (live or paused).")
    reservations: int = strawberry.field(description="How many members reserved the room (预约).")
    reserved: bool | None = strawberry.field(description="Whether the signed-in member reserved it; null for anyone else.")


SETTINGS = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "upcoming": {"type": "boolean", "default": True, "description": "show the next scheduled room when none is on air"},
    },
}


async def on_air_or_next(page: PageRequest, settings: dict[str, Any]) -> dict[str, Any]:
    return (await every_on_air_or_next(page, [settings]))[0]


async def every_on_air_or_next(page: PageRequest, every: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every live block of a page shows the same room: the one on air, else (for the blocks
    that want it) the next scheduled. Both candidates come from one statement (a UNION ALL of
    the two one-row reads, each tagged), then the chosen room's reservations: the statements
    do not grow with the blocks."""
    session = await page.session()
    table = models.Room.__table__
    running = (
        select(literal(0).label("which"), *table.c)
        .where(models.Room.status.in_(RUNNING))
        .order_by(models.Room.started_at.desc(), models.Room.id.desc())
        .limit(1)
        .subquery()
    )
    upcoming = (
        select(literal(1).label("which"), *table.c)
        .where(models.Room.status == "scheduled", models.Room.scheduled_end_at > page.now)
        .order_by(models.Room.scheduled_start_at, models.Room.id)
        .limit(1)
        .subquery()
    )
    rows = {row.which: row for row in (await session.execute(union_all(select(running), select(upcoming)))).all()}
    on_air = rows.get(0)
    room = on_air if on_air is not None else rows.get(1)
    if room is None:
        return [_NOTHING for _ in every]
    reservations = page.kernel.service("live_room").reservations
    reserved = await reservations.is_reserved(session, room.id, page.actor.id) if page.actor.is_member else None
    shown = {"room": room_node(room), "on_air": on_air is not None, "reservations": await reservations.count(session, room.id), "reserved": reserved}
    # Without a room on air, a block that does not show the next one shows nothing.
    return [shown if on_air is not None or settings["upcoming"] else _NOTHING for settings in every]


_NOTHING: dict[str, Any] = {"room": None, "on_air": False, "reservations": 0, "reserved": None}


def register(registrar: Any) -> None:
    registrar.page_block(
        "live_room.on_air",
        titles={"zh": "直播", "en": "Live now"},
        settings_schema=SETTINGS,
        graphql_type=LiveRoomBlock,
        resolve=on_air_or_next,
        resolve_many=every_on_air_or_next,
        empty=lambda data: data["room"] is None,
    )
