"""Example operations components ship, checked against the schema they are meant for.

An example is only useful if it runs: each is parsed and validated (graphql-core's standard
rules) against the assembled schema at boot, so a renamed field breaks the boot of the
component that ships the stale example — not the first person who tries it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from graphql import GraphQLError, GraphQLSchema, OperationDefinitionNode, parse, validate

from core.errors import BootError

if TYPE_CHECKING:  # pragma: no cover
    from core.contributions import Example


def check_examples(examples: dict[str, Example], schema: GraphQLSchema) -> None:
    for example in examples.values():
        where = f"component {example.component!r} ships example {example.title!r}"
        try:
            document = parse(example.document)
        except GraphQLError as exc:
            raise BootError(f"{where}, which is not valid GraphQL: {exc.message}") from None
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if len(operations) != 1:
            raise BootError(f"{where} with {len(operations)} operations; an example is exactly one")
        errors = validate(schema, document)
        if errors:
            raise BootError(f"{where}, which does not fit the schema: {errors[0].message}")
