"""A crowd of HTTP/1.1 POSTs fired at once from plain asyncio sockets (the flash-sale bench).

httpx costs the client about a millisecond of CPU per request; 2,000 of them on one core
would put seconds of the *client's* work into every latency. Here each connection is opened
first (not timed, like wrk's connection setup), then every request is written at once and
timed from its write to the last byte of its answer. Only what the bench needs: one request
per connection, ``Content-Length`` answers (uvicorn's for a JSON body).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any
from urllib.parse import urlsplit


def request_bytes(base: str, path: str, body: dict[str, Any], headers: dict[str, str]) -> bytes:
    host = urlsplit(base).netloc
    payload = json.dumps(body).encode()
    lines = [f"POST {path} HTTP/1.1", f"host: {host}", "content-type: application/json", f"content-length: {len(payload)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


async def _answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length)


async def fire(base: str, requests: list[bytes], open_at_once: int = 200) -> tuple[list[tuple[int, Any]], list[float], float]:
    """Open one connection per request, then send them all at once.

    Returns ((status, JSON body or None) per request, latency in s per request, wall seconds
    from the first write to the last answer)."""
    parts = urlsplit(base)
    gate = asyncio.Semaphore(open_at_once)  # the listen backlog is finite: open in waves

    async def connect() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        async with gate:
            return await asyncio.open_connection(parts.hostname, parts.port, limit=2**20)

    connections = await asyncio.gather(*(connect() for _ in requests))
    go = asyncio.Event()
    latencies = [0.0] * len(requests)

    async def one(i: int) -> tuple[int, Any]:
        reader, writer = connections[i]
        await go.wait()
        started = time.perf_counter()
        writer.write(requests[i])
        try:
            status, body = await _answer(reader)
        except (asyncio.IncompleteReadError, ConnectionError) as error:
            latencies[i] = time.perf_counter() - started
            return 0, {"transport": type(error).__name__}
        finally:
            writer.close()
        latencies[i] = time.perf_counter() - started
        try:
            return status, json.loads(body)
        except ValueError:
            return status, None

    tasks = [asyncio.ensure_future(one(i)) for i in range(len(requests))]
    await asyncio.sleep(0)
    began = time.perf_counter()
    go.set()
    results = await asyncio.gather(*tasks)
    return results, latencies, time.perf_counter() - began
