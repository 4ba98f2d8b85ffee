"""A storefront page of 8 blocks (50 products in grids) over real HTTP, against the storefront
baseline in the same run.

Loads the 50×3 bench catalog (``../shared/bench-data/catalog-50x3.json``, as
``bench/storefront.py`` does) into a database of the demo blueprint's components, with the
demo's pages replaced by one page ``bench`` of 8 blocks: a search bar, a banner, three product
grids (the 13 teas, a list of 17, the first 20: 50 products), group-buy offers, the live room
and the nearest stores (the last two shown even when empty, so their statements run). Then,
one uvicorn worker in a subprocess at a time, driven by ``wrk`` (or httpx):

- baseline: ``bench/storefront_baseline.py``, the hand-written listing of 50 products;
- the page, anonymous, with the response cache (the default) and without;
- the page signed in as a member (never cached: a member's page is their own).

Prints req/s, p50, p99 and baseline/it, and writes ``bench/results/storefront_pages.json``.

    python bench/storefront_pages.py [--seconds 6] [--connections 10] [--no-postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import storefront  # noqa: E402
from bench._serve import subprocess_server  # noqa: E402

RESULT = ROOT / "bench" / "results" / "storefront_pages.json"
PAGE = """\
pages:
  - slug: bench
    title: Bench
    blocks:
      - {type: catalog.search_bar}
      - {type: catalog.banner, settings: {image: /banner.jpg, link: /sale}}
      - {type: catalog.product_grid, settings: {category_id: 1, limit: 20}}
      - {type: catalog.product_grid, settings: {product_ids: [31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47]}}
      - {type: group_buy.offers}
      - {type: live_room.on_air, show_empty: true}
      - {type: catalog.product_grid, settings: {limit: 20, columns: 3}}
      - {type: store_pickup.nearest, show_empty: true}
"""
QUERY = (ROOT / "bench" / "storefront_page.graphql").read_text(encoding="utf-8").replace('slug: "home"', 'slug: "bench"')


def blueprint(folder: Path) -> Path:
    """The demo blueprint with its pages (the last top-level key) replaced by the bench page."""
    text = storefront.BLUEPRINT.read_text(encoding="utf-8")
    cut = text.index("\npages:")
    path = folder / "pages-bench.yaml"
    path.write_text(text[: cut + 1] + PAGE, encoding="utf-8")
    return path


def serve(path: str, url: str, port: int) -> None:
    import uvicorn

    from core import heap
    from core.app import create_app
    from core.kernel import Kernel

    app = create_app([Kernel.from_file(Path(path), database_url=url)], seed_demo=False, freeze_heap=heap.wanted())
    uvicorn.run(app, host="127.0.0.1", port=port, workers=1, log_level="warning", access_log=False)


async def member_token(path: Path, url: str) -> str:
    from core.auth import Actor
    from core.kernel import Kernel

    kernel = Kernel.from_file(path, database_url=url)
    await kernel.start(seed_demo=False)
    try:
        async with kernel.transaction() as tx:
            member = await kernel.service("members").create_member(tx, phone="13800000099")
        return kernel.issue_token(Actor("member", member))
    finally:
        await kernel.stop()


def _post(target: str, body: dict, token: str | None = None) -> dict:
    import httpx

    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(target, json=body, headers=headers, timeout=30)
    response.raise_for_status()
    return response.json()


def run_database(name: str, url: str, args: argparse.Namespace, folder: Path) -> dict:
    path = blueprint(folder)
    loaded = asyncio.run(storefront.load_catalog(url))
    token = asyncio.run(member_token(path, url))
    out: dict = {"loaded": loaded, "rows": {}}
    listing = json.dumps({"variables": {"first": 50}}).encode()
    with storefront.server("baseline", url) as base:
        storefront.load(f"{base}/storefront", listing, 1, args.connections)  # warm-up
        baseline = storefront.load(f"{base}/storefront", listing, args.seconds, args.connections)
    out["rows"]["baseline (hand-written listing of 50)"] = {**baseline, "ratio": 1.0}
    print(f"  {name}: baseline {baseline['requests_per_s']:.0f} req/s", flush=True)
    body = {"query": QUERY}
    rows = [("page, anonymous, response cache", {}, None), ("page, anonymous, no cache", {"DOUGONG_RESPONSE_CACHE": "0"}, None),
            ("page, signed-in member", {}, token)]
    for row, env, who in rows:
        with subprocess_server(__file__, ["--serve", str(path), url], "/healthz", env) as dg:
            got = _post(f"{dg}/graphql", body, who)
            if got.get("errors"):
                raise RuntimeError(f"{row}: {got['errors']}")
            blocks = got["data"]["storefrontPage"]["blocks"]
            products = sum(len(b.get("products", ())) for b in blocks)
            if len(blocks) != 8 or products != 50:
                raise RuntimeError(f"{row}: {len(blocks)} blocks, {products} products (expected 8 and 50)")
            encoded = json.dumps(body).encode()
            storefront.load(f"{dg}/graphql", encoded, 1, args.connections, who)  # warm-up
            measured = storefront.load(f"{dg}/graphql", encoded, args.seconds, args.connections, who)
        measured["ratio"] = baseline["requests_per_s"] / measured["requests_per_s"]
        out["rows"][row] = measured
        print(f"  {name}: {row} {measured['requests_per_s']:.0f} req/s", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=6, help="measured seconds per server")
    parser.add_argument("--connections", type=int, default=10, help="concurrent connections")
    parser.add_argument("--no-postgresql", action="store_true")
    parser.add_argument("--json", type=Path, default=RESULT)
    parser.add_argument("--serve", nargs=2, metavar=("BLUEPRINT", "URL"), help=argparse.SUPPRESS)  # the server's subprocess
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(*args.serve, args.port)
        return
    results: dict = {"machine": storefront.machine(), "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                     "seconds": args.seconds, "connections": args.connections, "page": PAGE, "query": QUERY, "databases": {}}
    with tempfile.TemporaryDirectory() as tmp:
        results["databases"]["sqlite"] = run_database("sqlite", f"sqlite+aiosqlite:///{tmp}/pages.db", args, Path(tmp))
        if not args.no_postgresql:
            from core.testing import PostgresServer

            pg = PostgresServer()
            problem = pg.start()
            try:
                results["databases"]["postgresql"] = (
                    {"skipped": problem} if problem else run_database("postgresql", pg.create_database(), args, Path(tmp)))
            finally:
                pg.stop()
    storefront.print_table(results)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
