"""What the growth components add to ``placeOrder``: the same checkout over GraphQL, in-process
(httpx ``ASGITransport`` into the FastAPI app, as bench/hotspots.py), once per variant, in the
same run, reporting each variant's rate and its ratio to the plain checkout.

``VARIANTS`` is the table to extend: a name and the components (with their settings) the
variant adds to the plain blueprint (orders, with catalog, inventory and members). Each variant
gets a fresh SQLite database with ``--members`` members and 3 SKUs; ``SEEDS`` prepares what a
component needs to do real work (guide_attribution: a guide with half the members bound, so the
precedence reads a binding and credits it). Rounds alternate the variants (A B A B …) so a
machine that gets busier mid-run slows every variant alike; each round places ``--orders``
orders from ``--connections`` concurrent clients, each signed in as its own member.

    python bench/growth_checkout.py [--orders 200] [--connections 8] [--rounds 3] [--quick] [--pay]

``--pay`` also pays each order (``payOrder`` + ``sandboxSettlePayment``, the latency is the
three requests): distribution credits commission in the payment's transaction, so its cost
shows only there.

Writes ``bench/results/growth_checkout.json``.
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
from typing import Any, Awaitable, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RESULT = ROOT / "bench" / "results" / "growth_checkout.json"
BASE = """dougong: 1
brand: {slug: growth-bench, name: Growth bench, currency: CNY, timezone: Asia/Shanghai}
components:
  orders: {payment_timeout: 30m}
