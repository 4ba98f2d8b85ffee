"""No imports of other components' internals: the contracts of :mod:`core.boundaries`, applied
to one component's source files directly (its direct imports; what a dependency's public
module imports in turn is that dependency's business, as import-linter is told there too)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any, Iterator, Mapping

from core.boundaries import Boundaries, build
from core.conformance.failure import Failure

# Import statements, found by their shape at the start of a line: an order of magnitude faster
# than walking every module's syntax tree, which matters for ``dougong components``. (A docstring
# line shaped like an import would count too; a false alarm there is easy to see and to reword.)
IMPORT = re.compile(r"^[ \t]*(?:from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n#;]*)|import[ \t]+([^\n#;]*))", re.M)


def imported_modules(source: str, package: str) -> Iterator[tuple[str, int]]:
    """(absolute module, line) for every import in a module of ``package``; ``from a import b``
    yields ``a`` and ``a.b`` (b may be a submodule)."""
    for match in IMPORT.finditer(source):
        line = source.count("\n", 0, match.start()) + 1
        base, names, plain = match.groups()
        if plain is not None:
            for part in plain.split(","):
                if part.strip():
                    yield part.split()[0], line
            continue
        level = len(base) - len(base.lstrip("."))
        base = base.lstrip(".")
        if level:
            parts = package.split(".")
            base = ".".join(parts[: len(parts) - level + 1] + ([base] if base else []))
        yield base, line
        for part in names.strip("()").replace("\n", " ").split(","):
            if part.strip():
                yield f"{base}.{part.split()[0]}", line


def _forbidden(module: str, forbidden: tuple[str, ...]) -> str | None:
    for prefix in forbidden:
        if module == prefix or module.startswith(prefix + "."):
            return prefix
    return None


def import_failures(component: str, installed: Mapping[str, Any], display: Any, boundaries: Boundaries | None = None) -> list[Failure]:
    """``boundaries``: the contracts of ``installed`` when the caller checks several components (built once)."""
    boundaries = boundaries or build(dict(installed))
    contract = next((c for c in boundaries.contracts if c.key == component), None)
    if contract is None:
        return []
    package = installed[component].module
    root = Path(str(importlib.import_module(package).__file__)).resolve().parent
    out: list[Failure] = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).with_suffix("")
        parts = [p for p in relative.parts if p != "__init__"]
        module_package = ".".join([package, *parts[:-1]]) if path.name != "__init__.py" else ".".join([package, *parts])
        seen: set[tuple[str, int]] = set()
        for module, line in imported_modules(path.read_text(encoding="utf-8"), module_package):
            hit = _forbidden(module, contract.forbidden)
            if hit and (hit, line) not in seen:
                seen.add((hit, line))
                out.append(
                    Failure(
                        component,
                        "imports",
                        f"{display(path)}:{line}",
                        f"imports {module}, internal to another component (use its service or events)",
                    )
                )
    return out
