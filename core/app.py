"""The ASGI app: one brand at ``/graphql``, several at ``/brands/<slug>/graphql``."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import AsyncIterator

from cross_web import HTTPException as StrawberryHTTPException
from fastapi import FastAPI, HTTPException
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.requests import HTTPConnection, Request
from strawberry import UNSET
from strawberry.fastapi import GraphQLRouter
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from core.auth import ANONYMOUS, TokenError
from core.gql.context import Context
from core.gql.response_cache import MAX_KEY_BYTES
from core.gql.trusted import UntrustedDocument
from core.http import json_guard
from core.http.body_limit import BodyLimit
from core.http.headers import BrandCors, SecurityHeaders
from core.http.limits import Limits
from core.http.metrics import Metrics, RequestMetrics, authorized, metrics_token
from core.http.websocket import GuardedTransportWSHandler, GuardedWebSocketAdapter
from core.kernel import Kernel

HEALTH_TIMEOUT_SECONDS = 5.0


def actor_from_connection(kernel: Kernel, connection: HTTPConnection):  # noqa: ANN201
    """The caller: ``Authorization: Bearer <jwt>`` (or ``?token=`` for websockets, whose
    browser API cannot set headers). A bad token is refused outright, never treated as
    anonymous, so a client learns at once that it must sign in again."""
    header = connection.headers.get("authorization", "")
    token = None
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise HTTPException(401, "Authorization must be 'Bearer <token>'")
        token = value.strip()
    elif connection.scope.get("type") == "websocket":
        token = connection.query_params.get("token")
    if not token:
        return ANONYMOUS
    try:
        return kernel.tokens.decode(token)
    except TokenError as exc:
        raise HTTPException(401, str(exc)) from exc


class DougongRouter(GraphQLRouter):
    """strawberry's router, plus the response cache for anonymous queries (see
    :mod:`core.gql.response_cache` for what is cached and when it is dropped), and request
    JSON read through :mod:`core.http.json_guard`: every malformed request is answered in
    GraphQL's shape with a code, never as plain text or a 500."""

    websocket_adapter_class = GuardedWebSocketAdapter  # type: ignore[assignment]
    graphql_transport_ws_handler_class = GuardedTransportWSHandler

    def __init__(self, *args, kernel: Kernel, limits: Limits, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.kernel = kernel
        self.limits = limits

    def decode_json(self, data):  # noqa: ANN001, ANN201
        return json_guard.decode(data, self.limits)

    def parse_json(self, data):  # noqa: ANN001, ANN201
        """An HTTP body (websocket frames come through decode_json alone)."""
        value = self.decode_json(data)
        if not isinstance(value, (dict, list)):  # a list is a batch: strawberry refuses it
            raise json_guard.BadRequest("The request body must be a JSON object.")
        return value

    async def parse_http_body(self, request):  # noqa: ANN001, ANN201
        """Swap a trusted document's hash for its text (see :mod:`core.gql.trusted`)."""
        data = await super().parse_http_body(request)
        trusted = self.kernel.trusted_documents
        for item in data if isinstance(data, list) else [data]:
            json_guard.check_text(item.variables)
            item.query = trusted.resolve(item.query, item.extensions)
        return data

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
            return JSONResponse(json_guard.BadRequest(refused.reason, code=code, status=refused.status_code).body(),
                                status_code=refused.status_code)

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
        key = b"%s\n%s\n%s" % (request.url.path.encode(), request.headers.get("accept", "").encode(), body)
        cached = cache.get(key)
        if cached is not None:
            return Response(cached, media_type="application/json")
        generation, started_clock, started = cache.generation(), self.kernel.clock.now(), time.monotonic()
        response = await super().run(request, context, root_value)
        if context.cacheable and getattr(response, "status_code", None) == 200 and isinstance(getattr(response, "body", None), bytes):
            cache.put(key, response.body, generation, started_clock, started)
        return response


def graphql_router(kernel: Kernel, limits: Limits) -> GraphQLRouter:
    async def get_context(connection: HTTPConnection) -> Context:
        return Context(kernel, actor_from_connection(kernel, connection))

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


def create_app(kernels: list[Kernel], *, run_worker: bool = True, seed_demo: bool | None = None,
               limits: Limits | None = None) -> FastAPI:
    if not kernels:
        raise ValueError("create_app needs at least one kernel")
    by_slug: dict[str, Kernel] = {}
    for kernel in kernels:
        slug = kernel.blueprint.brand.slug
        if slug in by_slug:
            raise ValueError(f"two blueprints use the brand slug {slug!r}")
        by_slug[slug] = kernel
    limits = limits or Limits.from_environment()
    metrics = Metrics(list(by_slug))

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        for kernel in kernels:
            await kernel.start(seed_demo=seed_demo)
            if run_worker:
                kernel.start_worker()
        try:
            yield
        finally:
            for kernel in kernels:
                await kernel.stop()

    app = FastAPI(title="dougong", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.kernels = by_slug
    single = len(kernels) == 1
    for slug, kernel in by_slug.items():
        app.include_router(graphql_router(kernel, limits), prefix=f"/brands/{slug}/graphql")
    if single:
        app.include_router(graphql_router(kernels[0], limits), prefix="/graphql")

    # Outermost last: metrics see every answer, headers go on every answer (CORS ones too),
    # and a body over the limit is refused before anything reads it.
    app.add_middleware(BodyLimit, max_bytes=limits.max_body_bytes)
    app.add_middleware(BrandCors, policies={slug: k.blueprint.cors for slug, k in by_slug.items()},
                       single=kernels[0].blueprint.brand.slug if single else None)
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
            return PlainTextResponse("metrics need the bearer token of DOUGONG_METRICS_TOKEN\n", status_code=401,
                                     headers={"www-authenticate": "Bearer"})
        return PlainTextResponse(metrics.render(by_slug), media_type="text/plain; version=0.0.4")

    return app
