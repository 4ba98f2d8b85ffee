"""group_buy's storefront block: the offers running now."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import select

from components.group_buy import models
from components.group_buy.graphql import GroupBuyOffer, offer_node
from core.storefront import PageRequest, StorefrontBlock


@strawberry.type(description="Group-buy offers running now, ending soonest first.")
class GroupBuyOffersBlock(StorefrontBlock):
    offers: list[GroupBuyOffer] = strawberry.field(description="The offers, ending soonest first.")


SETTINGS = {"type": "object", "additionalProperties": False, "properties": {"limit": {"type": "integer", "minimum": 1, "maximum": 20, "default": 4}}}


async def running_offers(page: PageRequest, settings: dict[str, Any]) -> dict[str, Any]:
    return (await every_running_offers(page, [settings]))[0]


async def every_running_offers(page: PageRequest, every: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every offers block of a page from one read: all blocks list the same offers in the same
    order and differ only in how many, so the longest list is read once and each block takes
    its first ``limit``."""
    session = await page.session()
    rows = (
        await session.execute(
            select(models.Offer.__table__)
            .where(models.Offer.status == "active", models.Offer.starts_at <= page.now, models.Offer.ends_at > page.now)
            .order_by(models.Offer.ends_at, models.Offer.id)
            .limit(max(s["limit"] for s in every))
        )
    ).all()
    currency = page.kernel.blueprint.brand.currency
    offers = [offer_node(row, currency) for row in rows]
    return [{"offers": offers[: settings["limit"]]} for settings in every]


def register(registrar: Any) -> None:
    registrar.page_block(
        "group_buy.offers",
        titles={"zh": "拼团活动", "en": "Group buys now"},
        settings_schema=SETTINGS,
        graphql_type=GroupBuyOffersBlock,
        resolve=running_offers,
        resolve_many=every_running_offers,
    )
