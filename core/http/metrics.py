"""``/metrics``: Prometheus text that is safe to expose.

The request path used to go into a label as sent, so ``GET /x%22%7D…%0Afake_total 1``
injected a sample (and Prometheus may reject the whole scrape), and every distinct unknown
path added a series for good (2,000 random 404s: 2,019 series). Here labels come from a
fixed vocabulary (the brands served, the known endpoints, ``other`` for every other path,
the status code) and are escaped anyway, so the number of series is bounded by brands ×
endpoints × statuses. ``DOUGONG_METRICS_TOKEN``, when set, makes ``/metrics`` ask for
``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import hmac
import os
import time
from collections import Counter, defaultdict
from typing import Any

from core.gql import fanout

KNOWN_PATHS = ("/healthz", "/livez", "/metrics")
OTHER = "other"
TOKEN_ENV = "DOUGONG_METRICS_TOKEN"


def escape_label(value: str) -> str:
    """The Prometheus text format's label escaping: backslash, double quote, newline."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Metrics:
    def __init__(self, brands: list[str]) -> None:
        self.brands = frozenset(brands)
        self.default_brand = brands[0] if len(brands) == 1 else "-"
        self.requests: Counter[tuple[str, str, int]] = Counter()
        self.seconds: defaultdict[str, float] = defaultdict(float)

    def labels(self, path: str) -> tuple[str, str]:
        """(brand, path) labels for a request path, from the fixed vocabulary only."""
        brand = self.default_brand
        if path.startswith("/brands/"):
            slug = path.split("/")[2]
            brand = slug if slug in self.brands else "-"
            rest = path[len("/brands/") + len(slug) :]
            return brand, "graphql" if brand != "-" and rest.rstrip("/") == "/graphql" else OTHER
        if path.rstrip("/") == "/graphql" and self.default_brand != "-":
            return brand, "graphql"
        return brand, path if path in KNOWN_PATHS else OTHER

    def record(self, path: str, status: int, seconds: float) -> None:
        brand, label = self.labels(path)
        self.requests[(brand, label, int(status))] += 1
        self.seconds[brand] += seconds

    def render(self, kernels: dict[str, Any]) -> str:
        lines = [
            "# HELP dougong_http_requests_total HTTP requests by brand, path and status.",
            "# TYPE dougong_http_requests_total counter",
        ]
        for (brand, path, status), n in sorted(self.requests.items()):
            lines.append(f'dougong_http_requests_total{{brand="{escape_label(brand)}",path="{escape_label(path)}",status="{status}"}} {n}')
        lines += ["# HELP dougong_http_request_seconds_total Time spent serving requests.", "# TYPE dougong_http_request_seconds_total counter"]
        for brand, s in sorted(self.seconds.items()):
            lines.append(f'dougong_http_request_seconds_total{{brand="{escape_label(brand)}"}} {s:.6f}')
        per_brand = [
            ("dougong_db_statements_total", "counter", "SQL statements executed.", lambda k: k.db.statements),
            ("dougong_components", "gauge", "Components loaded per brand.", lambda k: len(k.components)),
            ("dougong_broadcast_connected", "gauge", "1 while the live-message fan-out (Redis) is connected.", lambda k: int(k.broadcast.connected)),
            (
                "dougong_broadcast_dropped_total",
                "counter",
                "Live messages that could not be published or were dropped.",
                lambda k: k.broadcast.dropped,
            ),
            ("dougong_subscription_groups", "gauge", "Subscriber groups sharing one execution now.", lambda k: fanout.figures(k)[0]),
            ("dougong_subscription_shared_executions_total", "counter", "Events executed once for a group.", lambda k: fanout.figures(k)[1]),
            ("dougong_subscription_behind_total", "counter", "Subscribers dropped from a group for falling behind.", lambda k: fanout.figures(k)[2]),
        ]
        for name, kind, help_text, read in per_brand:
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
            for slug, kernel in sorted(kernels.items()):
                lines.append(f'{name}{{brand="{escape_label(slug)}"}} {read(kernel)}')
        return "\n".join(lines) + "\n"


def metrics_token() -> str | None:
    return os.environ.get(TOKEN_ENV) or None


def authorized(header: str, token: str | None) -> bool:
    if token is None:
        return True
    scheme, _, value = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode())


class RequestMetrics:
    """Counts requests and their time for ``/metrics``. Plain ASGI rather than
    ``@app.middleware("http")``: starlette's BaseHTTPMiddleware runs every request through an
    extra task and memory streams, a fixed cost that matters once a response comes from the
    cache (not measured on its own: see the README's benchmark notes)."""

    def __init__(self, app: Any, record: Any) -> None:
        self.app = app
        self.record = record

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app raises before answering

        async def send_and_note(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            self.record(scope["path"], status, time.perf_counter() - started)
