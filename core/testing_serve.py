"""A real server and a websocket client, for subscriptions end to end (part of dougong's
pytest plugin, re-exported by :mod:`core.testing`): :func:`serve_app` / :func:`serve_kernel` run
uvicorn in the test's event loop, :func:`serve_process` runs ``dougong serve`` as a child
process, and :class:`GraphQLWebSocket` speaks graphql-transport-ws."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, AsyncIterator

import httpx

from core.testing_servers import _free_port


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
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            lifespan="on" if lifespan else "off",
            **uvicorn_settings(limits or Limits.from_environment()),
        )
    )
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
        yield "ws" + base[len("http") :] + "/graphql"


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
    async def connect(
        cls, url: str, token: str | None = None, *, init: dict[str, Any] | None = None, timeout: float = 10.0
    ) -> AsyncIterator[GraphQLWebSocket]:
        from urllib.parse import urlencode

        import websockets
        from websockets.typing import Subprotocol

        if url.startswith("http"):
            url = "ws" + url[4:]
        if token:
            url += ("&" if "?" in url else "?") + urlencode({"token": token})
        async with websockets.connect(url, subprotocols=[Subprotocol("graphql-transport-ws")], open_timeout=timeout) as connection:
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

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> AsyncIterator[dict[str, Any] | None]:
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
async def serve_process(
    blueprint: str | os.PathLike,
    *,
    env: dict[str, str] | None = None,
    log: Path | None = None,
    args: tuple[str, ...] = ("--no-seed-demo",),
    timeout: float = 60,
) -> AsyncIterator[str]:
    """``dougong serve BLUEPRINT`` as a separate process on a free port; yields its base URL once
    ``/healthz`` answers, and stops the process (its whole group) afterwards. ``env`` is added
    to this process's environment (``REDIS_URL``, ``DATABASE_URL``)."""
    import sys

    port = _free_port()
    log = log or Path(tempfile.mkstemp(prefix="dougong-serve-", suffix=".log")[1])
    process = subprocess.Popen(
        [sys.executable, "-m", "core.cli", "serve", str(blueprint), "--port", str(port), *args],
        env={**os.environ, **(env or {})},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
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
