"""Resolving a blueprint's components: versions, dependencies, order.

Every problem is reported (not just the first), and each names the chain of components that
led to it ("group_buy → orders → payments"), because the consultant wrote only the first link.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Mapping

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from registry.discovery import InstalledComponent

ARROW = " → "


@dataclass(frozen=True)
class ResolutionProblem:
    component: str | None
    message: str
    hint: str | None = None
    chain: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


@dataclass
class Resolution:
    order: list[InstalledComponent]  # dependencies before dependents, deterministic
    requested: dict[str, str | None]  # what the blueprint named, with its version specifier
    # a component the blueprint did not name -> the chain that pulled it in, e.g. ("group_buy", "orders")
    pulled_in: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return [c.manifest.name for c in self.order]


def closest(name: object, known: list[str]) -> str | None:
    """A "did you mean" hint naming up to three of ``known`` that look like ``name``."""
    matches = difflib.get_close_matches(str(name), [str(k) for k in known], n=3, cutoff=0.6)
    return f"did you mean {' or '.join(repr(m) for m in matches)}?" if matches else None


def _satisfies(version: str, spec: SpecifierSet) -> bool:
    try:
        return spec.contains(Version(version), prereleases=True)
    except InvalidVersion:
        return False


def resolve(
    requested: Mapping[str, str | None],
    installed: Mapping[str, InstalledComponent],
    kernel_version: str,
) -> tuple[Resolution | None, list[ResolutionProblem]]:
    """Order ``requested`` (name -> version specifier or None) and everything they depend on.

    Returns ``(resolution, [])`` or ``(None, problems)`` with every problem found: unknown
    components, ranges not met (a component named by the blueprint and depended on by another
    must meet both), invalid ranges, missing dependencies, cycles and kernel ranges. The order
    is depth-first in the blueprint's order with dependencies sorted by name, so the same
    blueprint always boots its components in the same order.
    """
    problems: list[ResolutionProblem] = []
    known = sorted(installed)
    order: list[InstalledComponent] = []
    placed: set[str] = set()
    pulled_in: dict[str, tuple[str, ...]] = {}
    reported_missing: set[tuple[str, ...]] = set()

    def check_range(name: str, text: str | None, chain: tuple[str, ...], who: str) -> None:
        if not text or name not in installed:
            return
        try:
            spec = SpecifierSet(text)
        except InvalidSpecifier:
            problems.append(
                ResolutionProblem(
                    name, f"{who} asks for version {text!r} of {name!r}, which is not a PEP 440 range", "write it like '>=1.0,<2'", chain
                )
            )
            return
        version = installed[name].manifest.version
        if not _satisfies(version, spec):
            # The blueprint only names the first link, so a dependency's mismatch shows how it got there.
            prefix = f"{ARROW.join(chain)}: " if len(chain) > 1 else ""
            problems.append(ResolutionProblem(name, f"{prefix}{who} needs {name} {text}, but {version} is installed", None, chain))

    def visit(name: str, chain: tuple[str, ...], stack: tuple[str, ...]) -> None:
        if name in stack:
            cycle = stack[stack.index(name) :] + (name,)
            problems.append(ResolutionProblem(name, f"dependency cycle: {ARROW.join(cycle)}", "remove one of these dependencies", cycle))
            return
        if name in placed:
            return
        component = installed.get(name)
        if component is None:
            if chain not in reported_missing:
                reported_missing.add(chain)
                if len(chain) == 1:
                    hint = closest(name, known) or "`dougong components` lists the installed ones"
                    problems.append(ResolutionProblem(name, f"unknown component {name!r}", hint, chain))
                else:
                    problems.append(
                        ResolutionProblem(
                            chain[0],
                            f"{ARROW.join(chain)}: {chain[-2]!r} depends on {name!r}, which is not installed",
                            f"install the package that provides {name!r}",
                            chain,
                        )
                    )
            return
        manifest = component.manifest
        try:
            if not _satisfies(kernel_version, SpecifierSet(manifest.kernel)):
                problems.append(
                    ResolutionProblem(
                        name,
                        f"{name} {manifest.version} works with kernel {manifest.kernel}, but this kernel is {kernel_version}",
                        f"use a version of {name!r} made for kernel {kernel_version}",
                        chain,
                    )
                )
        except InvalidSpecifier:
            problems.append(ResolutionProblem(name, f"{name} declares an invalid kernel range {manifest.kernel!r}", None, chain))
        for dep in sorted(manifest.depends):
            check_range(dep, manifest.depends[dep], chain + (dep,), name)
            visit(dep, chain + (dep,), stack + (name,))
        if name not in placed:
            placed.add(name)
            order.append(component)
            if len(chain) > 1 and name not in requested:
                pulled_in.setdefault(name, chain)

    for name, text in requested.items():
        check_range(name, text, (name,), "the blueprint")
        visit(name, (name,), ())

    if problems:
        return None, problems
    return Resolution(order=order, requested=dict(requested), pulled_in=pulled_in), []
