"""The storefront page executed in-process under cProfile: where a signed-in request's time goes.

Loads the storefront bench's catalog (``bench/storefront.py``) into a fresh SQLite database,
builds the app, and sends the page as a signed-in member straight to the ASGI app (no
socket, no client library: only the server's own work is measured), ``--requests`` times
after a warm-up. Prints the median time per request and the profile's top entries, and
writes them to ``bench/profiles/storefront-signed-in.txt``.

    python bench/profile_storefront.py [--requests 200] [--sort tottime] [--no-profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import storefront, storefront_pages  # noqa: E402

OUT = ROOT / "bench" / "profiles" / "storefront-signed-in.txt"


async def asgi_post(app, path: str, body: bytes, token: str | None) -> tuple[int, bytes]:  # noqa: ANN001
    """One POST through the ASGI app itself: the server's work without any client around it."""
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), (b"host", b"bench")]
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": headers,
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}
    sent = False
    status, chunks = 0, []

    async def receive() -> dict:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


async def run(url: str, args: argparse.Namespace) -> None:
    from core.app import create_app
    from core.kernel import Kernel

    await storefront.load_catalog(url)
    token = await storefront_pages.member_token(storefront.BLUEPRINT, url)
    os.environ["DOUGONG_RESPONSE_CACHE"] = "0"
    kernel = Kernel.from_file(storefront.BLUEPRINT, database_url=url)
    app = create_app([kernel], run_worker=False, seed_demo=False)
    body = json.dumps({"query": args.document or storefront.STOREFRONT, "variables": {"first": 50}}).encode()
    path = "/graphql"
    if args.anonymous:
        token = None
    if args.baseline:  # the hand-written endpoint, measured the same way
        from bench.storefront_baseline import create_baseline_app

        app, path, token = create_baseline_app(url), "/storefront", None
    await kernel.start(seed_demo=False)
    if args.compare:
        try:
            await compare(app, path, body, token, url, args)
        finally:
            await kernel.stop()
        return
    try:
        for _ in range(20):
            status, answer = await asgi_post(app, path, body, token)
            assert status == 200 and b'"errors"' not in answer, answer[:300]
        if args.gc == "freeze":
            import gc

            gc.freeze()  # everything alive after boot: never traversed by a collection again
        elif args.gc == "off":
            import gc

            gc.disable()
        times = []
        profile = cProfile.Profile() if args.profile else None
        for _ in range(args.requests):
            started = time.perf_counter()
            if profile:
                profile.enable()
            await asgi_post(app, path, body, token)
            if profile:
                profile.disable()
            times.append((time.perf_counter() - started) * 1000)
    finally:
        await kernel.stop()
    summary = f"median {statistics.median(times):.2f} ms, best {min(times):.2f} ms per signed-in page ({args.requests} requests, load {os.getloadavg()[0]:.1f})"
    print(summary)
    if profile:
        text = io.StringIO()
        pstats.Stats(profile, stream=text).sort_stats(args.sort).print_stats(45)
        report = summary + " (times under cProfile)\n" + text.getvalue()
        print(report[:6000])
        if args.write:
            OUT.parent.mkdir(parents=True, exist_ok=True)
            OUT.write_text(report, encoding="utf-8")


async def compare(app, path: str, body: bytes, token: str | None, url: str, args: argparse.Namespace) -> None:  # noqa: ANN001
    """Before/after in one run: interleaved rounds of the hand-written endpoint, the level
    executor compiling the document on every request, and the kept plan (and, with
    ``--with-graphql-core``, graphql-core's executor); the median per request of every round, then the
    median of the rounds' medians."""
    from bench.storefront_baseline import create_baseline_app
    from core.gql.fast import FastQueries

    baseline = create_baseline_app(url)
    if args.gc == "freeze":
        from core import heap

        heap.freeze_boot_heap()  # as a serving process does after boot

    cpu: dict[str, list[float]] = {}

    async def timed(target, target_path: str, target_token: str | None) -> tuple[float, float]:  # noqa: ANN001
        """The median wall time of a request, and the process's CPU time per request (both
        threads: the loop's and the driver's) — on a loaded machine the CPU time is the
        steadier of the two, the wall time includes waiting for a core."""
        for _ in range(5):
            status, answer = await asgi_post(target, target_path, body, target_token)
            assert status == 200 and b'"errors"' not in answer, answer[:300]
        times = []
        cpu_started = time.process_time()
        for _ in range(args.requests):
            started = time.perf_counter()
            await asgi_post(target, target_path, body, target_token)
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times), (time.process_time() - cpu_started) * 1000 / args.requests

    variants = {"baseline (hand-written)": None, "plan per request": (True, False), "compiled plan kept": (True, True)}
    if args.with_graphql_core:
        variants["graphql-core executor"] = (False, False)
    medians: dict[str, list[float]] = {name: [] for name in variants}
    loads = []
    for _ in range(args.rounds):
        for name, switches in variants.items():
            if switches is None:
                wall, used = await timed(baseline, "/storefront", None)
            else:
                FastQueries.enabled, FastQueries.compiled = switches
                wall, used = await timed(app, path, token)
            medians[name].append(wall)
            cpu.setdefault(name, []).append(used)
        loads.append(os.getloadavg()[0])
    FastQueries.enabled, FastQueries.compiled = True, True
    base = statistics.median(medians["baseline (hand-written)"])
    base_cpu = statistics.median(cpu["baseline (hand-written)"])
    print(f"{args.rounds} interleaved rounds of {args.requests} requests, load average {min(loads):.1f}-{max(loads):.1f}")
    print(f"{'variant':<26} {'wall ms':>8} {'x base':>7} {'CPU ms':>7} {'x base':>7}  wall ms of each round")
    for name, values in medians.items():
        middle, used = statistics.median(values), statistics.median(cpu[name])
        print(f"{name:<26} {middle:>8.2f} {base / middle:>7.2f} {used:>7.2f} {base_cpu / used:>7.2f}  " + " / ".join(f"{v:.1f}" for v in values))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--no-profile", dest="profile", action="store_false")
    parser.add_argument("--document", help="another GraphQL document to time (e.g. '{ brand { slug } }' for the fixed cost)")
    parser.add_argument("--anonymous", action="store_true", help="without a token (the cache is off either way)")
    parser.add_argument("--gc", choices=["default", "freeze", "off"], default="default", help="what the garbage collector does while timing")
    parser.add_argument("--baseline", action="store_true", help="time bench/storefront_baseline.py instead")
    parser.add_argument("--compare", action="store_true", help="interleave the hand-written endpoint, the level executor and the compiled plan")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of --compare")
    parser.add_argument("--with-graphql-core", action="store_true", help="--compare graphql-core's executor too")
    parser.add_argument("--write", action="store_true", help=f"keep the profile in {OUT.relative_to(ROOT)}")
    parser.add_argument("--postgresql", action="store_true", help="on a throwaway PostgreSQL server instead of SQLite")
    args = parser.parse_args()
    if args.postgresql:
        from core.testing import PostgresServer

        server = PostgresServer()
        if problem := server.start():
            raise SystemExit(f"PostgreSQL could not start: {problem}")
        try:
            asyncio.run(run(server.create_database(), args))
        finally:
            server.stop()
        return
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(run(f"sqlite+aiosqlite:///{tmp}/profile.db", args))


if __name__ == "__main__":
    main()
