"""The growth components' hot spots for bench/hotspots.py (a module of it, not a bench of its own).

- flash-sale session: `--buyers` members each send one `buyFlashSaleItem` for an item with
  `--units` in the session, through **real HTTP** (one uvicorn worker in a subprocess on CPU 0;
  the buyers are plain sockets from this process on CPU 1, every request written at once),
  once on the database alone and once behind the Redis gate (when `redis-server` is on PATH).
  Oversold (orders beyond the units, `sold` above the quantity) must be 0.
- coupon claims: `--claimers` members claim a template with `--coupons` in total, then one
  member claims `--claim-burst` times at once against a per-member limit of 2. Exactly
  `--coupons` and 2 must be issued.

Each has the same baseline as the other hot spots (concurrent one-row conditional UPDATEs).
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as the server subprocess too

from sqlalchemy import func, select  # noqa: E402

from core.auth import Actor  # noqa: E402
from core.gql.relay import to_global_id  # noqa: E402

BUY = """mutation($item: ID!) { buyFlashSaleItem(input: {itemId: $item}) { order { id } userErrors { code } } }"""
CLAIM = """mutation($t: ID!) { claimCoupon(input: {templateId: $t}) { coupon { id } userErrors { code } } }"""
GATE_BLUEPRINT = """dougong: 1
brand: {slug: hotgate, name: Hot gate, currency: CNY, timezone: Asia/Shanghai}
storage: {redis: "%s"}
components:
  orders: {}
  flash_sale: {redis_gate: {enabled: true, reconcile_every: 1h}}
