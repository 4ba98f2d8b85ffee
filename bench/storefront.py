"""Storefront listing over real HTTP: dougong's GraphQL against a hand-written endpoint.

Loads ``../shared/bench-data/catalog-50x3.json`` (beside the project) (50 products × 3 SKUs, with stock) into
a database of the demo blueprint's components, adds a group-buy offer to every fourth
product, then serves it with uvicorn (one worker, in a subprocess) and drives it from this
process with ``wrk`` (or a small httpx client if wrk is missing). Measured, one after the
other on the same database, in the same run:

- baseline: ``bench/storefront_baseline.py``, a hand-written FastAPI endpoint returning the
  same JSON (checked equal before timing) from the same tables;
- dougong variants: the storefront GraphQL query at ``/graphql`` with the response cache
  off (every request executes) and on (the default for anonymous queries), and as a
  trusted document sent by its hash.

Reports req/s, p50, p99 and the ratio to the baseline's req/s, on SQLite and PostgreSQL,
prints a table and writes ``bench/results/storefront.json``.

    python bench/storefront.py [--seconds 8] [--connections 10] [--query FILE] [--no-postgresql]
                               [--only '(defaults)' --json bench/results/storefront-cached.json]

``--query FILE`` measures another storefront document (e.g. with live_room's fields); the
baseline only knows the default document, so its equality check is skipped then.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._serve import subprocess_server  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "bench-data" / "catalog-50x3.json"
BLUEPRINT = ROOT / "blueprints" / "demo.yaml"
RESULT = ROOT / "bench" / "results" / "storefront.json"

STOREFRONT = """query Storefront($first: Int!, $after: String) {
  products(first: $first, after: $after) {
    edges {
      cursor
      node {
        id title images
        category { id name }
        groupBuyOffers { id groupPrice { amountMinor currency } groupSize endsAt }
        skus {
          id title price { amountMinor currency amount } stock
          groupBuyOffers { id groupPrice { amountMinor currency } groupSize }
        }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}"""


# -- the data --------------------------------------------------------------------------------------

async def load_catalog(url: str, data_path: Path = DATA) -> dict:
    """Create the demo blueprint's tables at ``url`` and load the 50×3 catalog into them."""
    from core.kernel import Kernel

    data = json.loads(data_path.read_text(encoding="utf-8"))
    kernel = Kernel.from_file(BLUEPRINT, database_url=url)
    await kernel.start(seed_demo=False)
    try:
        if kernel.blueprint.brand.currency != data["currency"]:
            raise SystemExit(f"bench data is in {data['currency']}, the demo brand sells in {kernel.blueprint.brand.currency}")
        catalog, inventory = kernel.service("catalog"), kernel.service("inventory")
        offers = 0
        async with kernel.transaction() as tx:
            categories: dict[str, int] = {}
            for position, name in enumerate(dict.fromkeys(p["category"] for p in data["products"])):
                categories[name] = await catalog.create_category(tx, name.title(), None, position)
            for n, product in enumerate(data["products"]):
                skus = [{"title": s["variant"], "barcode": s["sku"], "price_minor": s["price_minor"]} for s in product["skus"]]
                await catalog.create_product(tx, title=product["title"], description=product.get("description", ""),
                                             category_id=categories[product["category"]], skus=skus)
            from sqlalchemy import select

            from components.catalog.models import Sku

            by_code = {row.barcode: row for row in (await tx.session.scalars(select(Sku))).all()}
            for n, product in enumerate(data["products"]):
                for s in product["skus"]:
                    await inventory.set_stock(tx, by_code[s["sku"]].id, s["stock"])
                if kernel.has_component("group_buy") and n % 4 == 0:
                    first = by_code[product["skus"][0]["sku"]]
                    now = kernel.clock.now()
                    await kernel.service("group_buy").create_offer(
                        tx, sku_id=first.id, group_price_minor=first.price_minor * 8 // 10, group_size=3,
                        starts_at=now - timedelta(hours=1), ends_at=now + timedelta(days=30), total_limit=100)
                    offers += 1
            # a stock clerk for the "a write every second" row: the writes go through the
            # server under load, so its cache sees each commit as it would in production
            clerk = await kernel.service("members").create_staff(tx, name="Bench clerk", roles=["admin"])
            written_sku = by_code[data["products"][0]["skus"][0]["sku"]].id
        from core.auth import Actor
        from core.gql.relay import to_global_id

        return {"products": len(data["products"]), "skus": sum(len(p["skus"]) for p in data["products"]), "offers": offers,
                "writer": {"token": kernel.issue_token(Actor("staff", clerk, frozenset({"admin"}))),
                           "sku": to_global_id("Sku", written_sku), "stock": data["products"][0]["skus"][0]["stock"]}}
    finally:
        await kernel.stop()


# -- the servers (run in a subprocess: `storefront.py --serve dougong|baseline`) ---------------------

def serve(kind: str, url: str, port: int) -> None:
    import uvicorn

    if os.environ.get("BENCH_SERVER_CPU"):  # --pin: the server on one core, wrk on the other
        os.sched_setaffinity(0, {int(os.environ["BENCH_SERVER_CPU"])})
    if kind == "baseline":
        from bench.storefront_baseline import create_baseline_app

        app = create_baseline_app(url)
    elif kind == "floor":
        from bench.storefront_floor import create_floor_app

        app = create_floor_app(url)
    else:
        from core import heap
        from core.app import create_app
        from core.kernel import Kernel

        app = create_app([Kernel.from_file(BLUEPRINT, database_url=url)], seed_demo=False, freeze_heap=heap.wanted())
    uvicorn.run(app, host="127.0.0.1", port=port, workers=1, log_level="warning", access_log=False)


def server(kind: str, url: str, env: dict[str, str] | None = None):  # noqa: ANN201
    probe = "/healthz" if kind == "dougong" else "/nothing"
    return subprocess_server(__file__, ["--serve", kind, "--url", url], probe, env)


# -- load ------------------------------------------------------------------------------------------

WRK_SCRIPT = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = io.open(os.getenv("BENCH_BODY_FILE")):read("*a")
"""

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * _UNITS[unit]


def wrk_load(target: str, body: bytes, seconds: float, connections: int, token: str | None = None) -> dict:
    """``token``: sent as a bearer token with every request (a signed-in member's load)."""
    with tempfile.TemporaryDirectory() as tmp:
        script, body_file = Path(tmp) / "post.lua", Path(tmp) / "body.json"
        script.write_text(WRK_SCRIPT + (f'wrk.headers["Authorization"] = "Bearer {token}"\n' if token else ""))
        body_file.write_bytes(body)
        pin = ["taskset", "-c", os.environ["BENCH_LOAD_CPU"]] if os.environ.get("BENCH_LOAD_CPU") else []
        done = subprocess.run(
            [*pin, "wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "30s", "--latency", "-s", str(script), target],
            capture_output=True, text=True, env={**os.environ, "BENCH_BODY_FILE": str(body_file)}, timeout=seconds + 60,
        )
    out = done.stdout
    if done.returncode or "Requests/sec" not in out:
        raise RuntimeError(f"wrk failed: {done.stderr or out}")
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": _ms(re.search(r"\s50%\s+(\S+)", out).group(1)),
        "p99_ms": _ms(re.search(r"\s99%\s+(\S+)", out).group(1)),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "failed": int(bad.group(1)) if bad else 0,
        "socket_errors": sum(int(g) for g in errors.groups()) if errors else 0,
        "load": "wrk",
    }


async def _httpx_load(target: str, body: bytes, seconds: float, connections: int, token: str | None = None) -> dict:
    import httpx

    latencies: list[float] = []
    failed = 0
    stop = time.perf_counter() + seconds

    async def one(client: httpx.AsyncClient) -> None:
        nonlocal failed
        while time.perf_counter() < stop:
            started = time.perf_counter()
            headers = {"content-type": "application/json", **({"authorization": f"Bearer {token}"} if token else {})}
            response = await client.post(target, content=body, headers=headers)
            latencies.append((time.perf_counter() - started) * 1000)
            failed += response.status_code != 200

    limits = httpx.Limits(max_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        began = time.perf_counter()
        await asyncio.gather(*(one(client) for _ in range(connections)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    return {
        "requests_per_s": len(latencies) / elapsed, "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1], "requests": len(latencies), "failed": failed,
        "socket_errors": 0, "load": "httpx",
    }


def load(target: str, body: bytes, seconds: float, connections: int, token: str | None = None) -> dict:
    if shutil.which("wrk"):
        return wrk_load(target, body, seconds, connections, token)
    return asyncio.run(_httpx_load(target, body, seconds, connections, token))


# -- one database ----------------------------------------------------------------------------------

def variants(query: str, first: int) -> list[dict]:
    """What is measured against the baseline: (name, server env, request body)."""
    text_body = {"query": query, "variables": {"first": first}}
    digest = hashlib.sha256(query.encode()).hexdigest()
    hashed_body = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}, "variables": {"first": first}}
    return [
        {"name": "dougong, graphql-core executor, no cache", "env": {"DOUGONG_RESPONSE_CACHE": "0", "DOUGONG_FAST_QUERIES": "0"},
         "body": text_body},
        {"name": "dougong, level executor, no cache", "env": {"DOUGONG_RESPONSE_CACHE": "0"}, "body": text_body},
        # the same executor compiling the document on every request, as before plans were kept
        {"name": "dougong, level executor without compiled plans, no cache", "env": {"DOUGONG_RESPONSE_CACHE": "0", "DOUGONG_COMPILED_PLANS": "0"},
         "body": text_body},
        {"name": "dougong, level executor, trusted doc, no cache", "env": {"DOUGONG_RESPONSE_CACHE": "0"}, "body": hashed_body},
        # a signed-in member is never served from the cache: the executing path, as most shoppers
        {"name": "dougong, signed-in member (executes)", "env": {}, "body": text_body, "member": True},
        {"name": "dougong, signed-in member, without compiled plans", "env": {"DOUGONG_COMPILED_PLANS": "0"}, "body": text_body, "member": True},
        {"name": "dougong, signed-in member, boot heap not frozen", "env": {"DOUGONG_GC_FREEZE": "0"}, "body": text_body, "member": True},
        {"name": "dougong, signed-in member, reads through aiosqlite", "env": {"DOUGONG_SQLITE_INLINE_READS": "0"}, "body": text_body, "member": True},
        {"name": "dougong (defaults)", "env": {}, "body": text_body},
        # the cache's tail: every second a stock write makes every entry stale at once
        {"name": "dougong (defaults), a stock write every second", "env": {}, "body": text_body, "writes_per_s": 1},
        {"name": "dougong (defaults), writes, boot heap not frozen", "env": {"DOUGONG_GC_FREEZE": "0"}, "body": text_body, "writes_per_s": 1},
    ]


SET_STOCK = "mutation($id: ID!, $n: Int!) { setStock(input: {skuId: $id, onHand: $n}) { userErrors { code } } }"


@contextlib.contextmanager
def writing_every(seconds: float, target: str, writer: dict):  # noqa: ANN201
    """A thread that sets one SKU's stock through ``target`` every ``seconds`` (alternating
    its amount so every write changes the page) until the block ends; yields the write count."""
    import threading

    import httpx

    stop, written = threading.Event(), [0]

    def run() -> None:
        headers = {"authorization": f"Bearer {writer['token']}"}
        with httpx.Client(timeout=30) as client:
            while not stop.wait(seconds):
                amount = writer["stock"] - written[0] % 2
                answer = client.post(target, json={"query": SET_STOCK, "variables": {"id": writer["sku"], "n": amount}}, headers=headers)
                if answer.json().get("errors") or answer.json()["data"]["setStock"]["userErrors"]:
                    raise RuntimeError(f"the bench's stock write was refused: {answer.text}")
                written[0] += 1

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield written
    finally:
        stop.set()
        thread.join()


def _post(target: str, body: dict, token: str | None = None) -> dict:
    import httpx

    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(target, json=body, headers=headers, timeout=30)
    response.raise_for_status()
    return response.json()


def run_database(name: str, url: str, args: argparse.Namespace, query: str) -> dict:
    """Every row measured in interleaved rounds (baseline, floor, each dougong row, then
    again), each in a server of its own started for it: a row's figures are its median
    round, so a neighbour's load lands on all rows alike. Bodies are checked against the
    baseline's in the first round."""
    from bench.storefront_floor import missing
    from bench.storefront_pages import member_token

    loaded = asyncio.run(load_catalog(url))
    member = asyncio.run(member_token(BLUEPRINT, url))
    first = args.first
    out: dict = {"loaded": {k: v for k, v in loaded.items() if k != "writer"}, "rows": {}, "rounds": args.rounds}
    listing = {"variables": {"first": first}}
    rows = [{"name": BASELINE, "kind": "baseline", "env": {}, "body": listing, "path": "/storefront"}]
    if args.only:
        pass  # --only: the baseline and the dougong rows asked for, no floor
    elif (why := missing()) is None:
        rows.append({"name": "floor (raw ASGI, sync driver, orjson)", "kind": "floor", "env": {}, "body": listing, "path": "/storefront"})
    else:
        out["floor_skipped"] = why
    rows += [{**v, "kind": "dougong", "path": "/graphql"} for v in variants(query, first)
             if not args.only or any(part in v["name"] for part in args.only)]
    expected: dict | None = None
    rounds: dict[str, list[dict]] = {row["name"]: [] for row in rows}
    for round_number in range(args.rounds):
        for row in rows:
            # One server at a time: an idle dougong still runs its jobs, and on two cores
            # the idle servers of the other rows were measurably in the way.
            with server(row["kind"], url, row["env"]) as base:
                target, token = base + row["path"], (member if row.get("member") else None)
                if round_number == 0:
                    expected = _check(row, target, token, query, expected, args.query is None)
                elif "persistedQuery" in row["body"].get("extensions", {}):
                    _post(target, {**row["body"], "query": query}, token)  # a new server: register the hash again
                body = json.dumps(row["body"]).encode()
                load(target, body, 1, args.connections, token)  # warm-up
                if row.get("writes_per_s"):
                    with writing_every(1 / row["writes_per_s"], base + "/graphql", loaded["writer"]) as written:
                        measured = load(target, body, args.seconds, args.connections, token)
                    measured["writes"] = written[0]
                else:
                    measured = load(target, body, args.seconds, args.connections, token)
            measured["load_average"] = os.getloadavg()[0]
            rounds[row["name"]].append(measured)
            print(f"  {name} round {round_number + 1}: {row['name']} {measured['requests_per_s']:.0f} req/s, "
                  f"p99 {measured['p99_ms']:.1f} ms, load {measured['load_average']:.1f}", flush=True)
    baseline_rps = statistics.median(m["requests_per_s"] for m in rounds[BASELINE])
    for row in rows:
        measured = _median_round(rounds[row["name"]])
        measured["ratio"] = baseline_rps / measured["requests_per_s"] if measured["requests_per_s"] else float("inf")
        measured["it_over_baseline"] = measured["requests_per_s"] / baseline_rps
        out["rows"][row["name"]] = measured
    return out


BASELINE = "baseline (hand-written FastAPI)"


def _check(row: dict, target: str, token: str | None, query: str, expected: dict | None, compare: bool) -> dict | None:
    """The row's first answer: no errors, and (the default document) the baseline's body; the
    baseline's own answer is returned as the one expected from the rows after it."""
    got = _post(target, row["body"], token)
    if got.get("errors") and "persistedQuery" in row["body"].get("extensions", {}):
        # Not registered yet: send the text once with its hash (automatic persisted queries).
        got = _post(target, {**row["body"], "query": query})
    if got.get("errors"):
        raise RuntimeError(f"{row['name']}: {got['errors']}")
    if row["kind"] == "baseline":
        return got
    if expected is not None and (row["kind"] == "floor" or compare) and got != expected:
        raise RuntimeError(f"{row['name']} answered differently from the baseline")
    return expected


def _median_round(measured: list[dict]) -> dict:
    """The round with the median req/s, with every round's req/s and p99 beside it."""
    ordered = sorted(measured, key=lambda m: m["requests_per_s"])
    middle = dict(ordered[(len(ordered) - 1) // 2])
    middle["rounds_requests_per_s"] = [m["requests_per_s"] for m in measured]
    middle["rounds_p99_ms"] = [m["p99_ms"] for m in measured]
    return middle


def print_table(results: dict) -> None:
    print(f"\n{'database':<11} {'server':<48} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'baseline/it':>11} {'it/baseline':>11}")
    for db, r in results["databases"].items():
        if "skipped" in r:
            print(f"{db:<11} skipped: {r['skipped']}")
            continue
        for row, m in r["rows"].items():
            print(f"{db:<11} {row:<48} {m['requests_per_s']:>8.0f} {m['p50_ms']:>8.2f} {m['p99_ms']:>8.2f} {m['ratio']:>11.2f}"
                  f" {m.get('it_over_baseline', 1 / m['ratio']):>11.2f}")


def machine() -> dict:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {"platform": platform.platform(), "python": platform.python_version(), "nproc": os.cpu_count(),
            "cpu": model, "load_average_before": os.getloadavg()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=8, help="measured seconds per server")
    parser.add_argument("--connections", type=int, default=10, help="concurrent connections")
    parser.add_argument("--first", type=int, default=50, help="page size")
    parser.add_argument("--query", type=Path, help="a storefront document to measure instead of the default")
    parser.add_argument("--no-postgresql", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--json", type=Path, default=RESULT)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per row (the median is reported)")
    parser.add_argument("--pin", action="store_true", help="servers on CPU 0, wrk on CPU 1 (taskset)")
    parser.add_argument("--only", action="append", metavar="TEXT",
                        help="measure only the dougong rows whose name contains TEXT (repeatable; the baseline always, "
                             "the floor never), e.g. --only '(defaults)' for the cached rows")
    parser.add_argument("--serve", choices=["dougong", "baseline", "floor"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.url, args.port)
        return
    query = args.query.read_text(encoding="utf-8") if args.query else STOREFRONT
    if args.pin:
        os.environ.update({"BENCH_SERVER_CPU": "0", "BENCH_LOAD_CPU": "1"})
    results: dict = {"machine": machine(), "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                     "seconds": args.seconds, "connections": args.connections, "first": args.first,
                     "query": query, "databases": {}}
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_sqlite:
            results["databases"]["sqlite"] = run_database("sqlite", f"sqlite+aiosqlite:///{tmp}/storefront.db", args, query)
    if not args.no_postgresql:
        from core.testing import PostgresServer

        pg = PostgresServer()
        problem = pg.start()
        try:
            if problem:
                results["databases"]["postgresql"] = {"skipped": problem}
            else:
                results["databases"]["postgresql"] = run_database("postgresql", pg.create_database(), args, query)
        finally:
            pg.stop()
    print_table(results)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
