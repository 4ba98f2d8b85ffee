"""Rules read from a booted kernel: what the component contributed, and the schema it got.

Contributions are attributed at collection time (:mod:`core.contributions`), so every name
below is known to be this component's, whichever module defined it.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLInputObjectType, GraphQLObjectType, get_named_type

from core.conformance.failure import Failure
from core.conformance.manifest import ACCESS_WORDS
from core.gql.schema import strawberry_camel
from registry.manifest import Manifest

ROOTS = (("query", "queries", "Query"), ("mutation", "mutations", "Mutation"), ("subscription", "subscriptions", "Subscription"))


def root_fields(kernel: Any, component: str) -> dict[str, list[str]]:
    """GraphQL root type name -> the root fields ``component`` contributed to it."""
    found: dict[str, list[str]] = {}
    for _kind, attribute, root in ROOTS:
        for claimed in getattr(kernel.contributions, attribute):
            if claimed.component == component:
                for f in claimed.value.__strawberry_definition__.fields:
                    found.setdefault(root, []).append(f.graphql_name or strawberry_camel(f.python_name))
    return found


def subject_prefixes(component: str) -> set[str]:
    """An event's subject is the component's name or its singular (orders emits ``order.paid``)."""
    return {component, component[:-1]} if component.endswith("s") else {component}


def naming_failures(kernel: Any, component: str, where: str) -> list[Failure]:
    c = kernel.contributions
    out: list[Failure] = []

    def fail(rule: str, message: str) -> None:
        out.append(Failure(component, rule, where, message))

    for table, claimed in c.tables.items():
        if claimed.component == component and not table.startswith(component + "_"):
            fail("names-tables", f"table {table!r} does not start with '{component}_'")
    for name, perm in c.permissions.items():
        if perm.component == component and not name.startswith(component + "."):
            fail("names-permissions", f"permission {name!r} does not start with '{component}.'")
    for code, claimed in c.error_codes.items():
        if claimed.component == component and not code.startswith(component.upper() + "_"):
            fail("names-error-codes", f"error code {code!r} does not start with '{component.upper()}_'")
    for name, job in c.jobs.items():
        if job.component == component and not name.startswith(component + "."):
            fail("names-jobs", f"job {name!r} does not start with '{component}.'")
    for name, decl in c.events.items():
        if decl.component == component and name.split(".")[0] not in subject_prefixes(component):
            fail("names-events", f"event {name!r} does not start with one of {sorted(subject_prefixes(component))}")
    return out


def schema_failures(kernel: Any, component: str, manifest: Manifest, where: str) -> list[Failure]:
    """userErrors on every mutation, idempotency keys where money/stock/points move, declared access."""
    out: list[Failure] = []
    schema = kernel.schema._schema
    fields = root_fields(kernel, component)
    permissions = set(kernel.contributions.permissions)
    mutations = set(fields.get("Mutation", []))
    for name in sorted(mutations):
        returned = get_named_type(schema.mutation_type.fields[name].type)
        if not isinstance(returned, GraphQLObjectType) or "userErrors" not in returned.fields:
            out.append(Failure(component, "mutation-user-errors", f"Mutation.{name}", f"returns {returned.name}, which has no userErrors field"))
    for name, what in sorted(manifest.moves.items()):
        if name not in mutations:
            out.append(Failure(component, "moves", where, f"moves names {name!r}, which is not a mutation of this component"))
        elif not takes_idempotency_key(schema.mutation_type.fields[name]):
            out.append(Failure(component, "idempotency-key", f"Mutation.{name}", f"moves {what} but its input has no idempotencyKey"))
    every = {f"{root}.{name}" for root, names in fields.items() for name in names}
    declared = set(manifest.access)
    bare = {coordinate.split(".", 1)[1]: coordinate for coordinate in every}
    for coordinate in sorted(every):
        name = coordinate.split(".", 1)[1]
        if name not in declared:
            out.append(
                Failure(
                    component,
                    "access-declared",
                    coordinate,
                    f"root field {name!r} declares no access in the manifest's access ({', '.join(ACCESS_WORDS)} or a permission)",
                )
            )
    for name, who in sorted(manifest.access.items()):
        if name not in bare:
            out.append(Failure(component, "access-declared", where, f"access names {name!r}, which is not a root field of this component"))
        elif who not in ACCESS_WORDS and who not in permissions:
            out.append(
                Failure(
                    component, "access-declared", bare[name], f"access {who!r} is neither one of {', '.join(ACCESS_WORDS)} nor a declared permission"
                )
            )
    return out


def takes_idempotency_key(field: Any) -> bool:
    if "idempotencyKey" in field.args:
        return True
    argument = field.args.get("input")
    input_type = get_named_type(argument.type) if argument is not None else None
    return isinstance(input_type, GraphQLInputObjectType) and "idempotencyKey" in input_type.fields


def readme_failures(kernel: Any, component: str, readme: str | None, where: str) -> list[Failure]:
    """Every error code and every event the component declares is named in its README."""
    if readme is None:
        return [Failure(component, "readme", where, "the component has no README.md beside its manifest")]
    c = kernel.contributions
    out: list[Failure] = []
    for code, claimed in sorted(c.error_codes.items()):
        if claimed.component == component and code not in readme:
            out.append(Failure(component, "readme-error-codes", where, f"error code {code} is not named in the README"))
    for name, decl in sorted(c.events.items()):
        if decl.component == component and name not in readme:
            out.append(Failure(component, "readme-events", where, f"event {name} is not named in the README"))
    return out


def house_rule_failures(kernel: Any, component: str) -> list[Failure]:
    """The schema's house rules (``core.gql.conventions``) for what this component defines:
    descriptions everywhere, global ids, typed values, enums for states, connections paged
    both ways — the same findings the platform's own test demands zero of."""
    from core.gql.conventions import findings

    return [
        Failure(component, f"schema-{finding.rule}", finding.coordinate, _HOUSE_RULES.get(finding.rule, "breaks a house rule of the schema"))
        for finding in findings(kernel.schema, kernel.components)
        if finding.owner == component
    ]


_HOUSE_RULES = {
    "undocumented": "has no description (types, fields, arguments, input fields and enum values all need one)",
    "raw-id": "names an id but is not an ID: use the global id of the node it names (core.gql.relay.to_global_id)",
    "untyped-json": "is JSON where the shape is known: give it a type",
    "string-state": "is a String for what looks like a closed set of states: make it an enum",
    "connection-arguments": "a connection field takes nullable first, after, last and before (core.gql.relay First/After/Last/Before)",
    "enum-case": "enum values are UPPER_CASE",
    "subscription-node": "a subscription payload is, or carries, the Node it updates",
}
