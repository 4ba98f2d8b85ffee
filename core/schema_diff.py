"""What a frontend would see change between two versions of a blueprint's SDL.

``breaking`` and ``dangerous`` come from graphql-core's ``find_breaking_changes`` and
``find_dangerous_changes`` (the same classification graphql-inspector and Apollo use);
``safe`` are the additions neither reports: new types and new output fields, which no
existing query can notice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import (
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
    find_breaking_changes,
    find_dangerous_changes,
)


class SDLError(ValueError):
    """An SDL text that cannot be read as a schema; the message says where."""


@dataclass
class ChangeReport:
    breaking: list[str] = field(default_factory=list)
    dangerous: list[str] = field(default_factory=list)
    safe: list[str] = field(default_factory=list)

    @property
    def unchanged(self) -> bool:
        return not (self.breaking or self.dangerous or self.safe)

    def as_dict(self) -> dict[str, list[str]]:
        return {"breaking": self.breaking, "dangerous": self.dangerous, "safe": self.safe}

    def lines(self) -> list[str]:
        if self.unchanged:
            return ["no change a frontend could see"]
        return [f"{kind}: {text}" for kind in ("breaking", "dangerous", "safe") for text in getattr(self, kind)]


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
            report.safe.append(f"{name} was added.")
    for name in sorted(set(new_types) & set(old_types)):
        before, after = old_types[name], new_types[name]
        if isinstance(after, (GraphQLObjectType, GraphQLInterfaceType)) and isinstance(before, type(after)):
            for field_name in sorted(set(after.fields) - set(before.fields)):
                report.safe.append(f"Field {name}.{field_name} was added.")
    return report
