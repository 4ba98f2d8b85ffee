"""Insights at scale: a full rebuild and every insight query over generated history.

Generates, with set-based SQL (generate_series on PostgreSQL, a recursive CTE on SQLite),
`--members` members and `--orders` paid orders (one line each) spread over the last 365
days, a twentieth of them refunded two days after payment, straight into the members and
orders tables — what the rebuild reads through `orders.history`. Sources vary the way real
orders do: a fifth brought by a member's share, some from live rooms, guides, group-buy
offers and pickup stores. Then it times:

- the full rebuild (`insights.rebuild` over the 365 days, one transaction: facts, daily rows,
  every customer), which is the backfill a brand installing insights on its history runs;
- each insight query through the real GraphQL app (in-process ASGI), median of `--repeat`
  runs, for a 30-day and a 365-day period: reach, sales (with days), customer value,
  referral (with days), and GMV by each slice (first 20, with days);
- one more order's payment counted from its event (the incremental path).

    python bench/insights.py                 # 100,000 members, 1,000,000 orders, PostgreSQL
    python bench/insights.py --quick         # 2,000 members, 20,000 orders, SQLite and PostgreSQL
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
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import text  # noqa: E402

from core.app import create_app  # noqa: E402
from core.gql.relay import to_global_id  # noqa: E402
from core.kernel import Kernel  # noqa: E402
from core.testing import PostgresServer, staff  # noqa: E402

BLUEPRINT = """dougong: 1
brand: {slug: insights, name: Insights bench, currency: CNY, timezone: Asia/Shanghai}
components:
  orders: {}
  insights: {max_period_days: 366}
"""
VARIANTS = 997  # source variants (a prime, so they do not line up with members)
DAYS = 365

SALES = "sales { orders gross { amountMinor } net { amountMinor } averageOrderValue { amountMinor } days { day net { amountMinor } } }"
QUERIES = {
    "reach": "reach { members wechatConnected unionIdConnected phoneReachable newMembers days { day newMembers } }",
    "sales (per day)": SALES,
    "customer value": "customerValue { newCustomers repeatCustomers repurchaseRate lifetimeValue { amountMinor } averageOrderValue { amountMinor } }",
    "referral (per day)": "referral { newCustomers referredNewCustomers rate days { day rate } }",
    **{f"gmvBy {d}": f"gmvBy(dimension: {d}, first: 20) {{ edges {{ node {{ targetId channel {SALES} }} }} }}"
       for d in ("CHANNEL", "LIVE_ROOM", "GROUP_BUY_OFFER", "GUIDE", "STORE")},
}


def _variant(k: int, members: int) -> dict[str, Any]:
    """Order source number k: who brought it, where it was bought, what it is."""
    source: dict[str, Any] = {}
    if k % 5 == 1:
        source["sharerMemberId"] = to_global_id("Member", (k * 31) % members + 1)
    if k % 7 == 2:
        source["liveRoomId"] = to_global_id("LiveRoom", k % 20 + 1)
    if k % 11 == 3:
        source["guideId"] = to_global_id("Staff", k % 50 + 1)
    offer = None
    if k % 13 == 4:
        source["groupId"] = to_global_id("GroupBuyGroup", k)
        offer = str(k % 30 + 1)
    store = k % 8 + 1 if k % 10 == 5 else None
    return {"k": k, "source": json.dumps(source), "offer": offer, "store": store}


def _sql(pg: bool) -> dict[str, Any]:
    """The dialect's spelling of a number series, a moment n steps after a base, and a JSON value."""
    if pg:
        return {"series": "generate_series(CAST(1 AS BIGINT), :count) AS s(n)",
                "at": lambda n, step, extra=0: f"(CAST(:base AS timestamptz) + (({n}) * {step} + {extra}) * interval '1 second')",
                "json": lambda expr: f"CAST({expr} AS JSON)", "with": ""}
    return {"series": "s", "with": "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < :count) ",
            "at": lambda n, step, extra=0: f"strftime('%Y-%m-%d %H:%M:%S', :base, '+' || (({n}) * {step} + {extra}) || ' seconds')",
            "json": lambda expr: expr}


