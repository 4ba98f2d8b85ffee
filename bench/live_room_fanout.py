"""Live room fan-out: 1,000 websocket subscribers on one room, comments sent at a steady rate.

Servers, each a separate process, measured by the same client process in the same run, in
interleaved rounds (baseline, the variants, baseline, …; medians reported):

- **baseline**: a hand-written FastAPI websocket endpoint (``bench/fanout_baseline_app.py``)
  that serialises each comment once and writes it to every socket — no GraphQL, no database;
- **unshared**: ``dougong serve`` with sharing switched off (``DOUGONG_WS_SHARED_FANOUT=0``):
  every subscriber's ``liveRoomEvents`` is executed and encoded by strawberry for each message
  (what dougong did before ``core.gql.fanout``);
- **shared**: ``dougong serve``, one worker: subscribers with the same document and variables
  share one execution and one encoded payload per message;
- **redis**: the same with ``REDIS_URL``, so every message goes through Redis pub/sub and back;
- **redis2**: two workers (``--workers 2``) and Redis: the sockets split between two processes.

Each comment is a ``sendLiveRoomComment`` mutation (a write transaction) carrying its send
time; every subscriber records when it arrived. Reported: delivery latency p50/p99 (send →
arrival at the subscriber), deliveries per second while the comments were sent, and how many of
the expected deliveries arrived, with the load average after each run. Servers run on CPU 0,
this client on CPU 1 (``taskset``), when there are two.

    python bench/live_room_fanout.py [--subscribers 1000] [--rates 2,5] [--seconds 10] [--rounds 1]
                                     [--variants baseline,unshared,shared,redis,redis2]

``FANOUT_PROFILE=/tmp/fanout`` records each dougong server with py-spy (collapsed stacks).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import websockets  # noqa: E402

from core.auth import Actor  # noqa: E402
from core.gql.relay import to_global_id  # noqa: E402
from core.kernel import Kernel  # noqa: E402
from core.testing import RedisServer, _free_port  # noqa: E402

# The client's sockets offer permessage-deflate only with --deflate: a mini-program's
# wx.connectSocket does not by default, and inflating 5,000 frames a second costs this
# one-process client more than the servers it measures (set by main()).
COMPRESSION: str | None = None
SENDERS = 60  # members taking turns to comment, so the per-member rate limit never refuses one
BLUEPRINT = """\
dougong: 1
brand: {slug: fanout, name: Fan-out bench, currency: CNY, timezone: Asia/Shanghai}
storage: {database: "sqlite:///%s"}
components:
  live_room: {comment_interval: 1s, heartbeat_timeout: 10m}
