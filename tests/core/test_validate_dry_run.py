"""`dougong validate` boots the blueprint dry: a blueprint that cannot boot is never `ok`.

Each case is a pair of inline components that pass their settings checks but break the
component contract; validate must answer `file:line:column: components.<name>: message`
naming both parties, exit 1, and show no traceback.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import core.cli
import registry.discovery
from core.dry_run import check

HEAD = "# a brand\ndougong: 1\nbrand: {slug: dry, name: Dry, currency: CNY, timezone: Asia/Shanghai}\ncomponents:\n"

WIDGET = """
    import strawberry
    from core.hookspecs import hookimpl

    @strawberry.type
    class Widget:
        name: str

    @strawberry.type
    class Query:
        @strawberry.field
        def widgets(self) -> list[Widget]:
            return []

    @hookimpl
    def dougong_schema(registrar):
        registrar.query(Query)
        registrar.type(Widget)
"""


@pytest.fixture
def install(make_component, monkeypatch):
    """Install inline components next to the real ones, for the CLI too."""
    def add(*components):
        found = {**registry.discovery.discover()[0], **{c.manifest.name: c for c in components}}
        monkeypatch.setattr(registry.discovery, "discover", lambda group="dougong.components": (found, []))
        return found
    return add


def validate(tmp_path: Path, components: str) -> tuple[int, str, Path]:
    path = tmp_path / "brand.yaml"
    path.write_text(HEAD + components, encoding="utf-8")
    result = CliRunner().invoke(core.cli.app, ["validate", str(path)])
    assert "Traceback" not in result.output
    return result.exit_code, result.output.strip(), path


def test_two_components_defining_one_graphql_type_are_named_both(tmp_path, make_component, install):
    install(make_component("alpha", hooks=WIDGET), make_component("beta", hooks=WIDGET.replace("widgets", "gadgets")))
    code, output, path = validate(tmp_path, "  alpha: {}\n  beta: {}\n")
    assert code == 1
    assert output == f"{path}:6:3: components.beta: GraphQL type 'Widget' is claimed by both 'alpha' and 'beta'"


def test_a_root_field_claimed_twice(tmp_path, make_component, install):
    other = WIDGET.replace("class Widget", "class Gadget").replace("list[Widget]", "list[Gadget]").replace("registrar.type(Widget)", "pass")
    install(make_component("alpha", hooks=WIDGET), make_component("beta", hooks=other))
    code, output, path = validate(tmp_path, "  alpha: {}\n  beta: {}\n")
    assert code == 1
    assert output == f"{path}:6:3: components.beta: root field Query.widgets is claimed by both 'alpha' and 'beta'"


def test_an_extension_without_the_dependency_points_at_the_extender(tmp_path, make_component, install):
    extender = """
        from core.hookspecs import hookimpl
        def shout(root) -> str:
            return root.name.upper()
        @hookimpl
        def dougong_schema(registrar):
            registrar.extend("Widget", "shout", shout)
    """
    install(make_component("alpha", hooks=WIDGET), make_component("loud", hooks=extender))
    code, output, path = validate(tmp_path, "  loud: {}\n  alpha: {}\n")
    assert code == 1
    assert output.startswith(f"{path}:5:3: components.loud: component 'loud' extends 'Widget' of component 'alpha' without depending on it")


def test_an_unprefixed_table(tmp_path, make_component, install):
    hooks = """
        from sqlalchemy import Column, Integer, MetaData, Table
        from core.hookspecs import hookimpl
        @hookimpl
        def dougong_tables(registrar):
            registrar.table(Table("items", MetaData(), Column("id", Integer, primary_key=True)))
    """
    install(make_component("stock", hooks=hooks))
    code, output, path = validate(tmp_path, "  catalog: {}\n  stock: {}\n")
    assert code == 1
    assert output.startswith(f"{path}:6:3: components.stock: component 'stock' claims table 'items'")


def test_a_component_whose_code_raises_is_named_without_a_traceback(tmp_path, make_component, install):
    hooks = """
        from core.hookspecs import hookimpl
        @hookimpl
        def dougong_services(registrar):
            {}["missing"]
    """
    install(make_component("buggy", hooks=hooks))
    code, output, path = validate(tmp_path, "  buggy: {}\n")
    assert code == 1
    assert output == (f"{path}:5:3: components.buggy: buggy failed while booting: KeyError: 'missing' "
                      "(a bug in the component: report it to its author)")


def test_a_stale_example_stops_the_dry_run(tmp_path, make_component, install):
    hooks = WIDGET + """
    @hookimpl
    def dougong_examples(registrar):
        registrar.example("Widgets by colour", "query { widgets { name colour } }")
"""
    install(make_component("alpha", hooks=hooks))
    code, output, path = validate(tmp_path, "  alpha: {}\n")
    assert code == 1
    assert output == (f"{path}:5:3: components.alpha: component 'alpha' ships example 'Widgets by colour', "
                      "which does not fit the schema: Cannot query field 'colour' on type 'Widget'.")


def test_a_dependency_pulled_in_is_reached_through_the_component_that_pulled_it(tmp_path, make_component, install):
    base = make_component("base", hooks=WIDGET)
    clash = make_component("clash", hooks=WIDGET.replace("widgets", "things"))
    top = make_component("top", depends={"clash": ""})
    install(base, clash, top)
    code, output, path = validate(tmp_path, "  base: {}\n  top: {}\n")
    assert code == 1
    # clash is not in the file: the line is top's, which pulled it in; the message names clash.
    assert output == f"{path}:6:3: components.top: GraphQL type 'Widget' is claimed by both 'base' and 'clash'"


def test_the_demo_blueprint_boots_dry_and_touches_no_database(tmp_path, monkeypatch):
    root = Path(__file__).resolve().parents[2]
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'never' / 'demo.db'}")
    problems, blueprint = check(root / "blueprints" / "demo.yaml")
    assert problems == [] and "live_room" in blueprint.components
    assert not (tmp_path / "never").exists()


def test_a_boot_is_remembered_only_for_the_same_code_and_settings(tmp_path, make_component, install, monkeypatch):
    import core.dry_run

    installed = install(make_component("alpha", hooks=WIDGET, settings_schema={
        "type": "object", "additionalProperties": False, "properties": {"size": {"type": "integer"}}}))
    boots = []
    real = core.dry_run.dry_kernel
    monkeypatch.setattr(core.dry_run, "dry_kernel", lambda blueprint: boots.append(1) or real(blueprint))
    path = tmp_path / "b.yaml"
    for text in (HEAD + "  alpha: {size: 1}\n", HEAD + "  alpha: {size: 1}   # a comment\n",
                 HEAD.replace("Dry", "Other") + "  alpha: {size: 1}\n", HEAD + "  alpha: {size: 2}\n"):
        problems, blueprint = check(path, text=text, installed=installed)
        assert problems == [] and blueprint is not None
    assert len(boots) == 3  # the comment changed nothing; the brand name and the setting did
    monkeypatch.setenv("DOUGONG_TRUSTED_DOCUMENTS", str(tmp_path / "absent.json"))
    problems, _ = check(path, text=HEAD + "  alpha: {size: 2}\n", installed=installed)
    assert len(boots) == 4 and "absent.json" in problems[0].message  # the environment is part of a boot
