"""Contention hot spots, each beside a baseline measured in the same run, on SQLite and PostgreSQL.

Every hot spot is driven through **GraphQL over HTTP** (httpx's in-process ASGI transport into
the real FastAPI app: routing, auth, GraphQL, resolvers, services, SQL), all requests fired at
once, as a crowd that arrives at the same second would:

- flash purchase: `--buyers` members each send one `createOrder` for a SKU with `--units` in
  stock. Oversold (orders beyond the units, or stock below zero) must be 0.
- auction: `placeBid` on one hot lot by `--bidders` members (bench/bidding_sale_bids.py's
  `hot_lot`, whose figures include its own service-layer and UPDATE baselines).
- group-buy last seats: a group of `--group-size` with the leader paid; `--payers` joiners
  settle their payments at once (`sandboxSettlePayment`). Exactly size-1 take seats, the
  rest are refunded; overseated must be 0.
- points redemptions: `--redeemers` members, each with enough points, redeem one item with
  `--redeem-stock` in stock (`redeemPointsItem`). Oversold and negative balances must be 0.
- flash-sale session and coupon claims (bench/hotspots_growth.py): `--buyers` for `--units`
  through `buyFlashSaleItem` over real HTTP, on the database alone and behind the Redis gate;
  `--claimers` members for `--coupons` coupons, and one member claiming `--claim-burst` times
  against a limit of 2.

The baseline beside each: the same number of attempts, launched at once in the same process,
each a `kernel.transaction()` holding one conditional UPDATE on a one-row counter
(`units = units - 1 WHERE units >= 1`) that starts with the same number of units — the floor
that any serialised stock write pays on this database. `vs baseline` divides the hot spot's
attempts/s by the baseline's.

    python bench/hotspots.py [--buyers 2000] [--units 100] [--bidders 100] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import platform
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any, Awaitable, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))  # hotspots_growth

import httpx  # noqa: E402
from sqlalchemy import Column, Integer, MetaData, Table, func, insert, select, update  # noqa: E402

from core.app import create_app  # noqa: E402
from core.auth import Actor  # noqa: E402
from core.gql.relay import to_global_id  # noqa: E402
from core.kernel import Kernel  # noqa: E402
from core.testing import PostgresServer  # noqa: E402

BLUEPRINT = """dougong: 1
brand: {slug: hot, name: Hot, currency: CNY, timezone: Asia/Shanghai}
components:
  orders: {}
  group_buy: {late_payment: refund, hold_seats_for_unpaid_joins: false}  # the race under test is the payments
  points_mall: {earn_per_yuan: 1, expiry: {rule: end_of_next_year}}
  coupons: {}
  flash_sale: {}
"""

CREATE_ORDER = """mutation($sku: ID!) { createOrder(input: {lines: [{skuId: $sku, quantity: 1}]}) {
  order { id } userErrors { code } } }"""
SETTLE = 'mutation($id: ID!) { sandboxSettlePayment(input: {paymentId: $id}) { order { status } userErrors { code } } }'
REDEEM = """mutation($item: ID!) { redeemPointsItem(input: {itemId: $item, quantity: 1}) {
  redemption { id } userErrors { code } } }"""

counter = Table("bench_hot_counter", MetaData(), Column("id", Integer, primary_key=True), Column("units", Integer, nullable=False))


def _load_bidding_bench() -> Any:
    spec = importlib.util.spec_from_file_location("bench_bidding_sale_bids", ROOT / "bench" / "bidding_sale_bids.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def _payloads(results: list[dict[str, Any]], field: str) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The mutation payloads that came back, and a count of every refusal code plus
    ``UNEXPECTED`` for answers without a payload (top-level errors)."""
    payloads, codes = [], {}
    for body in results:
        payload = (body.get("data") or {}).get(field)
        if payload is None:
            codes["UNEXPECTED"] = codes.get("UNEXPECTED", 0) + 1
            continue
        payloads.append(payload)
        for error in payload.get("userErrors") or []:
            codes[error["code"]] = codes.get(error["code"], 0) + 1
    return payloads, codes


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def _crowd(calls: list[Callable[[], Awaitable[Any]]]) -> tuple[list[Any], list[float], float]:
    """Fire every call at once; (results, per-call latency in s, wall seconds)."""
    latencies: list[float] = [0.0] * len(calls)

    async def timed(i: int, call: Callable[[], Awaitable[Any]]) -> Any:
        started = time.perf_counter()
        try:
            return await call()
        finally:
            latencies[i] = time.perf_counter() - started

    started = time.perf_counter()
    results = await asyncio.gather(*(timed(i, c) for i, c in enumerate(calls)))
    return results, latencies, time.perf_counter() - started


