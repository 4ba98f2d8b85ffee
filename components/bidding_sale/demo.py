"""Demo data: one open lot — the one-of-a-kind jade bangle from the catalog demo — with a
ladder, a hidden reserve and a deposit, ending in two days."""

from __future__ import annotations

from datetime import timedelta
from typing import Any


async def seed(kernel: Any, tx: Any) -> int | None:
    catalog = kernel.service("catalog")
    skus = await catalog.skus(tx.session, await catalog.sku_ids(tx.session))
    jade = next((sku_id for sku_id, sku in sorted(skus.items()) if "翡翠" in sku.product_title), None)
    if jade is None:  # a catalog without the bangle: nothing to auction
        return None
    now = tx.now()
    return await kernel.service("bidding_sale").create_lot(
        tx,
        sku_id=jade,
        start_price=300000,
        increments=[(0, 10000), (1000000, 50000)],
        starts_at=now,
        ends_at=now + timedelta(days=2),
        reserve_price=600000,
        deposit=50000,
    )
