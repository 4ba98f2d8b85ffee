"""member_tags at brand scale: recompute RFM segments, lifecycle stages and rule tags for every
member, and answer the staff list queries.

The data is generated set-based inside the database (``generate_series`` on PostgreSQL, a
recursive CTE on SQLite), straight into member_tags' own tables — the per-member figures that
``order.paid`` / ``order.refunded`` events would have written: one purchase row per order, skewed
so some members buy often and many once, 5% refunded in full, over two years. Then:

- ``recompute_first``: the scheduled job on a brand nobody classified yet (every member moves);
- ``recompute_steady``: the same job again (nothing moved: reads and classification only);
- ``recompute_drift``: 30 days later (members slip from NEW/REPEAT to DORMANT/CHURNED);
- ``event_refresh``: one member's ``order.paid`` handled (the incremental path), median of 50;
- list queries through GraphQL (in-process HTTP, as staff): a segment, a stage, a rule tag
  (first page and a page deep into the list), one member's profile.

    python bench/segments.py              # 100,000 members, 1,000,000 orders on PostgreSQL
    python bench/segments.py --quick      # 10,000 / 100,000 on SQLite and PostgreSQL (when there)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402

from core.auth import Actor  # noqa: E402
from core.clock import MovableClock  # noqa: E402
from core.gql.relay import to_global_id  # noqa: E402
from core.kernel import Kernel  # noqa: E402
from core.transaction import Event  # noqa: E402

# The statement timeout is lifted from the default 30 s: generating a million rows is one long
# statement per 100,000 orders, and this machine is shared (the figures report each phase).
BLUEPRINT = """dougong: 1
brand: {slug: bench, name: Bench, currency: CNY, timezone: Asia/Shanghai}
storage: {statement_timeout: 10m}
components:
  member_tags:
    window_days: 365
    rfm: {recency: {split: threshold, threshold: 30}, frequency: {split: median}, monetary: {split: median}}
    lifecycle: {repeat_from_orders: 2, dormant_after_days: 90, churned_after_days: 180}
    rules:
      - {name: active repeat, window_days: 365, min_orders: 4, last_order_within_days: 120}
      - {name: big spender, window_days: 365, min_paid_minor: 200000}
    channel_tags: false
"""
LIST = """query($filter: MemberProfileFilter, $after: String) { memberProfiles(first: 100, after: $after, filter: $filter) {
  nodes { id stage segment ordersCount windowPaid { amountMinor } } pageInfo { endCursor hasNextPage } } }"""
ONE = """query($id: ID!) { memberProfile(memberId: $id) { stage segment ordersCount paid { amountMinor } tags { name } } }"""

# (member skew: power of random(), days back, price) as SQL per dialect. power(random(), 2)
# puts more orders on low member ids: a few heavy buyers, a long tail of one-order members.
POSTGRES_ROWS = """
INSERT INTO member_tags_profile (member_id, orders_count, paid_minor, window_orders, window_paid_minor, stage, stage_since, computed_at)
SELECT g, 0, 0, 0, 0, 'prospect', CAST(:now AS timestamptz), CAST(:now AS timestamptz)
FROM generate_series(1, CAST(:members AS bigint)) AS g;
SELECT setseed(0.2026);
INSERT INTO member_tags_purchase (order_id, member_id, paid_at, total_minor, refunded_minor, counted)
SELECT g, 1 + floor(CAST(:members AS bigint) * power(random(), 2))::bigint,
       CAST(:now AS timestamptz) - random() * interval '730 days',
       1000 + floor(random() * 60000)::bigint, 0, random() > 0.05
FROM generate_series(CAST(:first AS bigint), CAST(:last AS bigint)) AS g;
"""
SQLITE_PROFILES = """
INSERT INTO member_tags_profile (member_id, orders_count, paid_minor, window_orders, window_paid_minor, stage, stage_since, computed_at)
WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < :members)
SELECT x, 0, 0, 0, 0, 'prospect', :now, :now FROM g
"""
SQLITE_PURCHASES = """
INSERT INTO member_tags_purchase (order_id, member_id, paid_at, total_minor, refunded_minor, counted)
WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < :orders),
     r(x, a, b, c, d) AS (SELECT x, (abs(random()) % 1000000) / 1000000.0, abs(random()) % 730, abs(random()) % 60000,
                                 abs(random()) % 100 FROM g)
