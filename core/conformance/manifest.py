"""Rules a manifest must keep before any of the component's code runs."""

from __future__ import annotations

import re
from typing import Any, Iterator, Mapping

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from core.conformance.failure import Failure
from registry.manifest import Manifest

NAME = re.compile(r"^[a-z][a-z0-9_]*$")
ACCESS_WORDS = ("public", "member", "staff", "member or staff")
MOVES = ("money", "stock", "points")


def manifest_failures(manifest: Manifest, where: str) -> list[Failure]:
    out: list[Failure] = []

    def fail(rule: str, message: str) -> None:
        out.append(Failure(manifest.name, rule, where, message))

    if not NAME.match(manifest.name):
        fail("manifest-name", f"name {manifest.name!r} is not snake_case")
    if not manifest.summary.strip():
        fail("manifest-summary", "the summary is empty")
    try:
        Version(manifest.version)
    except InvalidVersion:
        fail("manifest-version", f"version {manifest.version!r} is not a PEP 440 version")
    for what, spec in (("kernel", manifest.kernel), *((f"depends.{n}", s) for n, s in manifest.depends.items())):
        try:
            SpecifierSet(spec)
        except InvalidSpecifier:
            fail("manifest-version", f"{what} {spec!r} is not a PEP 440 version range")
    schema = manifest.settings_schema
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        fail("settings-schema", f"the settings schema is not valid JSON Schema: {exc.message}")
        return out
    if schema.get("type") != "object":
        fail("settings-schema", "the settings schema must describe an object (type: object)")
    for path in undescribed(schema):
        fail("settings-described", f"setting {path!r} has no description")
    try:
        Draft202012Validator(schema).validate({})
    except Exception as exc:  # noqa: BLE001 - any refusal means the component cannot boot with defaults
        fail("settings-defaults", f"the component does not boot with default settings: {getattr(exc, 'message', exc)}")
    for field_name, who in manifest.access.items():
        if not isinstance(who, str) or not who:
            fail("access", f"root field {field_name!r} declares no access")
    for field_name, what in manifest.moves.items():
        parts = str(what).split("+")
        if not parts or any(p not in MOVES for p in parts):
            fail("moves", f"mutation {field_name!r} moves {what!r}; say money, stock or points (joined by '+')")
    return out


def undescribed(schema: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    """Dotted paths of settings without a ``description``, nested objects and list items included."""
    for name, sub in (schema.get("properties") or {}).items():
        path = f"{prefix}{name}"
        if not isinstance(sub, Mapping):
            continue
        if not str(sub.get("description", "")).strip():
            yield path
        yield from undescribed(sub, path + ".")
        items = sub.get("items")
        if isinstance(items, Mapping):
            yield from undescribed(items, path + "[].")
