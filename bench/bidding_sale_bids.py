"""Accepted bids per second on one hot lot, on SQLite and PostgreSQL.

Three numbers per database, all in the same run on the same database:

- graphql: `--bidders` members send `placeBid` over in-process HTTP at the minimum they last
  saw; a losing race learns the new minimum from the typed error and bids again, until
  `--bids` bids were accepted. Most requests lose (that is what a hot lot is), so accepted
  bids/s is roughly the request rate divided by the number of bidders.
- service: the same number of accepted bids through `kernel.transaction()` + the service
  (two members outbidding each other, no HTTP, no lost races): the cost of the rules and the
  lot lock per accepted bid.
- baseline: the same number of single-row conditional UPDATEs
  (`price = price + 1 WHERE price = :seen`) through the same kernel transactions — the floor
  any serialised write must pay. Ratios are against it.

    python bench/bidding_sale_bids.py [--bids 100] [--bidders 10] [--service-bids 500]
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
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import Column, Integer, MetaData, Table, insert, update  # noqa: E402

from core.app import create_app  # noqa: E402
from core.auth import Actor  # noqa: E402
from core.kernel import Kernel  # noqa: E402
from core.testing import PostgresServer  # noqa: E402

BLUEPRINT = "dougong: 1\nbrand: {slug: bench, name: Bench, currency: CNY, timezone: Asia/Shanghai}\ncomponents:\n  bidding_sale: {max_extensions: 0}\n"
BID = """mutation($lot: ID!, $amount: Long!) { placeBid(input: {lotId: $lot, amount: {amountMinor: $amount, currency: "CNY"}}) {
  userErrors { code details } } }"""

counter_table = Table("bench_counter", MetaData(), Column("id", Integer, primary_key=True), Column("price", Integer))


async def hot_lot(url: str, bids: int, bidders: int, service_bids: int) -> dict:
    kernel = Kernel.from_text(BLUEPRINT, "bench.yaml", database_url=url)
    await kernel.start()
    async with kernel.transaction() as tx:
        for i in range(max(bidders, 2)):
            await kernel.service("members").create_member(tx, phone=f"1370000{i:04d}")
        product = await kernel.service("catalog").create_product(tx, title="Jade", skus=[{"title": "one", "price_minor": 100}])
        from sqlalchemy import select

        from components.catalog.models import Sku

        sku = await tx.session.scalar(select(Sku.id).where(Sku.product_id == product))
        await kernel.service("inventory").set_stock(tx, sku, 2)  # each lot holds its unit from scheduling
        sku_two = sku
        now = kernel.clock.now()
        lots = [await kernel.service("bidding_sale").create_lot(
            tx, sku_id=sku, start_price=100, increments=[(0, 1)], starts_at=now - timedelta(seconds=1),
            ends_at=now + timedelta(hours=1)) for sku in (sku, sku_two)]
    lot, service_lot = lots
    from core.gql.relay import to_global_id

    lot_id = to_global_id("AuctionLot", lot)
    app = create_app([kernel], run_worker=False)
    accepted = 0
    lost = 0
    done = asyncio.Event()

    async def bidder(i: int) -> None:
        nonlocal accepted, lost
        token = kernel.issue_token(Actor("member", i + 1))
        minimum = 100
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://b",
                                     headers={"authorization": f"Bearer {token}"}) as http:
            while not done.is_set():
                body = (await http.post("/graphql", json={"query": BID, "variables": {"lot": lot_id, "amount": minimum}})).json()
                errors = body["data"]["placeBid"]["userErrors"]
                if not errors:
                    accepted += 1
                    minimum += 1
                    if accepted >= bids:
                        done.set()
                elif errors[0]["code"] == "BIDDING_SALE_BID_TOO_LOW":
                    lost += 1
                    minimum = errors[0]["details"]["minimumBid"]
                else:  # already leading: wait for someone to outbid us
                    await asyncio.sleep(0)
                    minimum += 1

    started = time.perf_counter()
    await asyncio.gather(*(bidder(i) for i in range(bidders)))
    elapsed = time.perf_counter() - started

    # Service: accepted bids only, through the rules and the lot lock, no HTTP.
    service = kernel.service("bidding_sale")
    svc_started = time.perf_counter()
    for n in range(service_bids):
        async with kernel.transaction() as tx:
            await service.place_bid(tx, service_lot, n % 2 + 1, 100 + n)
    svc_elapsed = time.perf_counter() - svc_started

    # Baseline: the same number of serialised conditional updates on one row, no GraphQL, no rules.
    await kernel.db.create_tables([counter_table])
    async with kernel.transaction() as tx:
        await tx.session.execute(insert(counter_table).values(id=1, price=0))
    base_started = time.perf_counter()
    for seen in range(service_bids):
        async with kernel.transaction() as tx:
            await tx.session.execute(update(counter_table).where(counter_table.c.id == 1, counter_table.c.price == seen).values(price=seen + 1))
    base_elapsed = time.perf_counter() - base_started
    await kernel.stop()
    baseline = service_bids / base_elapsed
    return {"graphql": {"bidders": bidders, "accepted": accepted, "lost_races": lost, "seconds": round(elapsed, 3),
                        "requests_per_s": (accepted + lost) / elapsed, "bids_per_s": accepted / elapsed,
                        "ratio_vs_baseline": accepted / elapsed / baseline},
            "service": {"accepted": service_bids, "seconds": round(svc_elapsed, 3), "bids_per_s": service_bids / svc_elapsed,
                        "ratio_vs_baseline": service_bids / svc_elapsed / baseline},
            "baseline": {"updates": service_bids, "seconds": round(base_elapsed, 3), "updates_per_s": baseline}}


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bids", type=int, default=100, help="accepted bids to reach over GraphQL")
    parser.add_argument("--bidders", type=int, default=10, help="concurrent GraphQL bidders")
    parser.add_argument("--service-bids", type=int, default=500, help="accepted bids through the service (and baseline UPDATEs)")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite"] = await hot_lot(f"sqlite+aiosqlite:///{tmp}/bench.db", args.bids, args.bidders, args.service_bids)
    server = PostgresServer()
    problem = server.start()
    if problem:
        print(f"PostgreSQL skipped: {problem}")
    else:
        try:
            results["postgresql"] = await hot_lot(server.create_database(), args.bids, args.bidders, args.service_bids)
        finally:
            server.stop()
    print(f"{'database':<11} {'path':<26} {'accepted':>8} {'lost races':>10} {'per s':>8} {'vs baseline':>11}")
    for name, r in results.items():
        g, v, b = r["graphql"], r["service"], r["baseline"]
        path = "graphql, %d bidders" % g["bidders"]
        print(f"{name:<11} {path:<26} {g['accepted']:>8} {g['lost_races']:>10} {g['bids_per_s']:>8.1f} {g['ratio_vs_baseline']:>11.3f}")
        print(f"{'':<11} {'service, no HTTP':<26} {v['accepted']:>8} {0:>10} {v['bids_per_s']:>8.1f} {v['ratio_vs_baseline']:>11.3f}")
        print(f"{'':<11} {'baseline conditional UPDATE':<26} {b['updates']:>8} {'':>10} {b['updates_per_s']:>8.1f} {1:>11.3f}")
    out = ROOT / "bench" / "results" / "bidding_sale.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
                               "load_average": os.getloadavg(), "results": results}, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
