"""The schema's house rules, checked over the built schema the way a frontend team reads it.

Each finding names a schema coordinate (``Order.storeId``, ``Query.orders(first)``), the rule
it breaks and the component whose code defines it, so a test can demand zero findings and a
component author can list only their own::

    python -m core.gql.conventions blueprints/demo.yaml --owner orders

Rules (DESIGN.md, "GraphQL naming", and the frontend issue that asked for them):

- ``undocumented``: every type, field, argument, input field and enum value has a description;
- ``raw-id``: a field, argument or input field named ``…Id``/``…Ids`` is an ``ID`` (a global id),
  never ``Int``/``Long``/``String`` — deprecated aliases kept for one release are exempt;
- ``untyped-json``: ``JSON`` only where the shape is really open (listed in ``OPEN_JSON``);
- ``string-state``: a ``String`` named like a closed set (status, state, kind…) should be an enum;
- ``connection-arguments``: a connection field accepts nullable ``first``, ``after``, ``last``,
  ``before``;
- ``enum-case``: enum values are UPPER_CASE (one case convention for every closed set);
- ``subscription-node``: a subscription's payload is a node or carries one (a field whose type
  implements ``Node``), so a normalised client cache can apply each event by its ``id``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
)

# JSON whose shape is the author's to choose: a JSON Schema document, a block's settings.
OPEN_JSON = frozenset({"ComponentInfo.settingsSchema", "StorefrontBlockType.settingsSchema", "StorefrontBlock.settings"})
_ID_NAME = re.compile(r"[a-z0-9](Id|Ids)$|^ids?$")
_STATE_NAME = re.compile(r"(^|[a-z])(status|state|kind|stage|mode|role|roles)$", re.IGNORECASE)
_RAW_ID_TYPES = {"Int", "Long", "String"}
_ENUM_VALUE = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$")


@dataclass(frozen=True)
class Finding:
    coordinate: str
    rule: str
    owner: str

    def __str__(self) -> str:
        return f"{self.owner}: {self.coordinate}: {self.rule}"


def findings(strawberry_schema: Any, components: Mapping[str, Any] | None = None) -> list[Finding]:
    """Every finding in a built :class:`core.gql.schema.DougongSchema`, sorted by coordinate.

    ``components`` (a kernel's ``components``) names owners by their blueprint name even when
    the package is called otherwise (``dougong_checkin`` is the component ``checkin``)."""
    schema: GraphQLSchema = strawberry_schema._schema
    owners = _Owners(strawberry_schema, _packages(components or {}))
    found = [f for f in _walk(schema, owners) if f.coordinate not in OPEN_JSON or f.rule != "untyped-json"]
    return sorted(set(found), key=lambda f: (f.owner, f.coordinate, f.rule))


class _Owners:
    """Which component's module defines a type or a field."""

    def __init__(self, strawberry_schema: Any, packages: dict[str, str]) -> None:
        self._schema = strawberry_schema
        self._packages = packages

    def component(self, module: str) -> str:
        for package, name in self._packages.items():  # longest first
            if module == package or module.startswith(package + "."):
                return name
        return _component(module)

    def of_type(self, name: str) -> str:
        definition = self._schema.get_type_by_name(name)
        origin = getattr(definition, "origin", None) or getattr(definition, "wrapped_cls", None)
        return self.component(getattr(origin, "__module__", "") or "")

    def of_field(self, type_name: str, field: GraphQLField | Any) -> str:
        definition = (getattr(field, "extensions", None) or {}).get("strawberry-definition")
        origin = getattr(definition, "origin", None)
        module = getattr(origin, "__module__", None)
        if module and not module.startswith("strawberry"):
            return self.component(module)
        return self.of_type(type_name)


def _packages(components: Mapping[str, Any]) -> dict[str, str]:
    """The package of each loaded component's hooks module, longest first."""
    found = {}
    for name, loaded in components.items():
        module = getattr(getattr(loaded, "hooks", None), "__name__", "")
        if module:
            found[module.rpartition(".")[0] or module] = name
    return dict(sorted(found.items(), key=lambda item: -len(item[0])))


def _component(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "components" and len(parts) > 1:
        return parts[1]
    return parts[0] or "unknown"


def _walk(schema: GraphQLSchema, owners: _Owners) -> Iterator[Finding]:
    for name, gtype in schema.type_map.items():
        if name.startswith("__") or name in {"String", "Int", "Float", "Boolean", "ID"}:
            continue
        owner = owners.of_type(name)
        if not gtype.description:
            yield Finding(name, "undocumented", owner)
        if isinstance(gtype, GraphQLEnumType):
            for value_name, value in gtype.values.items():
                if not value.description:
                    yield Finding(f"{name}.{value_name}", "undocumented", owner)
                if not _ENUM_VALUE.match(value_name):
                    yield Finding(f"{name}.{value_name}", "enum-case", owner)
        elif isinstance(gtype, GraphQLInputObjectType):
            for field_name, field in gtype.fields.items():
                yield from _value_rules(f"{name}.{field_name}", field, owner)
        elif isinstance(gtype, (GraphQLObjectType, GraphQLInterfaceType)):
            for field_name, field in gtype.fields.items():
                field_owner = owners.of_field(name, field)
                coordinate = f"{name}.{field_name}"
                yield from _value_rules(coordinate, field, field_owner)
                for arg_name, arg in field.args.items():
                    yield from _value_rules(f"{coordinate}({arg_name})", arg, field_owner)
                if get_named_type(field.type).name.endswith("Connection"):
                    yield from _connection_rules(coordinate, field, field_owner)
                if gtype is schema.subscription_type and not _carries_node(field):
                    yield Finding(coordinate, "subscription-node", field_owner)


def _value_rules(coordinate: str, value: Any, owner: str) -> Iterator[Finding]:
    """Rules for anything with a type and a name: a field, an argument, an input field."""
    if not value.description:
        yield Finding(coordinate, "undocumented", owner)
    if getattr(value, "deprecation_reason", None):
        return
    name = coordinate.rsplit(".", 1)[-1].split("(")[-1].rstrip(")")
    named = get_named_type(value.type).name
    if _ID_NAME.search(name) and named in _RAW_ID_TYPES:
        yield Finding(coordinate, "raw-id", owner)
    if named == "JSON":
        yield Finding(coordinate, "untyped-json", owner)
    if named == "String" and _STATE_NAME.search(name) and not _is_list(value.type):
        yield Finding(coordinate, "string-state", owner)


def _is_list(gtype: Any) -> bool:
    while isinstance(gtype, GraphQLNonNull):
        gtype = gtype.of_type
    return isinstance(gtype, GraphQLList)


def _is_node(gtype: Any) -> bool:
    return isinstance(gtype, (GraphQLObjectType, GraphQLInterfaceType)) and (gtype.name == "Node" or any(i.name == "Node" for i in gtype.interfaces))


def _carries_node(field: GraphQLField) -> bool:
    payload = get_named_type(field.type)
    if _is_node(payload):
        return True
    fields = getattr(payload, "fields", None) or {}
    return any(_is_node(get_named_type(f.type)) for f in fields.values())


def _connection_rules(coordinate: str, field: GraphQLField, owner: str) -> Iterator[Finding]:
    for arg_name in ("first", "after", "last", "before"):
        arg = field.args.get(arg_name)
        if arg is None or isinstance(arg.type, GraphQLNonNull):
            yield Finding(f"{coordinate}({arg_name})", "connection-arguments", owner)


def main(argv: list[str] | None = None) -> int:
    """``python -m core.gql.conventions BLUEPRINT [--owner NAME] [--rule RULE]``: print findings."""
    import argparse
    from collections import Counter
    from pathlib import Path

    from core.kernel import Kernel

    parser = argparse.ArgumentParser(prog="python -m core.gql.conventions")
    parser.add_argument("blueprint", type=Path)
    parser.add_argument("--owner", action="append", help="only findings of this component (repeatable)")
    parser.add_argument("--rule", action="append", help="only this rule (repeatable)")
    args = parser.parse_args(argv)
    kernel = Kernel.from_file(args.blueprint)
    shown = [
        f for f in findings(kernel.schema, kernel.components) if (not args.owner or f.owner in args.owner) and (not args.rule or f.rule in args.rule)
    ]
    for finding in shown:
        print(finding)
    counts = Counter((f.owner, f.rule) for f in shown)
    for (owner, rule), count in sorted(counts.items()):
        print(f"# {owner:18} {rule:22} {count}", file=sys.stderr)
    print(f"# {len(shown)} findings", file=sys.stderr)
    return 1 if shown else 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