"""
SUBSCRIPTION = "subscription($room: ID!) { liveRoomEvents(roomId: $room) { kind commentCount comment { text } } }"
COMMENT = """mutation($room: ID!, $text: String!) { sendLiveRoomComment(input: {roomId: $room, text: $text}) { userErrors { code } } }"""


async def seed(path: Path) -> tuple[str, list[str], str]:
    kernel = Kernel.from_file(path, redis_url="")
    await kernel.start()
    async with kernel.transaction() as tx:
        members = kernel.service("members")
        ids = [await members.create_member(tx, phone=f"1550000{i:04d}", nickname=f"fan {i}") for i in range(SENDERS)]
        host = await members.create_staff(tx, name="Host", roles=("live_host",))
        actor = Actor("staff", host, frozenset({"live_host"}))
        now = kernel.clock.now()
        service = kernel.service("live_room")
        room = await service.create_room(tx, actor, title="Fan-out", host_staff_id=host, scheduled_start_at=now,
                                         scheduled_end_at=now + timedelta(hours=6))
        await service.start(tx, actor, room)
        for member_id in ids:
            await service.join(tx, room, member_id)
    tokens = [kernel.issue_token(Actor("member", i), ttl=timedelta(hours=6)) for i in ids]
    viewer = kernel.issue_token(Actor("member", ids[0]), ttl=timedelta(hours=6))
    await kernel.stop()
    return to_global_id("LiveRoom", room), tokens, viewer


@contextlib.contextmanager
def server(args: list[str], env: dict[str, str], log: Path):
    process = subprocess.Popen(args, env={**os.environ, **env}, stdout=log.open("w"), stderr=subprocess.STDOUT,
                               start_new_session=True, cwd=ROOT)
    try:
        yield process
    finally:
        process.send_signal(signal.SIGINT)  # uvicorn shuts down cleanly; a profiler writes its file
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


async def wait_up(url: str, process: subprocess.Popen, log: Path) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(300):
            if process.poll() is not None:
                raise RuntimeError(f"server exited:\n{log.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(url)).status_code < 500:
                    return
            await asyncio.sleep(0.2)
    raise RuntimeError(f"server did not come up:\n{log.read_text()[-2000:]}")


class Receivers:
    """N websocket subscribers; each records (sequence number → arrival latency)."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.arrivals: list[float] = []
        self.sockets: list[Any] = []
        self.tasks: list[asyncio.Task] = []

    def record(self, text: str) -> None:
        sent_ns = int(text.split()[1])
        now = time.time_ns()
        self.latencies.append((now - sent_ns) / 1e6)
        self.arrivals.append(now / 1e9)

    async def connect_graphql(self, url: str, n: int, token: str, room: str) -> None:
        async def one() -> None:
            for attempt in range(3):  # a loaded machine resets a handshake now and then: try again
                try:
                    return await connect()
                except (OSError, websockets.ConnectionClosed):
                    if attempt == 2:
                        raise
                    await asyncio.sleep(0.5)

        async def connect() -> None:
            ws = await websockets.connect(f"{url}?token={token}", subprotocols=["graphql-transport-ws"], max_queue=None, compression=COMPRESSION,
                                          open_timeout=60, ping_interval=None)
            await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION, "variables": {"room": room}}}))
            first = json.loads(await ws.recv())
            assert first["payload"]["data"]["liveRoomEvents"]["kind"] == "SNAPSHOT", first
            self.sockets.append(ws)
            self.tasks.append(asyncio.create_task(self._read_graphql(ws)))

        for start in range(0, n, 100):  # in waves: a thousand handshakes at once only measure the accept queue
            await asyncio.gather(*(one() for _ in range(min(100, n - start))))

    async def _read_graphql(self, ws: Any) -> None:
        with contextlib.suppress(Exception):
            async for raw in ws:
                message = json.loads(raw)
                if message.get("type") == "next":
                    comment = message["payload"]["data"]["liveRoomEvents"]["comment"]
                    if comment:
                        self.record(comment["text"])
                elif message.get("type") == "ping":
                    await ws.send('{"type":"pong"}')

    async def connect_plain(self, url: str, n: int) -> None:
        async def one() -> None:
            ws = await websockets.connect(url, max_queue=None, open_timeout=60, ping_interval=None, compression=COMPRESSION)
            self.sockets.append(ws)
            self.tasks.append(asyncio.create_task(self._read_plain(ws)))

        for start in range(0, n, 100):
            await asyncio.gather(*(one() for _ in range(min(100, n - start))))

    async def _read_plain(self, ws: Any) -> None:
        with contextlib.suppress(Exception):
            async for raw in ws:
                self.record(json.loads(raw)["comment"]["text"])

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)


async def send_steadily(send: Any, rate: float, seconds: float) -> tuple[int, float, float]:
    """Send ``rate`` comments a second for ``seconds``; returns (sent, first send, last send)."""
    interval = 1 / rate
    total = int(rate * seconds)
    started = time.monotonic()
    first = time.time()
    sent = 0
    for seq in range(total):
        due = started + seq * interval
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        await send(seq, f"{seq} {time.time_ns()}")
        sent += 1
    return sent, first, time.time()


async def measure(receivers: Receivers, n: int, send: Any, rate: float, seconds: float, server_pid: int) -> dict[str, Any]:
    cpu_before = cpu_seconds(server_pid)
    sent, first, last = await send_steadily(send, rate, seconds)
    expected = sent * n
    deadline = time.monotonic() + 30
    while len(receivers.latencies) < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    cpu = cpu_seconds(server_pid) - cpu_before
    latencies = sorted(receivers.latencies)
    done = max(receivers.arrivals) if receivers.arrivals else last
    return {
        "comments_sent": sent, "deliveries_expected": expected, "deliveries": len(latencies),
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 1) if latencies else None,
        "max_ms": round(latencies[-1], 1) if latencies else None,
        "deliveries_per_s": round(len(latencies) / max(done - first, 1e-9)),
        # Server CPU (every process of it) per 1,000 deliveries: what the load average cannot blur.
        "server_cpu_ms_per_1000": round(cpu * 1e6 / max(len(latencies), 1), 1),
    }


