"""Alembic migrations with one branch per component.

Each component keeps its revisions in ``<package>/migrations/`` (the kernel's in
``core/kernel_migrations/``); the first revision of a component carries the branch label of
its name. Branches are upgraded one by one in the blueprint's dependency order, so foreign keys
to a dependency's tables always find them. A blueprint's database is upgraded to the heads of just
the components it loads — ``dougong migrate FILE``, unattended — and ``kernel.start()`` does
the same before serving.

A database with none of the blueprint's tables yet (a new brand, every test's template) is not
taken through every revision: its tables are created from the models and every branch is
stamped at its head, in one transaction (``fresh_create_and_stamp``). The revisions and the
models agree — ``tests/core/test_migrations.py`` builds both and compares tables, columns,
indexes and constraints — so the result is the same schema, reached in a fraction of the time.

Components without a ``migrations`` folder (a prototype, an inline test component) get their
tables created directly; ``dougong migrate FILE --revision NAME -m "..."`` writes the
component's next revision by comparing its tables in the database with its models.
"""

from __future__ import annotations

import functools
import importlib
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alembic.autogenerate import produce_migrations, render_python_code
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from core.db import metadata
from core.models import KERNEL_TABLES

if TYPE_CHECKING:  # pragma: no cover
    from core.kernel import Kernel

VERSION_TABLE = "kernel_alembic_version"
KERNEL_BRANCH = "kernel"
HERE = Path(__file__).resolve().parent
TEMPLATE_DIR = HERE / "migration_template"
KERNEL_VERSIONS = HERE / "kernel_migrations"


def migration_folders(kernel: Kernel) -> dict[str, Path]:
    """Branch name → folder of revisions, for the kernel and every loaded component that has one."""
    folders = {KERNEL_BRANCH: KERNEL_VERSIONS}
    for installed in kernel.blueprint.resolution.order:
        package = importlib.import_module(installed.module)
        folder = Path(str(package.__file__)).resolve().parent / "migrations"
        # A folder with no revision yet (a new component before its first `migrate --revision`)
        # is no branch: its tables are created directly until the first revision exists.
        if folder.is_dir() and any(p.name != "__init__.py" for p in folder.glob("*.py")):
            folders[installed.manifest.name] = folder
    return folders


def owned_tables(kernel: Kernel, branch: str) -> list:
    if branch == KERNEL_BRANCH:
        return list(KERNEL_TABLES)
    return [c.value for name, c in kernel.contributions.tables.items() if c.component == branch]


def unmanaged_tables(kernel: Kernel, skip: frozenset[str] = frozenset()) -> list:
    """Tables of loaded components that ship no migrations: created directly."""
    managed = set(migration_folders(kernel)) | skip
    return [c.value for c in kernel.contributions.tables.values() if c.component not in managed]


def _script(kernel: Kernel) -> ScriptDirectory:
    return _script_for(tuple(str(p) for p in migration_folders(kernel).values()))


@functools.lru_cache(maxsize=64)
def _script_for(folders: tuple[str, ...]) -> ScriptDirectory:
    # Reading a ScriptDirectory imports every revision file; revisions don't change while a
    # process runs (``make_revision`` builds its own), so each set of folders is read once —
    # every worker boot and every test kernel would otherwise pay for it again.
    return ScriptDirectory(str(TEMPLATE_DIR), version_locations=list(folders))


def _is_fresh(connection: Any, tables: list) -> bool:
    """No version table and none of the tables the revisions would create: nothing to replay onto."""
    from sqlalchemy import inspect

    present = set(inspect(connection).get_table_names())
    return VERSION_TABLE not in present and not present & {t.name for t in tables}


def _create_and_stamp(connection: Any, script: ScriptDirectory, tables: list) -> None:
    """Create the branches' tables from the models and record every branch at its head.

    Same transaction as the caller's: a crash leaves either no tables and no stamp or both."""
    groups: dict[int, tuple[Any, list]] = {}
    for table in tables:
        groups.setdefault(id(table.metadata), (table.metadata, []))[1].append(table)
    for md, group in groups.values():
        md.create_all(connection, tables=group, checkfirst=False)
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    context.stamp(script, "heads")


