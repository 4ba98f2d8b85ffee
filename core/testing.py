"""dougong's pytest plugin (entry point ``pytest11``), for our tests and component authors'.

Fixtures:

``clock``
    a :class:`core.clock.MovableClock` every kernel built by the factory uses.
``kernel_factory``
    ``await kernel_factory(blueprint_yaml, database="sqlite"|"postgresql", seed_demo=False,
    installed=None)`` boots a started kernel from an inline blueprint on a fresh database
    and stops it after the test.
``graphql``
    ``graphql(kernel, actor=None)`` returns a :class:`GraphQLClient` that sends real HTTP
    requests to the kernel's app in-process (bearer token of ``actor`` if given).
``postgres_url``
    a PostgreSQL 15 server started for the test session (``initdb``/``pg_ctl``, as the
    ``postgres`` user when running as root). Skips loudly if it cannot start — unless
    ``DOUGONG_REQUIRE_SERVERS=1`` (CI), where it fails instead.
``database``
    parametrise tests over both backends with ``@pytest.mark.parametrize("database",
    ["sqlite", "postgresql"], indirect=True)`` — the fixture yields the backend name after
    making sure the server is up.
``browser``
    a headless Chromium (Selenium ``WebDriver``) from the system's packages; see
    :mod:`core.testing_browser`. Skips or fails like the servers above.
``redis_url``
    a ``redis-server`` of the test session's own (free port, temporary folder, no snapshots),
    as ``redis://127.0.0.1:<port>/<n>`` with a fresh database number per test. Skips loudly,
    or fails under ``DOUGONG_REQUIRE_SERVERS=1``, like ``postgres_url``.

Helpers for tests against a real server (``dougong serve`` or :func:`serve_app`):
:class:`GraphQLWebSocket` speaks the graphql-transport-ws protocol
(``async with GraphQLWebSocket.connect(url, token) as ws: async for data in ws.subscribe(...)``).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import shutil
import socket
import subprocess
import tempfile
import textwrap
import time
import uuid
from pathlib import Path
from typing import Any, AsyncIterator, Iterator

import httpx
import pytest

from core import testing_templates
from core.auth import Actor
from core.clock import MovableClock
from core.testing_browser import browser  # noqa: F401  (a fixture of this plugin)


def member(member_id: int) -> Actor:
    return Actor("member", member_id)


def staff(staff_id: int, *roles: str, stores: tuple[int, ...] = ()) -> Actor:
    return Actor("staff", staff_id, frozenset(roles or ("admin",)), frozenset(stores))


class GraphQLClient:
    """Sends GraphQL over HTTP to an in-process app, as a frontend would."""

    def __init__(self, app: Any, path: str, token: Any) -> None:
        # ``token`` is a string, or a callable giving a fresh one per request: tests move the
        # clock by months, and a real frontend would have refreshed its session meanwhile.
        self._token = token
        self._http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://dougong.test")
        self._path = path

    async def execute(self, query: str, variables: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
        """The whole response body: ``{"data": ..., "errors": [...]}``."""
        token = self._token() if callable(self._token) else self._token
        headers = {"authorization": f"Bearer {token}"} if token else {}
        response = await self._http.post(self._path, json={"query": query, "variables": variables or kwargs or None}, headers=headers)
        if response.status_code != 200:
            try:
                errors = response.json()["errors"]  # a refused token's body is GraphQL-shaped too
            except (ValueError, KeyError, TypeError):
                errors = [{"message": response.text}]
            return {"status": response.status_code, "errors": errors}
        return response.json()

    async def data(self, query: str, variables: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
        """``data`` of a response that must have no top-level errors."""
        body = await self.execute(query, variables, **kwargs)
        assert not body.get("errors"), f"unexpected GraphQL errors: {body.get('errors')}"
        return body["data"]

    async def mutate(self, query: str, variables: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
        """The single payload of a mutation document (the first root field's value)."""
        data = await self.data(query, variables, **kwargs)
        return next(iter(data.values()))

    async def aclose(self) -> None:
        await self._http.aclose()


# -- PostgreSQL, started by the tests themselves ---------------------------------------------------

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
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400"
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
            capture_output=True, text=True, timeout=60,
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
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.root), "--databases", "64", "--protected-mode", "no"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
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


# -- a real server and a websocket client, for subscriptions end to end ----------------------------

