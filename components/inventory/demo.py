"""Demo stock: every SKU the catalog demo seeded gets ``demo_stock`` units (setting, default
100); a one-of-a-kind product (attribute ``one_of_a_kind``, the jade bangle) gets exactly one,
so the bidding-sale demo's auction holds the only unit there is.

Runs after catalog's seed (inventory depends on catalog), so it reads what catalog wrote.
"""

from __future__ import annotations


async def seed(kernel, tx) -> int:
    catalog, service = kernel.service("catalog"), kernel.service("inventory")
    units = kernel.settings("inventory").get("demo_stock", 100)
    skus = await catalog.skus(tx.session, await catalog.sku_ids(tx.session))
    attributes = await catalog.product_attributes(tx.session, [sku.product_id for sku in skus.values()])
    for sku_id in sorted(skus):
        one_of_a_kind = attributes.get(skus[sku_id].product_id, {}).get("one_of_a_kind")
        await service.set_stock(tx, sku_id, 1 if one_of_a_kind else units)
    return len(skus)
