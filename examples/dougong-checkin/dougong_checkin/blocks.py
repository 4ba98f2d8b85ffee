"""dougong-checkin's storefront block: an invitation to check in, with the member's streak.

A third-party block: the reference storefront page that ships with dougong does not know its
type and shows a placeholder; a brand's own frontend renders it from ``CheckinBlock``."""

from __future__ import annotations

from typing import Any

import strawberry

from core.storefront import PageRequest, StorefrontBlock


@strawberry.type(description="Daily check-in (每日签到): the streak goal, and a signed-in member's streak so far.")
class CheckinBlock(StorefrontBlock):
    goal: int = strawberry.field(description="Consecutive days that complete a streak.")
    days: int | None = strawberry.field(description="The member's current streak; null for anyone not signed in.")
    label: str = strawberry.field(description="The button's text.")


SETTINGS = {"type": "object", "additionalProperties": False, "properties": {
    "label": {"type": "string", "minLength": 1, "maxLength": 20, "default": "签到 Check in", "description": "the button's text"},
}}


async def streak_block(page: PageRequest, settings: dict[str, Any]) -> dict[str, Any]:
    return (await streak_blocks(page, [settings]))[0]


async def streak_blocks(page: PageRequest, every: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The member's streak is read once for every check-in block of the page (they differ only
    in their label)."""
    service = page.kernel.service("checkin")
    days = (await service.streak(await page.session(), page.actor.id)).days if page.actor.is_member else None
    return [{"goal": service.goal, "days": days, "label": settings["label"]} for settings in every]


def register(registrar: Any) -> None:
    registrar.page_block("checkin.streak", titles={"zh": "每日签到", "en": "Daily check-in"}, settings_schema=SETTINGS,
                         graphql_type=CheckinBlock, resolve=streak_block,
                         resolve_many=streak_blocks)