async def generate(kernel: Kernel, members: int, orders: int, start: datetime) -> dict[str, float]:
    pg = kernel.db.is_postgresql
    d = _sql(pg)
    base: Any = start if pg else start.strftime("%Y-%m-%d %H:%M:%S")
    step = DAYS * 86400 // orders  # seconds between two orders
    timings: dict[str, float] = {}
    async with kernel.transaction() as tx:
        sku_product = await kernel.service("catalog").create_product(tx, title="Tea", skus=[{"title": "50g", "price_minor": 1000}])
        sku = (await tx.session.execute(text("SELECT min(id) FROM catalog_sku WHERE product_id = :p"), {"p": sku_product})).scalar()
        await kernel.service("inventory").set_stock(tx, sku, 1000)
        admin = await kernel.service("members").create_staff(tx, name="admin", roles=("admin",))
    async with kernel.db.write_engine.begin() as conn:
        began = time.perf_counter()
        if pg:  # generating a million rows takes longer than a request's statement may
            await conn.execute(text("SET LOCAL statement_timeout = 0"))
        await conn.execute(text("DROP TABLE IF EXISTS bench_insights_source"))
        await conn.execute(text("CREATE TABLE bench_insights_source (k INTEGER PRIMARY KEY, source TEXT, offer TEXT, store INTEGER)"))
        await conn.execute(text("INSERT INTO bench_insights_source VALUES (:k, :source, :offer, :store)"),
                           [_variant(k, members) for k in range(VARIANTS)])
        member_step = DAYS * 86400 // members
        await conn.execute(text(
            f"{d['with']}INSERT INTO members_member (id, phone, open_id, union_id, nickname, created_at) "
            f"SELECT n + 1000, CASE WHEN n % 5 < 3 THEN '139' || CAST(10000000 + n AS TEXT) END, "
            f"CASE WHEN n % 5 < 4 THEN 'o' || CAST(n AS TEXT) END, CASE WHEN n % 5 < 2 THEN 'u' || CAST(n AS TEXT) END, "
            f"'m' || CAST(n AS TEXT), {d['at']('n', member_step)} FROM {d['series']}"), {"count": members, "base": base})
        timings["members"] = time.perf_counter() - began
        began = time.perf_counter()
        total = "(1000 + (n * 37 % 50) * 100)"
        await conn.execute(text(
            f"{d['with']}INSERT INTO orders_order (id, member_id, status, kind, currency, subtotal_minor, adjustments_minor, total_minor, "
            f"refunded_minor, delivery_type, store_id, location_id, source, attributes, order_adjustments, created_at, paid_at) "
            f"SELECT n, 1000 + 1 + (n * 7919) % :members, CASE WHEN n % 20 = 0 THEN 'refunded' ELSE 'paid' END, 'plain', 'CNY', "
            f"{total}, 0, {total}, CASE WHEN n % 20 = 0 THEN {total} ELSE 0 END, "
            f"CASE WHEN v.store IS NULL THEN 'shipping' ELSE 'pickup' END, v.store, 0, {d['json']('v.source')}, "
            f"{d['json'](repr('{}'))}, {d['json'](repr('[]'))}, {d['at']('n', step)}, {d['at']('n', step)} "
            f"FROM {d['series']} JOIN bench_insights_source v ON v.k = n % {VARIANTS}"),
            {"count": orders, "base": base, "members": members})
        await conn.execute(text(
            f"{d['with']}INSERT INTO orders_line (id, order_id, sku_id, title, quantity, list_unit_price_minor, unit_price_minor, "
            f"adjustments, total_minor, refunded_quantity, refunded_minor, activity_component, activity_ref, inputs, shipped_quantity) "
            f"SELECT n, n, :sku, 'Tea 50g', 1, {total}, {total}, {d['json'](repr('[]'))}, {total}, "
            f"CASE WHEN n % 20 = 0 THEN 1 ELSE 0 END, CASE WHEN n % 20 = 0 THEN {total} ELSE 0 END, "
            f"CASE WHEN v.offer IS NULL THEN NULL ELSE 'group_buy' END, v.offer, {d['json'](repr('{}'))}, 0 "
            f"FROM {d['series']} JOIN bench_insights_source v ON v.k = n % {VARIANTS}"), {"count": orders, "sku": sku})
        refund_lines = ("'[{\"lineId\": ' || CAST(n AS TEXT) || ', \"quantity\": 1, \"amountMinor\": ' || CAST(" + total +
                        " AS TEXT) || ', \"activity\": ' || CASE WHEN v.offer IS NULL THEN 'null' ELSE "
                        "'{\"component\": \"group_buy\", \"ref\": \"' || v.offer || '\"}' END || '}]'")
        await conn.execute(text(
            f"{d['with']}INSERT INTO orders_refund (id, order_id, amount_minor, lines, reason, created_at) "
            f"SELECT n / 20, n, {total}, {d['json'](refund_lines)}, 'bench', {d['at']('n', step, 2 * 86400)} "
            f"FROM {d['series']} JOIN bench_insights_source v ON v.k = n % {VARIANTS} WHERE n % 20 = 0"),
            {"count": orders, "base": base})
        if pg:
            for table in ("members_member", "orders_order", "orders_line", "orders_refund"):
                await conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
            await conn.execute(text("ANALYZE"))
        timings["orders"] = time.perf_counter() - began
    timings["admin"], timings["sku"] = admin, sku
    return timings


