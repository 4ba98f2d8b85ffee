"""Mutations at the database's pace: ``placeBid``, ``placeOrder`` and ``redeemPointsItem`` over
real HTTP against a hand-written FastAPI endpoint calling the same service, on SQLite and
PostgreSQL.

One database per backend holds a blueprint with orders, bidding_sale and points_mall. Two
servers run at once, each a uvicorn worker in its own subprocess pinned to CPU 0: dougong
(``/graphql``) and the baseline (``bench/mutations_baseline.py``). This process, pinned to
CPU 1, drives ``--connections`` httpx connections for ``--seconds`` per measurement, in
interleaved rounds (baseline, dougong, baseline, dougong, …), and reports the medians. Every
request is a write that succeeds:

- placeBid: connection i bids on its own lot, alternating two members, each bid one above the
  last (both servers continue the same lots' prices);
- placeOrder: a one-line cart (one unit of a SKU with plenty of stock), each connection its own
  member;
- redeemPointsItem: one unit of a points-mall item (a SKU, 1 point, plenty of stock and points).

    python bench/mutations.py [--seconds 4] [--rounds 3] [--connections 8] [--quick] [--no-postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._serve import serve_from_argv, subprocess_server  # noqa: E402
from bench.checkout import _percentile  # noqa: E402

RESULT = ROOT / "bench" / "results" / "mutations.json"
BLUEPRINT = """dougong: 1
brand: {slug: bench-mutations, name: Mutations bench, currency: CNY, timezone: Asia/Shanghai}
components:
  orders: {payment_timeout: 30m}
  bidding_sale: {max_extensions: 0}
  points_mall: {}