async def run_baseline(n: int, rate: float, seconds: float, workdir: Path) -> dict[str, Any]:
    port = _free_port()
    log = workdir / "baseline.log"
    args = [*PIN_SERVER, sys.executable, "-m", "uvicorn", "bench.fanout_baseline_app:app", "--port", str(port), "--log-level", "warning"]
    with server(args, {}, log) as process:
        await wait_up(f"http://127.0.0.1:{port}/healthz", process, log)
        receivers = Receivers()
        await receivers.connect_plain(f"ws://127.0.0.1:{port}/ws", n)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            async def send(_seq: int, text: str) -> None:
                (await http.post("/send", json={"text": text})).raise_for_status()

            result = await measure(receivers, n, send, rate, seconds, process.pid)
        await receivers.close()
    return result


async def run_dougong(n: int, rate: float, seconds: float, workdir: Path, label: str, *, redis_url: str | None = None,
                      workers: int = 1, shared: bool = True) -> dict[str, Any]:
    blueprint = workdir / f"{label}.yaml"
    database = workdir / f"{label}.sqlite"
    database.unlink(missing_ok=True)
    blueprint.write_text(BLUEPRINT % database)
    room, tokens, viewer = await seed(blueprint)
    port = _free_port()
    log = workdir / f"{label}.log"
    args = [*PIN_SERVER, sys.executable, "-m", "core.cli", "serve", str(blueprint), "--port", str(port), "--no-seed-demo",
            "--workers", str(workers)]
    if os.environ.get("FANOUT_PROFILE"):  # a flame graph of the server: FANOUT_PROFILE=/tmp/fanout
        args = ["py-spy", "record", "--format", "raw", "--subprocesses", "-o", f"{os.environ['FANOUT_PROFILE']}-{label}.txt", "--", *args]
    env = {"REDIS_URL": redis_url or "", "DOUGONG_WS_SHARED_FANOUT": "1" if shared else "0"}
    with server(args, env, log) as process:
        await wait_up(f"http://127.0.0.1:{port}/healthz", process, log)
        receivers = Receivers()
        await receivers.connect_graphql(f"ws://127.0.0.1:{port}/graphql", n, viewer, room)
        refused: list[Any] = []
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            async def send(seq: int, text: str) -> None:
                token = tokens[seq % len(tokens)]
                body = (await http.post("/graphql", json={"query": COMMENT, "variables": {"room": room, "text": text}},
                                        headers={"authorization": f"Bearer {token}"})).json()
                errors = body.get("errors") or body["data"]["sendLiveRoomComment"]["userErrors"]
                if errors:
                    refused.append(errors)

            result = await measure(receivers, n, send, rate, seconds, process.pid)
        await receivers.close()
    if refused:
        result["refused"] = refused[:3]
    return result


# Each server on CPU 0, this client on CPU 1 (when the machine has two), so that the servers
# compete with the same neighbours and the client never starves them.
PIN_SERVER = ["taskset", "-c", "0"] if shutil.which("taskset") and (os.cpu_count() or 1) > 1 else []
VARIANTS = {
    "baseline": "hand-written broadcaster",
    "unshared": "dougong, every subscriber executed alone (DOUGONG_WS_SHARED_FANOUT=0)",
    "shared": "dougong, shared fan-out",
    "redis": "dougong + Redis, one worker",
    "redis2": "dougong + Redis, two workers",
}


