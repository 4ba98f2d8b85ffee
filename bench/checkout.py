"""Checkout over real HTTP: ``previewCheckout`` and ``placeOrder`` for a 5-line cart, beside a
hand-written baseline of the same reads and writes, in the same run, on one uvicorn worker.

A database with the checkout's components (orders, so catalog, inventory and members) gets
5 SKUs with plenty of stock and ``--members`` members. Each server runs in its own
subprocess (one worker) and is driven from this process by ``--connections`` httpx
connections for ``--seconds`` per measurement, each connection signed in as its own member:

- dougong: ``previewCheckout`` (writes nothing) and ``placeOrder`` (order, 5 lines, 5 stock
  holds, the ``order.created`` event row and the payment-timeout timer, the payload read back);
- baseline (``bench/checkout_baseline.py``): FastAPI + SQLAlchemy Core, ``/preview`` reads the
  member and prices; ``/place`` writes one order row, 5 line rows and 5 conditional stock
  updates in one transaction. No auth, events, timers or idempotency.

The cart is plain lines: when this bench was written the pickup block (``pickup {storeId,
slotId}``) had just reached main's ``CheckoutInput`` and live_room's line field had not, so
neither is measured yet; adding them means a store with a slot and a live room in ``seed``.

Reports requests/s, p50 and p99 and the ratio to the baseline; writes
``bench/results/checkout.json``.

    python bench/checkout.py [--seconds 8] [--connections 8] [--quick] [--no-postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._serve import serve_from_argv, subprocess_server  # noqa: E402

RESULT = ROOT / "bench" / "results" / "checkout.json"
BLUEPRINT = """dougong: 1
brand: {slug: bench-checkout, name: Checkout bench, currency: CNY, timezone: Asia/Shanghai}
components:
  orders: {payment_timeout: 30m}
"""
LINES = 5
STOCK = 10_000_000
CART = """lines: [{skuId: $s0, quantity: 1}, {skuId: $s1, quantity: 2}, {skuId: $s2, quantity: 1},
                 {skuId: $s3, quantity: 3}, {skuId: $s4, quantity: 1}]"""
VARS = ", ".join(f"$s{i}: ID!" for i in range(LINES))
PREVIEW = f"""query({VARS}) {{ previewCheckout(input: {{{CART}}}) {{
  preview {{ total {{ amountMinor }} lines {{ total {{ amountMinor }} }} }} userErrors {{ code }} }} }}"""
PLACE = f"""mutation({VARS}) {{ placeOrder(input: {{checkout: {{{CART}}}}}) {{
  order {{ id total {{ amountMinor }} }} userErrors {{ code }} }} }}"""
QUANTITIES = (1, 2, 1, 3, 1)


# -- data ------------------------------------------------------------------------------------------

def _blueprint_file(folder: str) -> Path:
    path = Path(folder) / "checkout-bench.yaml"
    path.write_text(BLUEPRINT, encoding="utf-8")
    return path


async def seed(url: str, folder: str, members: int) -> dict[str, Any]:
    """Members, 5 SKUs with stock, and the baseline's stock table; member tokens for the load."""
    from sqlalchemy import select

    from bench.checkout_baseline import prepare
    from components.catalog.models import Sku
    from core.auth import Actor
    from core.kernel import Kernel

    kernel = Kernel.from_file(_blueprint_file(folder), database_url=url)
    await kernel.start()
    try:
        async with kernel.transaction() as tx:
            member_ids = [await kernel.service("members").create_member(tx, phone=f"1{i:010d}") for i in range(members)]
            product = await kernel.service("catalog").create_product(
                tx, title="Tea sampler", skus=[{"title": f"tin {i}", "price_minor": 1990 + 500 * i} for i in range(LINES)])
            sku_ids = list((await tx.session.scalars(select(Sku.id).where(Sku.product_id == product).order_by(Sku.id))).all())
            for sku in sku_ids:
                await kernel.service("inventory").set_stock(tx, sku, STOCK)
        tokens = [kernel.issue_token(Actor("member", m)) for m in member_ids]
    finally:
        await kernel.stop()
    await prepare(url, sku_ids, STOCK)
    return {"members": member_ids, "tokens": tokens, "skus": sku_ids}


# -- the servers (subprocess: `checkout.py --serve dougong|baseline --url URL --port N --folder F`) --

def serve(kind: str, url: str, port: int, folder: str) -> None:
    import uvicorn

    if kind == "baseline":
        from bench.checkout_baseline import create_baseline_app

        app = create_baseline_app(url)
    else:
        from core.app import create_app
        from core.kernel import Kernel

        app = create_app([Kernel.from_file(_blueprint_file(folder), database_url=url)], seed_demo=False)
    uvicorn.run(app, host="127.0.0.1", port=port, workers=1, log_level="warning", access_log=False)


def server(kind: str, url: str, folder: str):  # noqa: ANN201
    probe = "/healthz" if kind != "baseline" else "/nothing"
    return subprocess_server(__file__, ["--serve", kind, "--url", url, "--folder", folder], probe)


# -- load ------------------------------------------------------------------------------------------