@contextlib.asynccontextmanager
async def serve_app(app: Any, *, host: str = "127.0.0.1", lifespan: bool = True, limits: Any = None) -> AsyncIterator[str]:
    """Run an ASGI app with uvicorn on a free port inside this event loop; yields its
    ``http://host:port`` base URL (websocket URLs: replace ``http`` with ``ws``).
    ``lifespan=False`` for an app whose kernels are already started (``kernel_factory``).
    The server enforces ``limits`` (a :class:`core.http.limits.Limits`, by default the
    environment's) as ``dougong serve`` does."""
    import uvicorn

    from core.http.limits import Limits
    from core.http.protocol import uvicorn_settings

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on" if lifespan else "off",
                                           **uvicorn_settings(limits or Limits.from_environment())))
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(400):
            if server.started or task.done():
                break
            await asyncio.sleep(0.025)
        if not server.started:
            if task.done():
                task.result()  # surface the server's own error
            raise RuntimeError(f"uvicorn did not start on port {port}")
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 15)


@contextlib.asynccontextmanager
async def serve_kernel(kernel: Any) -> AsyncIterator[str]:
    """A kernel built by ``kernel_factory`` (already started) served on a free port; yields
    its ``ws://…/graphql`` URL for :class:`GraphQLWebSocket`."""
    from core.app import create_app

    async with serve_app(create_app([kernel], run_worker=False), lifespan=False) as base:
        yield "ws" + base[len("http"):] + "/graphql"


class GraphQLSubscriptionError(Exception):
    """The server answered a subscription with an ``error`` message (or the stream had errors)."""

    def __init__(self, errors: Any) -> None:
        super().__init__(json.dumps(errors, ensure_ascii=False))
        self.errors = errors


class WebSocketClosed(Exception):
    """The server closed the websocket instead of acknowledging ``connection_init``."""

    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"closed with {code}: {reason}")
        self.code = code
        self.reason = reason


class GraphQLWebSocket:
    """A graphql-transport-ws client (the protocol strawberry and Apollo/urql speak).

    ::

        async with GraphQLWebSocket.connect("ws://127.0.0.1:8000/graphql", token) as ws:
            async for data in ws.subscribe(SUBSCRIPTION, {"lotId": lot}):
                ...                     # each ``next`` message's ``data``; ends on ``complete``

    Several subscriptions may run at once on one connection (one reader task dispatches by
    id). ``token`` goes in ``?token=`` (older browser clients); ``init={"Authorization":
    "Bearer …"}`` sends it in ``connection_init``'s payload the way graphql-ws, Apollo and urql
    do. A ``next`` message carrying ``errors`` raises :class:`GraphQLSubscriptionError`; a
    server that closes the socket instead of acknowledging raises :class:`WebSocketClosed`,
    and ``closed_code`` / ``closed_reason`` tell how a socket closed later.
    """

    def __init__(self, connection: Any) -> None:
        self._connection = connection
        self._ids = itertools.count(1)
        self._queues: dict[str, asyncio.Queue] = {}
        self._reader: asyncio.Task | None = None
        self.closed_reason: str | None = None
        self.closed_code: int | None = None

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(cls, url: str, token: str | None = None, *, init: dict[str, Any] | None = None,
                      timeout: float = 10.0) -> AsyncIterator[GraphQLWebSocket]:
        import websockets
        from urllib.parse import urlencode

        if url.startswith("http"):
            url = "ws" + url[4:]
        if token:
            url += ("&" if "?" in url else "?") + urlencode({"token": token})
        async with websockets.connect(url, subprotocols=["graphql-transport-ws"], open_timeout=timeout) as connection:
            client = cls(connection)
            await connection.send(json.dumps({"type": "connection_init", "payload": init or {}}))
            try:
                ack = json.loads(await asyncio.wait_for(connection.recv(), timeout))
            except websockets.ConnectionClosed as closed:
                raise WebSocketClosed(closed.rcvd.code if closed.rcvd else None, closed.rcvd.reason if closed.rcvd else "") from None
            if ack.get("type") != "connection_ack":
                raise GraphQLSubscriptionError(ack)
            client._reader = asyncio.create_task(client._read())
            try:
                yield client
            finally:
                client._reader.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await client._reader

    async def _read(self) -> None:
        try:
            async for raw in self._connection:
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "ping":
                    await self._connection.send(json.dumps({"type": "pong"}))
                elif kind in ("next", "error", "complete"):
                    queue = self._queues.get(message.get("id", ""))
                    if queue is not None:
                        queue.put_nowait(message)
        except Exception as exc:  # the connection closed: wake every waiting subscription
            self.closed_reason = repr(exc)
            received = getattr(exc, "rcvd", None)
            if received is not None:
                self.closed_code, self.closed_reason = received.code, received.reason
        finally:
            for queue in self._queues.values():
                queue.put_nowait({"type": "closed"})

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> AsyncIterator[dict[str, Any]]:
        """Start a subscription; iterate its ``data``. Leaving the loop early stops it on the server."""
        sid = str(next(self._ids))
        queue: asyncio.Queue = asyncio.Queue()
        self._queues[sid] = queue
        await self._connection.send(json.dumps({"id": sid, "type": "subscribe", "payload": {"query": query, "variables": variables or {}}}))
        finished = False
        try:
            while True:
                message = await queue.get()
                if message["type"] == "next":
                    payload = message.get("payload") or {}
                    if payload.get("errors"):
                        raise GraphQLSubscriptionError(payload["errors"])
                    yield payload.get("data")
                elif message["type"] == "error":
                    finished = True
                    raise GraphQLSubscriptionError(message.get("payload"))
                elif message["type"] == "complete":
                    finished = True
                    return
                else:  # closed
                    finished = True
                    raise ConnectionError(f"the websocket closed during the subscription: {self.closed_reason}")
        finally:
            self._queues.pop(sid, None)
            if not finished:
                with contextlib.suppress(Exception):
                    await self._connection.send(json.dumps({"id": sid, "type": "complete"}))