"""


async def flash_sale_session(kernel: Any, buyers: int, units: int, helpers: Any, blueprint: str, early: bool = True) -> dict[str, Any]:
    """``helpers``: bench/hotspots.py (its crowd, baseline, figures and SKU maker). The server is a
    uvicorn worker of its own on CPU 0 (``blueprint`` on the kernel's database), the crowd plain
    sockets from this process on CPU 1 (bench/_crowd_http.py). ``early=False``: the server
    without the early look and the sold-out memo (components/flash_sale/early.py), to measure
    what they give."""
    import tempfile

    from _crowd_http import fire, request_bytes
    from _serve import subprocess_server

    from components.flash_sale.models import Item, Purchase

    sku = await helpers._sku(kernel, buyers + units, "Flash session tea")
    service = kernel.service("flash_sale")
    async with kernel.transaction() as tx:
        now = tx.now()
        session = await service.create_session(tx, title="bench", starts_at=now - timedelta(minutes=1),
                                               ends_at=now + timedelta(hours=1),
                                               items=[{"sku_id": sku, "flash_price_minor": 100, "quantity": units, "per_member_limit": 1}])
        item = (await service.item_ids(tx, session))[0]
    await service.reconcile_gate()  # seeds the gate when there is one (no-op otherwise)
    item_gid = to_global_id("FlashSaleItem", item)
    requests = [request_bytes("http://127.0.0.1", "/graphql", {"query": BUY, "variables": {"item": item_gid}},
                              {"authorization": f"Bearer {kernel.issue_token(Actor('member', m))}"}) for m in range(1, buyers + 1)]
    with tempfile.TemporaryDirectory() as folder:
        path = f"{folder}/flash.yaml"
        with open(path, "w", encoding="utf-8") as out:
            out.write(blueprint)
        url = kernel.db.url.render_as_string(hide_password=False)
        env = {"DOUGONG_MAX_CONNECTIONS": str(buyers + 100), "DOUGONG_HEADER_TIMEOUT": "600", "BENCH_NO_EARLY_LOOK": "" if early else "1"}
        with subprocess_server(__file__, ["--serve-flash", "--url", url, "--blueprint", path], "/healthz", env=env) as base:
            answers, latencies, seconds = await _pinned(fire(base, requests))
    results = [body if status == 200 and isinstance(body, dict) else {} for status, body in answers]
    payloads, codes = helpers._payloads(results, "buyFlashSaleItem")
    won = sum(1 for p in payloads if p["order"])
    async with kernel.db.read() as db:
        sold = await db.scalar(select(Item.sold).where(Item.id == item))
        purchases = int(await db.scalar(select(func.count()).select_from(Purchase).where(Purchase.item_id == item)))
    baseline = await helpers._baseline(kernel, buyers, units)
    return helpers._figures(won, buyers, latencies, seconds, baseline, units=units, orders_in_db=purchases, sold=sold,
                            oversold=max(purchases - units, 0) + max(sold - units, 0), gate=service.gate is not None,
                            outcomes=codes)


async def _pinned(step: Any) -> Any:
    """Run ``step`` with this process on CPU 1 (the server has CPU 0), then as before."""
    import os

    before = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    try:
        if before is not None and len(before) > 1:
            os.sched_setaffinity(0, {1})
        return await step
    finally:
        if before is not None:
            os.sched_setaffinity(0, before)


def serve_flash(url: str, blueprint: str, port: int) -> None:
    """The flash-sale server: one uvicorn worker pinned to CPU 0 (the crowd runs on CPU 1)."""
    import os

    import uvicorn

    from core.app import create_app
    from core.http.limits import Limits
    from core.http.protocol import uvicorn_settings
    from core.kernel import Kernel

    try:
        os.sched_setaffinity(0, {0})
    except (AttributeError, OSError):
        pass
    if os.environ.get("BENCH_NO_EARLY_LOOK"):  # the server as it was: every buyer through the checkout
        import components.flash_sale.graphql as flash_graphql
        from components.flash_sale.early import SoldOutMemo

        async def no_look(*_args: Any) -> None:
            return None

        flash_graphql.refuse_if_sold_out = no_look  # type: ignore[assignment]
        SoldOutMemo.refuse = lambda *_args: None  # type: ignore[method-assign]
        from core.gql.early_refusals import EarlyRefusals

        EarlyRefusals.enabled = False  # nor the crowd's layer before GraphQL
    limits = Limits.from_environment()
    app = create_app([Kernel.from_file(blueprint, database_url=url)], run_worker=False, seed_demo=False, limits=limits)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, backlog=4096, **uvicorn_settings(limits))


async def coupon_claims(kernel: Any, app: Any, claimers: int, coupons: int, burst: int, helpers: Any) -> dict[str, Any]:
    from components.coupons.models import Coupon

    service = kernel.service("coupons")
    async with kernel.transaction() as tx:
        crowd_template = await service.create_template(tx, {"title": "bench", "kind": "fixed", "amount_minor": 100,
                                                             "valid_days": 3, "total_quantity": coupons})
        limited = await service.create_template(tx, {"title": "bench limited", "kind": "fixed", "amount_minor": 100,
                                                     "valid_days": 3, "per_member_limit": 2})
    post = helpers._clients(kernel, app)
    t = to_global_id("CouponTemplate", crowd_template)
    results, latencies, seconds = await helpers._crowd([lambda m=m: post(m)(CLAIM, {"t": t}) for m in range(1, claimers + 1)])
    burst_results, _lat, _sec = await helpers._crowd([lambda: post(1)(CLAIM, {"t": to_global_id("CouponTemplate", limited)})] * burst)
    await post.http.aclose()
    payloads, codes = helpers._payloads(results, "claimCoupon")
    burst_payloads, _codes = helpers._payloads(burst_results, "claimCoupon")
    won = sum(1 for p in payloads if p["coupon"])
    async with kernel.db.read() as db:
        issued = int(await db.scalar(select(func.count()).select_from(Coupon).where(Coupon.template_id == crowd_template)))
        limited_issued = int(await db.scalar(select(func.count()).select_from(Coupon).where(Coupon.template_id == limited)))
    baseline = await helpers._baseline(kernel, claimers, coupons)
    return helpers._figures(won, claimers, latencies, seconds, baseline, coupons=coupons, issued_in_db=issued,
                            oversold=max(issued - coupons, 0) + max(limited_issued - 2, 0),
                            burst={"claims": burst, "won": sum(1 for p in burst_payloads if p["coupon"]), "issued": limited_issued},
                            outcomes=codes)


async def gated_flash_sale(url: str, buyers: int, units: int, helpers: Any) -> dict[str, Any] | None:
    """The flash-sale session again, behind the Redis gate, on a fresh database; None without redis-server."""
    from core.kernel import Kernel
    from core.testing import RedisServer

    redis = RedisServer()
    skipped = redis.start()
    if skipped:
        print(f"*** Redis gate skipped: {skipped} ***", flush=True)
        return None
    try:
        kernel = Kernel.from_text(GATE_BLUEPRINT % redis.url(0), "gate.yaml", database_url=url)
        await kernel.start()
        try:
            await helpers._members(kernel, buyers)
            return await flash_sale_session(kernel, buyers, units, helpers, GATE_BLUEPRINT % redis.url(0))
        finally:
            await kernel.stop()
    finally:
        redis.stop()


if __name__ == "__main__":
    import argparse

    serve_args = argparse.ArgumentParser()
    serve_args.add_argument("--serve-flash", action="store_true")
    serve_args.add_argument("--url")
    serve_args.add_argument("--blueprint")
    serve_args.add_argument("--port", type=int)
    a = serve_args.parse_args()
    serve_flash(a.url, a.blueprint, a.port)
