"""The kernel: one object per blueprint, no module globals.

``Kernel(blueprint)`` registers the blueprint's components with a fresh plugin manager,
collects their contributions (attributed, clash-checked) and builds storage and one schema.
``await kernel.start()`` creates what is missing in the database and runs startup hooks.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import inspect
import logging
import os
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, AsyncIterator, Awaitable, Callable, Mapping

import pluggy
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import core
from core import hookspecs
from core.auth import Tokens
from core.blueprint import Blueprint, load_blueprint
from core.broadcast import Broadcaster
from core.broadcast_redis import RedisBroadcaster
from core.clock import Clock
from core.contributions import Contributions, Registrar
from core.db import Database
from core.errors import BootError
from core.events import EventBus
from core.models import MetaRow
from core.timers import TimerService
from core.transaction import Transaction
from registry.discovery import InstalledComponent
from registry.manifest import Manifest

log = logging.getLogger("dougong.kernel")


@dataclass(frozen=True)
class LoadedComponent:
    manifest: Manifest
    settings: Mapping[str, Any]
    hooks: Any  # the registered plugin (the hooks module)


class Kernel:
    def __init__(
        self,
        blueprint: Blueprint,
        *,
        clock: Clock | None = None,
        database_url: str | None = None,
        redis_url: str | None = None,
    ) -> None:
        self.blueprint = blueprint
        self.clock = clock or Clock()
        self.version = core.__version__
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.contributions = Contributions()
        self.components: dict[str, LoadedComponent] = {}
        self._dependencies: dict[str, frozenset[str]] = {}

        self._register(blueprint.resolution.order)
        self._collect()
        self.contributions.check_event_handlers(self)
        from core.pages import build_pages

        self.pages = build_pages(self)  # storefront pages checked against the loaded blocks

        self.db = Database(database_url or blueprint.storage.database, statement_timeout=blueprint.storage.statement_timeout.total_seconds())
        self.events = EventBus(self)
        self.timers = TimerService(self)
        redis_url = redis_url or blueprint.storage.redis or os.environ.get("REDIS_URL") or None
        channel_prefix = f"dougong:{blueprint.brand.slug}:"
        # Components with a Redis use of their own (flash_sale's gate) read these.
        self.redis_url, self.redis_prefix = redis_url, channel_prefix
        self.broadcast: Broadcaster = RedisBroadcaster(redis_url, channel_prefix) if redis_url else Broadcaster(channel_prefix)
        from core.gql.response_cache import ResponseCache

        self.response_cache = ResponseCache.for_kernel(self, scaled_out=bool(redis_url))
        from core.gql.trusted import TrustedDocuments

        self.trusted_documents = TrustedDocuments.from_environment()
        self.tokens = Tokens(self._configured_secret(), blueprint.brand.slug, blueprint.auth.token_ttl, self.clock.now)
        self.authority = self.pm.hook.dougong_authority(kernel=self)

        from core.gql.schema import build_schema  # schema types import the kernel lazily

        self.schema = build_schema(self)
        self._worker: asyncio.Task | None = None
        self.started = False

    # -- construction ----------------------------------------------------------------------------
    @classmethod
    def from_file(cls, path: str | os.PathLike, *, installed: Mapping[str, InstalledComponent] | None = None, **kwargs: Any) -> Kernel:
        return cls(load_blueprint(path, installed=installed), **kwargs)

    @classmethod
    def from_text(cls, text: str, path: str = "<inline>", *, installed: Mapping[str, InstalledComponent] | None = None, **kwargs: Any) -> Kernel:
        return cls(load_blueprint(path, text=text, installed=installed), **kwargs)

    def _register(self, order: list[InstalledComponent]) -> None:
        for installed in order:
            manifest = installed.manifest
            try:
                hooks_module = importlib.import_module(manifest.hooks)
            except Exception as exc:
                raise BootError(f"component {manifest.name!r}: its hooks module {manifest.hooks!r} failed to import: {exc!r}") from exc
            try:
                self.pm.register(hooks_module, name=manifest.name)
            except (ValueError, pluggy.PluginValidationError) as exc:
                raise BootError(f"component {manifest.name!r}: {exc}") from exc
            entry = self.blueprint.components.get(manifest.name)
            settings = entry.settings if entry is not None else {}
            self.components[manifest.name] = LoadedComponent(manifest, settings, hooks_module)
            deps: set[str] = set()
            for dep in manifest.depends:
                deps.add(dep)
                deps |= self._dependencies.get(dep, frozenset())
            self._dependencies[manifest.name] = frozenset(deps)
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            raise BootError(f"component {getattr(exc, 'plugin_name', '?')!r} implements an unknown hook: {exc}") from exc

    def _collect(self) -> None:
        """Ask every component each collect hook, in dependency order, with its own registrar."""
        for hook_name in hookspecs.COLLECT_HOOKS:
            impls = {self.pm.get_name(impl.plugin): impl for impl in getattr(self.pm.hook, hook_name).get_hookimpls()}
            for name, loaded in self.components.items():
                impl = impls.get(name)
                if impl is None:
                    continue
                registrar = Registrar(name, loaded.settings, self, self.contributions)
                try:
                    result = impl.function(registrar)
                except BootError as exc:
                    if repr(name) in str(exc):
                        raise
                    raise BootError(f"component {name!r}: {hook_name}: {exc}") from exc
                if inspect.iscoroutine(result):
                    result.close()
                    raise BootError(f"component {name!r}: {hook_name} must not be async (it only registers things)")

    def _configured_secret(self) -> str | None:
        """The blueprint's ``auth.secret``, or ``None``: a development blueprint then gets a
        random secret kept in its own database, read when the kernel starts
        (:mod:`core.secrets`). Never one derived from the slug: anyone could compute that."""
        secret = self.blueprint.auth.secret
        if secret:
            return secret
        if self.blueprint.production:
            raise BootError("production blueprints need auth.secret (write it as ${DOUGONG_SECRET})")
        return None

    def signing_secret(self) -> str:
        """The token secret, for components that derive keys of their own from it."""
        return self.tokens.secret

    # -- what components use ---------------------------------------------------------------------
    def service(self, name: str) -> Any:
        claimed = self.contributions.services.get(name)
        if claimed is None:
            raise LookupError(f"no loaded component offers the service {name!r}")
        return claimed.value

    def has_component(self, name: str) -> bool:
        return name in self.components

    def settings(self, component: str) -> Mapping[str, Any]:
        return self.components[component].settings

    def dependencies_of(self, component: str) -> frozenset[str]:
        return self._dependencies.get(component, frozenset())

    def check_error_code(self, code: str) -> None:
        if code not in self.contributions.error_codes:
            raise RuntimeError(f"error code {code!r} was raised but no loaded component declared it")

    @contextlib.asynccontextmanager
    async def transaction(
        self,
        *,
        hand_over: Callable[[AsyncSession, Callable[[], Awaitable[None]]], None] | None = None,
        precheck: Callable[[], None] | None = None,
    ) -> AsyncIterator[Transaction]:
        """One write transaction; events and live messages go out after it commits.

        ``hand_over(session, release)`` receives the committed session instead of it being
        closed, and the coroutine function that closes it and its connection (PostgreSQL only):
        a mutation then reads its payload on the connection it already holds, so a full
        connection pool can never turn a committed write into an error answer.

        ``precheck()`` (synchronous: no I/O while the slot is held) runs once the write slot
        is this transaction's, before BEGIN, and may raise a DomainError to refuse without a
        transaction: a crowd queued for SQLite's one writer (a sold-out flash sale) is then
        refused from memory as each one's turn comes (components/flash_sale/early.py)."""
        async with self.db.write_slot():
            if precheck is not None:
                precheck()
            if hand_over is not None and self.db.is_postgresql:
                # Bound to one connection, the session keeps it after COMMIT (an unbound one
                # would give it back to the pool and need another to read the payload).
                connection = await self.db.write_engine.connect()
                session = AsyncSession(bind=connection, expire_on_commit=False)
                kept = False
                try:
                    async with session.begin():
                        tx = Transaction(self, session)
                        yield tx

                    async def release() -> None:
                        try:
                            await session.close()
                        finally:
                            await connection.close()

                    hand_over(session, release)
                    kept = True
                finally:
                    if not kept:
                        await session.close()
                        await connection.close()
            else:
                async with self.db.write_sessions() as session:
                    async with session.begin():
                        tx = Transaction(self, session)
                        yield tx
        await tx._committed()

    # -- lifecycle --------------------------------------------------------------------------------
    async def start(self, *, seed_demo: bool | None = None) -> None:
        if self.started:
            return
        await self.prepare()
        await self.broadcast.start()
        await self.timers.ensure_recurring()
        for loaded in self.components.values():
            hook = getattr(loaded.hooks, "dougong_startup", None)
            if hook is not None:
                await _maybe_await(hook(kernel=self))
        if seed_demo if seed_demo is not None else self.blueprint.demo_data:
            await self.seed_demo()
        self.started = True

    async def prepare(self) -> None:
        """What commands that only touch the database need (``dougong token``, ``staff add``):
        migrations, and the generated token secret of a blueprint without ``auth.secret``."""
        from core import migrations, signing_secret

        await migrations.upgrade(self)
        if self.blueprint.auth.secret is None:
            self.tokens.use_secret(await signing_secret.database_secret(self))

    async def seed_demo(self) -> bool:
        """Seed demo data once per database; returns whether it seeded now.

        Under the database-wide lock: ``serve --workers N --seed-demo`` boots N workers at
        once on a fresh PostgreSQL, and each would otherwise find no marker and seed (the
        second one failing on a duplicate key)."""
        async with self.db.exclusive("seed-demo"):
            async with self.transaction() as tx:
                if await tx.session.get(MetaRow, "demo_seeded") is not None:
                    return False
                for loaded in self.components.values():
                    hook = getattr(loaded.hooks, "dougong_seed_demo", None)
                    if hook is not None:
                        await _maybe_await(hook(kernel=self, tx=tx))
                tx.session.add(MetaRow(key="demo_seeded", value="yes"))
        return True

    async def run_due(self) -> int:
        """One worker tick: due timers, then events whose delivery failed or was cut short."""
        ran = await self.timers.run_due()
        await self.events.redeliver()
        return ran

    def start_worker(self, interval: float = 0.5) -> None:
        async def loop() -> None:
            while True:
                try:
                    await self.run_due()
                except asyncio.CancelledError:
                    raise
                except Exception:  # the database may be down; try again next tick
                    log.exception("worker tick failed for %s", self.blueprint.brand.slug)
                await asyncio.sleep(interval)

        self._worker = asyncio.create_task(loop())

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        for loaded in reversed(list(self.components.values())):
            hook = getattr(loaded.hooks, "dougong_shutdown", None)
            if hook is not None:
                await _maybe_await(hook(kernel=self))
        await self.broadcast.stop()
        await self.db.dispose()
        self.started = False

    async def pending_timers(self) -> int:
        from sqlalchemy import func

        from core.models import TimerRow

        async with self.db.read() as session:
            return int(await session.scalar(select(func.count()).select_from(TimerRow).where(TimerRow.state == "pending")) or 0)

    def issue_token(self, actor, ttl: timedelta | None = None) -> str:  # noqa: ANN001
        return self.tokens.issue(actor, ttl)


async def _maybe_await(value: Any) -> Any:
    if inspect.isawaitable(value):
        return await value
    return value