async def time_queries(kernel: Kernel, admin_id: int, last: datetime, repeat: int) -> dict[str, dict[str, float]]:
    app = create_app([kernel], run_worker=False)
    token = kernel.issue_token(staff(admin_id, "admin"))
    found: dict[str, dict[str, float]] = {}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench.test") as http:
        for days in (30, 365):
            first = (last - timedelta(days=days - 1)).date().isoformat()
            for name, selection in QUERIES.items():
                document = f'{{ insights(period: {{from: "{first}", to: "{last.date().isoformat()}"}}) {{ {selection} }} }}'
                runs = []
                for _ in range(repeat):
                    began = time.perf_counter()
                    body = (await http.post("/graphql", json={"query": document}, headers={"authorization": f"Bearer {token}"})).json()
                    runs.append(time.perf_counter() - began)
                    assert not body.get("errors"), body
                found.setdefault(f"{days} days", {})[name] = statistics.median(runs) * 1000
    return found


async def run_database(url: str, args: argparse.Namespace) -> dict[str, Any]:
    kernel = Kernel.from_text(BLUEPRINT, "insights.yaml", database_url=url)
    await kernel.start()
    try:
        now = datetime.now(timezone.utc)
        start = now - timedelta(days=DAYS)
        print(f"  generating {args.members:,} members and {args.orders:,} orders ...", flush=True)
        made = await generate(kernel, args.members, args.orders, start)
        service = kernel.service("insights")
        zone = service.ledger.zone
        first, last = start.astimezone(zone).date(), now.astimezone(zone).date()
        print("  full rebuild ...", flush=True)
        began = time.perf_counter()
        async with kernel.transaction() as tx:
            counts = await service.rebuild(tx, first, last)
        rebuild = time.perf_counter() - began
        print(f"  rebuilt {counts} in {rebuild:.1f}s; queries ...", flush=True)
        admin, sku = int(made.pop("admin")), int(made.pop("sku"))
        queries = await time_queries(kernel, admin, now.astimezone(zone), args.repeat)
        # The incremental path: one more payment's event, counted by the handler.
        async with kernel.transaction() as tx:
            order = await kernel.service("orders").create_order(tx, member_id=1001, lines=[(sku, 1)])
            total = (await kernel.service("orders").get(tx, order)).total_minor
        async with kernel.transaction() as tx:
            await kernel.service("orders").mark_paid(tx, order, provider="sandbox", provider_ref=f"b-{order}", amount_minor=total)
        event = type("E", (), {"payload": {"orderId": order}, "created_at": now, "id": 0})()
        began = time.perf_counter()
        await service.on_order_paid(kernel, event)  # counted already after commit: this is the check-and-skip path
        again = time.perf_counter() - began
        return {"generate_seconds": made, "rebuild_seconds": rebuild, "rebuilt": counts, "query_ms": queries,
                "event_redelivery_ms": again * 1000}
    finally:
        await kernel.stop()


def print_table(results: dict[str, Any]) -> None:
    for database, r in results.items():
        print(f"\n{database}: generated in {sum(r['generate_seconds'].values()):.1f}s, full rebuild {r['rebuild_seconds']:.1f}s "
              f"({r['rebuilt']}), a redelivered event {r['event_redelivery_ms']:.1f} ms")
        periods = list(r["query_ms"])
        print(f"  {'query':<24}" + "".join(f"{p:>12}" for p in periods))
        for name in QUERIES:
            print(f"  {name:<24}" + "".join(f"{r['query_ms'][p][name]:>9.1f} ms" for p in periods))


async def run(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5, help="runs of each query (the median is reported)")
    parser.add_argument("--quick", action="store_true", help="2,000 members and 20,000 orders, on SQLite and PostgreSQL")
    parser.add_argument("--no-postgresql", action="store_true")
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "insights.json"))
    args = parser.parse_args(argv)
    if args.quick:
        args.members, args.orders = min(args.members, 2_000), min(args.orders, 20_000)
    results: dict[str, Any] = {}
    if args.quick or args.no_postgresql:
        with tempfile.TemporaryDirectory() as tmp:
            print("sqlite", flush=True)
            results["sqlite"] = await run_database(f"sqlite+aiosqlite:///{tmp}/insights.db", args)
    skipped = None
    if not args.no_postgresql:
        server = PostgresServer()
        skipped = server.start() or None
        if skipped:
            print(f"*** PostgreSQL skipped: {skipped} ***")
        else:
            try:
                print("postgresql", flush=True)
                results["postgresql"] = await run_database(server.create_database(), args)
            finally:
                server.stop()
    print_table(results)
    print(f"\nload average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "machine": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
        "load_average": os.getloadavg(), "arguments": {**vars(args), "json": os.path.relpath(out, ROOT)},
        "postgresql_skipped": skipped, "results": results,
    }, indent=2, default=str))
    print(f"wrote {os.path.relpath(out, ROOT)}")
    return results


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Entry point for a runner: defaults unless ``argv`` is given, e.g. ``main(["--quick"])``."""
    return asyncio.run(run(argv or []))


if __name__ == "__main__":
    asyncio.run(run())
