"""The ASGI app: one brand at ``/graphql``, several at ``/brands/<slug>/graphql``."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from typing import AsyncIterator

from fastapi import FastAPI, HTTPException
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.requests import HTTPConnection, Request
from strawberry.fastapi import GraphQLRouter

from core.auth import ANONYMOUS, TokenError
from core.gql.context import Context
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


def graphql_router(kernel: Kernel) -> GraphQLRouter:
    async def get_context(connection: HTTPConnection) -> Context:
        return Context(kernel, actor_from_connection(kernel, connection))

    production = kernel.blueprint.production
    return GraphQLRouter(
        kernel.schema,
        context_getter=get_context,
        graphql_ide=None if production else "graphiql",
        allow_queries_via_get=not production,
    )


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

    @app.middleware("http")
    async def count_requests(request: Request, call_next):  # noqa: ANN001, ANN202
        started = time.perf_counter()
        response = await call_next(request)
        path = request.url.path
        brand = path.split("/")[2] if path.startswith("/brands/") else (kernels[0].blueprint.brand.slug if single else "-")
        metrics.requests[(brand, "graphql" if path.endswith("/graphql") else path, response.status_code)] += 1
        metrics.seconds[brand] += time.perf_counter() - started
        return response

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
