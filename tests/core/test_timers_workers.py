"""Durable timers claimed once when two worker processes tick the same PostgreSQL database."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text

from core.testing import write_component_distribution

ROOT = Path(__file__).resolve().parents[2]

# Each run of the job leaves a row naming its timer and the process that ran it; the job
# sleeps a little so that the two workers' ticks overlap on the same due timers.
TICKED_HOOKS = """
    import asyncio, os
    from sqlalchemy import Column, Integer, MetaData, String, Table, insert
    from core.hookspecs import hookimpl

    metadata = MetaData()
    runs = Table("ticked_run", metadata, Column("id", Integer, primary_key=True),
                 Column("key", String(40), nullable=False), Column("pid", Integer, nullable=False))

    async def ring(tx, timer):
        await tx.session.execute(insert(runs).values(key=timer.key, pid=os.getpid()))
        await asyncio.sleep(0.002)

    @hookimpl
    def dougong_tables(registrar):
        registrar.table(runs)

    @hookimpl
    def dougong_jobs(registrar):
        registrar.job("ticked.ring", ring)
"""

BLUEPRINT = """\
dougong: 1
brand: {slug: ticked, name: Ticked, currency: CNY, timezone: Asia/Shanghai}
storage: {database: "%s"}
components:
  ticked: {}
"""

# A worker: boot the kernel, say it is ready, tick until the test has scheduled the timers and
# none is pending (or 60 s pass), print how many it ran.
WORKER = """
import asyncio, os, sys, time
from core.kernel import Kernel

async def main():
    kernel = Kernel.from_file(sys.argv[1])
    await kernel.start()
    ran, deadline = 0, time.monotonic() + 60
    open(sys.argv[2], "w").close()  # ready
    while time.monotonic() < deadline:
        scheduled = os.path.exists(sys.argv[3])
        ran += await kernel.run_due()
        if scheduled and await kernel.pending_timers() == 0:
            break
        await asyncio.sleep(0.01)
    await kernel.stop()
    print(ran)

asyncio.run(main())
"""

TIMERS = 120


async def test_two_worker_processes_run_each_due_timer_exactly_once(postgres_url, tmp_path, monkeypatch):
    from core.kernel import Kernel

    components = write_component_distribution(tmp_path / "site", "ticked", hooks=TICKED_HOOKS)
    monkeypatch.syspath_prepend(str(components))
    import importlib

    importlib.invalidate_caches()
    blueprint = tmp_path / "ticked.yaml"
    blueprint.write_text(BLUEPRINT % postgres_url)
    kernel = Kernel.from_file(blueprint)
    await kernel.start()
    try:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(components), str(ROOT)])}
        env.pop("DATABASE_URL", None)
        # Both workers boot first (the slow part); the timers appear once both are ticking.
        ready = [tmp_path / f"ready-{i}" for i in range(2)]
        scheduled = tmp_path / "scheduled"
        workers = [subprocess.Popen([sys.executable, "-c", WORKER, str(blueprint), str(r), str(scheduled)], env=env,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for r in ready]
        for _ in range(600):
            if all(r.exists() for r in ready) or any(w.poll() is not None for w in workers):
                break
            await asyncio.sleep(0.05)
        async with kernel.transaction() as tx:
            due = tx.now() - timedelta(seconds=1)
            for i in range(TIMERS):
                await tx.schedule("ticked.ring", f"t{i}", due)
        scheduled.touch()
        outputs = [w.communicate(timeout=120) for w in workers]
        for worker, (out, err) in zip(workers, outputs):
            assert worker.returncode == 0, err[-3000:]
        ran = [int(out.split()[-1]) for out, _ in outputs]

        async with kernel.db.read() as session:
            rows = (await session.execute(text("SELECT key, pid FROM ticked_run"))).all()
            states = dict((await session.execute(text("SELECT state, count(*) FROM kernel_timer GROUP BY state"))).all())
        keys = [key for key, _pid in rows]
        assert len(keys) == TIMERS and len(set(keys)) == TIMERS  # every timer ran, none twice
        assert sum(ran) == TIMERS  # what the workers report agrees with the rows
        assert states == {"done": TIMERS}
        assert len({pid for _key, pid in rows}) >= 1
        print(f"timers run per worker process: {ran}")
    finally:
        await kernel.stop()


# Two workers booting at the same moment on a fresh database (what `serve --workers 2` does):
# both migrate and both give the recurring points-expiry job its row.
BOOT = """
import asyncio, os, sys, time
from core.kernel import Kernel

