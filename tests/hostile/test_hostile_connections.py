"""Issue 28: limits a proxy would set, enforced by the server itself, tested from outside.

A client that sends its headers a byte at a time is cut off after the header deadline (it
held a file descriptor for ever), connections past the per-worker limit are answered 503 at
once, and ordinary clients are served throughout.
"""

from __future__ import annotations

import asyncio

import httpx

from core.app import create_app
from core.http.limits import Limits
from core.http.protocol import HeaderDeadlineProtocol
from core.testing import serve_app

CATALOG = """\
dougong: 1
brand: {slug: conns, name: Connections, currency: CNY, timezone: Asia/Shanghai}
components:
  catalog: {}
"""


async def _closed_by_server(reader: asyncio.StreamReader, within: float) -> bool:
    try:
        return await asyncio.wait_for(reader.read(1024), within) == b""
    except asyncio.TimeoutError:
        return False


async def test_slow_headers_are_cut_off_and_ordinary_clients_served(kernel_factory, caplog):
    kernel = await kernel_factory(CATALOG)
    limits = Limits(header_timeout=0.5)
    closed_before = HeaderDeadlineProtocol.closed_slow
    async with serve_app(create_app([kernel], run_worker=False, limits=limits), lifespan=False, limits=limits) as base:
        port = int(base.rsplit(":", 1)[1])
        slow = []
        for _ in range(5):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"POST /graphql HTTP/1.1\r\nHo")  # and then nothing more
            await writer.drain()
            slow.append((reader, writer))
        silent = await asyncio.open_connection("127.0.0.1", port)  # connects, never writes
        async with httpx.AsyncClient(base_url=base) as http:
            assert (await http.get("/livez")).status_code == 200  # served meanwhile
        for reader, _writer in [*slow, silent]:
            assert await _closed_by_server(reader, within=15)
        for _reader, writer in [*slow, silent]:
            writer.close()
        async with httpx.AsyncClient(base_url=base) as http:
            # A keep-alive connection: the deadline starts again for the second request's headers.
            for _ in range(2):
                assert (await http.post("/graphql", json={"query": "{ brand { slug } }"})).status_code == 200
    assert HeaderDeadlineProtocol.closed_slow - closed_before == 6
    assert "request headers took longer" in caplog.text


async def test_connections_past_the_limit_get_503(kernel_factory):
    kernel = await kernel_factory(CATALOG)
    limits = Limits(max_connections=4, header_timeout=30)
    async with serve_app(create_app([kernel], run_worker=False, limits=limits), lifespan=False, limits=limits) as base:
        port = int(base.rsplit(":", 1)[1])
        held = [await asyncio.open_connection("127.0.0.1", port) for _ in range(4)]
        await asyncio.sleep(0.2)  # let the server accept them
        async with httpx.AsyncClient(base_url=base) as http:
            refused = await http.get("/livez")
        assert refused.status_code == 503
        for _reader, writer in held:
            writer.close()
        async with httpx.AsyncClient(base_url=base) as http:
            for _ in range(50):  # the server notices the closed connections asynchronously
                if (await http.get("/livez")).status_code == 200:
                    break
                await asyncio.sleep(0.1)
            assert (await http.get("/livez")).status_code == 200
