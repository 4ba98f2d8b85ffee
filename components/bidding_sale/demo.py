"""Demo data: one open lot — the one-of-a-kind jade bangle from the catalog demo — with a
ladder, a hidden reserve and a deposit, ending in two days."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select


async def seed(kernel: Any, tx: Any) -> int | None:
    from components.catalog.models import Product, Sku

    jade = await tx.session.scalar(select(Sku.id).join(Product).where(Product.title.like("%翡翠%")).order_by(Sku.id).limit(1))
    if jade is None:  # a catalog without the bangle: nothing to auction
        return None
    now = tx.now()
    return await kernel.service("bidding_sale").create_lot(
        tx, sku_id=jade, start_price=300000, increments=[(0, 10000), (1000000, 50000)], starts_at=now,
        ends_at=now + timedelta(days=2), reserve_price=600000, deposit=50000)
