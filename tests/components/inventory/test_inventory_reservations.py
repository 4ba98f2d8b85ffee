"""Inventory: reservations race, activity counters, returns — never negative, never oversold."""

from __future__ import annotations

import asyncio

import pytest

from core.errors import DomainError
from core.testing import staff


async def try_reserve(kernel, sku_id, quantity=1, activity=None):
    try:
        async with kernel.transaction() as tx:
            return await kernel.service("inventory").reserve(tx, sku_id, quantity, reason="test", ref="r", activity=activity)
    except DomainError as error:
        return error.code


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_200_concurrent_reservations_for_50_units(shop_factory, database):
    shop = await shop_factory(database=database, stock=50)
    results = await asyncio.gather(*(try_reserve(shop.kernel, shop.sku_id) for _ in range(200)))
    assert sum(isinstance(r, int) for r in results) == 50
    assert results.count("INVENTORY_OUT_OF_STOCK") == 150
    assert await shop.available() == 0


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_activity_counter_is_checked_with_the_stock(shop_factory, database):
    shop = await shop_factory(database=database, stock=50)
    service = shop.kernel.service("inventory")
    async with shop.kernel.transaction() as tx:
        await service.define_activity(tx, "flash", "slot-1", shop.sku_id, 5)
    results = await asyncio.gather(*(try_reserve(shop.kernel, shop.sku_id, activity=("flash", "slot-1")) for _ in range(20)))
    assert sum(isinstance(r, int) for r in results) == 5
    assert results.count("INVENTORY_ACTIVITY_SOLD_OUT") == 15
    assert await shop.available() == 45  # the failed ones returned their stock hold with the rollback
    async with shop.kernel.db.read() as session:
        assert await service.activity_left(session, "flash", "slot-1", shop.sku_id) == 0


async def test_release_commit_restock_are_idempotent(shop_factory):
    shop = await shop_factory(stock=10)
    service, kernel = shop.kernel.service("inventory"), shop.kernel
    held = await try_reserve(kernel, shop.sku_id, 4)
    released = await try_reserve(kernel, shop.sku_id, 2)
    async with kernel.transaction() as tx:
        assert await service.commit(tx, held) is True
        assert await service.commit(tx, held) is False
        assert await service.release(tx, released) is True
        assert await service.release(tx, released) is False
        assert await service.release(tx, held) is False  # a sold reservation is not "released"
    assert await shop.available() == 6
    async with kernel.transaction() as tx:
        assert await service.restock(tx, held, 1) == 1
        assert await service.restock(tx, held) == 3
        assert await service.restock(tx, held) == 0
    assert await shop.available() == 10


async def test_stock_never_set_below_what_is_held(shop_factory, graphql):
    shop = await shop_factory(stock=10)
    await try_reserve(shop.kernel, shop.sku_id, 7)
    admin = graphql(shop.kernel, staff(1, "admin"))
    doc = "mutation($sku: ID!, $n: Int!) { setStock(input: {skuId: $sku, onHand: $n}) { available userErrors { code } } }"
    assert (await admin.mutate(doc, sku=shop.sku, n=5))["userErrors"] == [{"code": "INVENTORY_BELOW_RESERVED"}]
    assert (await admin.mutate(doc, sku=shop.sku, n=-1))["userErrors"] == [{"code": "KERNEL_INVALID_INPUT"}]
    assert (await admin.mutate(doc, sku=shop.sku, n=20)) == {"available": 13, "userErrors": []}
    clerk = graphql(shop.kernel, staff(2, "store_clerk", stores=(1,)))
    assert (await clerk.mutate(doc, sku=shop.sku, n=99))["userErrors"] == [{"code": "KERNEL_FORBIDDEN"}]
    assert await shop.available() == 13
    for bad in (0, -2, 10**6):
        assert await try_reserve(shop.kernel, shop.sku_id, bad) in ("KERNEL_INVALID_INPUT", "INVENTORY_OUT_OF_STOCK")
