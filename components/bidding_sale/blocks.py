"""bidding_sale's storefront block: lots open now, or the ones ending soonest."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import literal, select, union_all
from sqlalchemy.orm import aliased

from components.bidding_sale import models
from components.bidding_sale.graphql import AuctionLot, lot_node
from core.storefront import PageRequest, StorefrontBlock


@strawberry.type(description="Auction lots open now: newest first, or ending soonest first.")
class AuctionLotsBlock(StorefrontBlock):
    lots: list[AuctionLot] = strawberry.field(description="The open lots, in the order the block asks for.")


SETTINGS = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "order": {"enum": ["newest", "ending_soon"], "default": "ending_soon"},
        "limit": {"type": "integer", "minimum": 1, "maximum": 20, "default": 4},
    },
}


async def open_lots(page: PageRequest, settings: dict[str, Any]) -> dict[str, Any]:
    return (await every_open_lots(page, [settings]))[0]


ORDERS = {"ending_soon": (models.Lot.ends_at, models.Lot.id), "newest": (models.Lot.starts_at.desc(), models.Lot.id.desc())}


async def every_open_lots(page: PageRequest, every: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every lots block of a page from one statement: a UNION ALL of one limited read per order
    the page's blocks use (each as long as its longest block, tagged with its order); a block
    takes the first ``limit`` of its order's list."""
    session = await page.session()
    longest: dict[str, int] = {}
    for settings in every:
        longest[settings["order"]] = max(longest.get(settings["order"], 0), settings["limit"])
    parts = []
    for order, limit in longest.items():
        stmt = (
            select(literal(order).label("block_order"), *models.Lot.__table__.c)
            .where(models.Lot.status == "scheduled", models.Lot.starts_at <= page.now, models.Lot.ends_at > page.now)
            .order_by(*ORDERS[order])
            .limit(limit)
            .subquery()
        )  # ORDER BY and LIMIT kept inside a subquery
        parts.append(select(stmt))
    found = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    lot = aliased(models.Lot, found)
    lots: dict[str, list[Any]] = {order: [] for order in longest}
    for row, order in (await session.execute(select(lot, found.c.block_order))).all():
        lots[order].append(row)
    nodes: dict[str, list[Any]] = {}
    for order, rows in lots.items():
        # A UNION keeps no order of its members: sort again, as the member's ORDER BY did.
        rows.sort(key=lambda row: (row.ends_at, row.id) if order == "ending_soon" else (row.starts_at, row.id), reverse=order == "newest")
        nodes[order] = [lot_node(row, page.ctx) for row in rows]
    return [{"lots": nodes[settings["order"]][: settings["limit"]]} for settings in every]


def register(registrar: Any) -> None:
    registrar.page_block(
        "bidding_sale.lots",
        titles={"zh": "正在拍卖", "en": "Auctions now"},
        settings_schema=SETTINGS,
        graphql_type=AuctionLotsBlock,
        resolve=open_lots,
        resolve_many=every_open_lots,
    )
