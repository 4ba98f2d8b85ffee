"""Demo data: a flash-sale session running now (two SKUs at flash prices) and one at 20:00."""

from __future__ import annotations

from datetime import timedelta
from typing import Any


async def seed(kernel: Any, tx: Any) -> None:
    catalog = kernel.service("catalog")
    sku_ids = await catalog.sku_ids(tx.session, limit=3)
    if len(sku_ids) < 2:
        return
    skus = await catalog.skus(tx.session, sku_ids)
    service = kernel.service("flash_sale")
    now = tx.now()

    def item(sku_id: int, quantity: int) -> dict[str, Any]:
        return {"sku_id": sku_id, "flash_price_minor": skus[sku_id].price_minor // 2, "quantity": quantity, "per_member_limit": 1}

    await service.create_session(
        tx,
        title="秒杀 now",
        starts_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(hours=2),
        items=[item(sku_ids[0], 100), item(sku_ids[1], 20)],
    )
    await service.create_session(
        tx, title="秒杀 20:00", starts_at=now + timedelta(hours=6), ends_at=now + timedelta(hours=8), items=[item(sku_ids[-1], 50)]
    )
