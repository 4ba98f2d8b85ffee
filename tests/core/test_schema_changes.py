"""`dougong schema FILE --against OLD.graphql` and the change classification behind it."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import core.cli
from core.schema_diff import SDLError, compare

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "blueprints" / "demo.yaml"
SNAPSHOT = ROOT / "tests" / "blueprints" / "snapshots" / "demo.graphql"

OLD = """
type Query { product(id: ID!): Product  shops: [String!]! }
type Product { id: ID!  name: String!  price: Int! }
enum Colour { RED GREEN }
"""
NEW = """
type Query { product(id: ID!, preview: Boolean): Product  tags: [String!]! }
type Product { id: ID!  name: String!  price: Int!  stock: Int! }
enum Colour { RED GREEN BLUE }
type Tag { name: String! }
"""


def test_changes_are_classified_breaking_dangerous_and_safe():
    report = compare(OLD, NEW)
    assert report.breaking == ["Field Query.shops was removed."]
    assert report.dangerous == ["An optional argument Query.product(preview:) was added.", "Enum value Colour.BLUE was added."]
    assert report.safe == ["Tag was added.", "Field Product.stock was added.", "Field Query.tags was added."]
    assert compare(OLD, OLD).unchanged


def test_unreadable_sdl_is_a_clear_error():
    with pytest.raises(SDLError, match=r"the old SDL is not a GraphQL schema: Syntax Error.*\(line 1, column"):
        compare("type {", NEW)


def run(*args) -> object:
    return CliRunner().invoke(core.cli.app, [str(a) for a in args])


def test_cli_against_the_committed_snapshot(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    same = run("schema", DEMO, "--against", SNAPSHOT)
    assert same.exit_code == 0 and same.output == "no change a frontend could see\n"

    older = tmp_path / "old.graphql"
    older.write_text(SNAPSHOT.read_text() + "\ntype Retired { id: ID! }\n", encoding="utf-8")
    changed = run("schema", DEMO, "--against", older)
    assert changed.exit_code == 1 and changed.output == "breaking: Retired was removed.\n"

    garbage = tmp_path / "garbage.graphql"
    garbage.write_text("this is not SDL", encoding="utf-8")
    bad = run("schema", DEMO, "--against", garbage)
    assert bad.exit_code == 2 and "garbage.graphql: the old SDL is not a GraphQL schema" in bad.output
    assert "Traceback" not in bad.output
    missing = run("schema", DEMO, "--against", tmp_path / "absent.graphql")
    assert missing.exit_code == 2 and "cannot read it" in missing.output
