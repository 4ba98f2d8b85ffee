"""No imports of other components' internals: the contracts of :mod:`core.boundaries`, applied
to one component's source files directly (its direct imports; what a dependency's public
module imports in turn is that dependency's business, as import-linter is told there too)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from typing import Any, Iterator, Mapping

from core.boundaries import build
from core.conformance.failure import Failure


def imported_modules(tree: ast.AST, package: str) -> Iterator[tuple[str, int]]:
    """(absolute module, line) for every import in a module of ``package``; ``from a import b``
    yields ``a`` and ``a.b`` (b may be a submodule)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            yield base, node.lineno
            for alias in node.names:
                yield f"{base}.{alias.name}", node.lineno


def _forbidden(module: str, forbidden: tuple[str, ...]) -> str | None:
    for prefix in forbidden:
        if module == prefix or module.startswith(prefix + "."):
            return prefix
    return None


def import_failures(component: str, installed: Mapping[str, Any], display: Any) -> list[Failure]:
    contract = next((c for c in build(dict(installed)).contracts if c.key == component), None)
    if contract is None:
        return []
    package = installed[component].module
    root = Path(importlib.import_module(package).__file__).resolve().parent
    out: list[Failure] = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).with_suffix("")
        parts = [p for p in relative.parts if p != "__init__"]
        module_package = ".".join([package, *parts[:-1]]) if path.name != "__init__.py" else ".".join([package, *parts])
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        except SyntaxError as exc:
            out.append(Failure(component, "imports", f"{display(path)}:{exc.lineno}", f"cannot parse: {exc.msg}"))
            continue
        seen: set[tuple[str, int]] = set()
        for module, line in imported_modules(tree, module_package):
            hit = _forbidden(module, contract.forbidden)
            if hit and (hit, line) not in seen:
                seen.add((hit, line))
                out.append(Failure(component, "imports", f"{display(path)}:{line}",
                                   f"imports {module}, internal to another component (use its service or events)"))
    return out
