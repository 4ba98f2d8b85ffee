"""Inventory: racing reservations, activity counters, commit/release/restock — never negative, never oversold.

Helpers live in this file on purpose (no shared conftest): the blueprint is the smallest one
that has stock (inventory, which pulls catalog in).
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from components.catalog.models import Sku
from components.inventory.models import ActivityStock, Reservation, Stock
from core.errors import DomainError
from core.gql.relay import to_global_id
from core.testing import member, staff

SHOP = """\
dougong: 1
brand: {slug: shop, name: Shop, currency: CNY, timezone: Asia/Shanghai}
components:
  inventory: {}
"""


async def stocked_sku(kernel, on_hand: int) -> int:
    """One on-sale product with two SKUs; the first gets ``on_hand`` units. Returns its id."""
    async with kernel.transaction() as tx:
        product = await kernel.service("catalog").create_product(
            tx, title="明前龙井", skus=[{"title": "50g", "price_minor": 16800}, {"title": "100g", "price_minor": 32800}])
        sku_id = (await tx.session.scalars(select(Sku.id).where(Sku.product_id == product).order_by(Sku.position))).first()
        await kernel.service("inventory").set_stock(tx, sku_id, on_hand)
    return sku_id


async def stock_row(kernel, sku_id: int, location_id: int = 0) -> tuple[int, int]:
    async with kernel.db.read() as session:
        row = (await session.execute(
            select(Stock.on_hand, Stock.reserved).where(Stock.sku_id == sku_id, Stock.location_id == location_id))).one()
    return row.on_hand, row.reserved


async def reservation_states(kernel) -> dict[str, int]:
    async with kernel.db.read() as session:
        rows = await session.execute(select(Reservation.state, func.sum(Reservation.quantity)).group_by(Reservation.state))
    return {state: int(total) for state, total in rows.all()}


async def try_reserve(kernel, sku_id, quantity=1, activity=None, ref="r", location_id=0):
    """One buyer, one transaction of its own: a reservation id, or the refusal's code."""
    try:
        async with kernel.transaction() as tx:
            return await kernel.service("inventory").reserve(
                tx, sku_id, quantity, reason="test", ref=ref, activity=activity, location_id=location_id)
    except DomainError as error:
        return error.code


async def try_in_tx(kernel, method: str, *args):
    async with kernel.transaction() as tx:
        return await getattr(kernel.service("inventory"), method)(tx, *args)


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_100_concurrent_reservations_for_50_units(kernel_factory, database):
    kernel = await kernel_factory(SHOP, database=database)
    sku = await stocked_sku(kernel, 50)
    results = await asyncio.gather(*(try_reserve(kernel, sku, ref=f"buyer:{i}") for i in range(100)))
    held = [r for r in results if isinstance(r, int)]
    assert len(held) == 50 and len(set(held)) == 50
    assert results.count("INVENTORY_OUT_OF_STOCK") == 50
    assert await stock_row(kernel, sku) == (50, 50)
    assert await reservation_states(kernel) == {"reserved": 50}

    # Paying twice (a retried callback racing the first) sells each reservation once.
    commits = await asyncio.gather(*(try_in_tx(kernel, "commit", r) for r in held + held))
    assert commits.count(True) == 50 and commits.count(False) == 50
    assert await stock_row(kernel, sku) == (0, 0)
    # Two refunds of the same sale racing: the units come back once.
    returns = await asyncio.gather(*(try_in_tx(kernel, "restock", r) for r in held[:10] + held[:10]))
    assert sorted(returns) == [0] * 10 + [1] * 10
    assert await stock_row(kernel, sku) == (10, 0)
    assert await reservation_states(kernel) == {"committed": 40, "returned": 10}


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_activity_counter_is_checked_with_the_stock(kernel_factory, database):
    kernel = await kernel_factory(SHOP, database=database)
    sku = await stocked_sku(kernel, 50)
    service = kernel.service("inventory")
    async with kernel.transaction() as tx:
        await service.define_activity(tx, "flash", "slot-1", sku, 5)
    results = await asyncio.gather(*(try_reserve(kernel, sku, activity=("flash", "slot-1")) for _ in range(20)))
    held = [r for r in results if isinstance(r, int)]
    assert len(held) == 5 and results.count("INVENTORY_ACTIVITY_SOLD_OUT") == 15
    # The refused buyers' stock holds were rolled back with their transactions.
    assert await stock_row(kernel, sku) == (50, 5)
    async with kernel.db.read() as session:
        assert await service.activity_left(session, "flash", "slot-1", sku) == 0
    # Plain buyers still get the rest of the shelf: the activity only caps itself.
    assert isinstance(await try_reserve(kernel, sku, 45), int)
    assert await try_reserve(kernel, sku, 1) == "INVENTORY_OUT_OF_STOCK"
    # Short stock wins over a roomy activity counter, and nothing changes.
    async with kernel.transaction() as tx:
        await service.define_activity(tx, "flash", "slot-2", sku, 100)
    assert await try_reserve(kernel, sku, 1, activity=("flash", "slot-2")) == "INVENTORY_OUT_OF_STOCK"
    async with kernel.db.read() as session:
        assert await service.activity_left(session, "flash", "slot-2", sku) == 100


