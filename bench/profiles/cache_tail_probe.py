"""Where the cached path's tail goes when the page is written every second (issue 26).

Serves the storefront bench's database (``bench/storefront.py``'s catalog) from this process
with uvicorn, drives it with ``wrk`` (16 connections) and, in a subprocess, a ``setStock``
every second, and records inside the server: each request's time in the app, every
recomputation of the page (how long, how many statements, whether its answer was kept, how
long after a COMMIT it started), every COMMIT, the loop's lag and garbage collections.
Prints one ``SUMMARY`` JSON line (and, without ``PROBE_QUIET=1``, one line per recomputation).

    PROBE_DB=sqlite|postgresql PROBE_WRITES=1|0 PROBE_SECONDS=8 python bench/profiles/cache_tail_probe.py

``PROBE_ROOT=DIR`` runs another checkout's code (e.g. ``git archive REV | tar -x -C DIR``, with
``shared/`` beside DIR) for a before/after pair. The server-side figures are the point: on the
shared machine wrk's own p99 mostly measured the machine's load (it was 140–220 ms without
any write at load 4–7 while no request spent over 5.3 ms in the app).
"""
import asyncio
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(os.environ.get("PROBE_ROOT", Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(ROOT))
from bench import storefront as sf  # noqa: E402

SECONDS = float(os.environ.get("PROBE_SECONDS", "8"))
DB = os.environ.get("PROBE_DB", "sqlite")

WRITER = r'''
import sys, json, time, httpx
target, writer, seconds = sys.argv[1], json.loads(sys.argv[2]), float(sys.argv[3])
q = "mutation($id: ID!, $n: Int!) { setStock(input: {skuId: $id, onHand: $n}) { userErrors { code } } }"
end, n = time.monotonic() + seconds, 0
with httpx.Client(timeout=30) as c:
    while time.monotonic() + 1 < end:
        time.sleep(1)
        r = c.post(target, json={"query": q, "variables": {"id": writer["sku"], "n": writer["stock"] - n % 2}},
                   headers={"authorization": "Bearer " + writer["token"]})
        assert not r.json().get("errors"), r.text
        n += 1
'''


def main() -> None:
    pg = None
    if DB == "sqlite":
        url = f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/probe.db"
    else:
        from core.testing import PostgresServer

        pg = PostgresServer()
        if problem := pg.start():
            raise SystemExit(problem)
        url = pg.create_database()
    try:
        loaded = asyncio.run(sf.load_catalog(url))
        asyncio.run(probe(url, loaded))
    finally:
        if pg is not None:
            pg.stop()


async def probe(url: str, loaded: dict) -> None:  # noqa: C901 - one probe, read top to bottom
    import uvicorn
    from sqlalchemy import event

    from bench._serve import free_port
    from core import heap
    from core.app import DougongRouter, create_app
    from core.kernel import Kernel

    kernel = Kernel.from_file(sf.BLUEPRINT, database_url=url)
    inner = create_app([kernel], seed_demo=False, freeze_heap=heap.wanted())
    latencies: list[tuple[float, float]] = []
    recomputes: list[dict] = []
    lags: list[tuple[float, float]] = []
    commits: list[tuple[float, float]] = []
    collections: list[tuple[float, int, float]] = []
    statements: dict = {"current": None, "starts": {}}

    async def app(scope, receive, send):  # noqa: ANN001, ANN202
        started = time.perf_counter()
        try:
            await inner(scope, receive, send)
        finally:
            if scope["type"] == "http":
                latencies.append((started, (time.perf_counter() - started) * 1000))

    execute_and_keep = DougongRouter._execute_and_keep

    async def timed(self, cache, key, generation, *rest):  # noqa: ANN001, ANN202
        started, before, mine = time.perf_counter(), kernel.db.statements, []
        statements["current"] = mine
        try:
            return await execute_and_keep(self, cache, key, generation, *rest)
        finally:
            recomputes.append({"at": started, "ms": (time.perf_counter() - started) * 1000, "statements": kernel.db.statements - before,
                               "statement_ms": mine, "kept": cache.generation() == generation})

    DougongRouter._execute_and_keep = timed

    def before_statement(_conn, cursor, *_):  # noqa: ANN001, ANN002
        statements["starts"][id(cursor)] = time.perf_counter()

    def after_statement(_conn, cursor, *_):  # noqa: ANN001, ANN002
        started = statements["starts"].pop(id(cursor), None)
        if started is not None and statements["current"] is not None:
            statements["current"].append((time.perf_counter() - started) * 1000)

    event.listen(kernel.db.read_engine.sync_engine, "before_cursor_execute", before_statement)
    event.listen(kernel.db.read_engine.sync_engine, "after_cursor_execute", after_statement)
    dialect = kernel.db.write_engine.sync_engine.dialect
    do_commit = dialect.do_commit

    def timed_commit(connection) -> None:  # noqa: ANN001
        started = time.perf_counter()
        do_commit(connection)
        commits.append((started, (time.perf_counter() - started) * 1000))

    dialect.do_commit = timed_commit
    gc_started: dict = {}

    def on_gc(phase: str, info: dict) -> None:
        if phase == "start":
            gc_started["t"] = time.perf_counter()
        else:
            collections.append((gc_started["t"], info["generation"], (time.perf_counter() - gc_started["t"]) * 1000))

    gc.callbacks.append(on_gc)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)

    async def lag() -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(0.005)
            lags.append((started, (time.perf_counter() - started) * 1000 - 5))

    lagging = asyncio.create_task(lag())
    target = f"http://127.0.0.1:{port}/graphql"
    body = json.dumps({"query": sf.STOREFRONT, "variables": {"first": 50}}).encode()
    await asyncio.to_thread(sf.load, target, body, 1, 16)  # warm-up
    for kept in (latencies, recomputes, lags, commits, collections):
        kept.clear()
    writes = os.environ.get("PROBE_WRITES", "1") == "1"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, target, json.dumps(loaded["writer"]), str(SECONDS)]) if writes else None
    began = time.perf_counter()
    result = await asyncio.to_thread(sf.load, target, body, SECONDS, 16)
    if writer is not None:
        writer.wait()
    lagging.cancel()
    server.should_exit = True
    await serving

    def since_commit(r: dict) -> float:
        return min([r["at"] - c[0] - c[1] / 1000 for c in commits if c[0] <= r["at"]] or [99.0])

    done = [r for r in recomputes if r["ms"] < 5000]  # not the ones cut short by the shutdown
    app_ms = sorted(ms for _, ms in latencies)
    import core.db

    print("SUMMARY", json.dumps({
        "code": str(Path(core.db.__file__).parent.parent), "db": DB, "load": round(os.getloadavg()[0], 1),
        "wrk_rps": result["requests_per_s"], "wrk_p50": result["p50_ms"], "wrk_p99": result["p99_ms"],
        "app_p99": round(app_ms[int(len(app_ms) * 0.99)], 2), "app_p999": round(app_ms[int(len(app_ms) * 0.999)], 2),
        "app_over15": sum(ms > 15 for ms in app_ms), "requests": len(app_ms),
        "lag_over20": sum(ms > 20 for _, ms in lags), "lag_max": round(max(ms for _, ms in lags)),
        "writes": len(commits), "generations": kernel.db.generation, "recomputes": len(done),
        "discarded": sum(not r["kept"] for r in done),
        "post_write_ms": [round(r["ms"]) for r in done if since_commit(r) < 0.05],
        "other_ms": [round(r["ms"]) for r in done if since_commit(r) >= 0.05]}))
    if os.environ.get("PROBE_QUIET"):
        return
    for r in done:
        during = [(g, round(ms, 1)) for at, g, ms in collections if r["at"] <= at <= r["at"] + r["ms"] / 1000]
        print(f"t={r['at'] - began:6.2f}s recompute {r['ms']:6.1f} ms kept={r['kept']!s:5} {since_commit(r) * 1000:8.1f} ms after a COMMIT, "
              f"{r['statements']} statements ({sum(r['statement_ms']):.1f} ms, longest {max(r['statement_ms'] or [0]):.1f}), gc {during}")


if __name__ == "__main__":
    main()
