"""Response headers every answer carries, and CORS per brand.

- ``X-Content-Type-Options: nosniff`` on everything: a JSON answer is never run as script.
- HTML (GraphiQL, outside production) may not be framed (clickjacking) and loads no plugins;
  a page that sets its own ``Content-Security-Policy`` (the reference storefront page, which
  the studio frames from its own origin) keeps it.
- An answer to a signed-in request is ``Cache-Control: private, no-store`` with
  ``Vary: Authorization``: no shared cache or browser back-button keeps one member's orders.
- CORS: each brand's blueprint lists the origins its web frontends are served from
  (``cors.origins``); none by default, so browsers on other origins are refused.
"""

from __future__ import annotations

from typing import Any

from starlette.middleware.cors import CORSMiddleware

HTML_POLICY = [
    (b"content-security-policy", b"frame-ancestors 'none'; base-uri 'none'; object-src 'none'; form-action 'self'"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]


class SecurityHeaders:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        signed_in = any(name == b"authorization" for name, _ in scope.get("headers") or ())

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in (b"cache-control", b"vary") or not signed_in]
                headers.append((b"x-content-type-options", b"nosniff"))
                content_type = dict(message.get("headers", [])).get(b"content-type", b"")
                own_policy = any(k.lower() == b"content-security-policy" for k, _ in headers)
                if content_type.startswith(b"text/html") and not own_policy:
                    headers += HTML_POLICY
                if signed_in:
                    vary = [v for k, v in message.get("headers", []) if k.lower() == b"vary"]
                    headers.append((b"vary", b", ".join([*vary, b"Authorization"])))
                    headers.append((b"cache-control", b"private, no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BrandCors:
    """Starlette's CORS middleware, one per brand that allows any origin, chosen by path."""

    def __init__(self, app: Any, policies: dict[str, Any], single: str | None) -> None:
        self.app = app
        self.single = single
        self.by_brand = {
            slug: CORSMiddleware(
                app,
                allow_origins=list(cors.origins),
                allow_credentials=cors.credentials,
                allow_methods=["GET", "POST"],
                allow_headers=["authorization", "content-type"],
                max_age=cors.max_age,
            )
            for slug, cors in policies.items()
            if cors.origins
        }

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and self.by_brand:
            path: str = scope["path"]
            slug = path.split("/")[2] if path.startswith("/brands/") else (self.single if path.startswith("/graphql") else None)
            policy = self.by_brand.get(slug) if slug else None
            if policy is not None:
                await policy(scope, receive, send)
                return
        await self.app(scope, receive, send)
