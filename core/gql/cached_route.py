"""Cache hits answered before FastAPI routes the request: the cached path's own ASGI layer.

A response-cache hit costs a dictionary lookup, yet served through FastAPI it paid for
routing, dependency solving (strawberry's context getter) and the response classes: four
fifths of a hit's time in the profile (``bench/profiles/``). Under load that made the loop
slow for everything else, the one request recomputing an expired page included.

This layer sits inside the project's own middleware (metrics, security headers, CORS, body
limit all still apply) and in front of the routes. For ``POST`` to a brand's GraphQL path
with a JSON body and no ``Authorization`` header — exactly the requests
``DougongRouter._run`` may answer from the cache — it reads the body, and if the cache holds
a fresh answer for it (or an answer expired by time alone while another request recomputes
it, see :meth:`core.gql.response_cache.ResponseCache.lookup`) it sends those bytes. Anything
else goes on to the routes with the body handed on unchanged, where the router decides as
before (single flight, waiting after a write, executing).
"""

from __future__ import annotations

from typing import Any

from core.gql.response_cache import MAX_KEY_BYTES, ResponseCache


def cache_key(path: str, accept: str, body: bytes) -> bytes:
    """What an anonymous answer is kept under: the path (the brand), the Accept header (the
    answer's form) and the request body byte for byte."""
    return b"%s\n%s\n%s" % (path.encode(), accept.encode(), body)


class CachedAnswers:
    """ASGI middleware: ``caches`` maps a GraphQL path to a callable returning that brand's
    response cache (None while it is off)."""

    def __init__(self, app: Any, caches: dict[str, Any]) -> None:
        self.app = app
        self.caches = caches

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        cache_of = self.caches.get(scope["path"])
        cache: ResponseCache | None = cache_of() if cache_of is not None else None
        if cache is None:
            await self.app(scope, receive, send)
            return
        accept: bytes | None = None
        content_type: bytes | None = None
        for name, value in scope["headers"]:  # the first of a repeated header, as Starlette reads it
            if name == b"authorization":
                await self.app(scope, receive, send)
                return
            if name == b"content-type" and content_type is None:
                content_type = value
            elif name == b"accept" and accept is None:
                accept = value
        if content_type is None or not content_type.startswith(b"application/json"):
            await self.app(scope, receive, send)
            return
        body, message = await read_body(receive)
        if message is not None or len(body) > MAX_KEY_BYTES:
            await self.app(scope, replay(body, message, receive), send)
            return
        answer = cache.lookup(cache_key(scope["path"], (accept or b"").decode("latin-1"), body))
        if answer is None:
            await self.app(scope, replay(body, None, receive), send)
            return
        await send_json(send, answer)


async def send_json(send: Any, body: bytes) -> None:
    """A 200 JSON answer with ``body``, with the headers the router's own answer has (the
    middleware around adds the rest)."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def read_body(receive: Any) -> tuple[bytes, dict | None]:
    """The whole body; or what was read so far and the message that was not a body part (a
    disconnect), which the routes then receive as they would have."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), message
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), None


def replay(body: bytes, pending: dict | None, receive: Any) -> Any:
    """A ``receive`` that gives the body already read, then what the client sends next."""
    queue: list[dict] = [{"type": "http.request", "body": body, "more_body": pending is not None}]
    if pending is not None:
        queue.append(pending)

    async def replayed() -> dict:
        if queue:
            return queue.pop(0)
        return await receive()

    return replayed
