"""Demo data: three mall items (points only, points + cash, a non-physical class) and
welcome points for the first members."""

from __future__ import annotations

from typing import Any


async def seed(kernel: Any, tx: Any) -> None:
    catalog = kernel.service("catalog")
    service = kernel.service("points_mall")

    async def sku_like(text: str) -> int | None:
        for product_id in await catalog.product_ids(tx.session, title_contains=text, limit=1):
            skus = await catalog.product_skus(tx.session, product_id)
            if skus:
                return min(sku.id for sku in skus)
        return None

    balm = await sku_like("润唇膏")
    if balm is not None:
        await service.create_item(tx, title="龙井润唇膏 Lip balm", sku_id=balm, points_price=500, stock=50)
    snacks = await sku_like("桂花糕")
    if snacks is not None:
        await service.create_item(
            tx, title="桂花糕 + 200 points", sku_id=snacks, points_price=200, cash_price_minor=1900, stock=100, per_member_limit=2
        )
    await service.create_item(
        tx,
        title="茶艺课 Tea ceremony class (store)",
        points_price=2000,
        stock=20,
        description="A one-hour class at any of our stores; show the redemption to the clerk.",
        image_url="https://img.example.com/demo/tea-class.jpg",  # no SKU to take a picture from: its own
    )
    members = await kernel.service("members").member_ids(tx.session, limit=3)
    for index, member_id in enumerate(members, start=1):
        await service.credit(tx, member_id, 1000 * index, reason="staff_adjust", note="welcome points (demo)", key=f"demo:{member_id}")
