"""Finding installed components through the ``dougong.components`` entry-point group.

Built-ins are declared in our own pyproject.toml exactly as a third-party package declares
its components, so both are found, versioned and loaded the same way.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from importlib.metadata import entry_points

from registry.manifest import Manifest

GROUP = "dougong.components"


@dataclass(frozen=True)
class InstalledComponent:
    manifest: Manifest
    module: str  # the entry point's module path, e.g. "components.catalog"
    distribution: str | None  # the installed distribution providing it, e.g. "dougong"


def discover(group: str = GROUP) -> tuple[dict[str, InstalledComponent], list[str]]:
    """Installed components by name, and readable problems (never raises for a broken one)."""
    found: dict[str, InstalledComponent] = {}
    problems: list[str] = []
    for entry in sorted(entry_points(group=group), key=lambda e: (e.name, e.value)):
        distribution = entry.dist.name if entry.dist is not None else None
        try:
            module = importlib.import_module(entry.value)
        except Exception as exc:  # a broken package must not hide the others
            problems.append(f"component {entry.name!r} ({distribution or '?'}): cannot import {entry.value!r}: {exc!r}")
            continue
        manifest = getattr(module, "manifest", None)
        if not isinstance(manifest, Manifest):
            problems.append(f"component {entry.name!r}: {entry.value!r} has no `manifest = Manifest(...)`")
            continue
        if manifest.name != entry.name:
            problems.append(f"entry point {entry.name!r} names a manifest called {manifest.name!r}; they must match")
            continue
        if entry.name in found and found[entry.name].module != entry.value:
            problems.append(f"component {entry.name!r} is installed twice: by {found[entry.name].distribution} and {distribution}")
            continue
        found[entry.name] = InstalledComponent(manifest, entry.value, distribution)
    return found, problems