@contextlib.asynccontextmanager
async def serve_process(blueprint: str | os.PathLike, *, env: dict[str, str] | None = None, log: Path | None = None,
                        args: tuple[str, ...] = ("--no-seed-demo",), timeout: float = 60) -> AsyncIterator[str]:
    """``dougong serve BLUEPRINT`` as a separate process on a free port; yields its base URL once
    ``/healthz`` answers, and stops the process (its whole group) afterwards. ``env`` is added
    to this process's environment (``REDIS_URL``, ``DATABASE_URL``)."""
    import sys

    port = _free_port()
    log = log or Path(tempfile.mkstemp(prefix="dougong-serve-", suffix=".log")[1])
    process = subprocess.Popen(
        [sys.executable, "-m", "core.cli", "serve", str(blueprint), "--port", str(port), *args],
        env={**os.environ, **(env or {})}, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient() as http:
            while True:
                if process.poll() is not None:
                    raise AssertionError(f"dougong serve exited with {process.returncode}:\n{log.read_text()[-2000:]}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(base + "/healthz")).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise AssertionError(f"dougong serve did not become healthy:\n{log.read_text()[-2000:]}")
                await asyncio.sleep(0.2)
        yield base
    finally:
        stop_process_group(process)


def stop_process_group(process: subprocess.Popen) -> None:
    """Stop a server started with ``start_new_session=True`` and everything it started."""
    import signal

    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


# -- components built from inline files (tox 4 style) ---------------------------------------------

@pytest.fixture
def make_component(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``make_component("widget", hooks=SOURCE, depends={"catalog": ""}, files={"models.py": SRC})``
    writes a component package under ``tmp_path`` (a unique module name, so tests never share
    module state) and returns its :class:`registry.discovery.InstalledComponent`. Pass a dict
    of those as ``installed=`` to ``kernel_factory``."""
    from registry.discovery import InstalledComponent
    from registry.manifest import EMPTY_SETTINGS_SCHEMA, Manifest

    root = tmp_path / "inline_components"
    root.mkdir(exist_ok=True)
    monkeypatch.syspath_prepend(str(root))

    def make(
        name: str,
        *,
        hooks: str = "",
        version: str = "1.0.0",
        depends: dict[str, str] | None = None,
        settings_schema: dict[str, Any] | None = None,
        kernel: str = ">=0.1",
        files: dict[str, str] | None = None,
        summary: str = "an inline test component",
    ) -> Any:
        package = f"inline_{name}_{uuid.uuid4().hex[:8]}"
        folder = root / package
        folder.mkdir()
        (folder / "__init__.py").write_text("")
        (folder / "hooks.py").write_text(textwrap.dedent(hooks))
        for filename, source in (files or {}).items():
            (folder / filename).write_text(textwrap.dedent(source))
        import importlib

        importlib.invalidate_caches()
        manifest = Manifest(
            name=name, version=version, summary=summary, hooks=f"{package}.hooks", kernel=kernel,
            depends=dict(depends or {}), settings_schema=settings_schema or dict(EMPTY_SETTINGS_SCHEMA),
        )
        return InstalledComponent(manifest=manifest, module=package, distribution=None)

    return make


def write_component_distribution(root: Path, name: str, *, hooks: str, version: str = "1.0.0",
                                 depends: dict[str, str] | None = None) -> Path:
    """Write component ``name`` under ``root`` as an installed distribution would look: a
    package plus a ``*.dist-info`` declaring the ``dougong.components`` entry point. Put
    ``root`` on ``PYTHONPATH`` and other processes (``dougong serve``, workers) discover it
    exactly like a pip-installed component. Returns ``root``."""
    package = f"dougong_test_{name}"
    folder = root / package
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "__init__.py").write_text(textwrap.dedent(f"""\
        from registry.manifest import Manifest
        manifest = Manifest(name={name!r}, version={version!r}, summary="a component written by a test",
                            hooks="{package}.hooks", kernel=">=0.1", depends={dict(depends or {})!r},
                            settings_schema={{"type": "object", "additionalProperties": False, "properties": {{}}}})
    """))
    (folder / "hooks.py").write_text(textwrap.dedent(hooks))
    info = root / f"{package}-{version}.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {package}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[dougong.components]\n{name} = {package}\n")
    return root


# -- kernels ---------------------------------------------------------------------------------------

@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> testing_templates.SqliteTemplates:
    return testing_templates.SqliteTemplates(tmp_path_factory.mktemp("migrated-templates"))


@pytest.fixture
async def kernel_factory(
    tmp_path: Path, clock: MovableClock, request: pytest.FixtureRequest, sqlite_templates: testing_templates.SqliteTemplates
) -> AsyncIterator[Any]:
    from core.kernel import Kernel

    kernels: list[Kernel] = []

    async def build(
        blueprint_yaml: str,
        *,
        database: str = "sqlite",
        seed_demo: bool = False,
        installed: Any = None,
        start: bool = True,
    ) -> Kernel:
        path = tmp_path / f"blueprint-{len(kernels)}.yaml"
        text = textwrap.dedent(blueprint_yaml)
        path.write_text(text, encoding="utf-8")
        # Only kernels that start: one built with start=False may be there to watch a migration.
        templated = start and database in ("sqlite", "postgresql") and testing_templates.enabled()
        if database == "postgresql":
            server = request.getfixturevalue("postgres_server")
            pg_name = server.new_database_name()
            url = server.url(pg_name) if templated else server.create_database(pg_name)
        elif database == "sqlite":
            url = f"sqlite+aiosqlite:///{tmp_path / f'db-{len(kernels)}.sqlite'}"
        else:
            url = database  # an explicit URL: reuse a database (restart tests)
        if installed is not None:
            # Inline components join the installed ones rather than replacing them.
            from registry.discovery import discover

            if isinstance(installed, (list, tuple)):
                installed = {c.manifest.name: c for c in installed}

            installed = {**discover()[0], **installed}
        kernel = Kernel.from_file(path, installed=installed, clock=clock, database_url=url)
        kernels.append(kernel)
        if templated and database == "sqlite":
            await sqlite_templates.prepare(kernel, tmp_path / f"db-{len(kernels) - 1}.sqlite")
        elif templated:
            await server.templates.prepare(kernel, pg_name)
        if start:
            await kernel.start(seed_demo=seed_demo)
        return kernel

    yield build
    for kernel in kernels:
        await kernel.stop()


@pytest.fixture
async def graphql() -> AsyncIterator[Any]:
    from core.app import create_app

    clients: list[GraphQLClient] = []
    apps: dict[int, Any] = {}

    def make(kernel: Any, actor: Actor | None = None) -> GraphQLClient:
        app = apps.get(id(kernel))
        if app is None:
            app = apps[id(kernel)] = create_app([kernel], run_worker=False)
        token = (lambda: kernel.issue_token(actor)) if actor is not None and actor.kind != "anonymous" else None
        client = GraphQLClient(app, "/graphql", token)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()
