"""``dougong check``: every built-in keeps the component contract, and a component breaking it
is told which rule it broke and where."""

from __future__ import annotations

import dataclasses

import pytest
from typer.testing import CliRunner

from core.cli import app
from core.conformance.manifest import undescribed
from core.conformance.run import check_async
from registry.discovery import discover

BUILT_INS = sorted(name for name, c in discover()[0].items() if c.module.startswith("components."))

SLOPPY_HOOKS = """
import strawberry
from sqlalchemy import Column, Integer, MetaData, Table
from core.hookspecs import hookimpl

TABLE = Table("sloppy_thing", MetaData(), Column("id", Integer, primary_key=True))


@strawberry.type
class Done:
    ok: bool


@strawberry.input
class PayInput:
    amount: int


@strawberry.type
class Query:
    @strawberry.field
    def sloppy_hello(self) -> str:
        return "hi"

    @strawberry.field
    def sloppy_secret(self) -> str:
        return "nobody said who may read this"


@strawberry.type
class Mutation:
    @strawberry.mutation
    def sloppy_pay(self, input: PayInput) -> Done:
        return Done(ok=True)


@hookimpl
def dougong_tables(registrar):
    registrar.table(TABLE)


@hookimpl
def dougong_schema(registrar):
    registrar.query(Query)
    registrar.mutation(Mutation)


@hookimpl
def dougong_error_codes(registrar):
    registrar.error_code("SLOPPY_DOCUMENTED", "named in the README")
    registrar.error_code("SLOPPY_FORGOTTEN", "not named in the README")


@hookimpl
def dougong_events(registrar):
    registrar.event("payment.sloppy", "an event under another component's subject")
"""


@pytest.mark.parametrize("name", BUILT_INS)
async def test_every_built_in_component_keeps_the_contract(name: str) -> None:
    failures = await check_async(name)
    assert failures == [], "\n".join(map(str, failures))


async def test_a_sloppy_component_is_told_each_rule_it_breaks_and_where(make_component) -> None:
    sloppy = make_component(
        "sloppy",
        hooks=SLOPPY_HOOKS,
        settings_schema={"type": "object", "additionalProperties": False,
                         "properties": {"limit": {"type": "integer", "default": 3}}},
        files={"README.md": "# sloppy\n\nReturns SLOPPY_DOCUMENTED.\n",
               "sneaky.py": "from components.orders import models\n"},
    )
    manifest = dataclasses.replace(sloppy.manifest, access={"sloppyHello": "public", "sloppyPay": "member", "gone": "public"},
                                   moves={"sloppyPay": "money"})
    sloppy = dataclasses.replace(sloppy, manifest=manifest)
    installed = {**discover()[0], "sloppy": sloppy}
    failures = await check_async("sloppy", installed)
    found = {(f.rule, f.where.rsplit("/", 1)[-1]) for f in failures}
    assert ("settings-described", "__init__.py") in found
    assert ("imports", "sneaky.py:1") in found
    assert ("mutation-user-errors", "Mutation.sloppyPay") in found
    assert ("idempotency-key", "Mutation.sloppyPay") in found
    assert ("access-declared", "Query.sloppySecret") in found  # a field nobody declared
    assert ("names-events", "__init__.py") in found
    assert ("readme-events", "README.md") in found
    assert ("migrations", "migrations") in found  # owns a table, ships no migrations
    # The schema's house rules, for what this component defines (core.gql.conventions).
    assert {("schema-undocumented", "Query.sloppyHello"), ("schema-undocumented", "Done"), ("schema-undocumented", "PayInput.amount")} <= found
    assert not any(f.rule.startswith("schema-") and f.component != "sloppy" for f in failures)
    messages = "\n".join(map(str, failures))
    assert "SLOPPY_FORGOTTEN is not named" in messages and "SLOPPY_DOCUMENTED" not in messages
    assert "'gone', which is not a root field" in messages
    assert "setting 'limit' has no description" in messages


def test_undescribed_reaches_nested_settings_and_list_items() -> None:
    schema = {"type": "object", "properties": {
        "a": {"type": "integer", "description": "fine"},
        "b": {"type": "object", "description": "fine", "properties": {"c": {"type": "integer"}}},
        "d": {"type": "array", "description": "fine", "items": {"type": "object", "properties": {"e": {"type": "string"}}}},
    }}
    assert list(undescribed(schema)) == ["b.c", "d[].e"]


async def test_a_component_that_does_not_boot_alone_says_why(make_component) -> None:
    lonely = make_component("lonely", hooks="""
        from core.hookspecs import hookimpl

        @hookimpl
        def dougong_schema(registrar):
            registrar.extend("Product", "lonelyNote", lambda: "hi")
    """)
    failures = await check_async("lonely", {**discover()[0], "lonely": lonely})
    assert [f.rule for f in failures] == ["readme", "boots-alone"]
    assert "extends type 'Product'" in failures[1].message


def test_the_command_prints_rule_and_place_and_exits_1_for_an_unknown_component() -> None:
    result = CliRunner().invoke(app, ["check", "no_such_component"])
    assert result.exit_code == 1
    assert "no_such_component: [installed] component 'no_such_component' is not installed" in result.output


def test_imports_are_read_with_their_lines_relative_ones_resolved() -> None:
    from core.conformance.imports import imported_modules

    source = ("import a.b, c as d\nfrom . import x\nfrom ..orders import (models,\n    service as s)\n"
              "    from components.catalog.graphql import Sku  # lazy\n")
    assert list(imported_modules(source, "components.group_buy")) == [
        ("a.b", 1), ("c", 1), ("components.group_buy", 2), ("components.group_buy.x", 2), ("components.orders", 3),
        ("components.orders.models", 3), ("components.orders.service", 3), ("components.catalog.graphql", 5),
        ("components.catalog.graphql.Sku", 5)]