"""
# name -> components the variant adds (name -> settings). The first is the reference.
VARIANTS: dict[str, dict[str, dict[str, Any]]] = {
    "plain": {},
    "guide_attribution": {"guide_attribution": {"binding": {"mode": "permanent"}}},
    "distribution": {"distribution": {"eligibility": "everyone", "levels": 2, "level1_bps": 500, "level2_bps": 200}},
    "both": {"guide_attribution": {"binding": {"mode": "permanent"}},
             "distribution": {"eligibility": "everyone", "levels": 2, "level1_bps": 500, "level2_bps": 200}},
}
PLACE = """mutation($s0: ID!, $s1: ID!, $s2: ID!) { placeOrder(input: {checkout: {lines: [
  {skuId: $s0, quantity: 1}, {skuId: $s1, quantity: 2}, {skuId: $s2, quantity: 1}]}}) {
  order { id total { amountMinor } } userErrors { code } } }"""
PAY = """mutation($id: ID!) { payOrder(input: {orderId: $id}) { payment { id } userErrors { code } } }"""
SETTLE = """mutation($id: ID!) { sandboxSettlePayment(input: {paymentId: $id}) { order { status } userErrors { code } } }"""


def blueprint(extra: dict[str, dict[str, Any]]) -> str:
    return BASE + "".join(f"  {name}: {json.dumps(settings)}\n" for name, settings in extra.items())


async def seed_guide_attribution(kernel: Any, tx: Any, members: list[int]) -> None:
    from components.guide_attribution.bindings import Touch

    guide = await kernel.service("members").create_staff(tx, name="bench guide", roles=("guide",))
    bindings = kernel.service("guide_attribution").bindings
    for member_id in members[::2]:
        await bindings.bind(tx, member_id, Touch(guide, None, "guide_code"))


async def seed_distribution(kernel: Any, tx: Any, members: list[int]) -> None:
    """Two promoters (the second bound to the first) and every other member bound to one of
    them, so a paid order credits two levels of commission."""
    promoters = kernel.service("distribution").promoters
    first, second = members[0], members[1]
    for member_id in (first, second):
        await promoters.apply(tx, member_id)
    await promoters.bind(tx, second, first, strict=True)
    for index, member_id in enumerate(members[2::2]):
        await promoters.bind(tx, member_id, (first, second)[index % 2], strict=True)


SEEDS: dict[str, Callable[[Any, Any, list[int]], Awaitable[None]]] = {
    "guide_attribution": seed_guide_attribution,
    "distribution": seed_distribution,
}


async def build(name: str, folder: str, members: int) -> tuple[Any, Any, list[str], list[str]]:
    from sqlalchemy import select

    from components.catalog.models import Sku
    from core.app import create_app
    from core.auth import Actor
    from core.gql.relay import to_global_id
    from core.kernel import Kernel

    url = f"sqlite+aiosqlite:///{folder}/{name}.db"
    kernel = Kernel.from_text(blueprint(VARIANTS[name]), database_url=url)
    await kernel.start()
    async with kernel.transaction() as tx:
        member_ids = [await kernel.service("members").create_member(tx, phone=f"1{i:010d}") for i in range(members)]
        product = await kernel.service("catalog").create_product(
            tx, title="Tea", skus=[{"title": f"tin {i}", "price_minor": 1990 + 500 * i} for i in range(3)])
        skus = list((await tx.session.scalars(select(Sku.id).where(Sku.product_id == product).order_by(Sku.id))).all())
        for sku in skus:
            await kernel.service("inventory").set_stock(tx, sku, 10_000_000)
        for component in VARIANTS[name]:
            if component in SEEDS:
                await SEEDS[component](kernel, tx, member_ids)
    tokens = [kernel.issue_token(Actor("member", m)) for m in member_ids]
    app = create_app([kernel], run_worker=False, seed_demo=False)
    return kernel, app, tokens, [to_global_id("Sku", s) for s in skus]


async def place(app: Any, tokens: list[str], skus: list[str], orders: int, connections: int, pay: bool = False) -> dict[str, Any]:
    import httpx

    latencies: list[float] = []
    failed = 0
    left = orders
    variables = {f"s{i}": sku for i, sku in enumerate(skus)}

    async def client(token: str) -> None:
        nonlocal left, failed
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench",
                                     headers={"authorization": f"Bearer {token}"}) as http:
            while left > 0:
                left -= 1
                started = time.perf_counter()
                body = (await http.post("/graphql", json={"query": PLACE, "variables": variables})).json()
                latencies.append((time.perf_counter() - started) * 1000)
                payload = (body.get("data") or {}).get("placeOrder") or {}
                ok = not (body.get("errors") or payload.get("userErrors") or not payload.get("order"))
                if ok and pay:  # and pay it: the commission is credited in the payment's transaction
                    paid = (await http.post("/graphql", json={"query": PAY, "variables": {"id": payload["order"]["id"]}})).json()
                    payment = ((paid.get("data") or {}).get("payOrder") or {}).get("payment")
                    settled = payment and (await http.post("/graphql", json={"query": SETTLE, "variables": {"id": payment["id"]}})).json()
                    ok = bool(settled and ((settled.get("data") or {}).get("sandboxSettlePayment") or {}).get("order"))
                    latencies[-1] = (time.perf_counter() - started) * 1000
                failed += not ok

    started = time.perf_counter()
    await asyncio.gather(*(client(tokens[i % len(tokens)]) for i in range(connections)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {"orders": len(latencies), "failed": failed, "seconds": round(elapsed, 3),
            "per_second": round(len(latencies) / elapsed, 1), "p50_ms": round(statistics.median(latencies), 2),
            "p99_ms": round(latencies[min(len(latencies) - 1, int(0.99 * (len(latencies) - 1)))], 2)}


async def main(args: argparse.Namespace) -> dict[str, Any]:
    os.environ.setdefault("DOUGONG_POOL_TIMEOUT", "300")
    with tempfile.TemporaryDirectory() as folder:
        built = {name: await build(name, folder, args.members) for name in VARIANTS}
        try:
            for _k, app, tokens, skus in built.values():  # warm up: schema, caches, first connections
                await place(app, tokens, skus, max(10, args.connections), args.connections, args.pay)
            rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in VARIANTS}
            for _ in range(args.rounds):
                for name, (_k, app, tokens, skus) in built.items():
                    rounds[name].append(await place(app, tokens, skus, args.orders, args.connections, args.pay))
        finally:
            for kernel, *_ in built.values():
                await kernel.stop()
    reference = next(iter(VARIANTS))
    summary: dict[str, Any] = {}
    for name, runs in rounds.items():
        rate = statistics.median(r["per_second"] for r in runs)
        summary[name] = {"components": sorted(VARIANTS[name]), "per_second_median": rate,
                         "p50_ms_median": round(statistics.median(r["p50_ms"] for r in runs), 1),
                         "failed": sum(r["failed"] for r in runs), "rounds": runs}
    base_rate = summary[reference]["per_second_median"]
    for name in summary:
        summary[name]["ratio_to_" + reference] = round(summary[name]["per_second_median"] / base_rate, 3)
    return summary


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=200, help="orders per variant per round")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--members", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="60 orders, 2 rounds")
    parser.add_argument("--pay", action="store_true", help="pay each order too (payOrder + sandboxSettlePayment): where commission is credited")
    parser.add_argument("--json", default=str(RESULT))
    args = parser.parse_args()
    if args.quick:
        args.orders, args.rounds = 60, 2
    summary = asyncio.run(main(args))
    print(f"{'variant':<22} {'orders/s':>9} {'p50 ms':>8} {'ratio':>7} failed")
    for name, row in summary.items():
        ratio = next(v for k, v in row.items() if k.startswith("ratio_to_"))
        print(f"{name:<22} {row['per_second_median']:>9} {row['p50_ms_median']:>8} {ratio:>7} {row['failed']}")
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "bench": "growth_checkout", "python": platform.python_version(), "cpus": os.cpu_count(),
        "load_average": os.getloadavg(), "path": "placeOrder" + (" + payOrder + sandboxSettlePayment" if args.pay else "") + " over GraphQL, httpx ASGITransport into the FastAPI app, SQLite", "pay": args.pay,
        "orders": args.orders, "connections": args.connections, "rounds": args.rounds, "variants": summary,
    }, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwrote {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")


if __name__ == "__main__":
    cli()