"""
STOCK = 10_000_000
BID = """mutation($lot: ID!, $amount: Long!) { placeBid(input: {lotId: $lot, amount: {amountMinor: $amount, currency: "CNY"}}) {
  leading lot { id } userErrors { code details } } }"""
PLACE = """mutation($sku: ID!) { placeOrder(input: {checkout: {lines: [{skuId: $sku, quantity: 1}]}}) { order { id } userErrors { code } } }"""
REDEEM = """mutation($item: ID!) { redeemPointsItem(input: {itemId: $item}) { redemption { id } balance userErrors { code } } }"""
SERVER_CPU, DRIVER_CPU = 0, 1


def _blueprint_file(folder: str) -> Path:
    path = Path(folder) / "mutations-bench.yaml"
    path.write_text(BLUEPRINT, encoding="utf-8")
    return path


async def seed(url: str, folder: str, connections: int) -> dict[str, Any]:
    """Two members per connection (bidders alternate), a lot per connection, a SKU, a mall item."""
    from sqlalchemy import select

    from components.catalog.models import Sku
    from core.auth import Actor
    from core.kernel import Kernel

    kernel = Kernel.from_file(_blueprint_file(folder), database_url=url)
    await kernel.start()
    try:
        async with kernel.transaction() as tx:
            members = [await kernel.service("members").create_member(tx, phone=f"1{i:010d}") for i in range(2 * connections)]
            product = await kernel.service("catalog").create_product(
                tx, title="Jade tea", skus=[{"title": f"tin {i}", "price_minor": 1990} for i in range(connections + 2)])
            skus = list((await tx.session.scalars(select(Sku.id).where(Sku.product_id == product).order_by(Sku.id))).all())
            for sku in skus:
                await kernel.service("inventory").set_stock(tx, sku, STOCK)
            now = kernel.clock.now()
            lots = [await kernel.service("bidding_sale").create_lot(
                tx, sku_id=skus[2 + i], start_price=100, increments=[(0, 1)], starts_at=now - timedelta(seconds=1),
                ends_at=now + timedelta(days=2)) for i in range(connections)]
            points = kernel.service("points_mall")
            item = await points.create_item(tx, title="Tea cup", points_price=1, stock=STOCK, sku_id=skus[1], per_member_limit=STOCK)
            for m in members:
                await points.adjust(tx, member_id=m, delta=STOCK, note="bench", key=None)
        tokens = [kernel.issue_token(Actor("member", m), ttl=timedelta(days=1)) for m in members]
    finally:
        await kernel.stop()
    return {"tokens": tokens, "order_sku": skus[0], "lots": lots, "item": item, "prices": {lot: 100 for lot in lots}}


# -- the servers (subprocess: `mutations.py --serve dougong|baseline --url URL --port N --folder F`) --

def serve(kind: str, url: str, port: int, folder: str) -> None:
    import uvicorn

    from core.kernel import Kernel

    with contextlib.suppress(AttributeError, OSError):
        os.sched_setaffinity(0, {SERVER_CPU})
    kernel = Kernel.from_file(_blueprint_file(folder), database_url=url)
    if kind == "baseline":
        from bench.mutations_baseline import create_baseline_app

        app = create_baseline_app(kernel)

        @contextlib.asynccontextmanager
        async def lifespan(_app: Any) -> Any:
            await kernel.start(seed_demo=False)
            yield
            await kernel.stop()

        app.router.lifespan_context = lifespan
    else:
        from core.app import create_app

        app = create_app([kernel], seed_demo=False, run_worker=False)
    uvicorn.run(app, host="127.0.0.1", port=port, workers=1, log_level="warning", access_log=False)


def server(kind: str, url: str, folder: str):  # noqa: ANN201
    probe = "/healthz" if kind != "baseline" else "/nothing"
    return subprocess_server(__file__, ["--serve", kind, "--url", url, "--folder", folder], probe)


# -- the requests each connection sends --------------------------------------------------------------

Next = Callable[[int, dict], tuple[str, dict, dict]]  # (connection, last answer) → (path, body, headers)


def requests_for(mutation: str, kind: str, world: dict[str, Any]) -> tuple[Next, Callable[[dict], bool]]:
    from core.gql.relay import to_global_id

    tokens, lots, prices = world["tokens"], world["lots"], world["prices"]
    turn = world.setdefault("turn", {})  # who bid last on each lot, across runs and servers

    def auth(i: int, which: int = 0) -> dict:
        return {"authorization": f"Bearer {tokens[2 * i + which]}"}

    if mutation == "placeBid":
        def bid(i: int, _last: dict) -> tuple[str, dict, dict]:
            lot = lots[i]
            prices[lot] += 1  # each bid one above the last accepted one on this lot
            turn[i] = 1 - turn.get(i, 0)  # two members outbid each other
            if kind == "baseline":
                return "/bid", {"lotId": lot, "amount": prices[lot]}, auth(i, turn[i])
            return "/graphql", {"query": BID, "variables": {"lot": to_global_id("AuctionLot", lot), "amount": prices[lot]}}, auth(i, turn[i])

        ok = (lambda b: b.get("leading") is True) if kind == "baseline" else (
            lambda b: not b.get("errors") and b["data"]["placeBid"]["leading"] is True)
        return bid, ok
    if mutation == "placeOrder":
        sku = world["order_sku"]
        if kind == "baseline":
            return (lambda i, _l: ("/order", {"skuId": sku, "quantity": 1}, auth(i))), (lambda b: "orderId" in b)
        body = {"query": PLACE, "variables": {"sku": to_global_id("Sku", sku)}}
        return (lambda i, _l: ("/graphql", body, auth(i))), (lambda b: not b.get("errors") and b["data"]["placeOrder"]["order"] is not None)
    item = world["item"]
    if kind == "baseline":
        return (lambda i, _l: ("/redeem", {"itemId": item}, auth(i))), (lambda b: "redemptionId" in b)
    body = {"query": REDEEM, "variables": {"item": to_global_id("PointsMallItem", item)}}
    return (lambda i, _l: ("/graphql", body, auth(i))), (lambda b: not b.get("errors") and b["data"]["redeemPointsItem"]["redemption"] is not None)


async def drive(base: str, connections: int, seconds: float, following: Next, ok: Callable[[dict], bool]) -> dict[str, Any]:
    import httpx

    latencies: list[float] = []
    failed: list[Any] = []
    stop = time.perf_counter() + seconds

    async def one(client: httpx.AsyncClient, i: int) -> None:
        last: dict = {}
        while time.perf_counter() < stop:
            path, body, headers = following(i, last)
            started = time.perf_counter()
            response = await client.post(path, json=body, headers=headers)
            latencies.append((time.perf_counter() - started) * 1000)
            last = response.json() if response.status_code == 200 else {}
            if response.status_code != 200 or not ok(last):
                failed.append(last or response.status_code)

    async with httpx.AsyncClient(base_url=base, limits=httpx.Limits(max_connections=connections), timeout=60) as client:
        began = time.perf_counter()
        await asyncio.gather(*(one(client, i) for i in range(connections)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    return {"requests": len(latencies), "requests_per_s": len(latencies) / elapsed, "p50_ms": statistics.median(latencies),
            "p99_ms": _percentile(latencies, 0.99), "failed": len(failed), "first_failure": failed[0] if failed else None}


async def measure(url: str, folder: str, world: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with server("dougong", url, folder) as ours, server("baseline", url, folder) as theirs:
        for mutation in ("placeBid", "placeOrder", "redeemPointsItem"):
            rounds: dict[str, list[dict]] = {"baseline": [], "dougong": []}
            for kind, base in (("baseline", theirs), ("dougong", ours)):  # warm up both
                await drive(base, args.connections, 1, *requests_for(mutation, kind, world))
            for _ in range(args.rounds):
                for kind, base in (("baseline", theirs), ("dougong", ours)):
                    rounds[kind].append(await drive(base, args.connections, args.seconds, *requests_for(mutation, kind, world)))
            row = {}
            for kind, runs in rounds.items():
                row[kind] = {"requests_per_s": statistics.median(r["requests_per_s"] for r in runs),
                             "p50_ms": statistics.median(r["p50_ms"] for r in runs), "p99_ms": statistics.median(r["p99_ms"] for r in runs),
                             "requests": sum(r["requests"] for r in runs), "failed": sum(r["failed"] for r in runs),
                             "first_failure": next((r["first_failure"] for r in runs if r["first_failure"]), None), "rounds": runs}
            row["ratio"] = row["dougong"]["requests_per_s"] / row["baseline"]["requests_per_s"]
            print(f"  {mutation}: dougong {row['dougong']['requests_per_s']:.1f}/s, baseline {row['baseline']['requests_per_s']:.1f}/s, "
                  f"ratio {row['ratio']:.2f}", flush=True)
            results[mutation] = row
    return results


def print_table(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> None:
    print(f"one uvicorn worker each on CPU {SERVER_CPU}, driver on CPU {DRIVER_CPU}, {args.connections} connections, "
          f"{args.rounds} interleaved rounds of {args.seconds:g} s, medians")
    head = f"{'database':<11} {'mutation':<17} {'dougong/s':>9} {'p99 ms':>7} {'baseline/s':>10} {'p99 ms':>7} {'ratio':>6} {'failed':>6}"
    print(head)
    print("-" * len(head))
    for database, rows in results.items():
        for name, r in rows.items():
            d, b = r["dougong"], r["baseline"]
            print(f"{database:<11} {name:<17} {d['requests_per_s']:>9.1f} {d['p99_ms']:>7.1f} {b['requests_per_s']:>10.1f} "
                  f"{b['p99_ms']:>7.1f} {r['ratio']:>6.2f} {d['failed'] + b['failed']:>6}")
            database = ""


async def run(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=4, help="per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per mutation and side")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--quick", action="store_true", help="1 round of 2 s, SQLite only (smoke run)")
    parser.add_argument("--no-postgresql", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--json", default=str(RESULT))
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.rounds, args.no_postgresql = 2, 1, True
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setaffinity(0, {DRIVER_CPU})
    load_before = os.getloadavg()
    results: dict[str, Any] = {}
    skipped = None
    with tempfile.TemporaryDirectory() as folder:
        if not args.no_sqlite:
            url = f"sqlite+aiosqlite:///{folder}/mutations.db"
            print("sqlite", flush=True)
            results["sqlite"] = await measure(url, folder, await seed(url, folder, args.connections), args)
        if not args.no_postgresql:
            from core.testing import PostgresServer

            pg = PostgresServer()
            skipped = pg.start() or None
            if skipped:
                print(f"*** PostgreSQL skipped: {skipped} ***")
            else:
                try:
                    print("postgresql", flush=True)
                    url = pg.create_database()
                    results["postgresql"] = await measure(url, folder, await seed(url, folder, args.connections), args)
                finally:
                    pg.stop()
    print()
    print_table(results, args)
    print(f"load average {load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after, on {os.cpu_count()} CPUs")
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "machine": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
        "load_average_before": load_before, "load_average_after": os.getloadavg(), "arguments": vars(args),
        "postgresql_skipped": skipped, "results": results,
    }, indent=2, default=str))
    print(f"\nwrote {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    return results


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Entry point for a runner: defaults unless ``argv`` is given (never this process's own argv)."""
    return asyncio.run(run(argv or []))


if __name__ == "__main__":
    if "--serve" in sys.argv:
        serve_from_argv(serve)
    else:
        main(sys.argv[1:])
