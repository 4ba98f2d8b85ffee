"""A crowd larger than the PostgreSQL connection pool: a mutation that cannot get a
connection in time answers KERNEL_BUSY (typed, retryable) and writes nothing."""

from __future__ import annotations

from sqlalchemy import func, select, text

from core.testing import member

SHOP = """\
dougong: 1
brand: {slug: busy, name: Busy, currency: CNY, timezone: Asia/Shanghai}
components:
  orders: {}
"""
CREATE = """mutation($sku: ID!) { createOrder(input: {lines: [{skuId: $sku, quantity: 1}]}) {
  order { id } userErrors { code details } } }"""


async def test_a_mutation_waiting_past_the_pool_timeout_is_refused_as_busy(kernel_factory, graphql, postgres_server, monkeypatch):
    from components.catalog.models import Sku
    from components.orders.models import Order
    from core.gql.relay import to_global_id

    monkeypatch.setenv("DOUGONG_POOL_SIZE", "1")
    monkeypatch.setenv("DOUGONG_POOL_OVERFLOW", "0")
    monkeypatch.setenv("DOUGONG_POOL_TIMEOUT", "0.3")
    kernel = await kernel_factory(SHOP, database="postgresql")
    async with kernel.transaction() as tx:
        await kernel.service("members").create_member(tx, phone="13900000001")
        product = await kernel.service("catalog").create_product(tx, title="Tea", skus=[{"title": "50g", "price_minor": 1000}])
        sku_id = await tx.session.scalar(select(Sku.id).where(Sku.product_id == product))
        await kernel.service("inventory").set_stock(tx, sku_id, 5)
    sku = to_global_id("Sku", sku_id)
    client = graphql(kernel, member(1))
    async with kernel.db.write_engine.connect() as held:  # the only connection, taken
        await held.execute(text("SELECT 1"))
        # A signed-in caller's rights are read first, and that read finds no connection either:
        # refused at the door, typed and retryable (503), before anything could be written.
        busy = await client.execute(CREATE, sku=sku)
    assert busy["status"] == 503 and [e["extensions"]["code"] for e in busy["errors"]] == ["KERNEL_BUSY"]
    async with kernel.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Order)) == 0
    # With the connection back, the same request goes through.
    ok = await client.mutate(CREATE, sku=sku)
    assert ok["userErrors"] == [] and ok["order"]["id"]
