"""uvicorn's HTTP protocol with a deadline for a request's headers.

uvicorn times out idle keep-alive connections but not a client that sends its headers a
byte at a time: 1,100 such clients held every file descriptor of a worker (the common limit
is 1,024) and new clients were locked out, with nothing logged. Here each request must have
sent all its headers within ``DOUGONG_HEADER_TIMEOUT`` seconds of its first byte (or of the
connection opening); otherwise the connection is closed and one warning is logged.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from core.http.limits import Limits

log = logging.getLogger("dougong.http")


class HeaderDeadlineProtocol(HttpToolsProtocol):
    header_timeout = Limits.from_environment().header_timeout
    closed_slow = 0  # connections closed for slow headers, in this process

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_deadline: asyncio.TimerHandle | None = None

    def _arm(self) -> None:
        if self._header_deadline is None:
            self._header_deadline = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _disarm(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._disarm()  # idle between requests is the keep-alive timeout's job

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _headers_too_slow(self) -> None:
        self._header_deadline = None
        if self.cycle is not None and not self.cycle.response_complete:
            return  # a request is being served; its headers arrived
        HeaderDeadlineProtocol.closed_slow += 1
        log.warning(
            "closed a connection from %s: its request headers took longer than %.0fs",
            "%s:%d" % self.client if self.client else "?",
            self.header_timeout,
        )
        self.transport.close()


def uvicorn_settings(limits: Limits) -> dict[str, Any]:
    """The keyword arguments for ``uvicorn.run``/``uvicorn.Config`` that enforce ``limits``."""
    protocol: type = HeaderDeadlineProtocol
    if limits.header_timeout != HeaderDeadlineProtocol.header_timeout:
        # In-process servers (tests) may differ from the environment; ``dougong serve`` never
        # does, so its worker processes get the importable class (they pickle it by name).
        protocol = type("HeaderDeadlineProtocol", (protocol,), {"header_timeout": limits.header_timeout})
    return {
        "http": protocol,
        "limit_concurrency": limits.max_connections,
        "ws_max_size": limits.max_ws_message_bytes,
    }
