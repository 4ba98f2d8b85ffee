"""Database and Redis servers the tests start themselves (part of dougong's pytest plugin,
re-exported by :mod:`core.testing`): PostgreSQL 15 through ``initdb``/``pg_ctl`` (as the
``postgres`` user when running as root), a throwaway ``redis-server``, and the fixtures over
them. A server that cannot start skips its tests loudly, or fails them under
``DOUGONG_REQUIRE_SERVERS=1`` (CI)."""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest

from core import testing_templates


def _require_servers() -> bool:
    return os.environ.get("DOUGONG_REQUIRE_SERVERS") == "1"


def _skip_or_fail(reason: str) -> None:
    if _require_servers():
        pytest.fail(f"{reason} (DOUGONG_REQUIRE_SERVERS=1, so this is a failure, not a skip)")
    print(f"\n*** SKIPPING: {reason} ***")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    def __init__(self) -> None:
        self.port = _free_port()
        self.root = Path(tempfile.mkdtemp(prefix="dougong-pg-"))
        self.data = self.root / "data"
        self.as_postgres = os.geteuid() == 0
        self.templates = testing_templates.PostgresTemplates(self)

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        command = list(args)
        if self.as_postgres:
            command = ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(_quote(a) for a in args)]
        return subprocess.run(command, capture_output=True, text=True, timeout=120)

    def start(self) -> str:
        initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
        if not initdb or not pg_ctl:
            return "initdb/pg_ctl are not on PATH"
        if self.as_postgres:
            try:
                shutil.chown(self.root, "postgres")
            except (LookupError, PermissionError) as exc:
                return f"running as root and cannot hand the data folder to user 'postgres': {exc}"
        done = self._run(initdb, "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        if done.returncode:
            return f"initdb failed: {done.stderr.strip()[-500:]}"
        return self.resume()

    def resume(self) -> str:
        """Start the (already initialised) cluster; "" or why it failed. The reliability tests
        stop and resume their own server to play a database outage."""
        pg_ctl = shutil.which("pg_ctl") or "pg_ctl"
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=400"
        )
        done = self._run(pg_ctl, "-D", str(self.data), "-l", str(self.root / "log"), "-o", options, "-w", "-t", "60", "start")
        if done.returncode:
            return f"pg_ctl start failed: {done.stderr.strip()[-500:]} {done.stdout.strip()[-300:]}"
        return ""

    def pause(self, mode: str = "fast") -> None:
        """Stop the server but keep its data, for :meth:`resume`."""
        done = self._run(shutil.which("pg_ctl") or "pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")
        if done.returncode:
            raise RuntimeError(f"pg_ctl stop failed: {done.stderr.strip()[-500:]}")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str | None = None, template: str | None = None) -> str:
        """Create a database (a fresh name unless given), optionally as a copy of ``template``."""
        name = name or self.new_database_name()
        statement = f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else "")
        done = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-c", statement],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if done.returncode:
            raise RuntimeError(f"CREATE DATABASE failed: {done.stderr}")
        return self.url(name)

    @staticmethod
    def new_database_name() -> str:
        return "t_" + uuid.uuid4().hex[:12]

    def stop(self) -> None:
        if shutil.which("pg_ctl") and self.data.exists():
            self._run(shutil.which("pg_ctl") or "pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


def _quote(arg: str) -> str:
    return "'" + arg.replace("'", "'\"'\"'") + "'"


@contextlib.contextmanager
def running(server: Any, what: str) -> Iterator[Any]:
    """Start a test server (``start()`` returns a problem or ""), skip or fail loudly if it
    cannot start, and stop it afterwards."""
    problem = server.start()
    if problem:
        server.stop()
        _skip_or_fail(f"{what} could not start: {problem}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    with running(PostgresServer(), "PostgreSQL") as server:
        yield server


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    return postgres_server.create_database()


@pytest.fixture
def database(request: pytest.FixtureRequest) -> str:
    backend = getattr(request, "param", "sqlite")
    if backend == "postgresql":
        request.getfixturevalue("postgres_server")
    return backend


# -- Redis, started by the tests themselves --------------------------------------------------------


class RedisServer:
    """A throwaway ``redis-server``: its own port and folder, nothing written to disk."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.root = Path(tempfile.mkdtemp(prefix="dougong-redis-"))
        self.process: subprocess.Popen | None = None
        self._databases = itertools.count(1)

    def start(self, timeout: float = 10.0) -> str:
        binary = shutil.which("redis-server")
        if not binary:
            return "redis-server is not on PATH (apt-get install redis-server)"
        try:
            import redis  # noqa: F401
        except ImportError:
            return "the redis Python package is not installed"
        self.root.mkdir(parents=True, exist_ok=True)  # start() again after kill(): same port, same folder
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.root),
                "--databases",
                "64",
                "--protected-mode",
                "no",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = (self.process.stdout.read() if self.process.stdout else "")[-500:]
                return f"redis-server exited with {self.process.returncode}: {output.strip()}"
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return ""
            except OSError:
                pass
            time.sleep(0.05)
        return f"redis-server did not answer PING on port {self.port} within {timeout:.0f}s"

    def url(self, database: int | None = None) -> str:
        # Pub/sub channels are global to a server, not per database; tests that publish use
        # distinct brand slugs (the channel prefix) rather than rely on the number.
        return f"redis://127.0.0.1:{self.port}/{next(self._databases) % 64 if database is None else database}"

    # The chaos tests play Redis failing: killed (start() brings it back, empty, on its port),
    # or frozen (pause/resume: SIGSTOP/SIGCONT, connections stay open and go unanswered).
    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        if self.process is not None and self.process.stdout:
            self.process.stdout.close()

    def pause(self) -> None:
        import signal

        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        import signal

        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.resume()  # a paused server would not act on SIGTERM
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None and self.process.stdout:
            self.process.stdout.close()
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    with running(RedisServer(), "Redis") as server:
        yield server


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    return redis_server.url()
