"""Is the page right after a write slower than any other miss? In-process, one request at a
time (no load), alternating: a miss made by clearing the cache, a miss made by a write, a hit
(issue 26; results in cache-tail-writes.txt).

    [PROBE_DB=postgresql] [N=30] python bench/profiles/cache_miss_after_write.py
"""
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(os.environ.get("PROBE_ROOT", Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(ROOT))
from bench import storefront as sf  # noqa: E402


async def main(url: str) -> None:
    import httpx
    from sqlalchemy import update

    from components.inventory.models import Stock
    from core.app import create_app
    from core.kernel import Kernel

    await sf.load_catalog(url)
    kernel = Kernel.from_file(sf.BLUEPRINT, database_url=url)
    app = create_app([kernel], seed_demo=False, run_worker=False)
    body = {"query": sf.STOREFRONT, "variables": {"first": 50}}
    cleared: list[float] = []
    written: list[float] = []
    hit: list[float] = []

    async def timed(http: httpx.AsyncClient, into: list[float]) -> None:
        started = time.perf_counter()
        response = await http.post("/graphql", json=body)
        into.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200 and "errors" not in response.json()

    async with started(kernel), httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        for _ in range(5):
            await http.post("/graphql", json=body)
        for n in range(int(os.environ.get("N", "30"))):
            kernel.response_cache.clear()
            await timed(http, cleared)
            async with kernel.transaction() as tx:
                await tx.session.execute(update(Stock).where(Stock.sku_id == 1).values(on_hand=100 + n % 2))
            await timed(http, written)
            await timed(http, hit)

    def spread(xs: list[float]) -> str:
        return f"median {statistics.median(xs):.1f} ms ({min(xs):.1f}-{max(xs):.1f})"

    print(f"{kernel.db.url.get_backend_name()}, load {os.getloadavg()[0]:.1f}: miss after cache.clear() {spread(cleared)}"
          f" | miss after a write {spread(written)} | hit {spread(hit)}")


@contextlib.asynccontextmanager
async def started(kernel):  # noqa: ANN001, ANN201
    await kernel.start(seed_demo=False)
    try:
        yield
    finally:
        await kernel.stop()


if __name__ == "__main__":
    if os.environ.get("PROBE_DB", "sqlite") == "sqlite":
        asyncio.run(main(f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/probe.db"))
    else:
        from core.testing import PostgresServer

        pg = PostgresServer()
        if problem := pg.start():
            raise SystemExit(problem)
        try:
            asyncio.run(main(pg.create_database()))
        finally:
            pg.stop()
