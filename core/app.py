"""The ASGI app: one brand at ``/graphql``, several at ``/brands/<slug>/graphql``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path
from typing import AsyncIterator

from cross_web import HTTPException as StrawberryHTTPException
from fastapi import FastAPI, HTTPException, WebSocketException
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.requests import HTTPConnection, Request
from strawberry import UNSET
from strawberry.fastapi import GraphQLRouter
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from core import access_log, assets, fast_json, heap, storefront_web
from core.auth import ANONYMOUS, TokenError
from core.authority import current_actor
from core.db import database_unavailable
from core.errors import BootError
from core.gql.cached_route import CachedAnswers, cache_key
from core.gql.context import Context
from core.gql.early_refusals import HANDED_OVER, EarlyRefusals
from core.gql.response_cache import MAX_KEY_BYTES
from core.gql.trusted import UntrustedDocument
from core.gql.websocket import UNAUTHENTICATED_CLOSE, TransportWSHandler, close_reason
from core.gql.websocket import connect as ws_connect
from core.http import json_guard
from core.http.body_limit import BodyLimit
from core.http.headers import BrandCors, SecurityHeaders
from core.http.limits import Limits
from core.http.metrics import Metrics, RequestMetrics, authorized, metrics_token
from core.http.websocket import GuardedWebSocketAdapter
from core.kernel import Kernel
from core.webhooks import webhook_router

HEALTH_TIMEOUT_SECONDS = 5.0
log = logging.getLogger("dougong.app")


class Refused(HTTPException):
    """A request refused before any GraphQL runs, answered with a GraphQL-shaped body (see
    :func:`refused_response`) so clients read every error one way."""

    def __init__(self, status: int, message: str, code: str, reason: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(status, message, headers=headers)
        self.code = code
        self.reason = reason


class Unauthenticated(Refused):
    """A refused token or Authorization header: 401, ``KERNEL_UNAUTHENTICATED`` and a reason."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(
            401,
            message,
            "KERNEL_UNAUTHENTICATED",
            reason,
            headers={"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{reason}"'},
        )


def refused_response(_request: Request, exc: Refused) -> JSONResponse:
    extensions = {"code": exc.code, **({"reason": exc.reason} if exc.reason else {})}
    return JSONResponse(
        {"data": None, "errors": [{"message": exc.detail, "extensions": extensions}]}, status_code=exc.status_code, headers=exc.headers
    )


def bearer_token(connection: HTTPConnection) -> str | None:
    """``Authorization: Bearer <jwt>``, or ``?token=`` on a websocket upgrade (older browser
    clients; the access log never shows it, see :mod:`core.access_log`)."""
    header = connection.headers.get("authorization", "")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthenticated("Authorization must be 'Bearer <token>'", "BAD_AUTHORIZATION_HEADER")
        return value.strip()
    if connection.scope.get("type") == "websocket":
        return connection.query_params.get("token") or None
    return None


async def actor_from_connection(kernel: Kernel, connection: HTTPConnection, context: Context | None = None):  # noqa: ANN201
    """The caller, as the database has them now. A bad token is refused outright, never
    treated as anonymous, so a client learns at once that it must sign in again.

    With ``context`` (an HTTP request's), the rights are read on the request's own session,
    the one its resolvers read on next: one connection, one transaction per request instead
    of two (on PostgreSQL a pool checkout with its ping, a BEGIN and a ROLLBACK saved)."""
    token = bearer_token(connection)
    if not token:
        return ANONYMOUS
    websocket = connection.scope.get("type") == "websocket"
    try:
        claimed = kernel.tokens.decode(token)
        return await current_actor(kernel, claimed, await context.session() if context is not None else None)
    except TokenError as exc:
        if websocket:
            # Before the upgrade is accepted: the server answers the handshake with 403.
            raise WebSocketException(UNAUTHENTICATED_CLOSE, close_reason(exc.reason)) from None
        raise Unauthenticated(str(exc), exc.reason) from None
    except Exception as exc:
        # Reading who the caller is needs the database: when it is down, say so the way a
        # resolver would (retryable, no internals), not with a 500.
        busy = isinstance(exc, PoolTimeout)  # every connection in use: a flash crowd, not an outage
        if not (busy or database_unavailable(exc)):
            raise
        code = "KERNEL_BUSY" if busy else "KERNEL_DATABASE_UNAVAILABLE"
        log.warning("%s while reading the caller's rights: %r", code, exc)
        if websocket:
            raise WebSocketException(1011, code) from None
        raise Refused(
            503, "The service is temporarily unavailable; nothing changed, please try again shortly.", code, headers={"Retry-After": "1"}
        ) from None


