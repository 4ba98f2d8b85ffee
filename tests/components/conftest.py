"""Shared fixtures for component tests: a small shop on SQLite or PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from core.gql.relay import to_global_id

SHOP = """\
dougong: 1
brand: {slug: shop, name: Shop, currency: CNY, timezone: Asia/Shanghai}
auth: {dev_sign_in: true}
components:
  orders: {}
"""


@dataclass
class Shop:
    kernel: Any
    sku_id: int
    sku: str  # global id
    product_id: int
    second_sku_id: int

    async def count(self, model: Any) -> int:
        async with self.kernel.db.read() as session:
            return int(await session.scalar(select(func.count()).select_from(model)))

    async def available(self, sku_id: int | None = None) -> int:
        async with self.kernel.db.read() as session:
            found = await self.kernel.service("inventory").available(session, [sku_id or self.sku_id])
        return found[sku_id or self.sku_id]


async def open_shop(kernel: Any, *, members: int = 5, stock: int = 50, price: int = 10000) -> Shop:
    async with kernel.transaction() as tx:
        for i in range(members):
            await kernel.service("members").create_member(tx, phone=f"1390000{i:04d}", nickname=f"m{i + 1}")
        await kernel.service("members").create_staff(tx, name="admin", roles=("admin",))
        product = await kernel.service("catalog").create_product(
            tx, title="Longjing", skus=[{"title": "50g", "price_minor": price}, {"title": "100g", "price_minor": price * 2}],
        )
        from components.catalog.models import Sku

        sku_ids = (await tx.session.scalars(select(Sku.id).where(Sku.product_id == product).order_by(Sku.id))).all()
        for sku_id in sku_ids:
            await kernel.service("inventory").set_stock(tx, sku_id, stock)
    return Shop(kernel, sku_ids[0], to_global_id("Sku", sku_ids[0]), product, sku_ids[1])


@pytest.fixture
def shop_factory(kernel_factory):
    async def make(*, database: str = "sqlite", members: int = 5, stock: int = 50, blueprint: str = SHOP, **kwargs: Any) -> Shop:
        kernel = await kernel_factory(blueprint, database=database)
        return await open_shop(kernel, members=members, stock=stock, **kwargs)

    return make


async def hire(kernel: Any, *roles: str, stores: tuple[int, ...] = ()) -> Any:
    """A staff row with these roles, and the actor to sign in as: rights come from the
    database on every request, so a token for a staff id nobody holds is refused."""
    from core.testing import staff

    async with kernel.transaction() as tx:
        staff_id = await kernel.service("members").create_staff(tx, name="+".join(roles), roles=roles, store_ids=stores)
    return staff(staff_id, *roles, stores=stores)
