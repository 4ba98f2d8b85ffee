"""`dougong validate`: every problem at once, each at its file:line:column, with a hint."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import core.cli
from core.blueprint import BlueprintError, check_blueprint, load_blueprint
from registry.discovery import InstalledComponent
from registry.lock import lock_differences, write_lock
from registry.manifest import Manifest


def component(name: str, version: str = "1.0.0", depends: dict | None = None, kernel: str = ">=0.1", schema: dict | None = None) -> InstalledComponent:
    manifest = Manifest(name=name, version=version, summary=name, hooks="core.hookspecs", kernel=kernel,
                        depends=depends or {}, settings_schema=schema or {"type": "object", "additionalProperties": False, "properties": {}})
    return InstalledComponent(manifest, f"fake.{name}", None)


GROUP_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["default_duration"],
    "properties": {
        "group_size": {"type": "integer", "minimum": 2, "default": 3},
        "default_duration": {"type": "string", "pattern": "^[0-9]+[smhd]$", "description": "a duration such as 24h"},
        "virtual_fill": {"type": "object", "additionalProperties": False,
                         "properties": {"enabled": {"type": "boolean", "default": False}, "min_ratio": {"type": "number", "default": 0.6}}},
    },
}

INSTALLED = {
    "catalog": component("catalog"),
    "orders": component("orders", depends={"catalog": ">=1.0"}),
    "group_buy": component("group_buy", version="1.2.0", depends={"orders": ">=1.0"}, schema=GROUP_SCHEMA),
    "points_mall": component("points_mall", depends={"orders": ""}),
    "futuristic": component("futuristic", kernel=">=9"),
    "loop_a": component("loop_a", depends={"loop_b": ""}),
    "loop_b": component("loop_b", depends={"loop_a": ""}),
    "needs_ghost": component("needs_ghost", depends={"ghost": ""}),
}

HEAD = "dougong: 1\nbrand: {slug: maple, name: Maple, currency: CNY, timezone: Asia/Shanghai}\n"


def problems(text: str, env: dict | None = None) -> list[str]:
    return [str(p) for p in check_blueprint("b.yaml", text=text, installed=INSTALLED, env=env or {})]


def test_clean_blueprint_resolves_in_dependency_order_with_defaults():
    text = HEAD + "components:\n  group_buy:\n    default_duration: 24h\n"
    blueprint = load_blueprint("b.yaml", text=text, installed=INSTALLED, env={})
    assert list(blueprint.components) == ["catalog", "orders", "group_buy"]
    assert blueprint.components["group_buy"].settings == {
        "default_duration": "24h", "group_size": 3, "virtual_fill": {"enabled": False, "min_ratio": 0.6},
    }
    assert blueprint.resolution.pulled_in == {"orders": ("group_buy", "orders"), "catalog": ("group_buy", "orders", "catalog")}
    # Relative SQLite paths are relative to the blueprint file (here b.yaml in the current folder).
    assert blueprint.storage.database == f"sqlite+aiosqlite:///{Path('b.yaml').resolve().parent / 'var' / 'maple.db'}"


def test_yaml_syntax_error_has_a_position():
    found = problems(HEAD + "components:\n  catalog: {\n  orders: [\n")
    assert len(found) == 1
    assert found[0].startswith("b.yaml:") and "YAML syntax error" in found[0]


def test_unknown_top_level_key_suggests_the_closest():
    found = problems(HEAD + "compnents:\n  catalog: {}\ncomponents:\n  catalog: {}\n")
    assert found == ["b.yaml:3:1: compnents: unknown key 'compnents' (did you mean 'components'?)"]


def test_unknown_component_suggests_names():
    found = problems(HEAD + "components:\n  group_by: {}\n")
    assert found == ["b.yaml:4:3: components.group_by: unknown component 'group_by' (did you mean 'group_buy'?)"]


def test_settings_failing_the_component_schema_are_all_reported():
    text = HEAD + (
        "components:\n"
        "  group_buy:\n"
        "    group_size: 1\n"
        "    grup_size: 4\n"
        "    virtual_fill: {enabled: 'yes'}\n"
        "  points_mall:\n"
        "    earn: 1\n"
    )
    found = problems(text)
    assert "b.yaml:5:17: components.group_buy.group_size: 1 is less than the minimum of 2" in found
    assert "b.yaml:6:5: components.group_buy.grup_size: unknown setting 'grup_size' (did you mean 'group_size'?)" in found
    assert any(p.startswith("b.yaml:7:29: components.group_buy.virtual_fill.enabled: wrong type: expected true or false, got text 'yes'") for p in found)
    assert "b.yaml:4:3: components.group_buy.default_duration: missing required setting 'default_duration'" in found
    assert any(p.startswith("b.yaml:9:5: components.points_mall.earn: unknown setting 'earn'") for p in found)
    assert len(found) == 5


def test_pattern_errors_use_the_schema_description():
    found = problems(HEAD + "components:\n  group_buy: {default_duration: soon}\n")
    assert found == ["b.yaml:4:33: components.group_buy.default_duration: 'soon' is not a duration such as 24h"]


def test_version_range_not_satisfied():
    found = problems(HEAD + "components:\n  group_buy:\n    version: '>=2.0'\n    default_duration: 1h\n")
    assert found == ["b.yaml:4:3: components.group_buy: the blueprint needs group_buy >=2.0, but 1.2.0 is installed"]


def test_dependency_cycle_prints_the_chain():
    found = problems(HEAD + "components:\n  loop_a: {}\n")
    assert found == ["b.yaml:4:3: components.loop_a: dependency cycle: loop_a → loop_b → loop_a (remove one of these dependencies)"]


def test_missing_dependency_names_the_chain():
    found = problems(HEAD + "components:\n  needs_ghost: {}\n")
    assert len(found) == 1 and "needs_ghost → ghost" in found[0] and found[0].startswith("b.yaml:4:3:")


def test_kernel_range_the_component_does_not_accept():
    found = problems(HEAD + "components:\n  futuristic: {}\n")
    assert found == ["b.yaml:4:3: components.futuristic: futuristic 1.0.0 works with kernel >=9, but this kernel is 0.1.0 "
                     "(use a version of 'futuristic' made for kernel 0.1.0)"]


def test_unset_environment_variable_and_defaults():
    text = HEAD + "storage:\n  database: ${BRAND_DB}\nauth:\n  secret: ${SECRET:-a-default-secret-value-that-is-long-enough}\ncomponents:\n  catalog: {}\n"
    assert problems(text) == ["b.yaml:4:13: storage.database: environment variable BRAND_DB is not set (export BRAND_DB=… or write ${BRAND_DB:-default})"]
    blueprint = load_blueprint("b.yaml", text=text, installed=INSTALLED, env={"BRAND_DB": "postgresql://u@h/maple"})
    assert blueprint.storage.database == "postgresql+asyncpg://u@h/maple"
    assert blueprint.auth.secret == "a-default-secret-value-that-is-long-enough"


def test_brand_fields_are_checked():
    text = "dougong: 2\nbrand: {slug: Maple Tea, name: M, currency: RMB, timezone: Mars/Olympus}\ncomponents:\n  catalog: {}\n"
    found = problems(text)
    assert any(p.startswith("b.yaml:1:10: dougong: must be 1, got 2") for p in found)
    assert any("brand.slug" in p and "lowercase" in p for p in found)
    assert any("brand.currency: 'RMB' is not one of" in p for p in found)
    assert any("brand.timezone: unknown time zone 'Mars/Olympus'" in p for p in found)


def test_everything_wrong_at_once():
    text = "dougong: 1\nbrand: {slug: m, name: M, currency: CNY, timezone: UTC}\nextra: 1\ncomponents:\n  nope: {}\n  loop_a: {}\n"
    found = problems(text)
    assert len(found) == 3, found


def test_load_raises_with_all_problems():
    with pytest.raises(BlueprintError) as caught:
        load_blueprint("b.yaml", text=HEAD + "components:\n  nope: {}\n  group_by: {}\n", installed=INSTALLED, env={})
    assert len(caught.value.problems) == 2
    assert "nope" in str(caught.value) and "group_by" in str(caught.value)


def test_lock_round_trip(tmp_path: Path):
    path = tmp_path / "brand.yaml"
    path.write_text(HEAD + "components:\n  orders: {}\n")
    blueprint = load_blueprint(path, installed=INSTALLED, env={})
    lock = write_lock(path, blueprint.resolution, "0.1.0")
    assert json.loads(lock.read_text())["components"]["orders"]["version"] == "1.0.0"
    assert lock_differences(path, blueprint.resolution, "0.1.0") == []
    newer = dict(INSTALLED, orders=component("orders", version="1.1.0", depends={"catalog": ">=1.0"}))
    moved = load_blueprint(path, installed=newer, env={})
    assert lock_differences(path, moved.resolution, "0.1.0") == ["orders: locked 1.0.0, installed 1.1.0"]


def test_cli_validate_exit_codes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import registry.discovery

    # validate boots the blueprint dry, and a plugin manager takes each hooks module once:
    # give the two components modules of their own.
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    installed = {}
    for name in ("catalog", "orders"):
        (hooks / f"validate_exit_{name}.py").write_text("")
        fake = INSTALLED[name]
        installed[name] = InstalledComponent(dataclasses.replace(fake.manifest, hooks=f"validate_exit_{name}"), fake.module, None)
    monkeypatch.syspath_prepend(str(hooks))
    monkeypatch.setattr(registry.discovery, "discover", lambda group="dougong.components": (installed, []))
    monkeypatch.setattr("core.blueprint.discover", lambda group="dougong.components": (installed, []))
    good = tmp_path / "good.yaml"
    good.write_text(HEAD + "components:\n  orders: {}\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text(HEAD + "components:\n  order: {}\n")
    runner = CliRunner()
    ok = runner.invoke(core.cli.app, ["validate", str(good)])
    assert ok.exit_code == 0 and "ok (2 components: catalog, orders)" in ok.output
    failed = runner.invoke(core.cli.app, ["validate", str(good), str(bad)])
    assert failed.exit_code == 1
    assert f"{bad}:4:3: components.order: unknown component 'order' (did you mean 'orders'?)" in failed.output
    missing = runner.invoke(core.cli.app, ["validate", str(tmp_path / "absent.yaml")])
    assert missing.exit_code == 1 and "cannot read the blueprint" in missing.output


def test_invalid_utf8_is_reported_at_its_line_and_column(tmp_path):
    path = tmp_path / "b.yaml"
    path.write_bytes((HEAD + "components:\n  catalog: {}\n").encode() + b"  orders: {x: caf\xe9}\n")
    found = [str(p) for p in check_blueprint(path, installed=INSTALLED, env={})]
    assert found == [f"{path}:5:18: the blueprint is not valid UTF-8: invalid continuation byte (byte 0xe9) (save the file as UTF-8)"]


def test_control_character_is_reported_at_its_line_and_column():
    found = problems(HEAD + "components:\n  catalog: {}\n  orders: {x: \x00}\n")
    assert found == ["b.yaml:5:15: YAML could not be read: character U+0000 is not allowed "
                     "(remove the control character (an invisible one, often pasted))"]


@pytest.mark.parametrize("brk", ["\\N", "\\L", "\\x1c", "\\r"])  # YAML escapes: NEL, U+2028, FS, CR
def test_a_problem_stays_on_one_line_whatever_the_key_holds(brk):
    found = problems(HEAD + f"components:\n  catalog:\n    \"a{brk}b\": 1\n")
    assert len(found) == 1 and len(found[0].splitlines()) == 1
    assert found[0].startswith("b.yaml:5:5: components.catalog.a\\")
