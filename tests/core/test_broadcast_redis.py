"""RedisBroadcaster against a real redis-server: messages cross broadcaster instances and
processes, bad messages and lost connections do not silence subscribers, stop cleans up."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import httpx
import pytest

from core.broadcast_redis import RedisBroadcaster
from core.testing import GraphQLWebSocket, _free_port, serve_process


async def _next(messages, timeout: float = 5.0):  # noqa: ANN001, ANN202
    return await asyncio.wait_for(messages.__anext__(), timeout)


@contextlib.asynccontextmanager
async def _broadcaster(url: str, prefix: str):  # noqa: ANN202
    b = RedisBroadcaster(url, prefix)
    await b.start()
    try:
        yield b
    finally:
        await b.stop()


async def test_a_message_published_by_one_broadcaster_reaches_another_brand_scoped(redis_url):
    async with _broadcaster(redis_url, "dougong:alpha:") as one, _broadcaster(redis_url, "dougong:alpha:") as two, \
            _broadcaster(redis_url, "dougong:alpha-x:") as other_brand:
        async with two.subscribe("lot:1") as messages, other_brand.subscribe("lot:1") as foreign, one.subscribe("lot:1") as own:
            await one.publish("lot:1", {"seq": 1, "price": 120})
            assert await _next(messages) == {"seq": 1, "price": 120}
            assert await _next(own) == {"seq": 1, "price": 120}  # the publisher's own subscribers too, once
            await one.publish("lot:2", {"seq": 9})  # another channel: not for lot:1 subscribers
            await one.publish("lot:1", {"seq": 2})
            assert await _next(messages) == {"seq": 2}
            assert await _next(own) == {"seq": 2}
            with pytest.raises(asyncio.TimeoutError):
                await _next(foreign, timeout=0.3)  # a brand whose slug starts alike hears nothing


async def test_the_listener_survives_malformed_messages(redis_url):
    import redis.asyncio as redis

    raw = redis.from_url(redis_url)
    async with _broadcaster(redis_url, "dougong:beta:") as b:
        async with b.subscribe("group:5") as messages:
            for junk in (b"not json", b"\xff\xfe", b"[1, 2]", b"42", b'"text"'):
                await raw.publish("dougong:beta:group:5", junk)
            await raw.publish("dougong:beta:group:5", b'{"status": "forming"}')
            assert await _next(messages) == {"status": "forming"}
            assert b.dropped == 5
            assert b._tasks and not any(t.done() for t in b._tasks)
    await raw.aclose()


async def test_publishing_while_redis_is_unreachable_neither_raises_nor_waits(caplog):
    b = RedisBroadcaster(f"redis://127.0.0.1:{_free_port()}/0", "dougong:gamma:")
    b.START_WAIT_SECONDS = 0.2
    await b.start()  # a worker starts with Redis down
    assert not b.connected
    await asyncio.wait_for(b.publish("lot:1", {"seq": 1}), 0.05)  # queued: runs after a commit, must not fail it
    assert len(b._outbox) == 1
    for _ in range(100):
        if "cannot publish to Redis" in caplog.text:
            break
        await asyncio.sleep(0.05)
    assert "cannot publish to Redis" in caplog.text
    await b.stop()


async def test_the_listener_reconnects_after_its_connection_is_killed(redis_url):
    import redis.asyncio as redis

    raw = redis.from_url(redis_url)
    async with _broadcaster(redis_url, "dougong:delta:") as b, b.subscribe("lot:3") as messages:
        await b.publish("lot:3", {"n": 0})
        assert await _next(messages) == {"n": 0}
        killed = await raw.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
        assert killed >= 1
        # Publish until the re-subscribed listener hears one (reconnection backs off from 0.1 s).
        # One waiting reader: cancelling a read would close the subscription's generator.
        receiver = asyncio.create_task(_next(messages, timeout=10))
        for n in range(1, 100):
            await b.publish("lot:3", {"n": n})
            await asyncio.wait({receiver}, timeout=0.1)
            if receiver.done():
                break
        got = await receiver
        assert got is not None and got["n"] >= 1
    await raw.aclose()


async def test_stop_unsubscribes_and_ends_the_listener(redis_url):
    import redis.asyncio as redis

    raw = redis.from_url(redis_url)
    b = RedisBroadcaster(redis_url, "dougong:epsilon:")
    await b.start()
    tasks = list(b._tasks)
    assert await raw.execute_command("PUBSUB", "NUMPAT") >= 1
    before = await raw.execute_command("PUBSUB", "NUMPAT")
    await b.stop()
    assert tasks and all(t.done() for t in tasks)
    for _ in range(50):  # the server notices the closed connection asynchronously
        if await raw.execute_command("PUBSUB", "NUMPAT") < before:
            break
        await asyncio.sleep(0.05)
    assert await raw.execute_command("PUBSUB", "NUMPAT") < before
    await b.stop()  # a second stop is harmless
    await raw.aclose()


# -- two `dougong serve` processes sharing one database and one Redis ------------------------------

BLUEPRINT = """\
dougong: 1
brand: {slug: twoproc, name: Two processes, currency: CNY, timezone: Asia/Shanghai}
storage: {database: "%s"}
components:
  bidding_sale: {max_extensions: 0}