def _percentile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def drive(base: str, requests: list[tuple[str, dict, dict]], seconds: float, ok: Any) -> dict[str, Any]:
    """Each connection repeats its own (path, JSON body, headers) until ``seconds`` pass;
    ``ok(json)`` says whether an answer did what was asked."""
    import httpx

    latencies: list[float] = []
    failed = 0
    stop = time.perf_counter() + seconds

    async def one(client: httpx.AsyncClient, path: str, body: dict, headers: dict) -> None:
        nonlocal failed
        while time.perf_counter() < stop:
            started = time.perf_counter()
            response = await client.post(path, json=body, headers=headers)
            latencies.append((time.perf_counter() - started) * 1000)
            failed += response.status_code != 200 or not ok(response.json())

    async with httpx.AsyncClient(base_url=base, limits=httpx.Limits(max_connections=len(requests)), timeout=60) as client:
        began = time.perf_counter()
        await asyncio.gather(*(one(client, *r) for r in requests))
        elapsed = time.perf_counter() - began
    latencies.sort()
    return {"requests": len(latencies), "requests_per_s": len(latencies) / elapsed, "p50_ms": statistics.median(latencies),
            "p99_ms": _percentile(latencies, 0.99), "failed": failed}


def _gql_ok(field: str, result: str) -> Any:
    return lambda body: not body.get("errors") and body["data"][field][result] is not None


async def measure(url: str, folder: str, world: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    from core.gql.relay import to_global_id

    variables = {f"s{i}": to_global_id("Sku", s) for i, s in enumerate(world["skus"])}
    conns = list(zip(world["members"], world["tokens"]))[: args.connections]
    plain = {"lines": [{"skuId": s, "quantity": q} for s, q in zip(world["skus"], QUANTITIES)]}
    results: dict[str, Any] = {}
    with server("dougong", url, folder) as base:
        for name, document, field, result in (("previewCheckout", PREVIEW, "previewCheckout", "preview"),
                                              ("placeOrder", PLACE, "placeOrder", "order")):
            await drive(base, [("/graphql", {"query": document, "variables": variables},
                                {"authorization": f"Bearer {t}"}) for _, t in conns], 1, _gql_ok(field, result))  # warm up
            print(f"  dougong {name}", flush=True)
            results[f"dougong {name}"] = await drive(base, [("/graphql", {"query": document, "variables": variables},
                                                             {"authorization": f"Bearer {t}"}) for _, t in conns],
                                                     args.seconds, _gql_ok(field, result))
    with server("baseline", url, folder) as base:
        for name, path, key in (("preview", "/preview", "totalMinor"), ("place", "/place", "orderId")):
            requests = [(path, {"memberId": m, **plain}, {}) for m, _ in conns]
            await drive(base, requests, 1, lambda body, k=key: k in body)
            print(f"  baseline {name}", flush=True)
            results[f"baseline {name}"] = await drive(base, requests, args.seconds, lambda body, k=key: k in body)
    for ours, theirs in (("dougong previewCheckout", "baseline preview"), ("dougong placeOrder", "baseline place")):
        results[ours]["ratio_vs_baseline"] = results[ours]["requests_per_s"] / results[theirs]["requests_per_s"]
    return results


def print_table(results: dict[str, dict[str, Any]]) -> None:
    head = f"{'database':<11} {'endpoint':<26} {'requests':>8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'failed':>6} {'vs base':>7}"
    print(head)
    print("-" * len(head))
    for database, rows in results.items():
        for name, r in rows.items():
            ratio = f"{r['ratio_vs_baseline']:.3f}" if "ratio_vs_baseline" in r else ""
            print(f"{database:<11} {name:<26} {r['requests']:>8} {r['requests_per_s']:>8.1f} {r['p50_ms']:>8.1f} "
                  f"{r['p99_ms']:>8.1f} {r['failed']:>6} {ratio:>7}")
            database = ""


async def run(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8, help="per measurement")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--quick", action="store_true", help="2 s per measurement, SQLite only (smoke run)")
    parser.add_argument("--no-postgresql", action="store_true")
    parser.add_argument("--json", default=str(RESULT))
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.no_postgresql = 2, True
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/checkout.db"
        print("sqlite", flush=True)
        world = await seed(url, folder, args.connections)
        results["sqlite"] = await measure(url, folder, world, args)
        skipped = None
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
                    world = await seed(url, folder, args.connections)
                    results["postgresql"] = await measure(url, folder, world, args)
                finally:
                    pg.stop()
    print()
    print(f"one uvicorn worker each, {args.connections} connections, {args.seconds:g} s per row, a {LINES}-line cart of plain lines")
    print_table(results)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "machine": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
        "load_average": os.getloadavg(), "cart": f"{LINES} plain lines, quantities {list(QUANTITIES)}",
        "arguments": vars(args), "postgresql_skipped": skipped, "results": results,
    }, indent=2, default=str))
    print(f"\nwrote {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    return results


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Entry point for a runner: defaults unless ``argv`` is given (never this process's own argv),
    e.g. ``main(["--quick"])``; returns the results it also writes to bench/results/checkout.json."""
    return asyncio.run(run(argv or []))


if __name__ == "__main__":
    if "--serve" in sys.argv:
        serve_from_argv(serve)
    else:
        main(sys.argv[1:])
