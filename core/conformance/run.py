"""Running every rule for one installed component, booting it alone on a scratch database."""

from __future__ import annotations

import asyncio
import importlib
import os
import tempfile
from pathlib import Path
from typing import Any, Mapping

from core.conformance.failure import Failure
from core.conformance.imports import import_failures
from core.conformance.manifest import manifest_failures
from core.conformance.surface import house_rule_failures, naming_failures, readme_failures, schema_failures


def display(path: Path) -> str:
    """A path as a person would type it from here: relative to the working folder when inside it."""
    try:
        return os.path.relpath(path) if path.resolve().is_relative_to(Path.cwd()) else str(path)
    except ValueError:
        return str(path)


def _installed(installed: Mapping[str, Any] | None) -> tuple[dict[str, Any], list[str]]:
    if installed is not None:
        return dict(installed), []
    from registry.discovery import discover

    return discover()


def package_folder(installed_component: Any) -> Path:
    return Path(str(importlib.import_module(installed_component.module).__file__)).resolve().parent


def quick_check(name: str, installed: Mapping[str, Any], boundaries: Any = None) -> list[Failure]:
    """The rules that need no boot (manifest, README present, imports): for ``dougong components``
    (which passes the :func:`core.boundaries.build` of ``installed`` it made once for all)."""
    component = installed[name]
    try:
        folder = package_folder(component)
    except ImportError:  # only a stand-in can get here: discovery imported every real one
        return manifest_failures(component.manifest, component.module)
    out = manifest_failures(component.manifest, display(folder / "__init__.py"))
    if not (folder / "README.md").is_file():
        out.append(Failure(name, "readme", display(folder / "README.md"), "the component has no README.md beside its manifest"))
    return out + import_failures(name, installed, display, boundaries)


async def check_async(name: str, installed: Mapping[str, Any] | None = None) -> list[Failure]:
    """Every rule for the installed component ``name``; an empty list means it conforms."""
    found, problems = _installed(installed)
    if name not in found:
        why = "; ".join(p for p in problems if repr(name) in p) or "no installed package declares it in the dougong.components entry-point group"
        return [Failure(name, "installed", name, f"component {name!r} is not installed: {why}")]
    component = found[name]
    folder = package_folder(component)
    manifest_where = display(folder / "__init__.py")
    out = quick_check(name, found)
    if any(f.rule in ("settings-schema", "settings-defaults") for f in out):
        return out  # it cannot boot; the rules below would only repeat that
    with tempfile.TemporaryDirectory(prefix="dougong-check-") as scratch:
        kernel, failure = await _boot_alone(name, found, Path(scratch))
        if failure is not None:
            return out + [failure]
        try:
            readme = folder / "README.md"
            text = readme.read_text(encoding="utf-8") if readme.is_file() else None
            out += naming_failures(kernel, name, manifest_where)
            out += schema_failures(kernel, name, component.manifest, manifest_where)
            out += house_rule_failures(kernel, name)
            if text is not None:
                out += readme_failures(kernel, name, text, display(readme))
            out += await migration_failures(kernel, name, folder)
        finally:
            await kernel.stop()
    return out


def check(name: str, installed: Mapping[str, Any] | None = None) -> list[Failure]:
    return asyncio.run(check_async(name, installed))


def check_many(names: list[str], installed: Mapping[str, Any] | None = None) -> dict[str, list[Failure]]:
    found = _installed(installed)[0] if installed is None else dict(installed)

    async def every() -> dict[str, list[Failure]]:
        return {name: await check_async(name, found or None) for name in names}

    return asyncio.run(every())


async def _boot_alone(name: str, installed: Mapping[str, Any], scratch: Path) -> tuple[Any, Failure | None]:
    from core.blueprint import BlueprintError
    from core.errors import BootError
    from core.kernel import Kernel

    text = f"dougong: 1\nbrand: {{slug: check, name: Check, currency: CNY, timezone: Asia/Shanghai}}\ncomponents:\n  {name}: {{}}\n"
    try:
        kernel = Kernel.from_text(text, installed=dict(installed), database_url=f"sqlite+aiosqlite:///{scratch / 'check.sqlite'}")
    except (BootError, BlueprintError) as exc:
        rule = "examples-validate" if "example" in str(exc) else "boots-alone"
        return None, Failure(name, rule, name, f"does not boot alone with its dependencies: {exc}")
    except Exception as exc:  # noqa: BLE001 - a component's own bug, reported rather than raised
        return None, Failure(name, "boots-alone", name, f"does not boot alone with its dependencies: {exc!r}")
    try:
        await kernel.start()
    except Exception as exc:  # noqa: BLE001
        await kernel.stop()
        return None, Failure(name, "boots-alone", name, f"does not start on an empty SQLite database: {exc!r}")
    return kernel, None


async def migration_failures(kernel: Any, name: str, folder: Path) -> list[Failure]:
    from core.migrations import pending_changes

    owns_tables = any(c.component == name for c in kernel.contributions.tables.values())
    migrations = folder / "migrations"
    if not owns_tables:
        return []
    if not migrations.is_dir() or not any(migrations.glob("*.py")):
        return [
            Failure(
                name,
                "migrations",
                display(migrations),
                f"the component owns tables but ships no migrations; write the first with "
                f'`dougong migrate BLUEPRINT --revision {name} -m "{name} tables"`',
            )
        ]
    produced = await pending_changes(kernel, name)
    if produced.upgrade_ops.is_empty():
        return []
    changes = "; ".join(_describe(op) for op in produced.upgrade_ops.ops)
    return [
        Failure(
            name,
            "migrations-match-models",
            display(migrations),
            f"the models differ from the migrations (Alembic autogenerate found: {changes}); "
            f'write a revision with `dougong migrate BLUEPRINT --revision {name} -m "..."`',
        )
    ]


def _describe(op: Any) -> str:
    inner = getattr(op, "ops", None)
    if inner:
        return f"{getattr(op, 'table_name', '?')}: " + ", ".join(type(o).__name__ for o in inner)
    return f"{type(op).__name__} {getattr(op, 'table_name', '') or ''}".strip()