SELECT x, 1 + CAST(:members * a * a AS INTEGER), strftime('%Y-%m-%d %H:%M:%f000', :now, '-' || b || ' days'), 1000 + c, 0,
       d >= 5
FROM r
"""


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


async def timed(work: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    result = await work
    return result, time.perf_counter() - start


async def generate(kernel: Kernel, members: int, orders: int) -> float:
    now = kernel.clock.now()
    start = time.perf_counter()
    async with kernel.transaction() as tx:
        if kernel.db.is_postgresql:
            profiles, seed, purchases = filter(str.strip, POSTGRES_ROWS.split(";"))
            await tx.session.execute(text(profiles), {"now": now, "members": members})
            await tx.session.execute(text(seed))
            for first in range(1, orders + 1, 100_000):  # 100,000 orders a statement
                await tx.session.execute(text(purchases), {"now": now, "members": members, "first": first,
                                                           "last": min(first + 99_999, orders)})
        else:
            stamp = now.replace(tzinfo=None).isoformat(sep=" ")
            await tx.session.execute(text(SQLITE_PROFILES), {"now": stamp, "members": members})
            await tx.session.execute(text(SQLITE_PURCHASES), {"now": stamp, "members": members, "orders": orders})
    if kernel.db.is_postgresql:
        # As autovacuum would soon after a bulk load; left to it, it competes with the first recompute.
        async with kernel.db.write_engine.connect() as connection:
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text("VACUUM ANALYZE member_tags_purchase"))
            await connection.execute(text("VACUUM ANALYZE member_tags_profile"))
    return time.perf_counter() - start


async def recompute(kernel: Kernel) -> tuple[dict[str, int], float]:
    async def job() -> dict[str, int]:
        async with kernel.transaction() as tx:
            return vars(await kernel.service("member_tags").recompute(tx))
    return await timed(job())


async def run(url: str, members: int, orders: int, label: str) -> dict[str, Any]:
    clock = MovableClock()
    kernel = Kernel.from_text(BLUEPRINT, "bench.yaml", clock=clock, database_url=url)
    await kernel.start()
    figures: dict[str, Any] = {"members": members, "orders": orders}
    figures["generate_s"] = round(await generate(kernel, members, orders), 2)
    outcome, seconds = await recompute(kernel)
    figures["recompute_first"] = {"seconds": round(seconds, 2), **outcome}
    outcome, seconds = await recompute(kernel)
    figures["recompute_steady"] = {"seconds": round(seconds, 2), **outcome}
    clock.advance(timedelta(days=30))
    outcome, seconds = await recompute(kernel)
    figures["recompute_drift_30_days"] = {"seconds": round(seconds, 2), **outcome}

    service = kernel.service("member_tags")
    refresh = []
    for n in range(50):
        event = Event(10**9 + n, "order.paid", {"orderId": orders + 1 + n, "memberId": 1 + n * 37 % members,
                                                "totalMinor": 8800, "refundedMinor": 0}, clock.now())
        refresh.append((await timed(service.on_order_paid(kernel, event)))[1])
    figures["event_refresh_ms"] = {"median": ms(statistics.median(refresh)), "max": ms(max(refresh))}

    async with kernel.db.read() as session:
        by_segment = dict((await session.execute(text(
            "SELECT segment, count(*) FROM member_tags_profile GROUP BY segment"))).all())
        by_stage = dict((await session.execute(text("SELECT stage, count(*) FROM member_tags_profile GROUP BY stage"))).all())
        from components.member_tags.models import MemberTag, Tag

        tags = dict((await session.execute(select(Tag.name, func.count(MemberTag.member_id)).join(
            MemberTag, MemberTag.tag_id == Tag.id).group_by(Tag.name))).all())
        rule_tag = await session.scalar(select(Tag.id).where(Tag.name == "active repeat"))
    figures["by_segment"] = {str(k): v for k, v in by_segment.items()}
    figures["by_stage"] = by_stage
    figures["tag_holders"] = tags
    figures["queries_ms"] = await queries(kernel, rule_tag, members)
    await kernel.stop()
    print(f"{label}: {json.dumps(figures, ensure_ascii=False)}")
    return figures


async def queries(kernel: Kernel, rule_tag: int, members: int, repeat: int = 20) -> dict[str, Any]:
    from core.app import create_app

    app = create_app([kernel], run_worker=False)
    token = kernel.issue_token(Actor("staff", 1, frozenset({"admin"})))
    # Rights come from the database on each request: the bench's admin must exist.
    async with kernel.transaction() as tx:
        await kernel.service("members").create_staff(tx, name="bench admin", roles=("admin",))
    out: dict[str, Any] = {}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as http:
        async def ask(query: str, variables: dict[str, Any]) -> dict[str, Any]:
            response = await http.post("/graphql", json={"query": query, "variables": variables},
                                       headers={"authorization": f"Bearer {token}"})
            body = response.json()
            assert not body.get("errors"), body
            return body["data"]

        async def measure(name: str, query: str, variables: dict[str, Any]) -> None:
            times = []
            for _ in range(repeat):
                times.append((await timed(ask(query, variables)))[1])
            out[name] = {"median": ms(statistics.median(times)), "p95": ms(sorted(times)[int(0.95 * (len(times) - 1))])}

        deep = (await ask(LIST, {"filter": {"stage": "CHURNED"}, "after": None}))
        cursor = deep["memberProfiles"]["pageInfo"]["endCursor"]
        for _ in range(20):  # twenty pages in
            page = (await ask(LIST, {"filter": {"stage": "CHURNED"}, "after": cursor}))["memberProfiles"]["pageInfo"]
            cursor = page["endCursor"] or cursor
        await measure("segment_first_page", LIST, {"filter": {"segment": "IMPORTANT_VALUE"}, "after": None})
        await measure("stage_first_page", LIST, {"filter": {"stage": "DORMANT"}, "after": None})
        await measure("stage_page_21", LIST, {"filter": {"stage": "CHURNED"}, "after": cursor})
        await measure("rule_tag_first_page", LIST, {"filter": {"tagId": to_global_id("MemberTag", rule_tag)}, "after": None})
        await measure("segment_and_stage", LIST, {"filter": {"segment": "GENERAL_WIN_BACK", "stage": "CHURNED"}, "after": None})
        await measure("one_member_profile", ONE, {"id": to_global_id("Member", members // 2)})
    return out


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="10,000 members and 100,000 orders, SQLite and PostgreSQL")
    parser.add_argument("--members", type=int)
    parser.add_argument("--orders", type=int)
    parser.add_argument("--no-postgresql", action="store_true")
    args = parser.parse_args()
    members = args.members or (10_000 if args.quick else 100_000)
    orders = args.orders or (100_000 if args.quick else 1_000_000)
    results: dict[str, Any] = {"benchmark": "member_tags segments and stages", "python": platform.python_version(),
                               "machine": platform.machine(), "backends": {}}
    if args.quick:
        with tempfile.TemporaryDirectory() as folder:
            results["backends"]["sqlite"] = await run(f"sqlite+aiosqlite:///{folder}/bench.sqlite", members, orders, "sqlite")
    if not args.no_postgresql:
        from core.testing import PostgresServer

        server = PostgresServer()
        problem = server.start()
        try:
            if problem:
                results["backends"]["postgresql"] = {"skipped": problem}
                print(f"postgresql: skipped ({problem})")
            else:
                results["backends"]["postgresql"] = await run(server.create_database(), members, orders, "postgresql")
        finally:
            server.stop()
    out = ROOT / "bench" / "results" / ("segments_quick.json" if args.quick else "segments.json")
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    asyncio.run(main())
