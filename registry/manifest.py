"""A component's manifest: what the kernel may know about it without running its hooks.

Every component package exposes ``manifest`` in its ``__init__.py``. Importing that module
must be cheap and side-effect free: the hooks live in a separate module (``hooks``), which
the kernel imports only when the component is actually registered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

EMPTY_SETTINGS_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "properties": {},
    "additionalProperties": False,
}


@dataclass(frozen=True)
class Manifest:
    """Static description of a component.

    name:            the key consultants write under ``components:`` (snake_case).
    version:         the component's own version (PEP 440).
    summary:         one line for ``dougong components`` and the catalog.
    titles:          the component's name for people, by language: ``{"zh": "直播间", "en": "Live room"}``
                     (the studio shows the one of its language, else the ``name``).
    summaries:       ``summary`` by language, likewise (else ``summary``).
    hooks:           dotted path of the module holding the hook implementations.
    kernel:          PEP 440 specifier of kernel versions this component works with.
    depends:         component name -> PEP 440 specifier ("" means any version).
    settings_schema: JSON Schema (draft 2020-12) of the component's settings block. The
                     kernel validates settings against it before any component code runs,
                     and fills in ``default`` values of top-level and nested properties.
    access:          who may call each of the component's GraphQL root fields: ``"public"``
                     (anyone), ``"member"`` (a signed-in member), ``"staff"`` (any staff
                     member), ``"member or staff"``, or a permission the component declares
                     (``"orders.refund"``). ``dougong check`` requires one entry per root field,
                     so a new field cannot ship without saying who may call it.
    moves:           mutation name -> ``"money"``, ``"stock"`` or ``"points"`` (or several, joined
                     by ``+``): the mutations that move them, which must take an ``idempotencyKey``
                     (``dougong check`` verifies it on the built schema).
    """

    name: str
    version: str
    summary: str
    hooks: str
    kernel: str = ">=0.1"
    depends: Mapping[str, str] = field(default_factory=dict)
    titles: Mapping[str, str] = field(default_factory=dict)
    summaries: Mapping[str, str] = field(default_factory=dict)
    settings_schema: Mapping[str, Any] = field(default_factory=lambda: dict(EMPTY_SETTINGS_SCHEMA))
    access: Mapping[str, str] = field(default_factory=dict)
    moves: Mapping[str, str] = field(default_factory=dict)
