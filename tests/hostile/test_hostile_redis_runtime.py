"""Issue 28: Redis is optional at run time, not only at boot.

A kernel started while Redis is down serves (readiness says the fan-out is degraded), its
writes answer without waiting on Redis, and once Redis comes up the listener connects, the
queued messages go out, and subscribers are told of the gap. Sequence numbers count per
channel across broadcasters (they come from Redis).
"""

from __future__ import annotations

import asyncio

import httpx
from hostile_helpers import BID, member_token, seed_lot, shop

from core.app import create_app
from core.broadcast_redis import RedisBroadcaster
from core.testing import RedisServer, running


async def _next(messages, timeout: float = 10.0):  # noqa: ANN001, ANN202
    return await asyncio.wait_for(messages.__anext__(), timeout)


async def _until(condition, seconds: float = 20.0) -> None:  # noqa: ANN001
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the condition did not hold in time")


async def test_sequence_numbers_are_shared_and_gaps_are_flagged(redis_url):
    one, two = RedisBroadcaster(redis_url, "dougong:seq:"), RedisBroadcaster(redis_url, "dougong:seq:")
    await one.start()
    await two.start()
    try:
        async with two.subscribe("lot:1") as messages:
            got = []
            for n in range(3):  # alternately from each broadcaster (two processes, in effect)
                await (one if n % 2 else two).publish("lot:1", {"n": n})
                got.append(await _next(messages))
            assert [m.seq for m in got] == [1, 2, 3] and not any(m.gap for m in got)
            assert got == [{"n": 0}, {"n": 1}, {"n": 2}]  # the messages themselves are what was published
            # A message lost before reaching Redis (here: dropped from a full outbox) burns its
            # number once Redis is reachable, so subscribers in every process see the jump.
            one._lose("lot:1")
            await one.publish("lot:1", {"n": 3})
            after = await _next(messages)
            assert after.seq == 5 and after.gap
            await one.publish("lot:1", {"n": 4})
            assert not (await _next(messages)).gap
    finally:
        await one.stop()
        await two.stop()


async def test_a_worker_starts_and_serves_with_redis_down_then_catches_up(kernel_factory):
    redis = RedisServer()  # not started yet: its port is free
    kernel = await kernel_factory(shop("redisdown"))
    kernel.broadcast = RedisBroadcaster(redis.url(0), "dougong:redisdown:")
    kernel.broadcast.START_WAIT_SECONDS = 0.2
    await kernel.broadcast.start()  # Redis is down: start() must neither raise nor hang
    lot = await seed_lot(kernel)
    token = member_token(kernel, 1)
    app = create_app([kernel], run_worker=False)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t",
                                     headers={"authorization": f"Bearer {token}"}) as http:
            health = await http.get("/healthz")
            assert health.status_code == 200
            assert health.json()["status"] == "degraded"
            assert health.json()["brands"]["redisdown"]["broadcast"] == "unavailable"
            assert (await http.get("/livez")).status_code == 200
            async with kernel.broadcast.subscribe("bidding_sale:lot:1") as messages:
                body = (await http.post("/graphql", json={"query": BID, "variables": {"lot": lot, "amount": 101}})).json()
                assert body["data"]["placeBid"]["userErrors"] == []  # answered although Redis is down
                with running(redis, "Redis"):
                    await _until(lambda: kernel.broadcast.connected)
                    queued = await _next(messages, 20)  # the bid made during the outage, sent once Redis was up
                    assert queued["bidCount"] == 1 and queued.gap
                    assert (await http.get("/healthz")).json()["status"] == "ok"
    finally:
        await kernel.broadcast.stop()