def _upgrade_sync(connection: Any, script: ScriptDirectory, is_sqlite: bool, branches: list[str], fresh_tables: list | None = None) -> None:
    if fresh_tables is not None and _is_fresh(connection, fresh_tables):
        _create_and_stamp(connection, script, fresh_tables)
        return
    # Branch by branch in the blueprint's dependency order, so a component's foreign keys find
    # its dependencies' tables. (Alembic's depends_on between branch heads confuses its head
    # bookkeeping, and the order is ours to know anyway.)
    for branch in branches:
        target = f"{branch}@head"

        def steps(revision, _context, target=target):  # noqa: ANN001, ANN202
            return script._upgrade_revs(target, revision)

        with EnvironmentContext(Config(), script, fn=steps, destination_rev=target) as env:
            env.configure(connection=connection, target_metadata=metadata, version_table=VERSION_TABLE, render_as_batch=is_sqlite)
            with env.begin_transaction():
                env.run_migrations()


async def upgrade(kernel: Kernel, *, skip: frozenset[str] = frozenset(), replay: bool = False) -> None:
    """Bring the database to the heads of the kernel's and the loaded components' branches.
    ``skip``: components whose tables must not be created directly (a revision is being written).
    ``replay``: run every revision even on an empty database (writing a revision compares the
    models with what the revisions built; the equivalence test builds both ways)."""
    script = _script(kernel)
    branches = list(migration_folders(kernel))
    fresh_tables = None if replay or skip else [t for branch in branches for t in owned_tables(kernel, branch)]
    # Every worker of `serve --workers N` upgrades at boot: one at a time, the others then
    # find the database at heads (without this, two CREATE TABLE the version table at once).
    async with kernel.db.exclusive("migrations"):
        async with kernel.db.write_slot():
            async with kernel.db.write_engine.begin() as conn:
                await conn.run_sync(_upgrade_sync, script, kernel.db.is_sqlite, branches, fresh_tables)
        await kernel.db.create_tables(unmanaged_tables(kernel, skip))


async def current_heads(kernel: Kernel) -> set[str]:
    async with kernel.db.read_engine.connect() as conn:
        return set(await conn.run_sync(lambda c: MigrationContext.configure(c, opts={"version_table": VERSION_TABLE}).get_current_heads()))


async def pending_changes(kernel: Kernel, branch: str) -> Any:
    """What differs between the database and the models of one branch's tables."""
    names = {t.name for t in owned_tables(kernel, branch)}

    def include(obj, name, type_, reflected, compare_to):  # noqa: ANN001, ANN202
        table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
        return table in names

    def diff(connection):  # noqa: ANN001, ANN202
        context = MigrationContext.configure(connection, opts={"include_object": include, "target_metadata": metadata, "compare_type": True})
        return produce_migrations(context, metadata)

    async with kernel.db.read_engine.connect() as conn:
        return await conn.run_sync(diff)


async def make_revision(kernel: Kernel, branch: str, message: str) -> Path | None:
    """Write ``branch``'s next revision from the difference between its models and the database
    (upgraded to heads first). Returns the new file, or None when nothing changed."""
    if branch != KERNEL_BRANCH and branch not in kernel.components:
        raise LookupError(f"component {branch!r} is not loaded by this blueprint")
    await upgrade(kernel, skip=frozenset({branch}), replay=True)
    produced = await pending_changes(kernel, branch)
    if produced.upgrade_ops.is_empty():
        return None
    if branch == KERNEL_BRANCH:
        folder = KERNEL_VERSIONS
    else:
        package = importlib.import_module(next(i.module for i in kernel.blueprint.resolution.order if i.manifest.name == branch))
        folder = Path(str(package.__file__)).resolve().parent / "migrations"
    folder.mkdir(exist_ok=True)
    script = ScriptDirectory(str(TEMPLATE_DIR), version_locations=[str(p) for p in {**migration_folders(kernel), branch: folder}.values()])
    has_branch = any(branch in (rev.branch_labels or ()) for rev in script.walk_revisions())
    script.generate_revision(
        uuid.uuid4().hex[:12],
        message,
        head=f"{branch}@head" if has_branch else "base",
        branch_labels=None if has_branch else [branch],
        version_path=str(folder),
        upgrades=render_python_code(produced.upgrade_ops, render_as_batch=True),
        downgrades=render_python_code(produced.downgrade_ops, render_as_batch=True),
        component=branch,
    )
    return max(folder.glob("*.py"), key=lambda p: p.stat().st_mtime)