async def test_activity_lifecycle_moves_reserved_to_sold_and_back(kernel_factory):
    kernel = await kernel_factory(SHOP)
    sku = await stocked_sku(kernel, 20)
    service = kernel.service("inventory")
    async with kernel.transaction() as tx:
        await service.define_activity(tx, "group_buy", "offer:1", sku, 6)
    a = await try_reserve(kernel, sku, 2, activity=("group_buy", "offer:1"))
    b = await try_reserve(kernel, sku, 3, activity=("group_buy", "offer:1"))
    assert await try_reserve(kernel, sku, 1, activity=("group_buy", "other")) == "INVENTORY_ACTIVITY_SOLD_OUT"
    async with kernel.transaction() as tx:
        await service.commit(tx, a)
        await service.release(tx, b)
    async with kernel.db.read() as session:
        row = await session.scalar(select(ActivityStock).where(ActivityStock.key == "offer:1"))
        assert (row.total, row.reserved, row.sold) == (6, 0, 2)
    async with kernel.transaction() as tx:
        assert await service.restock(tx, a, 1) == 1
        # Shrinking below what it has sold or holds is refused.
        with pytest.raises(DomainError) as refused:
            await service.define_activity(tx, "group_buy", "offer:1", sku, 0)
        assert refused.value.code == "INVENTORY_BELOW_RESERVED"
    async with kernel.db.read() as session:
        assert await service.activity_left(session, "group_buy", "offer:1", sku) == 5
        assert await service.activity_left(session, "group_buy", "nothing", sku) == 0
    assert await stock_row(kernel, sku) == (19, 0)


async def test_release_commit_restock_are_idempotent(kernel_factory):
    kernel = await kernel_factory(SHOP)
    sku = await stocked_sku(kernel, 10)
    service = kernel.service("inventory")
    held = await try_reserve(kernel, sku, 4)
    released = await try_reserve(kernel, sku, 2)
    assert await stock_row(kernel, sku) == (10, 6)
    async with kernel.transaction() as tx:
        assert await service.restock(tx, held) == 0  # nothing sold yet, nothing to return
        assert await service.commit(tx, held) is True
        assert await service.commit(tx, held) is False
        assert await service.release(tx, released) is True
        assert await service.release(tx, released) is False
        assert await service.release(tx, held) is False  # a sold reservation is not "released"
        assert await service.commit(tx, released) is False  # nor is a released one sold
        assert await service.release(tx, 999_999) is False
    assert await stock_row(kernel, sku) == (6, 0)
    async with kernel.transaction() as tx:
        assert await service.restock(tx, held, 1) == 1
        assert await service.restock(tx, held, 10) == 3  # never more than were sold
        assert await service.restock(tx, held) == 0
    assert await stock_row(kernel, sku) == (10, 0)
    assert await reservation_states(kernel) == {"returned": 4, "released": 2}


async def test_a_refusal_changes_nothing_and_says_why(kernel_factory):
    kernel = await kernel_factory(SHOP)
    sku = await stocked_sku(kernel, 5)
    service = kernel.service("inventory")
    with pytest.raises(DomainError) as short:
        async with kernel.transaction() as tx:
            await service.reserve(tx, sku, 6, reason="order", ref="order:1", field="input.lines[0]")
    assert short.value.code == "INVENTORY_OUT_OF_STOCK" and short.value.field == "input.lines[0]"
    assert short.value.details == {"skuId": to_global_id("Sku", sku), "available": 5}
    for quantity in (0, -1, 100_001, 1.5, True):
        assert await try_reserve(kernel, sku, quantity) == "KERNEL_INVALID_INPUT", quantity
    assert await try_reserve(kernel, sku, 1, location_id=-1) == "KERNEL_INVALID_INPUT"
    assert await try_reserve(kernel, sku, 1, ref="") == "KERNEL_INVALID_INPUT"
    # A SKU nobody stocked, or stocked elsewhere, is simply out of stock.
    assert await try_reserve(kernel, sku, 1, location_id=7) == "INVENTORY_OUT_OF_STOCK"
    assert await stock_row(kernel, sku) == (5, 0)
    assert await reservation_states(kernel) == {}


