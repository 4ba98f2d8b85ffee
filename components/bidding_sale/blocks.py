"""bidding_sale's storefront block: lots open now, or the ones ending soonest."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import select

from components.bidding_sale import models
from components.bidding_sale.graphql import AuctionLot, lot_node
from core.storefront import PageRequest, StorefrontBlock


@strawberry.type(description="Auction lots open now: newest first, or ending soonest first.")
class AuctionLotsBlock(StorefrontBlock):
    lots: list[AuctionLot] = strawberry.field(description="The open lots, in the order the block asks for.")


SETTINGS = {"type": "object", "additionalProperties": False, "properties": {
    "order": {"enum": ["newest", "ending_soon"], "default": "ending_soon"},
    "limit": {"type": "integer", "minimum": 1, "maximum": 20, "default": 4},
}}


async def open_lots(page: PageRequest, settings: dict[str, Any]) -> dict[str, Any]:
    session = await page.session()
    stmt = select(models.Lot).where(models.Lot.status == "scheduled", models.Lot.starts_at <= page.now,
                                    models.Lot.ends_at > page.now)
    stmt = stmt.order_by(models.Lot.ends_at, models.Lot.id) if settings["order"] == "ending_soon" else         stmt.order_by(models.Lot.starts_at.desc(), models.Lot.id.desc())
    rows = (await session.scalars(stmt.limit(settings["limit"]))).all()
    return {"lots": [lot_node(row, page.ctx) for row in rows]}


def register(registrar: Any) -> None:
    registrar.page_block("bidding_sale.lots", titles={"zh": "正在拍卖", "en": "Auctions now"}, settings_schema=SETTINGS,
                         graphql_type=AuctionLotsBlock, resolve=open_lots)
