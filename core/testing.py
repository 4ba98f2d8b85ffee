"""dougong's pytest plugin (entry point ``pytest11``), for our tests and component authors'.

Fixtures:

``clock``
    a :class:`core.clock.MovableClock` every kernel built by the factory uses.
``kernel_factory``
    ``await kernel_factory(blueprint_yaml, database="sqlite"|"postgresql", seed_demo=False,
    installed=None)`` boots a started kernel from an inline blueprint on a fresh database
    and stops it after the test.
``graphql``
    ``graphql(kernel, actor=None)`` returns a :class:`GraphQLClient` that sends real HTTP
    requests to the kernel's app in-process (bearer token of ``actor`` if given).
``postgres_url``
    a PostgreSQL 15 server started for the test session (``initdb``/``pg_ctl``, as the
    ``postgres`` user when running as root). Skips loudly if it cannot start — unless
    ``DOUGONG_REQUIRE_SERVERS=1`` (CI), where it fails instead.
``database``
    parametrise tests over both backends with ``@pytest.mark.parametrize("database",
    ["sqlite", "postgresql"], indirect=True)`` — the fixture yields the backend name after
    making sure the server is up.
``browser``
    a headless Chromium (Selenium ``WebDriver``) from the system's packages; see
    :mod:`core.testing_browser`. Skips or fails like the servers above.
``redis_url``
    a ``redis-server`` of the test session's own (free port, temporary folder, no snapshots),
    as ``redis://127.0.0.1:<port>/<n>`` with a fresh database number per test. Skips loudly,
    or fails under ``DOUGONG_REQUIRE_SERVERS=1``, like ``postgres_url``.

Helpers for tests against a real server (``dougong serve`` or :func:`serve_app`):
:class:`GraphQLWebSocket` speaks the graphql-transport-ws protocol
(``async with GraphQLWebSocket.connect(url, token) as ws: async for data in ws.subscribe(...)``).
In-process, ``seen, task = await watch_subscription(kernel, document, variables, actor)`` collects
a subscription's payloads; ``await asyncio.wait_for(task, 2)`` asserts that the stream completed.
"""

from __future__ import annotations

import asyncio
import os
import textwrap
from pathlib import Path
from typing import Any, AsyncIterator

import httpx
import pytest

from core import testing_templates
from core.auth import ANONYMOUS, Actor
from core.clock import MovableClock
from core.gql.schema import SCHEMA_REUSE_KEY

# The plugin's other parts, one concept a module; imported here so that pytest registers their
# fixtures and hooks, and so that ``from core.testing import X`` keeps working for all of them.
from core.testing_browser import browser  # noqa: F401
from core.testing_check import pytest_addoption, pytest_sessionfinish, pytest_terminal_summary  # noqa: F401
from core.testing_components import make_component, write_component_distribution  # noqa: F401
from core.testing_serve import (  # noqa: F401
    GraphQLSubscriptionError,
    GraphQLWebSocket,
    WebSocketClosed,
    serve_app,
    serve_kernel,
    serve_process,
    stop_process_group,
)
from core.testing_servers import (  # noqa: F401
    PostgresServer,
    RedisServer,
    _free_port,
    _require_servers,
    _skip_or_fail,
    database,
    postgres_server,
    postgres_url,
    redis_server,
    redis_url,
    running,
)


def member(member_id: int) -> Actor:
    return Actor("member", member_id)


def staff(staff_id: int, *roles: str, stores: tuple[int, ...] = ()) -> Actor:
    return Actor("staff", staff_id, frozenset(roles or ("admin",)), frozenset(stores))


async def watch_subscription(kernel: Any, document: str, variables: dict[str, Any], actor: Actor | None = None) -> tuple[list[Any], asyncio.Task]:
    """Subscribe in-process and collect each payload's one root field into a list, in a task that
    ends when the stream completes (await it, with a timeout, to assert that it does)."""
    from core.gql.context import Context

    stream = await kernel.schema.subscribe(document, variable_values=variables, context_value=Context(kernel, actor or ANONYMOUS))
    seen: list[Any] = []

    async def run() -> None:
        async for result in stream:
            assert result.errors is None, result.errors
            seen.extend(result.data.values())

    task = asyncio.create_task(run())
    await asyncio.sleep(0.05)  # subscribed before the test moves on
    return seen, task


