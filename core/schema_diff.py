"""What a frontend would see change between two versions of a blueprint's SDL.

``breaking`` and ``dangerous`` come from graphql-core's ``find_breaking_changes`` and
``find_dangerous_changes`` (the same classification graphql-inspector and Apollo use).
Beside them, the two lists a release note is written from:

- ``deprecated``: fields, input fields, arguments and enum values deprecated since the old
  SDL, each with its reason (what to use instead, and when the old form goes);
- ``added``: new types, fields, input fields, arguments and enum values — everything a client
  may start to use. (graphql-core also lists a new enum value or optional argument as
  dangerous: a client that switches over the enum must learn the value; both views stay.)

A change made the issue-18 way (a typed field beside the deprecated old one) therefore reads
as one deprecation and one addition, and nothing breaking.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
    find_breaking_changes,
    find_dangerous_changes,
)

KINDS = ("breaking", "dangerous", "deprecated", "added")


class SDLError(ValueError):
    """An SDL text that cannot be read as a schema; the message says where."""


@dataclass
class ChangeReport:
    breaking: list[str] = field(default_factory=list)
    dangerous: list[str] = field(default_factory=list)
    deprecated: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)

    @property
    def unchanged(self) -> bool:
        return not any(getattr(self, kind) for kind in KINDS)

    def as_dict(self) -> dict[str, list[str]]:
        return {kind: list(getattr(self, kind)) for kind in KINDS}

    def lines(self) -> list[str]:
        """Grouped: a heading per kind that has entries (``breaking (2):``), then its entries."""
        if self.unchanged:
            return ["no change a frontend could see"]
        out: list[str] = []
        for kind in KINDS:
            entries = getattr(self, kind)
            if entries:
                out.append(f"{kind} ({len(entries)}):")
                out.extend(f"  {text}" for text in entries)
        return out


def read_sdl(text: str, what: str = "the SDL") -> GraphQLSchema:
    try:
        return build_schema(text)
    except GraphQLError as exc:
        raise SDLError(f"{what} is not a GraphQL schema: {exc.message}" + _where(exc)) from None
    except (TypeError, ValueError) as exc:  # graphql-core raises these for some invalid schemas
        raise SDLError(f"{what} is not a GraphQL schema: {exc}") from None


def _where(exc: GraphQLError) -> str:
    if exc.locations:
        return f" (line {exc.locations[0].line}, column {exc.locations[0].column})"
    return ""


def compare(old: GraphQLSchema | str, new: GraphQLSchema | str) -> ChangeReport:
    old_schema = read_sdl(old, "the old SDL") if isinstance(old, str) else old
    new_schema = read_sdl(new, "the new SDL") if isinstance(new, str) else new
    report = ChangeReport(
        breaking=sorted(change.description for change in find_breaking_changes(old_schema, new_schema)),
        dangerous=sorted(change.description for change in find_dangerous_changes(old_schema, new_schema)),
    )
    old_types, new_types = old_schema.type_map, new_schema.type_map
    for name in sorted(set(new_types) - set(old_types)):
        if not name.startswith("__"):
            report.added.append(f"{name} was added.")
    for name in sorted(set(new_types) & set(old_types)):
        if name.startswith("__"):
            continue
        for kind, text in _members(old_types[name], new_types[name]):
            (report.deprecated if kind == "deprecated" else report.added).append(text)
    return report


def _members(before: GraphQLNamedType, after: GraphQLNamedType) -> Iterator[tuple[str, str]]:
    """("added" | "deprecated", text) for the members of one type present in both SDLs."""
    name = after.name
    if isinstance(after, GraphQLEnumType) and isinstance(before, GraphQLEnumType):
        yield from _compared(f"Enum value {name}.", before.values, after.values)
    elif isinstance(after, GraphQLInputObjectType) and isinstance(before, GraphQLInputObjectType):
        yield from _compared(f"Input field {name}.", before.fields, after.fields)
    elif isinstance(after, (GraphQLObjectType, GraphQLInterfaceType)) and isinstance(before, (GraphQLObjectType, GraphQLInterfaceType)):
        yield from _compared(f"Field {name}.", before.fields, after.fields)
        for field_name in sorted(set(after.fields) & set(before.fields)):
            old_args, new_args = before.fields[field_name].args, after.fields[field_name].args
            yield from _compared(f"Argument {name}.{field_name}(", new=new_args, old=old_args, suffix=":)")


def _compared(prefix: str, old: dict[str, Any], new: dict[str, Any], suffix: str = "") -> Iterator[tuple[str, str]]:
    for member in sorted(new):
        reason = getattr(new[member], "deprecation_reason", None)
        if member not in old:
            yield "added", f"{prefix}{member}{suffix} was added."
        if reason and not getattr(old.get(member), "deprecation_reason", None):
            yield "deprecated", f"{prefix}{member}{suffix} is deprecated: {reason}"
