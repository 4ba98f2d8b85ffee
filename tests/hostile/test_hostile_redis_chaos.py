"""Issue 28, the chaos test: two workers (``dougong serve --workers 2``) on PostgreSQL share a
Redis that is killed, restarted and frozen (SIGSTOP) under them.

Throughout, every bid is answered at once (the write never waits on Redis), readiness stays
200, and the workers never log a traceback. After each failure the subscriber (connected to
one of the workers) receives the latest state again, and is told that it may have missed
messages (``stream.gap``), so a page would refetch.
"""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import httpx
from hostile_helpers import BID, LOT_UPDATES, seed_lot

from core.auth import Actor
from core.kernel import Kernel
from core.testing import GraphQLWebSocket, RedisServer, running, serve_process

BLUEPRINT = """\
dougong: 1
brand: {slug: chaos, name: Chaos, currency: CNY, timezone: Asia/Shanghai}
storage: {database: "%s"}
components:
  bidding_sale: {max_extensions: 0}
"""


class Bidder:
    """Alternates two members so that each bid outbids the other; counts the bids made."""

    def __init__(self, http: httpx.AsyncClient, lot: str, tokens: list[str]) -> None:
        self.http, self.lot, self.tokens = http, lot, itertools.cycle(tokens)
        self.amount = 100

    async def bid(self) -> None:
        self.amount += 1
        response = await self.http.post("/graphql", json={"query": BID, "variables": {"lot": self.lot, "amount": self.amount}},
                                        headers={"authorization": f"Bearer {next(self.tokens)}"})
        assert response.status_code == 200, response.text
        assert response.json()["data"]["placeBid"]["userErrors"] == [], response.text

    @property
    def count(self) -> int:
        return self.amount - 100


async def _catch_up(updates, count: int) -> list[dict]:  # noqa: ANN001
    """Payloads until one shows ``count`` bids (bounded by a timeout)."""
    seen = []
    while True:
        payload = (await asyncio.wait_for(updates.__anext__(), 30))["auctionLotUpdates"]
        seen.append(payload)
        if payload["bidCount"] >= count:
            return seen


async def _fan_out_ready(http: httpx.AsyncClient) -> None:
    """Both workers report the fan-out connected (a probe reaches either worker: ten in a row)."""
    streak = 0
    for _ in range(600):
        body = (await http.get("/healthz")).json()
        streak = streak + 1 if body["brands"]["chaos"]["broadcast"] == "ok" else 0
        if streak >= 10:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the workers did not reconnect to Redis")


async def test_two_workers_ride_out_redis_killed_restarted_and_frozen(postgres_server, tmp_path: Path):
    blueprint = tmp_path / "chaos.yaml"
    blueprint.write_text(BLUEPRINT % postgres_server.create_database())
    seeder = Kernel.from_file(blueprint, redis_url="")
    await seeder.start()
    lot = await seed_lot(seeder)
    tokens = [seeder.issue_token(Actor("member", i)) for i in (1, 2)]
    await seeder.stop()

    log = tmp_path / "workers.log"
    with running(RedisServer(), "Redis") as redis:
        env = {"REDIS_URL": redis.url(0), "DOUGONG_POOL_SIZE": "3", "DOUGONG_POOL_OVERFLOW": "2"}
        async with serve_process(blueprint, env=env, log=log, args=("--no-seed-demo", "--workers", "2")) as base, \
                httpx.AsyncClient(base_url=base, timeout=10) as http:
            await _fan_out_ready(http)
            bidder = Bidder(http, lot, tokens)
            async with GraphQLWebSocket.connect(base + "/graphql", tokens[0]) as ws:
                updates = ws.subscribe(LOT_UPDATES, {"lot": lot})
                assert (await asyncio.wait_for(updates.__anext__(), 30))["auctionLotUpdates"]["bidCount"] == 0
                for _ in range(4):  # both workers answer (the balancer is the kernel's)
                    await bidder.bid()
                steady = await _catch_up(updates, bidder.count)
                assert not any(p["stream"]["gap"] for p in steady)
                seqs = [p["stream"]["seq"] for p in steady]
                assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)

                # Killed: writes go on being answered; readiness stays 200 (degraded fan-out).
                redis.kill()
                for _ in range(3):
                    await bidder.bid()
                assert (await http.get("/healthz")).status_code == 200
                # Restarted, empty: the workers reconnect, and the subscriber catches up, told of the gap.
                assert redis.start() == ""
                await _fan_out_ready(http)
                await bidder.bid()  # the first event after the restart
                after_restart = await _catch_up(updates, bidder.count)
                assert any(p["stream"]["gap"] for p in after_restart)

                # Frozen: connections stay open and go unanswered; bids are answered meanwhile.
                redis.pause()
                try:
                    for _ in range(3):
                        await bidder.bid()
                    assert (await http.get("/healthz")).status_code == 200
                finally:
                    redis.resume()
                await bidder.bid()
                thawed = await _catch_up(updates, bidder.count)
                assert thawed[-1]["bidCount"] == bidder.count
                await updates.aclose()
    text = log.read_text()
    assert "Traceback" not in text, text[-3000:]
    # One warning per outage and worker, not one per retry or per message.
    assert text.count("cannot publish to Redis") <= 6, text[-3000:]