class DougongRouter(GraphQLRouter):
    """strawberry's router, plus the response cache for anonymous queries (see
    :mod:`core.gql.response_cache` for what is cached and when it is dropped), and request
    JSON read through :mod:`core.http.json_guard`: every malformed request is answered in
    GraphQL's shape with a code, never as plain text or a 500."""

    websocket_adapter_class = GuardedWebSocketAdapter  # type: ignore[assignment]
    # graphql-transport-ws only (the legacy subscriptions-transport-ws protocol is not served):
    # client mistakes answered on the wire, tokens from connection_init, rights that follow
    # the database.
    graphql_transport_ws_handler_class = TransportWSHandler  # type: ignore[assignment]  # a subclass, generic parameters aside

    def __init__(self, *args, kernel: Kernel, limits: Limits, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.kernel = kernel
        self.limits = limits

    def decode_json(self, data):  # noqa: ANN001, ANN201
        return json_guard.decode(data, self.limits)

    def encode_json(self, data):  # noqa: ANN001, ANN201
        return fast_json.dumps(data)

    def parse_json(self, data):  # noqa: ANN001, ANN201
        """An HTTP body (websocket frames come through decode_json alone)."""
        value = self.decode_json(data)
        if not isinstance(value, (dict, list)):  # a list is a batch: strawberry refuses it
            raise json_guard.BadRequest("The request body must be a JSON object.")
        return value

    async def on_ws_connect(self, context):  # noqa: ANN001, ANN201
        await ws_connect(self.kernel, context)
        return UNSET

    async def parse_http_body(self, request):  # noqa: ANN001, ANN201
        """Swap a trusted document's hash for its text (see :mod:`core.gql.trusted`)."""
        data = await super().parse_http_body(request)
        trusted = self.kernel.trusted_documents
        for item in data if isinstance(data, list) else [data]:
            json_guard.check_text(item.variables)
            item.query = trusted.resolve(item.query, item.extensions)
        return data

    async def render_graphql_ide(self, request):  # noqa: ANN001, ANN201
        """GraphiQL from the assets vendored in the package, never from a CDN (works offline)."""
        return HTMLResponse(
            assets.graphiql_html(root_path=request.scope.get("root_path", ""), title=f"{self.kernel.blueprint.brand.name} · GraphiQL")
        )

    async def run(self, request, context=UNSET, root_value=UNSET):  # noqa: ANN001, ANN201
        try:
            return await self._run(request, context, root_value)
        except UntrustedDocument as refused:
            return JSONResponse({"data": None, "errors": [{"message": str(refused), "extensions": {"code": refused.code}}]})
        except json_guard.BadRequest as refused:
            return JSONResponse(refused.body(), status_code=refused.status)
        except StrawberryHTTPException as refused:
            if refused.status_code == 404:
                raise
            code = "KERNEL_BAD_REQUEST" if refused.status_code == 400 else "KERNEL_METHOD_NOT_ALLOWED"
            return JSONResponse(json_guard.BadRequest(refused.reason, code=code, status=refused.status_code).body(), status_code=refused.status_code)

    async def _run(self, request, context, root_value):  # noqa: ANN001, ANN202
        cache = self.kernel.response_cache
        if (
            cache is None
            or not isinstance(request, Request)
            or request.method != "POST"
            or not isinstance(context, Context)
            or context.actor is not ANONYMOUS
            or "authorization" in request.headers
            or not request.headers.get("content-type", "").startswith("application/json")
        ):
            return await super().run(request, context, root_value)
        body = await request.body()  # starlette keeps it for strawberry to parse again
        if len(body) > MAX_KEY_BYTES:
            return await super().run(request, context, root_value)
        key = cache_key(request.url.path, request.headers.get("accept", ""), body)
        cached = cache.get(key)
        if cached is not None:
            return Response(cached, media_type="application/json")
        generation = cache.generation()
        if (flight := cache.flight(key, generation)) is not None:
            # Someone is executing this very request since this generation: take the stale
            # copy if time alone expired it, else wait for theirs (see core.gql.response_cache).
            shared = cache.stale(key)
            if shared is None:
                shared = await asyncio.shield(flight)
                cache.shared += shared is not None
            if shared is not None:
                return Response(shared, media_type="application/json")
        return await self._execute_and_keep(cache, key, generation, request, context, root_value)

    async def _execute_and_keep(self, cache, key, generation, request, context, root_value):  # noqa: ANN001, ANN202
        started_clock, started = self.kernel.clock.now(), time.monotonic()
        flight = cache.take_off(key, generation)
        body: bytes | None = None
        try:
            response = await super().run(request, context, root_value)
            if context.cacheable and getattr(response, "status_code", None) == 200 and isinstance(getattr(response, "body", None), bytes):
                body = response.body
                cache.put(key, body, generation, started_clock, started)
            return response
        finally:
            cache.land(key, generation, flight, body)


def graphql_router(kernel: Kernel, limits: Limits) -> GraphQLRouter:
    async def get_context(connection: HTTPConnection) -> AsyncIterator[Context]:
        """A FastAPI dependency with teardown: the request's session, opened here to read the
        caller's rights, is closed when the request ends whatever happened (an operation's
        end closes it too; a body refused before any operation ran would have left it open)."""
        if connection.scope.get("type") != "http":  # a socket's context lives as long as it: no session held
            yield Context(kernel, await actor_from_connection(kernel, connection))
            return
        context = connection.scope.pop(HANDED_OVER, None)  # the caller already read (core.gql.early_refusals)
        try:
            if context is None or context.kernel is not kernel:
                context = Context(kernel)
                context.actor = await actor_from_connection(kernel, connection, context)
            yield context
        finally:
            if context is not None:
                await context.close()

    production = kernel.blueprint.production
    return DougongRouter(
        kernel.schema,
        kernel=kernel,
        limits=limits,
        context_getter=get_context,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        graphql_ide=None if production else "graphiql",
        allow_queries_via_get=not production,
    )


def refuse_shared_databases(kernels: list[Kernel]) -> None:
    """Two brands on one database would read each other's stores, members and orders (the
    tables carry no brand column): the usual cause is an exported ``DATABASE_URL`` that both
    blueprints fall back to. Refuse to start, naming both blueprints and the database."""
    seen: dict[str, Kernel] = {}
    for kernel in kernels:
        url = kernel.db.url
        key = url.render_as_string(hide_password=False)
        if url.get_backend_name() == "sqlite" and url.database:
            key = str(Path(url.database).resolve())
        other = seen.setdefault(key, kernel)
        if other is not kernel:
            raise BootError(
                f"{other.blueprint.path} (brand {other.blueprint.brand.slug}) and {kernel.blueprint.path} "
                f"(brand {kernel.blueprint.brand.slug}) both use the database {url.render_as_string(hide_password=True)}: "
                "brands never share a database; give each blueprint its own storage.database"
            )


def create_app(
    kernels: list[Kernel], *, run_worker: bool = True, seed_demo: bool | None = None, limits: Limits | None = None, freeze_heap: bool = False
) -> FastAPI:
    """``freeze_heap``: once every kernel has started, keep what boot allocated out of the
    garbage collector's full collections (a serving process only, see :mod:`core.heap`)."""
    if not kernels:
        raise ValueError("create_app needs at least one kernel")
    refuse_shared_databases(kernels)
    by_slug: dict[str, Kernel] = {}
    for kernel in kernels:
        slug = kernel.blueprint.brand.slug
        if slug in by_slug:
            raise ValueError(f"two blueprints use the brand slug {slug!r}")
        by_slug[slug] = kernel
    limits = limits or Limits.from_environment()
    metrics = Metrics(list(by_slug))
    access_log.install()

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        for kernel in kernels:
            await kernel.start(seed_demo=seed_demo)
            if run_worker:
                kernel.start_worker()
        if freeze_heap:
            heap.freeze_boot_heap()
        try:
            yield
        finally:
            for kernel in kernels:
                await kernel.stop()

    app = FastAPI(title="dougong", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.kernels = by_slug
    app.add_exception_handler(Refused, refused_response)  # type: ignore[arg-type]  # Starlette types handlers for any Exception
    single = len(kernels) == 1
    for slug, kernel in by_slug.items():
        app.include_router(graphql_router(kernel, limits), prefix=f"/brands/{slug}/graphql")
        app.include_router(webhook_router(kernel), prefix=f"/brands/{slug}")
        if kernel.contributions.page_blocks:  # the reference page, where the schema has storefrontPage
            app.include_router(storefront_web.router(), prefix=f"/brands/{slug}")
    if single:
        app.include_router(graphql_router(kernels[0], limits), prefix="/graphql")
        app.include_router(webhook_router(kernels[0]))
        if kernels[0].contributions.page_blocks:
            app.include_router(storefront_web.router())
    if not all(kernel.blueprint.production for kernel in kernels):  # production serves no GraphiQL
        app.mount(assets.ASSET_PREFIX, assets.static_files(), name="dougong-assets")

    # Outermost last: metrics see every answer, headers go on every answer (CORS ones too),
    # and a body over the limit is refused before anything reads it.
    # Innermost: cache hits answered before routing (core.gql.cached_route); the kernel's
    # cache is read per request, as the router does (tests swap or switch it off).
    caches = {f"/brands/{slug}/graphql": (lambda k=kernel: k.response_cache) for slug, kernel in by_slug.items()}
    if single:
        caches["/graphql"] = lambda k=kernels[0]: k.response_cache
    app.add_middleware(CachedAnswers, caches=caches)
    # Beside it, for signed-in requests: a crowd's refusals answered before routing (core.gql.early_refusals).
    graphql_paths = {f"/brands/{slug}/graphql": kernel for slug, kernel in by_slug.items()}
    if single:
        graphql_paths["/graphql"] = kernels[0]
    app.add_middleware(EarlyRefusals, kernels=graphql_paths)
    app.add_middleware(BodyLimit, max_bytes=limits.max_body_bytes)
    app.add_middleware(
        BrandCors, policies={slug: k.blueprint.cors for slug, k in by_slug.items()}, single=kernels[0].blueprint.brand.slug if single else None
    )
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestMetrics, record=metrics.record)

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        """Readiness: 503 while a database is unreachable (send no traffic here). A fan-out
        (Redis) that is down only degrades live messages: the status says so, still 200."""
        brands = {}
        for slug, kernel in by_slug.items():
            try:
                # Bounded: a database behind a dead network would otherwise hold the probe
                # until the driver's connect timeout, and the orchestrator would learn nothing.
                await asyncio.wait_for(kernel.db.ping(), HEALTH_TIMEOUT_SECONDS)
                brands[slug] = {"database": "ok"}
            except Exception as exc:
                brands[slug] = {"database": "unavailable", "error": type(exc).__name__}
            brands[slug]["broadcast"] = "ok" if kernel.broadcast.connected else "unavailable"
        healthy = all(b["database"] == "ok" for b in brands.values())
        degraded = not healthy or any(b["broadcast"] != "ok" for b in brands.values())
        return JSONResponse({"status": "degraded" if degraded else "ok", "brands": brands}, status_code=200 if healthy else 503)

    @app.get("/livez")
    async def livez() -> JSONResponse:
        """Liveness: the process answers. Never depends on the database or Redis, so an
        orchestrator does not restart healthy workers during a neighbour's outage."""
        return JSONResponse({"status": "ok"})

    token = metrics_token()

    @app.get("/metrics")
    async def prometheus(request: Request) -> Response:
        if not authorized(request.headers.get("authorization", ""), token):
            return PlainTextResponse(
                "metrics need the bearer token of DOUGONG_METRICS_TOKEN\n", status_code=401, headers={"www-authenticate": "Bearer"}
            )
        return PlainTextResponse(metrics.render(by_slug), media_type="text/plain; version=0.0.4")

    return app