class GraphQLClient:
    """Sends GraphQL over HTTP to an in-process app, as a frontend would."""

    def __init__(self, app: Any, path: str, token: Any) -> None:
        # ``token`` is a string, or a callable giving a fresh one per request: tests move the
        # clock by months, and a real frontend would have refreshed its session meanwhile.
        self._token = token
        self._http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://dougong.test")
        self._path = path

    async def execute(self, query: str, variables: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
        """The whole response body: ``{"data": ..., "errors": [...]}``."""
        token = self._token() if callable(self._token) else self._token
        headers = {"authorization": f"Bearer {token}"} if token else {}
        response = await self._http.post(self._path, json={"query": query, "variables": variables or kwargs or None}, headers=headers)
        if response.status_code != 200:
            try:
                errors = response.json()["errors"]  # a refused token's body is GraphQL-shaped too
            except (ValueError, KeyError, TypeError):
                errors = [{"message": response.text}]
            return {"status": response.status_code, "errors": errors}
        return response.json()

    async def data(self, query: str, variables: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
        """``data`` of a response that must have no top-level errors."""
        body = await self.execute(query, variables, **kwargs)
        assert not body.get("errors"), f"unexpected GraphQL errors: {body.get('errors')}"
        return body["data"]

    async def mutate(self, query: str, variables: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
        """The single payload of a mutation document (the first root field's value)."""
        data = await self.data(query, variables, **kwargs)
        return next(iter(data.values()))

    async def aclose(self) -> None:
        await self._http.aclose()


# -- kernels ---------------------------------------------------------------------------------------


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture(autouse=True)
def _patient_connection_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests wait for a database connection as long as they need (unless they set their own
    ``DOUGONG_POOL_TIMEOUT``): on a loaded 2-core machine a race of a hundred requests can queue
    past production's 30 s, and a race test is about stock, not about the pool — the tests
    about an exhausted pool set a short timeout themselves."""
    if "DOUGONG_POOL_TIMEOUT" not in os.environ:
        monkeypatch.setenv("DOUGONG_POOL_TIMEOUT", "300")


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> testing_templates.SqliteTemplates:
    return testing_templates.SqliteTemplates(tmp_path_factory.mktemp("migrated-templates"))


@pytest.fixture
async def kernel_factory(
    tmp_path: Path, clock: MovableClock, request: pytest.FixtureRequest, sqlite_templates: testing_templates.SqliteTemplates
) -> AsyncIterator[Any]:
    from core.kernel import Kernel

    kernels: list[Kernel] = []

    async def build(
        blueprint_yaml: str,
        *,
        database: str = "sqlite",  # noqa: F811  (the argument, not the fixture)
        seed_demo: bool = False,
        installed: Any = None,
        start: bool = True,
    ) -> Kernel:
        path = tmp_path / f"blueprint-{len(kernels)}.yaml"
        text = textwrap.dedent(blueprint_yaml)
        path.write_text(text, encoding="utf-8")
        # Only kernels that start: one built with start=False may be there to watch a migration.
        templated = start and database in ("sqlite", "postgresql") and testing_templates.enabled()
        if database == "postgresql":
            server = request.getfixturevalue("postgres_server")
            pg_name = server.new_database_name()
            url = server.url(pg_name) if templated else server.create_database(pg_name)
        elif database == "sqlite":
            url = f"sqlite+aiosqlite:///{tmp_path / f'db-{len(kernels)}.sqlite'}"
        else:
            url = database  # an explicit URL: reuse a database (restart tests)
        if installed is not None:
            # Inline components join the installed ones rather than replacing them.
            from registry.discovery import discover

            if isinstance(installed, (list, tuple)):
                installed = {c.manifest.name: c for c in installed}

            installed = {**discover()[0], **installed}
        # Kernels of one blueprint share one schema (core.gql.schema.SCHEMA_REUSE_KEY); inline
        # components are written per test, so a kernel with them builds its own.
        reuse = testing_templates.schemas_enabled() and installed is None
        key = (text, tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("DOUGONG_")))) if reuse else None
        token = SCHEMA_REUSE_KEY.set(key)
        try:
            kernel = Kernel.from_file(path, installed=installed, clock=clock, database_url=url)
        finally:
            SCHEMA_REUSE_KEY.reset(token)
        kernels.append(kernel)
        if templated and database == "sqlite":
            await sqlite_templates.prepare(kernel, tmp_path / f"db-{len(kernels) - 1}.sqlite")
        elif templated:
            await server.templates.prepare(kernel, pg_name)
        if start:
            await kernel.start(seed_demo=seed_demo)
        return kernel

    yield build
    for kernel in kernels:
        await kernel.stop()


@pytest.fixture
async def graphql() -> AsyncIterator[Any]:
    from core.app import create_app

    clients: list[GraphQLClient] = []
    apps: dict[int, Any] = {}

    def make(kernel: Any, actor: Actor | None = None) -> GraphQLClient:
        app = apps.get(id(kernel))
        if app is None:
            app = apps[id(kernel)] = create_app([kernel], run_worker=False)
        token = (lambda: kernel.issue_token(actor)) if actor is not None and actor.kind != "anonymous" else None
        client = GraphQLClient(app, "/graphql", token)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()
