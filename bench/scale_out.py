"""Scale-out: `dougong serve --workers 1` against `--workers 2`, on PostgreSQL with Redis.

The bench starts its own PostgreSQL and redis-server (as the tests do), seeds one database
(the 50 x 3 catalog of ../shared/bench-data/catalog-50x3.json when present, else a
generated one of the same shape), then for each server configuration runs real
`dougong serve` processes over real sockets:

- catalog: `--clients` concurrent HTTP clients, each on its own connection (so the kernel
  spreads them over the workers), send a storefront query (20 products with SKUs, prices and
  stock) for `--seconds`; requests/s and p99. The 1-worker run is the baseline: the ratio is
  2-worker/1-worker throughput. The client runs in this process on the same machine, so
  it competes with the server for the same cores (os.cpu_count() is printed).
- subscriptions: `--subscribers` websocket clients (graphql-transport-ws) subscribe to
  `auctionLotUpdates` of one lot, then `--bids` bids are placed over HTTP; delivered /
  expected counts updates received against subscribers x bids. With 2 workers a subscriber
  and the bid often sit in different processes: only Redis carries the update across — the
  third configuration (2 workers, no REDIS_URL) shows what is lost without it.
- timers: `--timers` timers of a test component are scheduled due now while the workers
  tick; executions are counted from the rows the job writes (one per run) and must equal the
  number of timers, each key once (FOR UPDATE SKIP LOCKED), whichever worker ran it.

    python bench/scale_out.py [--clients 16] [--seconds 8] [--subscribers 20] [--bids 20] [--timers 500]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import select, text  # noqa: E402

from core.testing import GraphQLWebSocket, PostgresServer, RedisServer, _free_port, write_component_distribution  # noqa: E402

CATALOG_FILE = Path(__file__).resolve().parents[2] / "shared" / "bench-data" / "catalog-50x3.json"

RUNS_HOOKS = """
    import os
    from sqlalchemy import Column, Integer, MetaData, String, Table, insert
    from core.hookspecs import hookimpl

    metadata = MetaData()
    runs = Table("scaled_run", metadata, Column("id", Integer, primary_key=True),
                 Column("key", String(40), nullable=False), Column("pid", Integer, nullable=False))

    async def ring(tx, timer):
        await tx.session.execute(insert(runs).values(key=timer.key, pid=os.getpid()))

    @hookimpl
    def dougong_tables(registrar):
        registrar.table(runs)

    @hookimpl
    def dougong_jobs(registrar):
        registrar.job("scaled.ring", ring)
"""

BLUEPRINT = """\
dougong: 1
brand: {slug: scaled, name: Scaled, currency: CNY, timezone: Asia/Shanghai}
storage: {database: "%s"}
components:
  catalog: {}
  bidding_sale: {max_extensions: 0}
  scaled: {}
