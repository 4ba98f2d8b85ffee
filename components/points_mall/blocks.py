"""points_mall's storefront block: items the signed-in member can afford."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import select

from components.points_mall import models
from components.points_mall.graphql import PointsMallItem, item_node
from core.storefront import PageRequest, StorefrontBlock


@strawberry.type(
    description="Points-mall items: for a member, those their balance pays for (dearest first); for "
    "anyone else, the cheapest ones (so the block invites signing in)."
)
class PointsMallItemsBlock(StorefrontBlock):
    items: list[PointsMallItem] = strawberry.field(description="The items, up to the block's limit.")
    balance: int | None = strawberry.field(description="The member's points; null for anyone else.")


SETTINGS = {"type": "object", "additionalProperties": False, "properties": {"limit": {"type": "integer", "minimum": 1, "maximum": 20, "default": 4}}}


async def affordable_items(page: PageRequest, settings: dict[str, Any]) -> dict[str, Any]:
    return (await every_affordable_items(page, [settings]))[0]


async def every_affordable_items(page: PageRequest, every: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every items block of a page from one read of the balance and one of the items: the blocks
    differ only in how many items they show, so the longest list is read once and each block
    takes its first ``limit``."""
    session = await page.session()
    stmt = select(models.Item.__table__).where(
        models.Item.active.is_(True),
        models.Item.stock_left > 0,
        (models.Item.starts_at.is_(None)) | (models.Item.starts_at <= page.now),
        (models.Item.ends_at.is_(None)) | (models.Item.ends_at > page.now),
    )
    balance = None
    if page.actor.is_member:
        account = await session.get(models.Account, page.actor.id)
        balance = account.balance if account else 0
        stmt = stmt.where(models.Item.points_price <= balance).order_by(models.Item.points_price.desc(), models.Item.id)
    else:
        stmt = stmt.order_by(models.Item.points_price, models.Item.id)
    rows = (await session.execute(stmt.limit(max(s["limit"] for s in every)))).all()
    currency = page.kernel.blueprint.brand.currency
    items = [item_node(row, currency) for row in rows]
    return [{"items": items[: settings["limit"]], "balance": balance} for settings in every]


def register(registrar: Any) -> None:
    registrar.page_block(
        "points_mall.affordable",
        titles={"zh": "积分兑换", "en": "Points rewards"},
        settings_schema=SETTINGS,
        graphql_type=PointsMallItemsBlock,
        resolve=affordable_items,
        resolve_many=every_affordable_items,
    )