"""

LOT_UPDATES = "subscription($lot: ID!) { auctionLotUpdates(lotId: $lot) { currentPrice { amountMinor } bidCount seq } }"
BID = """mutation($lot: ID!, $amount: Long!) { placeBid(input: {lotId: $lot, amount: {amountMinor: $amount, currency: "CNY"}}) {
  userErrors { code } } }"""


async def test_a_bid_on_one_server_process_reaches_a_subscriber_on_another(redis_url, tmp_path):
    from core.auth import Actor
    from core.gql.relay import to_global_id
    from core.kernel import Kernel

    db = tmp_path / "shared.sqlite"
    blueprint = tmp_path / "twoproc.yaml"
    blueprint.write_text(BLUEPRINT % f"sqlite:///{db}")
    # Seed the shared database from the test process (no Redis needed for that).
    seeder = Kernel.from_file(blueprint, redis_url="")
    await seeder.start()
    async with seeder.transaction() as tx:
        for i in range(2):
            await seeder.service("members").create_member(tx, phone=f"1360000{i:04d}")
        product = await seeder.service("catalog").create_product(tx, title="Jade", skus=[{"title": "one", "price_minor": 100}])
        from sqlalchemy import select

        from components.catalog.models import Sku

        sku = await tx.session.scalar(select(Sku.id).where(Sku.product_id == product))
        await seeder.service("inventory").set_stock(tx, sku, 1)
        now = seeder.clock.now()
        lot = await seeder.service("bidding_sale").create_lot(
            tx, sku_id=sku, start_price=100, increments=[(0, 1)], starts_at=now - timedelta(seconds=1), ends_at=now + timedelta(hours=1))
    token = seeder.issue_token(Actor("member", 1))
    await seeder.stop()
    lot_id = to_global_id("AuctionLot", lot)

    env = {"REDIS_URL": redis_url}  # the blueprint names its database
    # One after the other: both would migrate the same file.
    async with serve_process(blueprint, env=env, log=tmp_path / "a.log") as a, \
            serve_process(blueprint, env=env, log=tmp_path / "b.log") as b:
        async with GraphQLWebSocket.connect(a + "/graphql", token) as ws:
            updates = ws.subscribe(LOT_UPDATES, {"lot": lot_id})
            first = await _next(updates, timeout=10)
            assert first["auctionLotUpdates"]["bidCount"] == 0
            async with httpx.AsyncClient(base_url=b, headers={"authorization": f"Bearer {token}"}) as http:
                body = (await http.post("/graphql", json={"query": BID, "variables": {"lot": lot_id, "amount": 150}})).json()
            assert body["data"]["placeBid"]["userErrors"] == []
            seen = (await _next(updates, timeout=10))["auctionLotUpdates"]
            assert seen["bidCount"] == 1 and seen["currentPrice"]["amountMinor"] == 150
            await updates.aclose()
