"""Component boundaries as import-linter contracts, built from the installed manifests.

The rule (README, "Boundaries"): a component's **public** modules are its package itself
(the manifest) and ``graphql`` (the types others extend or point at). A component may import
the public modules of the components it depends on (``depends``, transitively), nothing else
of theirs, and nothing at all of a component it does not depend on; it calls the other's
service (``kernel.service(name)``) or handles its events instead. The kernel (``core``) and
the registry import no component.

The contracts are generated rather than written by hand so a newly installed component is
covered the moment it is discovered. ``contracts_ini`` renders them for ``lint-imports``.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Any, Mapping

PUBLIC_SUBMODULES = ("graphql",)
KERNEL_PACKAGES = ("core", "registry")


@dataclass(frozen=True)
class Contract:
    key: str  # a stable id: "kernel" or the component's name
    name: str  # what a failure report shows
    sources: tuple[str, ...]
    forbidden: tuple[str, ...]
    allow_indirect: bool


@dataclass
class Boundaries:
    packages: dict[str, str]  # component name -> its package ("components.orders")
    depends: dict[str, set[str]]  # component name -> every component it depends on, transitively
    contracts: list[Contract] = field(default_factory=list)

    @property
    def root_packages(self) -> list[str]:
        return sorted({*KERNEL_PACKAGES, *(p.split(".")[0] for p in self.packages.values())})


def private_modules(package: str) -> list[str]:
    """Every direct submodule of a component package except the public ones."""
    module = importlib.import_module(package)
    names = [info.name for info in pkgutil.iter_modules(getattr(module, "__path__", []))]
    return sorted(f"{package}.{n}" for n in names if n not in PUBLIC_SUBMODULES)


def closure(direct: dict[str, set[str]]) -> dict[str, set[str]]:
    """Transitive dependencies (a component may use what its dependencies are built on)."""
    found: dict[str, set[str]] = {}

    def visit(name: str, seen: frozenset[str]) -> set[str]:
        if name in found:
            return found[name]
        out: set[str] = set()
        for dep in direct.get(name, ()):
            if dep not in seen:
                out |= {dep} | visit(dep, seen | {dep})
        found[name] = out
        return out

    for name in direct:
        visit(name, frozenset({name}))
    return found


def build(installed: Mapping[str, Any]) -> Boundaries:
    """Contracts for ``installed`` (name -> :class:`registry.discovery.InstalledComponent`)."""
    packages = {name: c.module for name, c in installed.items()}
    direct = {name: set(c.manifest.depends) & set(packages) for name, c in installed.items()}
    found = Boundaries(packages, closure(direct))
    found.contracts.append(Contract("kernel", "core and registry import no component", KERNEL_PACKAGES, tuple(sorted(packages.values())), False))
    privates = {name: private_modules(package) for name, package in packages.items()}
    for name, package in sorted(packages.items()):
        forbidden: list[str] = []
        for other, other_package in sorted(packages.items()):
            if other == name:
                continue
            # A dependency: only its public modules. Anything else: not at all.
            forbidden += privates[other] if other in found.depends[name] else [other_package]
        if forbidden:
            # Indirect chains are allowed: importing orders.graphql, which itself imports
            # orders.models, is orders' business, not a crossing by this component.
            found.contracts.append(
                Contract(name, f"{name} imports only the public modules of the components it depends on", (package,), tuple(forbidden), True)
            )
    return found


def contracts_ini(boundaries: Boundaries) -> str:
    """An import-linter configuration (INI) holding every contract."""
    lines = ["[importlinter]", "root_packages =", *(f"    {p}" for p in boundaries.root_packages), "include_external_packages = False", ""]
    for contract in boundaries.contracts:
        lines += [
            f"[importlinter:contract:{contract.key}]",
            f"name = {contract.name}",
            "type = forbidden",
            "source_modules =",
            *(f"    {m}" for m in contract.sources),
            "forbidden_modules =",
            *(f"    {m}" for m in contract.forbidden),
            f"allow_indirect_imports = {contract.allow_indirect}",
            "",
        ]
    return "\n".join(lines)
