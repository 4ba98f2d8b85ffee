"""Migrated-database templates for test kernels: migrate once per schema, copy per test.

Running every component's Alembic revisions on a fresh database costs a test kernel more than
everything else it does at boot (about 0.7 s of CPU for the demo blueprint on SQLite, and
most of the suite builds at least one kernel). The schema a blueprint migrates to depends only
on its revision files and its tables, so the plugin migrates one database per distinct schema
in a session and hands every other test a copy: a file copy on SQLite, ``CREATE DATABASE …
TEMPLATE`` on PostgreSQL. ``kernel.start()`` still runs the upgrade, which then finds the
copy at its heads and does nothing — a wrong key would fail loudly there, not silently.

Set ``DOUGONG_TEST_TEMPLATES=0`` to migrate every test database from scratch.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.schema import CreateTable

if TYPE_CHECKING:  # pragma: no cover
    from core.kernel import Kernel


def enabled() -> bool:
    return os.environ.get("DOUGONG_TEST_TEMPLATES", "1") != "0"


def schemas_enabled() -> bool:
    """Whether kernel_factory's kernels of one blueprint share a schema (off: DOUGONG_TEST_SCHEMAS=0)."""
    return os.environ.get("DOUGONG_TEST_SCHEMAS", "1") != "0"


def schema_key(kernel: Kernel) -> str:
    """A digest of what a migrated database holds: every revision file the kernel would run
    (name, size, modification time) and the DDL of every table it creates directly or through
    migrations (inline test components bring tables without revisions)."""
    from core import migrations
    from core.models import KERNEL_TABLES

    digest = hashlib.sha256()
    digest.update(kernel.db.url.get_backend_name().encode())
    for branch, folder in migrations.migration_folders(kernel).items():
        digest.update(f"\0branch {branch}".encode())
        for path in sorted(folder.glob("*.py")):
            stat = path.stat()
            digest.update(f"\0{path.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    dialect = kernel.db.write_engine.dialect
    tables = list(KERNEL_TABLES) + [c.value for c in kernel.contributions.tables.values()]
    for table in sorted(tables, key=lambda t: t.name):
        digest.update(str(CreateTable(table).compile(dialect=dialect)).encode())
    return digest.hexdigest()[:20]


class SqliteTemplates:
    """One migrated SQLite file per schema key in a folder of the test session."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    async def prepare(self, kernel: Kernel, database_file: Path) -> None:
        from core import migrations

        template = self.root / f"{schema_key(kernel)}.sqlite"
        if template.exists():
            shutil.copyfile(template, database_file)
            return
        await migrations.upgrade(kernel)
        # Through SQLite's backup API: the kernel holds the file open in WAL mode, so a plain
        # copy could miss pages still in the -wal file. Written aside, then renamed, so a
        # template is either whole or absent.
        partial = template.with_suffix(".partial")
        await asyncio.to_thread(_backup, database_file, partial)
        partial.replace(template)


def _backup(source: Path, target: Path) -> None:
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


class PostgresTemplates:
    """One migrated database per schema key on the session's PostgreSQL server."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.made: set[str] = set()

    async def prepare(self, kernel: Kernel, database: str) -> None:
        """Create ``database`` (not yet existing) already migrated."""
        from core import migrations

        template = f"tmpl_{schema_key(kernel)}"
        if template in self.made:
            await asyncio.to_thread(self.server.create_database, database, template)
            return
        await asyncio.to_thread(self.server.create_database, database)
        await migrations.upgrade(kernel)
        await kernel.db.dispose()  # CREATE DATABASE … TEMPLATE needs the source without sessions
        try:
            await asyncio.to_thread(self.server.create_database, template, database)
        except RuntimeError:
            return  # a straggling session: this schema is simply migrated again next time
        self.made.add(template)
