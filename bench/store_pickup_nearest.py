"""Nearest pickup stores among 10,000: the grid-cell prefilter against a full scan, same run.

Stores are spread like a retail network: 70% in ten dense cities, the rest across the
country. Each query asks for the 10 nearest stores open now from a random point near a city
or in the countryside. Both methods go through ``StorePickupService.nearest`` on the same
database (``prefilter=False`` reads every open store and ranks them all by haversine); the
answers are checked to be identical.

    python bench/store_pickup_nearest.py [--stores 10000] [--queries 300] [--postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

import components.store_pickup as store_pickup_package  # noqa: E402
from components.store_pickup.models import Store  # noqa: E402
from components.store_pickup.stores import cell_of  # noqa: E402
from core.kernel import Kernel  # noqa: E402
from registry.discovery import InstalledComponent, discover  # noqa: E402

BLUEPRINT = "dougong: 1\nbrand: {slug: bench, name: Bench, currency: CNY, timezone: Asia/Shanghai}\ncomponents:\n  store_pickup: {}\n"
CITIES = [(31.23, 121.47), (39.90, 116.40), (23.13, 113.26), (22.54, 114.06), (30.57, 104.07),
          (30.27, 120.15), (34.34, 108.94), (29.56, 106.55), (32.06, 118.80), (30.59, 114.31)]
HOURS = {d: ["09:00-21:00"] for d in ("mon", "tue", "wed", "thu", "fri")} | {"sat": ["10:00-22:00"], "sun": ["10:00-22:00"]}


def points(rng: random.Random, n: int) -> list[tuple[float, float]]:
    out = []
    for _ in range(n):
        if rng.random() < 0.7:
            lat, lng = rng.choice(CITIES)
            out.append((lat + rng.gauss(0, 0.12), lng + rng.gauss(0, 0.12)))
        else:
            out.append((rng.uniform(21, 42), rng.uniform(100, 122)))
    return out


async def run(url: str, stores: int, queries: int) -> dict:
    installed = {**discover()[0], "store_pickup": InstalledComponent(store_pickup_package.manifest, "components.store_pickup", None)}
    kernel = Kernel.from_text(BLUEPRINT, "bench.yaml", installed=installed, database_url=url)
    await kernel.start()
    rng = random.Random(2026)
    rows = []
    now = kernel.clock.now()
    for i, (lat, lng) in enumerate(points(rng, stores)):
        cy, cx = cell_of(lat, lng)
        rows.append({"name": f"store {i}", "address": "", "phone": "", "latitude": lat, "longitude": lng, "cell_y": cy,
                     "cell_x": cx, "hours": HOURS, "status": "open" if i % 20 else "suspended", "created_at": now})
    async with kernel.transaction() as tx:
        for start in range(0, len(rows), 1000):
            await tx.session.execute(insert(Store), rows[start:start + 1000])
    service = kernel.service("store_pickup")
    asks = points(random.Random(7), queries)
    # Monday 10:00 in Shanghai, so opening hours matter but most stores are open.
    from datetime import datetime, timezone

    at = datetime(2026, 1, 5, 2, 0, tzinfo=timezone.utc)
    timings: dict[str, list[float]] = {"prefilter": [], "full_scan": []}
    async with kernel.db.read() as session:
        for lat, lng in asks[:5]:  # warm caches and compiled statements for both
            await service.nearest(session, lat, lng, limit=10, at=at)
            await service.nearest(session, lat, lng, limit=10, at=at, prefilter=False)
        for lat, lng in asks:
            t0 = time.perf_counter()
            fast = await service.nearest(session, lat, lng, limit=10, at=at)
            t1 = time.perf_counter()
            slow = await service.nearest(session, lat, lng, limit=10, at=at, prefilter=False)
            t2 = time.perf_counter()
            assert [s.store.id for s in fast] == [s.store.id for s in slow], "the prefilter changed an answer"
            timings["prefilter"].append((t1 - t0) * 1000)
            timings["full_scan"].append((t2 - t1) * 1000)
    await kernel.stop()

    def summary(values: list[float]) -> dict:
        ordered = sorted(values)
        return {"median_ms": round(statistics.median(ordered), 3), "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1], 3),
                "mean_ms": round(statistics.fmean(ordered), 3)}

    fast, slow = summary(timings["prefilter"]), summary(timings["full_scan"])
    return {"prefilter": fast, "full_scan": slow, "speedup_median": round(slow["median_ms"] / fast["median_ms"], 1)}


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stores", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--postgresql", action="store_true", help="also run on a throwaway PostgreSQL server")
    args = parser.parse_args()
    results = {"benchmark": "store_pickup nearest 10 open stores", "stores": args.stores, "queries": args.queries,
               "python": platform.python_version(), "machine": platform.machine(), "backends": {}}
    with tempfile.TemporaryDirectory() as folder:
        results["backends"]["sqlite"] = await run(f"sqlite+aiosqlite:///{folder}/bench.sqlite", args.stores, args.queries)
    if args.postgresql:
        from core.testing import PostgresServer

        server = PostgresServer()
        problem = server.start()
        try:
            if problem:
                results["backends"]["postgresql"] = {"skipped": problem}
            else:
                results["backends"]["postgresql"] = await run(server.create_database(), args.stores, args.queries)
        finally:
            server.stop()
    for backend, figures in results["backends"].items():
        if "skipped" in figures:
            print(f"{backend}: skipped ({figures['skipped']})")
            continue
        p, f = figures["prefilter"], figures["full_scan"]
        print(f"{backend}: {args.stores} stores, nearest 10 open — grid prefilter median {p['median_ms']} ms (p95 {p['p95_ms']}), "
              f"full scan median {f['median_ms']} ms (p95 {f['p95_ms']}): {figures['speedup_median']}× faster")
    out = ROOT / "bench" / "results" / "store_pickup.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    asyncio.run(main())
