"""The ASGI app: one brand at ``/graphql``, several at ``/brands/<slug>/graphql``."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from typing import AsyncIterator

from fastapi import FastAPI, HTTPException
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.requests import HTTPConnection, Request
from strawberry import UNSET
from strawberry.fastapi import GraphQLRouter

from core import assets
from core.auth import ANONYMOUS, TokenError
from core.gql.context import Context
from core.gql.response_cache import MAX_KEY_BYTES
from core.gql.trusted import UntrustedDocument
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
    :mod:`core.gql.response_cache` for what is cached and when it is dropped)."""

    def __init__(self, *args, kernel: Kernel, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.kernel = kernel

    async def parse_http_body(self, request):  # noqa: ANN001, ANN201
        """Swap a trusted document's hash for its text (see :mod:`core.gql.trusted`)."""
        data = await super().parse_http_body(request)
        trusted = self.kernel.trusted_documents
        for item in data if isinstance(data, list) else [data]:
            item.query = trusted.resolve(item.query, item.extensions)
        return data

    async def render_graphql_ide(self, request):  # noqa: ANN001, ANN201
        """GraphiQL from the assets vendored in the package, never from a CDN (works offline)."""
        return HTMLResponse(assets.graphiql_html(root_path=request.scope.get("root_path", ""),
                                                 title=f"{self.kernel.blueprint.brand.name} · GraphiQL"))

    async def run(self, request, context=UNSET, root_value=UNSET):  # noqa: ANN001, ANN201
        try:
            return await self._run(request, context, root_value)
        except UntrustedDocument as refused:
            return JSONResponse({"data": None, "errors": [{"message": str(refused), "extensions": {"code": refused.code}}]})

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


def graphql_router(kernel: Kernel) -> GraphQLRouter:
    async def get_context(connection: HTTPConnection) -> Context:
        return Context(kernel, actor_from_connection(kernel, connection))

    production = kernel.blueprint.production
    return DougongRouter(
        kernel.schema,
        kernel=kernel,
        context_getter=get_context,
        graphql_ide=None if production else "graphiql",
        allow_queries_via_get=not production,
    )


class RequestMetrics:
    """Counts requests and their time for ``/metrics``. Plain ASGI rather than
    ``@app.middleware("http")``: starlette's BaseHTTPMiddleware runs every request through an
    extra task and memory streams, a fixed cost that matters once a response comes from the
    cache (not measured on its own: see the README's benchmark notes)."""

    def __init__(self, app, record) -> None:  # noqa: ANN001
        self.app = app
        self.record = record

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app raises before answering

        async def send_and_note(message) -> None:  # noqa: ANN001
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            self.record(scope["path"], status, time.perf_counter() - started)


class Metrics:
    def __init__(self) -> None:
        self.requests: Counter[tuple[str, str, int]] = Counter()
        self.seconds: Counter[str] = Counter()

    def render(self, kernels: dict[str, Kernel]) -> str:
        lines = [
            "# HELP dougong_http_requests_total HTTP requests by brand, path and status.",
            "# TYPE dougong_http_requests_total counter",
        ]
        for (brand, path, status), n in sorted(self.requests.items()):
            lines.append(f'dougong_http_requests_total{{brand="{brand}",path="{path}",status="{status}"}} {n}')
        lines += ["# HELP dougong_http_request_seconds_total Time spent serving requests.",
                  "# TYPE dougong_http_request_seconds_total counter"]
        for brand, s in sorted(self.seconds.items()):
            lines.append(f'dougong_http_request_seconds_total{{brand="{brand}"}} {s:.6f}')
        lines += ["# HELP dougong_db_statements_total SQL statements executed.",
                  "# TYPE dougong_db_statements_total counter"]
        for slug, kernel in sorted(kernels.items()):
            lines.append(f'dougong_db_statements_total{{brand="{slug}"}} {kernel.db.statements}')
        lines += ["# HELP dougong_components Components loaded per brand.", "# TYPE dougong_components gauge"]
        for slug, kernel in sorted(kernels.items()):
            lines.append(f'dougong_components{{brand="{slug}"}} {len(kernel.components)}')
        return "\n".join(lines) + "\n"


def create_app(kernels: list[Kernel], *, run_worker: bool = True, seed_demo: bool | None = None) -> FastAPI:
    if not kernels:
        raise ValueError("create_app needs at least one kernel")
    by_slug: dict[str, Kernel] = {}
    for kernel in kernels:
        slug = kernel.blueprint.brand.slug
        if slug in by_slug:
            raise ValueError(f"two blueprints use the brand slug {slug!r}")
        by_slug[slug] = kernel
    metrics = Metrics()

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
        app.include_router(graphql_router(kernel), prefix=f"/brands/{slug}/graphql")
    if single:
        app.include_router(graphql_router(kernels[0]), prefix="/graphql")
    if not all(kernel.blueprint.production for kernel in kernels):  # production serves no GraphiQL
        app.mount(assets.ASSET_PREFIX, assets.static_files(), name="dougong-assets")

    default_brand = kernels[0].blueprint.brand.slug if single else "-"

    def record(path: str, status: int, seconds: float) -> None:
        brand = path.split("/")[2] if path.startswith("/brands/") else default_brand
        metrics.requests[(brand, "graphql" if path.endswith("/graphql") else path, status)] += 1
        metrics.seconds[brand] += seconds

    app.add_middleware(RequestMetrics, record=record)

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        brands = {}
        for slug, kernel in by_slug.items():
            try:
                # Bounded: a database behind a dead network would otherwise hold the probe
                # until the driver's connect timeout, and the orchestrator would learn nothing.
                await asyncio.wait_for(kernel.db.ping(), HEALTH_TIMEOUT_SECONDS)
                brands[slug] = {"database": "ok"}
            except Exception as exc:
                brands[slug] = {"database": "unavailable", "error": type(exc).__name__}
        healthy = all(b["database"] == "ok" for b in brands.values())
        return JSONResponse({"status": "ok" if healthy else "degraded", "brands": brands}, status_code=200 if healthy else 503)

    @app.get("/metrics")
    async def prometheus() -> PlainTextResponse:
        return PlainTextResponse(metrics.render(by_slug), media_type="text/plain; version=0.0.4")

    return app
