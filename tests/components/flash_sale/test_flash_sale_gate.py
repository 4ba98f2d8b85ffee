"""The Redis gate with a real redis-server: the crowd beyond the stock is refused without the
database, the database stays the truth when Redis dies mid-sale, and units a crash stranded in
the gate come back when it is reconciled."""

from __future__ import annotations

import asyncio

from conftest import open_shop
from flash_sale_helpers import admin_of, make_session, state

from core.testing import member

BLUEPRINT = """\
dougong: 1
brand: {slug: gate%(n)s, name: Gate, currency: CNY, timezone: Asia/Shanghai}
storage: {redis: "%(url)s"}
components:
  orders: {}
  flash_sale: {payment_window: 5m, redis_gate: {enabled: true, reconcile_every: 1h}}
"""
BUY = """mutation($item: ID!, $key: String) { buyFlashSaleItem(input: {itemId: $item, idempotencyKey: $key}) {
  order { id total { amountMinor } } userErrors { code field } } }"""


async def gated_sale(kernel_factory, graphql, redis_server, *, members: int, units: int, n: int):
    kernel = await kernel_factory(BLUEPRINT % {"n": n, "url": redis_server.url()})
    shop = await open_shop(kernel, members=members, stock=1000)
    _session, item = await make_session(admin_of(graphql, kernel), kernel, shop.sku, quantity=units)
    service = kernel.service("flash_sale")
    assert await service.reconcile_gate() is True  # the recurring job's work, now rather than in an hour
    reached = []  # buyers whose checkout reached the database
    original = service.item

    async def counted(tx, item_id, field):  # noqa: ANN001, ANN202
        reached.append(item_id)
        return await original(tx, item_id, field)

    service.item = counted
    return kernel, shop, item, service, reached


async def crowd(graphql, kernel, item: str, members: range) -> list[dict]:
    return await asyncio.gather(*(graphql(kernel, member(m)).mutate(BUY, item=item, key=f"k{m}") for m in members))


async def test_the_crowd_beyond_the_stock_never_reaches_the_database(kernel_factory, graphql, redis_server):
    kernel, shop, item, service, reached = await gated_sale(kernel_factory, graphql, redis_server, members=60, units=10, n=1)
    results = await crowd(graphql, kernel, item, range(1, 61))
    assert sum(1 for r in results if r["order"]) == 10
    assert {r["userErrors"][0]["code"] for r in results if not r["order"]} == {"FLASH_SALE_SOLD_OUT"}
    # Each winner read the item twice (the mutation for its SKU, then the checkout's prepare); the
    # 50 others were answered by Redis alone, without a transaction.
    assert len(reached) == 2 * 10
    assert (await state(kernel))["sold"] == 10 and await service.gate.left(int(_pk(item))) == 0
    # A replay of a winner still gets its order back (the gate lets its key through to the database).
    winner, answer = next((m, r) for m, r in zip(range(1, 61), results) if r["order"])
    assert await graphql(kernel, member(winner)).mutate(BUY, item=item, key=f"k{winner}") == answer
    loser = next(m for m, r in zip(range(1, 61), results) if not r["order"])
    assert (await graphql(kernel, member(loser)).mutate(BUY, item=item, key=f"k{loser}"))["userErrors"][0]["code"] == "FLASH_SALE_SOLD_OUT"


async def test_redis_killed_mid_sale_the_database_alone_stays_exact_then_the_gate_is_reconciled(kernel_factory, graphql, redis_server):
    kernel, shop, item, service, reached = await gated_sale(kernel_factory, graphql, redis_server, members=60, units=20, n=2)
    first = await crowd(graphql, kernel, item, range(1, 16))
    assert sum(1 for r in first if r["order"]) == 15
    redis_server.kill()
    try:
        second = await crowd(graphql, kernel, item, range(16, 61))
    finally:
        redis_server.start()
    assert sum(1 for r in second if r["order"]) == 5  # the database's guard alone: never oversold
    assert {r["userErrors"][0]["code"] for r in second if not r["order"]} == {"FLASH_SALE_SOLD_OUT"}
    assert await state(kernel) == {"sold": 20, "held": 20, "bought": 20, "orders": 20, "reserved": 20}
    assert await service.gate.left(int(_pk(item))) is None  # a restarted Redis is empty…
    assert await service.reconcile_gate() is True
    assert await service.gate.left(int(_pk(item))) == 0  # …and is told the truth


async def test_units_a_crash_stranded_in_the_gate_come_back_on_reconcile(kernel_factory, graphql, redis_server):
    kernel, shop, item, service, reached = await gated_sale(kernel_factory, graphql, redis_server, members=10, units=5, n=3)
    pk = int(_pk(item))
    # A server SIGKILLed after the gate let 3 buyers through and before their orders committed:
    # the gate holds 2, the database still has 5.
    assert await service.gate.take(pk, 3) == "passed"
    assert await service.gate.left(pk) == 2
    await kernel.stop()
    restarted = await kernel_factory(BLUEPRINT % {"n": 3, "url": redis_server.url(database=_db(service))}, database=_url(kernel))
    assert await restarted.service("flash_sale").gate.left(pk) == 5  # every worker reconciles as it starts
    # Unpaid orders returned at the window's end come back to the gate too (by the next reconcile).
    results = await crowd(graphql, restarted, item, range(1, 6))
    assert sum(1 for r in results if r["order"]) == 5
    restarted.clock.advance(minutes=6)
    await restarted.run_due()
    assert (await state(restarted))["sold"] == 0
    await restarted.service("flash_sale").reconcile_gate()
    assert await restarted.service("flash_sale").gate.left(pk) == 5


async def test_units_of_a_buyer_the_checkout_refused_go_back_to_the_gate(kernel_factory, graphql, redis_server):
    kernel, shop, item, service, reached = await gated_sale(kernel_factory, graphql, redis_server, members=3, units=5, n=4)
    pk = int(_pk(item))
    buyer = graphql(kernel, member(1))
    assert (await buyer.mutate(BUY, item=item, key="first"))["order"]
    assert await service.gate.left(pk) == 4
    # A second purchase over the per-member limit of 1 passes the gate and is refused by the
    # checkout: the unit it took comes back, so the next buyer is not refused by Redis.
    refused = await buyer.mutate(BUY, item=item, key="second")
    assert refused["userErrors"][0]["code"] == "FLASH_SALE_LIMIT_REACHED"
    assert await service.gate.left(pk) == 4 and (await state(kernel))["sold"] == 1
    # Its retry is a replay to the gate (never taken twice) and is refused again; the gate stays.
    assert (await buyer.mutate(BUY, item=item, key="second"))["userErrors"][0]["code"] == "FLASH_SALE_LIMIT_REACHED"
    assert await service.gate.left(pk) == 4
    # A key that is gone (Redis restarted) is not seeded by a give-back.
    await service.gate._redis.delete(service.gate.key(pk))
    assert await service.gate.give_back(pk, 1) is False and await service.gate.left(pk) is None


def _pk(global_id: str) -> str:
    from core.gql.relay import from_global_id

    return from_global_id(global_id)[1]


def _db(service) -> int:
    return int(service.gate._redis.connection_pool.connection_kwargs.get("db", 0))


def _url(kernel) -> str:
    return str(kernel.db.write_engine.url.render_as_string(hide_password=False))
