"""The catalog: every installed component as a consultant needs to see it.

Manifests give the names, versions, dependencies and settings; what a component *provides*
(root fields, types, tables, permissions, error codes, jobs, events it handles, examples)
and the events it declares (emits) and handles are read from a dry-run kernel's
contributions, so the catalog shows exactly what a blueprint would get.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Mapping

from markdown_it import MarkdownIt

from core.units import DURATION_PATTERN, MONEY_PATTERN
from registry.discovery import InstalledComponent

_BRAND = "dougong: 1\nbrand: {slug: catalog, name: Catalog, currency: CNY, timezone: Asia/Shanghai}\ncomponents:\n"


def entries(installed: Mapping[str, InstalledComponent]) -> list[dict[str, Any]]:
    """One entry per installed component, sorted by name."""
    provided = _provided(installed)
    return [_entry(component, provided.get(name, {"problem": "not booted"})) for name, component in sorted(installed.items())]


def _entry(component: InstalledComponent, provided: dict[str, Any]) -> dict[str, Any]:
    manifest = component.manifest
    folder = _folder(component)
    return {
        "name": manifest.name,
        "version": manifest.version,
        "titles": dict(manifest.titles) or {"en": manifest.name},
        "summaries": dict(manifest.summaries) or {"en": manifest.summary},
        "depends": dict(manifest.depends),
        "distribution": component.distribution,
        "settings_schema": widgets(manifest.settings_schema),
        "readme_html": _readme(folder),
        **provided,
    }


def widgets(schema: Any) -> Any:
    """The settings schema with ``x-widget`` marks for what JSON Schema cannot say: money and
    durations are strings with a known pattern, shown as amount and duration inputs."""
    if isinstance(schema, dict):
        marked = {k: widgets(v) for k, v in schema.items()}
        if schema.get("pattern") == DURATION_PATTERN:
            marked["x-widget"] = "duration"
        elif schema.get("pattern") == MONEY_PATTERN:
            marked["x-widget"] = "money"
        return marked
    if isinstance(schema, list):
        return [widgets(v) for v in schema]
    return schema


def _folder(component: InstalledComponent) -> Path | None:
    try:
        module = importlib.import_module(component.module)
    except Exception:
        return None
    file = getattr(module, "__file__", None)
    return Path(file).parent if file else None


def _readme(folder: Path | None) -> str:
    if folder is None or not (folder / "README.md").is_file():
        return ""
    # html=False: a README is the component author's text, never markup the studio runs.
    renderer = MarkdownIt("commonmark", {"html": False}).enable("table")
    return renderer.render((folder / "README.md").read_text(encoding="utf-8"))


def _provided(installed: Mapping[str, InstalledComponent]) -> dict[str, dict[str, Any]]:
    """Contributions by component: from one kernel of everything, or one kernel per
    component when two installed components cannot be loaded together."""
    together = _boot(list(installed), installed)
    if isinstance(together, dict):
        return together
    found: dict[str, dict[str, Any]] = {}
    for name in installed:
        alone = _boot([name], installed)
        found[name] = alone.get(name, {}) if isinstance(alone, dict) else {"problem": alone}
    return found


def _boot(names: list[str], installed: Mapping[str, InstalledComponent]) -> dict[str, dict[str, Any]] | str:
    from core.blueprint import BlueprintError, load_blueprint
    from core.dry_run import dry_kernel

    text = _BRAND + "".join(f"  {name}: {{}}\n" for name in names)
    try:
        kernel = dry_kernel(load_blueprint("<catalog>", text=text, installed=installed, env={}))
    except BlueprintError as exc:
        return "; ".join(p.message for p in exc.problems)
    except Exception as exc:  # shown in the catalog as the reason nothing is listed
        return f"{type(exc).__name__}: {exc}"
    return _by_component(kernel)


def _by_component(kernel: Any) -> dict[str, dict[str, Any]]:
    c = kernel.contributions
    out: dict[str, dict[str, Any]] = {}
    for name in kernel.components:
        emits, handles = c.events_of(name)
        out[name] = {
            "provides": {
                k: [] for k in ("queries", "mutations", "subscriptions", "types", "tables", "permissions", "error_codes", "jobs", "examples")
            },
            "emits": list(emits),
            "handles": list(handles),
            "page_blocks": [],  # the block types it offers for storefront pages (the studio's Pages panel)
        }

    def add(component: str, kind: str, value: str) -> None:
        if component in out:
            out[component]["provides"][kind].append(value)

    from core.gql.schema import strawberry_camel

    for kind, claims in (("queries", c.queries), ("mutations", c.mutations), ("subscriptions", c.subscriptions)):
        for claimed in claims:
            for field in claimed.value.__strawberry_definition__.fields:
                add(claimed.component, kind, field.graphql_name or strawberry_camel(field.python_name))
    # Every other contribution is a mapping from its public name to something with a .component.
    named = (
        ("types", c.types),
        ("tables", c.tables),
        ("permissions", c.permissions),
        ("error_codes", c.error_codes),
        ("jobs", c.jobs),
        ("examples", c.examples),
    )
    for kind, claims in named:
        for name, claimed in claims.items():
            add(claimed.component, kind, name)
    for block in sorted(c.page_blocks.values(), key=lambda b: b.name):
        if block.component in out:
            out[block.component]["page_blocks"].append(
                {"name": block.name, "titles": dict(block.titles), "settings_schema": widgets(dict(block.settings_schema))}
            )
    for entry in out.values():
        for values in entry["provides"].values():
            values.sort()
    return out