def cpu_seconds(root: int) -> float:
    """User + system CPU seconds of ``root`` and its descendants (the uvicorn workers), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    tree, total, frontier = {root}, 0.0, [root]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, _) in stats.items():
            if ppid == parent and pid not in tree:
                tree.add(pid)
                frontier.append(pid)
    for pid in tree:
        total += stats.get(pid, (0, 0.0))[1]
    return total


def machine() -> dict[str, Any]:
    cpu = ""
    with contextlib.suppress(OSError):
        cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), "")
    return {"cpus": os.cpu_count(), "cpu": cpu, "python": platform.python_version()}


async def run_variant(variant: str, n: int, rate: float, seconds: float, workdir: Path, redis_url: str | None) -> dict[str, Any]:
    if variant == "baseline":
        return await run_baseline(n, rate, seconds, workdir)
    if variant in ("redis", "redis2") and redis_url is None:
        return {"skipped": "no redis-server"}
    workers = 2 if variant == "redis2" else 1
    url = redis_url if variant.startswith("redis") else None
    return await run_dougong(n, rate, seconds, workdir, variant, redis_url=url, workers=workers, shared=variant != "unshared")


def median_row(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of each figure over the rounds (the rounds themselves are kept beside it)."""
    rows = [r for r in rows if "skipped" not in r]
    if not rows:
        return {"skipped": "no redis-server"}
    out: dict[str, Any] = {"rounds": rows}
    for key in ("deliveries", "deliveries_expected", "p50_ms", "p99_ms", "max_ms", "deliveries_per_s", "server_cpu_ms_per_1000"):
        values = [r[key] for r in rows if r.get(key) is not None]
        out[key] = round(statistics.median(values), 1) if values else None
    return out


async def run(args: argparse.Namespace) -> dict[str, Any]:
    rates = [float(r) for r in args.rates.split(",")]
    variants = [v for v in args.variants.split(",") if v]
    unknown = set(variants) - set(VARIANTS)
    if unknown:
        raise SystemExit(f"unknown variants {sorted(unknown)}; choose from {sorted(VARIANTS)}")
    if PIN_SERVER:
        os.sched_setaffinity(0, {1})
    results: dict[str, Any] = {"subscribers": args.subscribers, "seconds": args.seconds, "rounds": args.rounds, "deflate": args.deflate,
                               "machine": machine(), "load_average_before": os.getloadavg(), "variants": VARIANTS, "rates": {}}
    redis = RedisServer()
    problem = redis.start() if any(v.startswith("redis") for v in variants) else "not needed"
    redis_url = None if problem else redis.url(0)
    try:
        with tempfile.TemporaryDirectory(prefix="dougong-fanout-") as tmp:
            for rate in rates:
                rounds: dict[str, list[dict[str, Any]]] = {v: [] for v in variants}
                for _ in range(args.rounds):  # interleaved: baseline, the variants, baseline, …
                    for variant in variants:
                        row = await run_variant(variant, args.subscribers, rate, args.seconds, Path(tmp), redis_url)
                        row["load_average"] = [round(x, 2) for x in os.getloadavg()]
                        rounds[variant].append(row)
                results["rates"][f"{rate:g}"] = {v: median_row(rows) for v, rows in rounds.items()}
    finally:
        if not problem:
            redis.stop()
    results["load_average_after"] = os.getloadavg()
    return results


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--rates", default="2,5", help="comments per second, comma-separated")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=1, help="interleaved rounds per rate (medians reported)")
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"comma-separated, of {', '.join(VARIANTS)}")
    parser.add_argument("--deflate", action="store_true", help="clients offer permessage-deflate (browsers do)")
    parser.add_argument("--output", default=str(ROOT / "bench" / "results" / "live_room_fanout.json"))
    args = parser.parse_args(argv)
    global COMPRESSION
    COMPRESSION = "deflate" if args.deflate else None
    results = asyncio.run(run(args))
    print(f"{args.subscribers} subscribers, {args.seconds:g} s a rate, {args.rounds} round(s) — {results['machine']['cpu']}; "
          f"load average {results['load_average_before'][0]:.2f} → {results['load_average_after'][0]:.2f}")
    print(f"{'rate':>5} {'server':<56}{'delivered':>16}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'deliv./s':>10}{'CPU ms/1k':>10}")
    for rate, rows in results["rates"].items():
        base = rows.get("baseline", {})
        for key, row in rows.items():
            if "skipped" in row:
                print(f"{rate:>5} {VARIANTS[key]:<56} skipped: {row['skipped']}")
                continue
            ratio = f" ({row['p99_ms'] / base['p99_ms']:.1f}× p99)" if key != "baseline" and base.get("p99_ms") else ""
            print(f"{rate:>5} {VARIANTS[key]:<56}{row['deliveries']:>8g}/{row['deliveries_expected']:<7g}{row['p50_ms']:>9.1f}"
                  f"{row['p99_ms']:>9.1f}{row['max_ms']:>9.1f}{row['deliveries_per_s']:>10g}{row.get('server_cpu_ms_per_1000') or 0:>10.1f}{ratio}")
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    return results


if __name__ == "__main__":
    main()
