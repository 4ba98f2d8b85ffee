"""The soft close under a crowd, on PostgreSQL (and SQLite): `--bidders` members bid at once in
a lot's last second with extensions on, while two workers (two kernels on one database) keep
running the close timer, on the real clock. Counts what every request got: accepted, a typed
refusal, or an unexpected error (a deadlock PostgreSQL had to break would land there).
The test suite runs the same race with 40 bidders (tests/components/bidding_sale/
test_bidding_sale_races.py); this is the 100-bidder version, too slow for the suite.

    python bench/bidding_sale_soft_close.py [--bidders 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from core.errors import DomainError  # noqa: E402
from core.kernel import Kernel  # noqa: E402
from core.testing import PostgresServer  # noqa: E402

BLUEPRINT = ("dougong: 1\nbrand: {slug: bench, name: Bench, currency: CNY, timezone: Asia/Shanghai}\ncomponents:\n"
             "  bidding_sale: {max_extensions: 1000, extend_window: 60s, extend_by: 1s}\n")


async def crowd(url: str, bidders: int) -> dict:
    kernel = Kernel.from_text(BLUEPRINT, "bench.yaml", database_url=url)
    await kernel.start()
    worker = Kernel.from_text(BLUEPRINT, "bench.yaml", database_url=url)
    await worker.start()
    try:
        async with kernel.transaction() as tx:
            members = [await kernel.service("members").create_member(tx, phone=f"1370000{i:04d}") for i in range(bidders)]
            product = await kernel.service("catalog").create_product(tx, title="Jade", skus=[{"title": "one", "price_minor": 100}])
            from components.catalog.models import Sku

            sku = await tx.session.scalar(select(Sku.id).where(Sku.product_id == product))
            await kernel.service("inventory").set_stock(tx, sku, 1)
            now = kernel.clock.now()
            lot = await kernel.service("bidding_sale").create_lot(
                tx, sku_id=sku, start_price=100, increments=[(0, 1)], starts_at=now - timedelta(seconds=1),
                ends_at=now + timedelta(seconds=1))
        outcomes: Counter = Counter()
        unexpected: list[str] = []
        racing = asyncio.Event()

        async def bid(i: int, member_id: int) -> None:
            try:
                async with kernel.transaction() as tx:
                    await kernel.service("bidding_sale").place_bid(tx, lot, member_id, 100 + i)
                outcomes["accepted"] += 1
            except DomainError as error:
                outcomes[error.code] += 1
            except Exception as exc:  # a deadlock, a serialisation failure: what this bench looks for
                outcomes["unexpected"] += 1
                unexpected.append(repr(exc)[:200])

        async def workers() -> int:
            ran = 0
            while not racing.is_set():
                ran += sum(await asyncio.gather(kernel.timers.run_due(), worker.timers.run_due()))
                await asyncio.sleep(0.01)
            return ran

        async def bids() -> None:
            try:
                await asyncio.gather(*(bid(i, m) for i, m in enumerate(members)))
            finally:
                racing.set()

        started = time.perf_counter()
        _, closes = await asyncio.gather(bids(), workers())
        elapsed = time.perf_counter() - started
        while True:  # let it close at its (extended) end
            await asyncio.sleep(0.2)
            await asyncio.gather(kernel.timers.run_due(), worker.timers.run_due())
            from components.bidding_sale.models import Lot, LotOrder

            async with kernel.db.read() as session:
                row = await session.get(Lot, lot)
                orders = len((await session.scalars(select(LotOrder).where(LotOrder.lot_id == lot))).all())
            if row.status != "scheduled":
                break
        return {"bidders": bidders, "seconds": round(elapsed, 3), "outcomes": dict(outcomes), "unexpected": unexpected[:5],
                "extensions": row.extensions, "status": row.status, "winner_orders": orders, "closes_during_race": closes}
    finally:
        await worker.stop()
        await kernel.stop()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bidders", type=int, default=100)
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite"] = await crowd(f"sqlite+aiosqlite:///{tmp}/bench.db", args.bidders)
    server = PostgresServer()
    problem = server.start()
    if problem:
        print(f"PostgreSQL skipped: {problem}")
    else:
        try:
            results["postgresql"] = await crowd(server.create_database(), args.bidders)
        finally:
            server.stop()
    for name, r in results.items():
        print(f"{name:<11} {r['bidders']} bidders in {r['seconds']:.2f} s: {r['outcomes']}; extensions {r['extensions']}, "
              f"{r['status']}, winner orders {r['winner_orders']}, unexpected {r['unexpected'] or 'none'}")
    out = ROOT / "bench" / "results" / "bidding_sale_soft_close.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
                               "load_average": os.getloadavg(), "results": results}, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
