"""live_room's storefront block: the room on air, else the next one scheduled."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import select

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


SETTINGS = {"type": "object", "additionalProperties": False, "properties": {
    "upcoming": {"type": "boolean", "default": True, "description": "show the next scheduled room when none is on air"},
}}


async def on_air_or_next(page: PageRequest, settings: dict[str, Any]) -> dict[str, Any]:
    session = await page.session()
    room = await session.scalar(select(models.Room).where(models.Room.status.in_(RUNNING))
                                .order_by(models.Room.started_at.desc(), models.Room.id.desc()).limit(1))
    on_air = room is not None
    if room is None and settings["upcoming"]:
        room = await session.scalar(select(models.Room).where(models.Room.status == "scheduled",
                                                              models.Room.scheduled_end_at > page.now)
                                    .order_by(models.Room.scheduled_start_at, models.Room.id).limit(1))
    if room is None:
        return {"room": None, "on_air": False, "reservations": 0, "reserved": None}
    reservations = page.kernel.service("live_room").reservations
    reserved = await reservations.is_reserved(session, room.id, page.actor.id) if page.actor.is_member else None
    return {"room": room_node(room), "on_air": on_air, "reservations": await reservations.count(session, room.id),
            "reserved": reserved}


def register(registrar: Any) -> None:
    registrar.page_block("live_room.on_air", titles={"zh": "直播", "en": "Live now"}, settings_schema=SETTINGS,
                         graphql_type=LiveRoomBlock, resolve=on_air_or_next, empty=lambda data: data["room"] is None)
