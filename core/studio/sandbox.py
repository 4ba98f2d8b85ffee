""" "Try it": the blueprint served for real, on a throwaway SQLite database with demo data.

One sandbox at a time (a new one replaces the last), so an afternoon of clicking does not
pile up kernels. It is the blueprint as written with three exceptions that make it a
sandbox: its own temporary database, no Redis, and never production (GraphiQL and
introspection on, the development secret), because trying is what it is for.
"""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import Any

from core.blueprint import Blueprint, Storage
from core.dry_run import BUILDING


@dataclasses.dataclass
class Sandbox:
    id: str
    kernel: Any
    app: Any
    folder: Path
    key: str = ""  # the blueprint it runs, pages left out (see show_pages)

    def show_pages(self, blueprint: Blueprint) -> None:
        """Serve ``blueprint``'s pages from now on, without a new boot: pages are data the
        kernel reads per request, checked against the block types, which come from the
        components, which are the same (``key``). The response cache still holds pages
        rendered from the old ones, so it is emptied."""
        from core.pages import build_pages

        self.kernel.pages = build_pages(self.kernel, blueprint)
        if self.kernel.response_cache is not None:
            self.kernel.response_cache.clear()

    def tabs(self) -> list[dict[str, Any]]:
        """The components' example operations, as GraphiQL tabs (titles as comments)."""
        return [
            {"title": e.title, "query": f"# {e.title} ({e.component})\n{e.document}", "variables": _json(e.variables)}
            for e in self.kernel.contributions.examples.values()
        ]


def _json(value: Any) -> str | None:
    import json

    return json.dumps(value, indent=2, ensure_ascii=False) if value else None


class Sandboxes:
    def __init__(self) -> None:
        self.current: Sandbox | None = None
        self._lock = asyncio.Lock()

    async def start(self, blueprint: Blueprint, key: str = "") -> Sandbox:
        from core.app import create_app
        from core.kernel import Kernel

        async with self._lock:
            await self._stop()
            folder = Path(tempfile.mkdtemp(prefix="dougong-sandbox-"))
            sandboxed = dataclasses.replace(
                blueprint,
                production=False,
                demo_data=True,
                storage=Storage(database=f"sqlite+aiosqlite:///{folder / 'sandbox.sqlite'}", redis=None),
            )
            try:
                with BUILDING:
                    kernel = Kernel(sandboxed)
                await kernel.start(seed_demo=True)
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                raise
            kernel.start_worker()
            # The kernel is started here, so the app's own lifespan must not start it again.
            self.current = Sandbox(secrets.token_hex(6), kernel, create_app([kernel], run_worker=False), folder, key)
            return self.current

    async def preview(self, blueprint: Blueprint, key: str) -> tuple[Sandbox, bool]:
        """A sandbox running ``blueprint``: the current one with its pages swapped when it runs
        the same blueprint but for its pages, else a new one. (sandbox, whether it booted)."""
        async with self._lock:
            current = self.current
            if current is not None and current.key == key:
                current.show_pages(blueprint)
                return current, False
        return await self.start(blueprint, key), True

    def get(self, sandbox_id: str) -> Sandbox | None:
        current = self.current
        return current if current is not None and secrets.compare_digest(current.id, sandbox_id) else None

    async def stop(self) -> None:
        async with self._lock:
            await self._stop()

    async def _stop(self) -> None:
        current, self.current = self.current, None
        if current is not None:
            try:
                await current.kernel.stop()
            finally:
                shutil.rmtree(current.folder, ignore_errors=True)