async def _baseline(kernel: Kernel, attempts: int, units: int) -> dict[str, Any]:
    """``attempts`` concurrent single-UPDATE transactions on a counter holding ``units``."""
    await kernel.db.create_tables([counter])
    async with kernel.transaction() as tx:
        await tx.session.execute(counter.delete())
        await tx.session.execute(insert(counter).values(id=1, units=units))

    async def take() -> bool:
        async with kernel.transaction() as tx:
            result = await tx.session.execute(update(counter).where(counter.c.id == 1, counter.c.units >= 1).values(units=counter.c.units - 1))
            return result.rowcount == 1

    results, latencies, seconds = await _crowd([take] * attempts)
    async with kernel.db.read() as session:
        left = await session.scalar(select(counter.c.units).where(counter.c.id == 1))
    return {"attempts": attempts, "won": sum(results), "left": left, "seconds": seconds, "attempts_per_s": attempts / seconds,
            "p50_ms": _percentile(latencies, 0.5) * 1000, "p99_ms": _percentile(latencies, 0.99) * 1000}


def _figures(won: int, attempts: int, latencies: list[float], seconds: float, baseline: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"attempts": attempts, "won": won, "seconds": seconds, "attempts_per_s": attempts / seconds, "won_per_s": won / seconds,
            "p50_ms": _percentile(latencies, 0.5) * 1000, "p99_ms": _percentile(latencies, 0.99) * 1000,
            "ratio_vs_baseline": attempts / seconds / baseline["attempts_per_s"], "baseline": baseline, **extra}


async def _members(kernel: Kernel, count: int) -> None:
    async with kernel.transaction() as tx:
        for i in range(count):
            await kernel.service("members").create_member(tx, phone=f"1{i:010d}")
        await kernel.service("members").create_staff(tx, name="admin", roles=("admin",))


async def _sku(kernel: Kernel, stock: int, title: str) -> int:
    from components.catalog.models import Sku

    async with kernel.transaction() as tx:
        product = await kernel.service("catalog").create_product(tx, title=title, skus=[{"title": "one", "price_minor": 10000}])
        sku = await tx.session.scalar(select(Sku.id).where(Sku.product_id == product))
        await kernel.service("inventory").set_stock(tx, sku, stock)
    return sku


