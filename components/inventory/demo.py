"""Demo stock: every SKU the catalog demo seeded gets ``demo_stock`` units (setting, default
100); a one-of-a-kind product (attribute ``one_of_a_kind``, the jade bangle) gets exactly one,
so the bidding-sale demo's auction holds the only unit there is.

Runs after catalog's seed (inventory depends on catalog), so it reads what catalog wrote.
"""

from __future__ import annotations

from sqlalchemy import select


async def seed(kernel, tx) -> int:
    from components.catalog.models import Product, Sku

    service = kernel.service("inventory")
    units = kernel.settings("inventory").get("demo_stock", 100)
    rows = await tx.session.execute(select(Sku.id, Product.attributes).join(Product, Product.id == Sku.product_id).order_by(Sku.id))
    stocked = 0
    for sku_id, attributes in rows.all():
        await service.set_stock(tx, sku_id, 1 if (attributes or {}).get("one_of_a_kind") else units)
        stocked += 1
    return stocked
