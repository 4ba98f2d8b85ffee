"""Who may use a studio: it reads and writes files, so it is never open to whoever finds it.

- Bound to a loopback address (the default), only the machine's own browser reaches it; the
  ``Host`` header must name loopback too, so a web page cannot reach it by DNS rebinding.
- Bound anywhere else, a token is required (``dougong studio --host 0.0.0.0`` makes one up
  and prints the URL to open): ``Authorization: Bearer <token>``, or the cookie set when
  the URL with ``?token=`` is opened.
- Either way, a request from a page of another origin (``Origin`` header) is refused, so a
  site open in the same browser cannot drive the studio.
"""

from __future__ import annotations

import ipaddress
import json
import secrets
from http.cookies import SimpleCookie
from typing import Any, Callable
from urllib.parse import parse_qsl, urlencode, urlsplit

COOKIE = "dougong_studio_token"
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]"}


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class StudioGuard:
    """ASGI middleware in front of everything the studio serves (sandboxes included)."""

    def __init__(self, app: Callable[..., Any], *, token: str | None, loopback_only: bool) -> None:
        if not loopback_only and not token:
            raise ValueError("a studio reachable from other machines needs a token")
        self.app, self.token, self.loopback_only = app, token, loopback_only

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = headers.get("host", "")
        hostname = urlsplit(f"//{host}").hostname or ""
        if self.loopback_only and not is_loopback(hostname):
            await _refuse(scope, send, 403, "STUDIO_HOST_REFUSED", f"this studio answers only to a loopback address, not {host!r}")
            return
        origin = headers.get("origin")
        if origin and urlsplit(origin).netloc != host:
            await _refuse(scope, send, 403, "STUDIO_ORIGIN_REFUSED", "requests from pages of another origin are refused")
            return
        if self.token is None:
            await self.app(scope, receive, send)
            return
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        if scope["type"] == "http" and scope.get("method") == "GET" and _same(query.get("token"), self.token):
            # Trade the token in the URL for a cookie, and take it out of the address bar.
            rest = urlencode([(k, v) for k, v in query.items() if k != "token"])
            location = scope.get("root_path", "") + scope["path"] + (f"?{rest}" if rest else "")
            cookie = f"{COOKIE}={self.token}; Path=/; HttpOnly; SameSite=Strict"
            await _respond(send, 303, b"", [(b"location", location.encode()), (b"set-cookie", cookie.encode())])
            return
        cookies = SimpleCookie(headers.get("cookie", ""))
        offered = headers.get("authorization", "").removeprefix("Bearer ").strip() or (cookies[COOKIE].value if COOKIE in cookies else None)
        if not _same(offered, self.token):
            await _refuse(scope, send, 401, "STUDIO_TOKEN_REQUIRED", "open the URL `dougong studio` printed (it carries the token)")
            return
        await self.app(scope, receive, send)


def _same(offered: str | None, token: str) -> bool:
    return offered is not None and secrets.compare_digest(offered.encode(), token.encode())


async def _refuse(scope: dict, send: Callable, status: int, code: str, message: str) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 4403 if status == 403 else 4401})
        return
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    await _respond(send, status, body, [(b"content-type", b"application/json")])


async def _respond(send: Callable, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