def _clients(kernel: Kernel, app: Any) -> Callable[[int], httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    http = httpx.AsyncClient(transport=transport, base_url="http://hot", timeout=600)
    tokens: dict[int, str] = {}

    def post(member_id: int):  # noqa: ANN202
        token = tokens.setdefault(member_id, kernel.issue_token(Actor("member", member_id)))

        async def send(query: str, variables: dict[str, Any]) -> dict[str, Any]:
            response = await http.post("/graphql", json={"query": query, "variables": variables},
                                       headers={"authorization": f"Bearer {token}"})
            return response.json()

        return send

    post.http = http  # type: ignore[attr-defined]
    return post


async def flash_purchase(kernel: Kernel, app: Any, buyers: int, units: int) -> dict[str, Any]:
    from components.orders.models import Order

    sku = await _sku(kernel, units, "Flash tea")
    sku_id = to_global_id("Sku", sku)
    post = _clients(kernel, app)
    calls = [lambda m=m: post(m)(CREATE_ORDER, {"sku": sku_id}) for m in range(1, buyers + 1)]
    results, latencies, seconds = await _crowd(calls)
    await post.http.aclose()
    payloads, codes = _payloads(results, "createOrder")
    won = sum(1 for p in payloads if p["order"])
    async with kernel.db.read() as session:
        orders = int(await session.scalar(select(func.count()).select_from(Order)))
        available = (await kernel.service("inventory").available(session, [sku]))[sku]
    baseline = await _baseline(kernel, buyers, units)
    return _figures(won, buyers, latencies, seconds, baseline, units=units, orders_in_db=orders, stock_left=available,
                    oversold=max(orders - units, 0) + max(-available, 0), outcomes=codes)


async def group_buy_last_seats(kernel: Kernel, app: Any, payers: int, size: int, first_member: int) -> dict[str, Any]:
    from components.group_buy.models import Group, Membership

    service, orders = kernel.service("group_buy"), kernel.service("orders")
    sku = await _sku(kernel, payers + 10, "Group tea")
    now = kernel.clock.now()
    async with kernel.transaction() as tx:
        offer = await service.create_offer(tx, sku_id=sku, group_price_minor=6900, group_size=size, starts_at=now - timedelta(hours=1),
                                           ends_at=now + timedelta(days=3), total_limit=payers + 10, duration=timedelta(hours=24))
    leader = first_member
    async with kernel.transaction() as tx:
        group_id, order_id = await service.open_group(tx, offer_id=offer, member_id=leader)
        payment = await orders.start_payment(tx, order_id, "sandbox")
    async with kernel.transaction() as tx:
        await orders.mark_paid(tx, order_id, provider="sandbox", provider_ref=payment.provider_ref, amount_minor=payment.amount_minor)
    async with kernel.db.read() as session:
        share_code = (await session.get(Group, group_id)).share_code
    payments: list[tuple[int, str]] = []
    async with kernel.transaction() as tx:
        for m in range(leader + 1, leader + 1 + payers):
            _g, joined = await service.join_group(tx, share_code=share_code, member_id=m)
            payments.append((m, str((await orders.start_payment(tx, joined, "sandbox")).id)))
    post = _clients(kernel, app)
    calls = [lambda m=m, p=p: post(m)(SETTLE, {"id": p}) for m, p in payments]
    results, latencies, seconds = await _crowd(calls)
    await post.http.aclose()
    payloads, codes = _payloads(results, "sandboxSettlePayment")
    statuses = [p["order"]["status"] for p in payloads if p["order"]]
    async with kernel.db.read() as session:
        seated = int(await session.scalar(select(func.count()).select_from(Membership).where(
            Membership.group_id == group_id, Membership.state == "seated")))
        group = await session.get(Group, group_id)
    baseline = await _baseline(kernel, payers, size - 1)
    return _figures(statuses.count("PAID"), payers, latencies, seconds, baseline, group_size=size, seated=seated,
                    refunded=statuses.count("REFUNDED"), overseated=max(seated - size, 0) + max(group.paid_seats - size, 0),
                    group_status=group.status, outcomes=codes)


async def points_redemptions(kernel: Kernel, app: Any, redeemers: int, stock: int, first_member: int) -> dict[str, Any]:
    from components.points_mall.models import Account, Item, Redemption

    service = kernel.service("points_mall")
    async with kernel.transaction() as tx:
        item = await service.create_item(tx, title="Hot mug", points_price=10, stock=stock)
        for m in range(first_member, first_member + redeemers):
            await service.credit(tx, m, 50, reason="staff_adjust", key="bench")
    item_id = to_global_id("PointsMallItem", item)
    post = _clients(kernel, app)
    calls = [lambda m=m: post(m)(REDEEM, {"item": item_id}) for m in range(first_member, first_member + redeemers)]
    results, latencies, seconds = await _crowd(calls)
    await post.http.aclose()
    payloads, codes = _payloads(results, "redeemPointsItem")
    won = sum(1 for p in payloads if p["redemption"])
    async with kernel.db.read() as session:
        redemptions = int(await session.scalar(select(func.count()).select_from(Redemption).where(Redemption.item_id == item)))
        stock_left = await session.scalar(select(Item.stock_left).where(Item.id == item))
        negative = int(await session.scalar(select(func.count()).select_from(Account).where(Account.balance < 0)))
    baseline = await _baseline(kernel, redeemers, stock)
    return _figures(won, redeemers, latencies, seconds, baseline, stock=stock, redemptions_in_db=redemptions, stock_left=stock_left,
                    oversold=max(redemptions - stock, 0) + max(-stock_left, 0), negative_balances=negative,
                    outcomes=codes)


async def run_database(url: str, args: argparse.Namespace, bidding: Any, bidding_url: str, gate_url: str) -> dict[str, Any]:
    import hotspots_growth as growth

    kernel = Kernel.from_text(BLUEPRINT, "hot.yaml", database_url=url)
    await kernel.start()
    app = create_app([kernel], run_worker=False)
    members = max(args.buyers, args.payers + 1 + args.redeemers, args.claimers)
    await _members(kernel, members)
    results = {}
    helpers = sys.modules[__name__]
    print(f"  flash-sale session: {args.buyers} buyers for {args.units} units (real HTTP)", flush=True)
    results["flash-sale session"] = await growth.flash_sale_session(kernel, args.buyers, args.units, helpers, BLUEPRINT)
    if args.growth_only:
        print(f"  flash-sale session without the early look and memo: {args.buyers} buyers for {args.units} units", flush=True)
        results["flash-sale, no early look"] = await growth.flash_sale_session(kernel, args.buyers, args.units, helpers, BLUEPRINT, early=False)
    if not args.flash_only:
        print(f"  coupon claims: {args.claimers} members for {args.coupons} coupons", flush=True)
        results["coupon claims"] = await growth.coupon_claims(kernel, app, args.claimers, args.coupons, args.claim_burst, helpers)
    if args.growth_only:
        await kernel.stop()
        gated = await growth.gated_flash_sale(gate_url, args.buyers, args.units, helpers)
        if gated is not None:
            results["flash-sale + Redis gate"] = gated
        return results
    print(f"  flash purchase: {args.buyers} buyers for {args.units} units", flush=True)
    results["flash purchase"] = await flash_purchase(kernel, app, args.buyers, args.units)
    print(f"  group-buy last seats: {args.payers} payers, group of {args.group_size}", flush=True)
    results["group-buy last seats"] = await group_buy_last_seats(kernel, app, args.payers, args.group_size, 1)
    print(f"  points redemptions: {args.redeemers} members for {args.redeem_stock} items", flush=True)
    results["points redemptions"] = await points_redemptions(kernel, app, args.redeemers, args.redeem_stock, args.payers + 2)
    await kernel.stop()
    print(f"  flash-sale session behind the Redis gate: {args.buyers} buyers for {args.units} units", flush=True)
    gated = await growth.gated_flash_sale(gate_url, args.buyers, args.units, helpers)
    if gated is not None:
        results["flash-sale + Redis gate"] = gated
    print(f"  auction: {args.bidders} bidders, {args.bids} accepted bids", flush=True)
    auction = await bidding.hot_lot(bidding_url, args.bids, args.bidders, args.bids)
    g, base = auction["graphql"], auction["baseline"]
    requests = g["accepted"] + g["lost_races"]
    results["auction hot lot"] = {
        "attempts": requests, "won": g["accepted"], "seconds": g["seconds"], "attempts_per_s": g["requests_per_s"],
        "won_per_s": g["bids_per_s"], "p50_ms": None, "p99_ms": None,
        # bidding_sale_bids' baseline runs its UPDATEs one after another (no crowd).
        "ratio_vs_baseline": g["requests_per_s"] / base["updates_per_s"],
        "baseline": {"attempts": base["updates"], "attempts_per_s": base["updates_per_s"], "p99_ms": None, "sequential": True},
        "service_bids_per_s": auction["service"]["bids_per_s"], "bidders": g["bidders"],
    }
    return results


def print_table(results: dict[str, dict[str, Any]]) -> None:
    head = f"{'database':<11} {'hot spot':<22} {'attempts':>8} {'won':>5} {'att/s':>8} {'won/s':>8} {'p99 ms':>8} {'base att/s':>10} {'base p99':>8} {'vs base':>7}  check"
    print(head)
    print("-" * len(head))
    for database, spots in results.items():
        for name, r in spots.items():
            b = r["baseline"]
            p99 = f"{r['p99_ms']:.0f}" if r["p99_ms"] is not None else "-"
            bp99 = f"{b['p99_ms']:.0f}" if b.get("p99_ms") is not None else "seq"
            if "burst" in r:
                check = f"oversold={r['oversold']} limit-2 burst won={r['burst']['won']}"
            elif "oversold" in r:
                check = f"oversold={r['oversold']}"
            elif "overseated" in r:
                check = f"overseated={r['overseated']} seated={r['seated']}/{r['group_size']}"
            else:
                check = f"service {r['service_bids_per_s']:.0f} bids/s"
            outcomes = r.get("outcomes", {})
            trouble = {k: v for k, v in outcomes.items() if k in ("KERNEL_BUSY", "UNEXPECTED")}
            if trouble:
                check += " " + " ".join(f"{k}={v}" for k, v in trouble.items())
            print(f"{database:<11} {name:<22} {r['attempts']:>8} {r['won']:>5} {r['attempts_per_s']:>8.1f} {r['won_per_s']:>8.1f} "
                  f"{p99:>8} {b['attempts_per_s']:>10.1f} {bp99:>8} {r['ratio_vs_baseline']:>7.3f}  {check}")
            database = ""


async def run(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--buyers", type=int, default=2000)
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument("--bidders", type=int, default=100)
    parser.add_argument("--bids", type=int, default=20, help="accepted bids to reach on the hot lot (each costs about --bidders requests)")
    parser.add_argument("--payers", type=int, default=200, help="group-buy joiners settling at once")
    parser.add_argument("--group-size", type=int, default=20)
    parser.add_argument("--redeemers", type=int, default=500)
    parser.add_argument("--redeem-stock", type=int, default=50)
    parser.add_argument("--claimers", type=int, default=1000)
    parser.add_argument("--coupons", type=int, default=100)
    parser.add_argument("--claim-burst", type=int, default=20)
    parser.add_argument("--growth-only", action="store_true", help="only the flash-sale session and coupon rows")
    parser.add_argument("--flash-only", action="store_true", help="with --growth-only: the flash-sale rows alone")
    parser.add_argument("--quick", action="store_true", help="a tenth of every crowd (smoke run)")
    parser.add_argument("--no-postgresql", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only (e.g. to measure it again on a quiet machine)")
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "hotspots.json"))
    args = parser.parse_args(argv)
    if args.quick:
        for name in ("buyers", "units", "bidders", "bids", "payers", "redeemers", "redeem_stock", "claimers", "coupons"):
            setattr(args, name, max(getattr(args, name) // 10, 2))
        args.group_size = min(args.group_size, 5)
    bidding = _load_bidding_bench()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_sqlite:
            print("sqlite", flush=True)
            results["sqlite"] = await run_database(f"sqlite+aiosqlite:///{tmp}/hot.db", args, bidding, f"sqlite+aiosqlite:///{tmp}/bids.db",
                                                   f"sqlite+aiosqlite:///{tmp}/gate.db")
    skipped = None
    if not args.no_postgresql:
        server = PostgresServer()
        skipped = server.start() or None
        if skipped:
            print(f"*** PostgreSQL skipped: {skipped} ***")
        else:
            try:
                print("postgresql", flush=True)
                results["postgresql"] = await run_database(server.create_database(), args, bidding, server.create_database(),
                                                           server.create_database())
            finally:
                server.stop()
    print()
    print("GraphQL over HTTP (in-process ASGI), every request of a crowd fired at once; baseline = the same number of")
    print("concurrent one-UPDATE transactions on one counter row (auction: bidding_sale_bids' sequential UPDATEs).")
    print_table(results)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "machine": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
        "load_average": os.getloadavg(), "path": "GraphQL over HTTP, httpx ASGITransport into the FastAPI app",
        "arguments": vars(args), "postgresql_skipped": skipped, "results": results,
    }, indent=2, default=str))
    print(f"\nwrote {out}")
    return results


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Entry point for a runner: defaults unless ``argv`` is given (never this process's own argv),
    e.g. ``main(["--quick"])``; returns the results it also writes to bench/results/hotspots.json."""
    return asyncio.run(run(argv or []))


if __name__ == "__main__":
    main(sys.argv[1:])