kernel = Kernel.from_file(sys.argv[1])  # imports done: wait for the other worker
open(sys.argv[2], "w").close()
while not os.path.exists(sys.argv[3]):
    time.sleep(0.01)

async def main():
    await kernel.start()
    await kernel.stop()

asyncio.run(main())
print("booted")
"""

POINTS = """\
dougong: 1
brand: {slug: booting, name: Booting, currency: CNY, timezone: Asia/Shanghai}
storage: {database: "%s"}
components:
  points_mall: {}
"""


async def test_two_workers_booting_at_once_on_a_fresh_database_both_start(postgres_url, tmp_path):
    from core.kernel import Kernel

    blueprint = tmp_path / "booting.yaml"
    blueprint.write_text(POINTS % postgres_url)
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["PYTHONPATH"] = str(ROOT)
    ready = [tmp_path / f"ready-{i}" for i in range(2)]
    go = tmp_path / "go"
    workers = [subprocess.Popen([sys.executable, "-c", BOOT, str(blueprint), str(r), str(go)], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for r in ready]
    for _ in range(600):
        if all(r.exists() for r in ready) or any(w.poll() is not None for w in workers):
            break
        await asyncio.sleep(0.05)
    go.touch()
    outputs = [w.communicate(timeout=120) for w in workers]
    for worker, (out, err) in zip(workers, outputs):
        assert worker.returncode == 0 and "booted" in out, err[-3000:]
    kernel = Kernel.from_file(blueprint)
    try:
        async with kernel.db.read() as session:
            recurring = (await session.execute(text("SELECT job, count(*) FROM kernel_timer WHERE key = 'recurring' GROUP BY job"))).all()
        assert [count for _job, count in recurring] == [1]
    finally:
        await kernel.db.dispose()


async def test_serve_with_two_workers_seeds_a_fresh_postgresql_once_and_both_workers_start(postgres_url, tmp_path):
    """``dougong serve demo.yaml --workers 2 --seed-demo`` on an empty database: both workers
    find no demo data at the same moment; the seed runs once (under a database lock), the
    other worker waits and skips it, and both serve. It crashed on a duplicate key before."""
    import httpx

    from core.kernel import Kernel
    from core.testing import serve_process

    log = tmp_path / "serve.log"
    demo = ROOT / "blueprints" / "demo.yaml"
    async with serve_process(demo, env={"DATABASE_URL": postgres_url}, args=("--workers", "2", "--seed-demo"), log=log,
                             timeout=180) as base:
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            for _ in range(600):  # /healthz answers once one worker is up; wait for the second
                if log.read_text().count("Application startup complete") >= 2 or "Traceback" in log.read_text():
                    break
                await asyncio.sleep(0.1)
            rooms = (await http.post("/graphql", json={"query": "{ liveRooms { nodes { id } } }"})).json()
    text_ = log.read_text()
    assert text_.count("Application startup complete") == 2 and "Traceback" not in text_, text_[-3000:]
    assert rooms["data"]["liveRooms"]["nodes"]
    kernel = Kernel.from_file(demo, database_url=postgres_url)
    try:
        async with kernel.db.read() as session:
            counts = {table: await session.scalar(text(f"SELECT count(*) FROM {table}"))
                      for table in ("members_staff", "members_member", "catalog_product", "kernel_meta")}
    finally:
        await kernel.db.dispose()
    assert counts["members_staff"] == 5 and counts["members_member"] == 5  # the demo people, once
    assert counts["kernel_meta"] == 2  # demo_seeded and the generated token secret, one each
