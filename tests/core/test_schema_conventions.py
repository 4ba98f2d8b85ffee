"""The schema's house rules (core.gql.conventions), demanded per owner for every blueprint.

One test per (blueprint, owner): the kernel (``core``), strawberry's own types, and each
component the blueprint names — so a failure names whose schema broke a rule and lists the
findings. Each blueprint's kernel is built once for the module. Below, the checker itself on
tiny schemas: what it finds and what it lets pass.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from enum import Enum
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest
import strawberry
from ruamel.yaml import YAML

from core.gql.conventions import Finding, findings
from core.gql.relay import Connection, Node
from core.kernel import Kernel

ROOT = Path(__file__).resolve().parents[2]
BLUEPRINTS = sorted((ROOT / "blueprints").glob("*.yaml"))
KERNEL_OWNERS = ("core", "strawberry")


def _owners(path: Path) -> list[str]:
    components = YAML(typ="safe").load(path.read_text(encoding="utf-8")).get("components") or {}
    return [*KERNEL_OWNERS, *components]


CASES = [(path, owner) for path in BLUEPRINTS for owner in _owners(path)]


@pytest.fixture(scope="module")
def found(tmp_path_factory) -> dict[Path, list[Finding]]:
    """Every blueprint's findings, each kernel built once (no database is opened)."""
    folder = tmp_path_factory.mktemp("conventions")
    out = {}
    for path in BLUEPRINTS:
        kernel = Kernel.from_file(path, database_url=f"sqlite+aiosqlite:///{folder / path.stem}.db")
        out[path] = findings(kernel.schema, kernel.components)
    return out


@pytest.mark.parametrize(("path", "owner"), CASES, ids=[f"{p.stem}-{o}" for p, o in CASES])
def test_no_findings_for(found, path: Path, owner: str):
    mine = [str(f) for f in found[path] if f.owner == owner]
    assert mine == [], f"{len(mine)} house-rule findings for {owner} in {path.name}:\n" + "\n".join(mine)


def test_every_finding_has_an_owner_tested_above(found):
    for path, listed in found.items():
        owners = set(_owners(path))
        assert {f.owner for f in listed} <= owners, (path.name, {f.owner for f in listed} - owners)


# -- the checker on tiny schemas ---------------------------------------------------------------------


@strawberry.type(description="A thing.")
class Thing(Node):
    shelf_id: int = strawberry.field(description="A raw row number, the mistake the rule is for.")
    old_shelf_id: int | None = strawberry.field(
        default=None, description="Kept one release.", deprecation_reason="Use shelfGlobalId; removed in the next release."
    )
    status: str = strawberry.field(description="A closed set written as text.")
    note: str = strawberry.field(description="Free text: fine.")


@strawberry.type(description="The root.")
class TinyQuery:
    @strawberry.field(description="One thing.")
    def thing(self, owner_id: strawberry.ID) -> Thing:
        return Thing(pk=1, shelf_id=1, status="open", note="")

    @strawberry.field(description="Forward-only things.")
    def things(self, first: int = 10, after: str | None = None) -> Connection[Thing]:  # no last/before, and first is non-null
        raise NotImplementedError


@strawberry.enum(description="A closed set.")
class Mood(Enum):
    CALM = strawberry.enum_value("CALM", description="Calm.")
    upset = strawberry.enum_value("upset", description="Written in the wrong case.")


@strawberry.type(description="An event without the node it is about.")
class Ping:
    mood: Mood = strawberry.field(description="How it feels.")


@strawberry.type(description="An event carrying its node.")
class ThingChanged:
    thing: Thing = strawberry.field(description="The thing, as a query answers it.")


@strawberry.type(description="Streams.")
class TinySubscription:
    @strawberry.subscription(description="Pings.")
    async def pings(self) -> AsyncGenerator[Ping, None]:
        yield Ping(mood=Mood.CALM)

    @strawberry.subscription(description="A thing's changes.")
    async def thing_changes(self) -> AsyncGenerator[ThingChanged, None]:
        raise NotImplementedError
        yield


def tiny() -> list[Finding]:
    return findings(strawberry.Schema(query=TinyQuery, subscription=TinySubscription, types=[Thing]))


def rules_at(found: list[Finding]) -> set[tuple[str, str]]:
    return {(f.coordinate, f.rule) for f in found}


def test_a_raw_int_id_is_found_and_a_deprecated_alias_is_not():
    found = rules_at(tiny())
    assert ("Thing.shelfId", "raw-id") in found
    assert not any(c.startswith("Thing.oldShelfId") for c, _ in found)
    assert ("Thing.id", "raw-id") not in found  # an ID is what the rule asks for


def test_an_undescribed_argument_and_a_string_state_are_found():
    found = rules_at(tiny())
    assert ("TinyQuery.thing(ownerId)", "undocumented") in found
    assert ("Thing.status", "string-state") in found
    assert not any(c == "Thing.note" for c, _ in found)


def test_a_connection_without_last_and_before_is_found():
    found = rules_at(tiny())
    expected = {("TinyQuery.things(first)", "connection-arguments"), ("TinyQuery.things(last)", "connection-arguments")}
    expected.add(("TinyQuery.things(before)", "connection-arguments"))
    assert expected <= found and ("TinyQuery.things(after)", "connection-arguments") not in found


def test_a_lower_case_enum_value_and_a_subscription_without_its_node_are_found():
    found = rules_at(tiny())
    assert ("Mood.upset", "enum-case") in found and ("Mood.CALM", "enum-case") not in found
    assert ("TinySubscription.pings", "subscription-node") in found
    assert not any(c == "TinySubscription.thingChanges" for c, _ in found)


def test_owners_are_named_by_component_not_by_package():
    loaded: Any = SimpleNamespace(hooks=ModuleType(f"{TinyQuery.__module__}.hooks"))
    found = findings(strawberry.Schema(query=TinyQuery), {"tiny": loaded})
    # Thing and TinyQuery live in this module, the "package" of the tiny component's hooks.
    assert found and {f.owner for f in found} == {"tiny"}