async def test_adjust_and_set_never_go_below_what_is_held(kernel_factory):
    kernel = await kernel_factory(SHOP)
    sku = await stocked_sku(kernel, 10)
    service = kernel.service("inventory")
    await try_reserve(kernel, sku, 7)
    await try_in_tx(kernel, "adjust_stock", sku, 5)
    await try_in_tx(kernel, "adjust_stock", sku, -8)
    assert await stock_row(kernel, sku) == (7, 7)
    for method, args in (("adjust_stock", (sku, -1)), ("set_stock", (sku, 6))):
        with pytest.raises(DomainError) as refused:
            await try_in_tx(kernel, method, *args)
        assert refused.value.code == "INVENTORY_BELOW_RESERVED"
    for method, args in (("adjust_stock", (sku, 1.5)), ("set_stock", (sku, -1)), ("set_stock", (sku, 10**10)),
                         ("set_stock", (sku, 5, -3))):
        with pytest.raises(DomainError) as refused:
            await try_in_tx(kernel, method, *args)
        assert refused.value.code == "KERNEL_INVALID_INPUT", (method, args)
    # Goods arriving at a store that had none open its stock row.
    await try_in_tx(kernel, "adjust_stock", sku, 3, 12)
    assert await stock_row(kernel, sku, 12) == (3, 0)
    assert await stock_row(kernel, sku) == (7, 7)
    async with kernel.db.read() as session:
        assert await service.available(session, [sku, 424242]) == {sku: 0, 424242: 0}
        assert await service.available(session, [sku], 12) == {sku: 3}


async def test_sku_stock_field_and_set_stock_mutation(kernel_factory, graphql):
    kernel = await kernel_factory(SHOP)
    sku_id = await stocked_sku(kernel, 10)
    sku = to_global_id("Sku", sku_id)
    await try_reserve(kernel, sku_id, 7)
    stock = "query($id: ID!) { node(id: $id) { ... on Sku { stock product { skus { stock } } } } }"
    # The sibling SKU was never stocked: 0, not null and not an error.
    assert (await graphql(kernel).data(stock, id=sku))["node"] == {"stock": 3, "product": {"skus": [{"stock": 3}, {"stock": 0}]}}

    admin = graphql(kernel, staff(1, "admin"))
    doc = """mutation($sku: ID!, $n: Int!, $loc: Int! = 0) {
               setStock(input: {skuId: $sku, onHand: $n, locationId: $loc}) { skuId available userErrors { code field } } }"""
    assert (await admin.mutate(doc, sku=sku, n=5))["userErrors"] == [{"code": "INVENTORY_BELOW_RESERVED", "field": "input.onHand"}]
    assert (await admin.mutate(doc, sku=sku, n=-1))["userErrors"] == [{"code": "KERNEL_INVALID_INPUT", "field": "input.onHand"}]
    assert (await admin.mutate(doc, sku=sku, n=1, loc=-1))["userErrors"] == [{"code": "KERNEL_INVALID_INPUT", "field": "input.locationId"}]
    assert (await admin.mutate(doc, sku="bad", n=1))["userErrors"] == [{"code": "KERNEL_INVALID_ID", "field": "input.skuId"}]
    missing = to_global_id("Sku", 999)
    assert (await admin.mutate(doc, sku=missing, n=1))["userErrors"] == [{"code": "KERNEL_NOT_FOUND", "field": "input.skuId"}]
    for outsider in (graphql(kernel, member(1)), graphql(kernel, staff(2, "store_clerk", stores=(1,)))):
        assert (await outsider.mutate(doc, sku=sku, n=99))["userErrors"] == [{"code": "KERNEL_FORBIDDEN", "field": None}]
    assert await stock_row(kernel, sku_id) == (10, 7)
    assert await admin.mutate(doc, sku=sku, n=20) == {"skuId": sku, "available": 13, "userErrors": []}
    assert (await graphql(kernel).data(stock, id=sku))["node"]["stock"] == 13