"""

STOREFRONT = """query { products(first: 20) { edges { node { id title
  skus { id title price { amountMinor currency } stock } } } pageInfo { hasNextPage endCursor } } }"""
LOT_UPDATES = "subscription($lot: ID!) { auctionLotUpdates(lotId: $lot) { currentPrice { amountMinor } bidCount seq } }"
BID = """mutation($lot: ID!, $amount: Long!) { placeBid(input: {lotId: $lot, amount: {amountMinor: $amount, currency: "CNY"}}) {
  userErrors { code details } } }"""


def _catalog() -> list[dict[str, Any]]:
    if CATALOG_FILE.exists():
        return json.loads(CATALOG_FILE.read_text())["products"]
    return [{"title": f"Product {p}", "skus": [{"variant": f"v{s}", "price_minor": 1000 * (s + 1), "stock": 100} for s in range(3)]}
            for p in range(50)]


async def seed(kernel: Any, lots: int) -> dict[str, Any]:
    from components.catalog.models import Sku
    from core.auth import Actor
    from core.gql.relay import to_global_id

    products = _catalog()
    async with kernel.transaction() as tx:
        for product in products:
            pid = await kernel.service("catalog").create_product(
                tx, title=product["title"], description=product.get("description", ""),
                skus=[{"title": s["variant"], "price_minor": s["price_minor"]} for s in product["skus"]])
            ids = (await tx.session.scalars(select(Sku.id).where(Sku.product_id == pid).order_by(Sku.id))).all()
            for sku_id, sku in zip(ids, product["skus"]):
                await kernel.service("inventory").set_stock(tx, sku_id, sku["stock"])
        for i in range(2):
            await kernel.service("members").create_member(tx, phone=f"1350000{i:04d}")
        lot_product = await kernel.service("catalog").create_product(tx, title="Jade", skus=[{"title": "one", "price_minor": 100}])
        lot_sku = await tx.session.scalar(select(Sku.id).where(Sku.product_id == lot_product))
        await kernel.service("inventory").set_stock(tx, lot_sku, lots)
        now = kernel.clock.now()
        lot_ids = [await kernel.service("bidding_sale").create_lot(
            tx, sku_id=lot_sku, start_price=100, increments=[(0, 1)], starts_at=now - timedelta(seconds=1),
            ends_at=now + timedelta(hours=2)) for _ in range(lots)]
    return {"products": len(products), "lots": [to_global_id("AuctionLot", lot) for lot in lot_ids],
            "tokens": [kernel.issue_token(Actor("member", m)) for m in (1, 2)]}


class Server:
    def __init__(self, blueprint: Path, workers: int, env: dict[str, str], log: Path) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "-m", "core.cli", "serve", str(blueprint), "--port", str(self.port), "--workers", str(workers),
             "--no-seed-demo"], env=env, cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)

    async def ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dougong serve exited with {self.process.returncode}:\n{self.log.read_text()[-3000:]}")
            # Every worker logs its own startup; /healthz alone would answer from the first.
            if self.log.read_text().count("Application startup complete") >= self.workers:
                async with httpx.AsyncClient() as http:
                    with contextlib.suppress(httpx.HTTPError):
                        if (await http.get(self.base + "/healthz")).status_code == 200:
                            return
            await asyncio.sleep(0.2)
        raise RuntimeError(f"dougong serve did not start:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


async def catalog_load(base: str, clients: int, seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    stop_at = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal errors
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:  # one connection per client
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                response = await http.post("/graphql", json={"query": STOREFRONT})
                latencies.append(time.perf_counter() - started)
                body = response.json()
                if response.status_code != 200 or body.get("errors") or len(body["data"]["products"]["edges"]) != 20:
                    errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {"requests": len(latencies), "errors": errors, "seconds": elapsed, "requests_per_s": len(latencies) / elapsed,
            "p50_ms": statistics.median(latencies) * 1000, "p99_ms": latencies[int(0.99 * (len(latencies) - 1))] * 1000}


async def subscription_fanout(base: str, lot: str, tokens: list[str], subscribers: int, bids: int) -> dict[str, Any]:
    received = [0] * subscribers
    subscribed = asyncio.Semaphore(0)
    done = asyncio.Event()

    async def subscriber(i: int) -> None:
        async with GraphQLWebSocket.connect(base + "/graphql", tokens[0]) as ws:
            first = True
            async for _data in ws.subscribe(LOT_UPDATES, {"lot": lot}):
                if first:
                    first = False
                    subscribed.release()
                    continue
                received[i] += 1
                if received[i] >= bids or done.is_set():
                    return

    tasks = [asyncio.create_task(subscriber(i)) for i in range(subscribers)]
    for _ in range(subscribers):
        await asyncio.wait_for(subscribed.acquire(), 30)
    accepted = 0
    minimum = 100
    started = time.perf_counter()
    clients = [httpx.AsyncClient(base_url=base, headers={"authorization": f"Bearer {t}"}, timeout=30) for t in tokens]
    while accepted < bids:
        body = (await clients[accepted % 2].post("/graphql", json={"query": BID, "variables": {"lot": lot, "amount": minimum}})).json()
        errors = body["data"]["placeBid"]["userErrors"]
        if not errors:
            accepted += 1
            minimum += 1
        elif errors[0]["code"] == "BIDDING_SALE_BID_TOO_LOW":
            minimum = errors[0]["details"]["minimumBid"]
        else:
            raise RuntimeError(f"bid refused: {errors}")
    for c in clients:
        await c.aclose()
    # Give stragglers up to 5 s; anything not there by then was lost.
    await asyncio.wait(tasks, timeout=5)
    done.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    delivered = sum(received)
    return {"subscribers": subscribers, "bids": bids, "expected": subscribers * bids, "delivered": delivered,
            "delivered_ratio": delivered / (subscribers * bids), "seconds": time.perf_counter() - started}


async def timers_once(kernel: Any, count: int, tag: str) -> dict[str, Any]:
    async with kernel.transaction() as tx:
        due = tx.now() - timedelta(seconds=1)
        for i in range(count):
            await tx.schedule("scaled.ring", f"{tag}-{i}", due)
    started = time.perf_counter()
    pending = text("SELECT count(*) FROM kernel_timer WHERE job = 'scaled.ring' AND state = 'pending'")
    while time.perf_counter() - started < 120:
        async with kernel.db.read() as session:
            if not await session.scalar(pending):
                break
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - started
    async with kernel.db.read() as session:
        rows = (await session.execute(text("SELECT key, pid FROM scaled_run WHERE key LIKE :tag"), {"tag": f"{tag}-%"})).all()
    per_pid: dict[int, int] = {}
    for _key, pid in rows:
        per_pid[pid] = per_pid.get(pid, 0) + 1
    return {"scheduled": count, "executions": len(rows), "distinct": len({k for k, _ in rows}), "seconds": elapsed,
            "timers_per_s": count / elapsed, "per_process": sorted(per_pid.values(), reverse=True)}


async def run(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--subscribers", type=int, default=20)
    parser.add_argument("--bids", type=int, default=20)
    parser.add_argument("--timers", type=int, default=500)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 2 s of load, 5 subscribers, 5 bids, 100 timers")
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "scale_out.json"))
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.subscribers, args.bids, args.timers = 2, 5, 5, 100

    postgres, redis = PostgresServer(), RedisServer()
    problems = [p for p in (postgres.start(), redis.start()) if p]
    if problems:
        postgres.stop()
        redis.stop()
        print(f"*** scale-out skipped: {'; '.join(problems)} ***")
        return {}
    results: dict[str, Any] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            site = write_component_distribution(tmp / "site", "scaled", hooks=RUNS_HOOKS)
            sys.path.insert(0, str(site))
            import importlib

            importlib.invalidate_caches()
            url = postgres.create_database()
            blueprint = tmp / "scaled.yaml"
            blueprint.write_text(BLUEPRINT % url)
            from core.kernel import Kernel

            kernel = Kernel.from_file(blueprint, redis_url="")
            await kernel.start()
            seeded = await seed(kernel, lots=3)
            base_env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}
            base_env.pop("DATABASE_URL", None)
            base_env.pop("REDIS_URL", None)
            configs = [("1 worker + Redis", 1, True), ("2 workers + Redis", 2, True), ("2 workers, no Redis", 2, False)]
            for n, (name, workers, with_redis) in enumerate(configs):
                env = {**base_env, **({"REDIS_URL": redis.url(0)} if with_redis else {})}
                print(f"{name}: starting", flush=True)
                server = Server(blueprint, workers, env, tmp / f"serve-{n}.log")
                try:
                    await server.ready()
                    entry: dict[str, Any] = {"workers": workers, "redis": with_redis}
                    if with_redis:
                        await catalog_load(server.base, args.clients, 1.0)  # warm up every worker
                        entry["catalog"] = await catalog_load(server.base, args.clients, args.seconds)
                    entry["subscriptions"] = await subscription_fanout(server.base, seeded["lots"][n], seeded["tokens"], args.subscribers, args.bids)
                    if with_redis:
                        entry["timers"] = await timers_once(kernel, args.timers, f"w{n}")
                    results[name] = entry
                finally:
                    server.stop()
            await kernel.stop()
    finally:
        postgres.stop()
        redis.stop()

    one, two = results["1 worker + Redis"], results["2 workers + Redis"]
    print(f"\nPostgreSQL + Redis, real `dougong serve` processes over HTTP/websockets; {os.cpu_count()} CPUs shared by server, "
          f"database, Redis and the load generator; {seeded['products']} products.")
    print(f"{'configuration':<22} {'catalog req/s':>13} {'p99 ms':>7} {'vs 1 worker':>11} {'subs delivered':>16} {'timers run/sched':>17} {'timers/s':>8}  per process")
    for name, r in results.items():
        c, s, t = r.get("catalog"), r["subscriptions"], r.get("timers")
        cat = f"{c['requests_per_s']:>13.1f} {c['p99_ms']:>7.0f} {c['requests_per_s'] / one['catalog']['requests_per_s']:>11.2f}" if c else f"{'-':>13} {'-':>7} {'-':>11}"
        subs = f"{s['delivered']}/{s['expected']}"
        tim = f"{t['executions']}/{t['scheduled']}" if t else "-"
        tps = f"{t['timers_per_s']:.0f}" if t else "-"
        print(f"{name:<22} {cat} {subs:>16} {tim:>17} {tps:>8}  {t['per_process'] if t else ''}")
    print(f"\ncatalog throughput, 2 workers / 1 worker: {two['catalog']['requests_per_s'] / one['catalog']['requests_per_s']:.2f} "
          f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs: a second worker only helps with a core to spare)")
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
                               "load_average": os.getloadavg(), "arguments": vars(args), "results": results}, indent=2))
    print(f"wrote {out}")
    return results


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Entry point for a runner: defaults unless ``argv`` is given (never this process's own argv)."""
    return asyncio.run(run(argv or []))


if __name__ == "__main__":
    main(sys.argv[1:])
