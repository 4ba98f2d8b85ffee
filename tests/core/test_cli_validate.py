"""`dougong validate`, `lock` and `components` on fake installed components.

Fake components are installed by monkeypatching ``registry.discovery.discover``, which the
CLI looks up at call time.
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

import core.blueprint
import core.cli
import registry.discovery
from registry import InstalledComponent, Manifest

NO_SETTINGS = {"type": "object", "additionalProperties": False, "properties": {}}
SIZE_SCHEMA = {"type": "object", "additionalProperties": False,
               "properties": {"group_size": {"type": "integer", "minimum": 2, "default": 3}}}


def fake(name: str, version: str = "1.0.0", depends: dict[str, str] | None = None, schema: dict | None = None,
         hooks: str | None = None) -> InstalledComponent:
    # One hooks module each: validate boots the blueprint dry, and a plugin manager (rightly)
    # refuses one module registered under two component names.
    hooks = hooks or f"fakecli_hooks_{name}"
    manifest = Manifest(name=name, version=version, summary=f"[b]{name}[/b] things", hooks=hooks,
                        depends=depends or {}, settings_schema=schema or NO_SETTINGS)
    return InstalledComponent(manifest, module=f"fake.{name}", distribution="acme")


INSTALLED = {c.manifest.name: c for c in [
    fake("catalog"),
    fake("orders", "1.1.0", depends={"catalog": ">=1.0"}),
    fake("group_buy", "2.0.0", depends={"orders": ""}, schema=SIZE_SCHEMA),
    fake("points_mall", depends={"orders": ""}, hooks="fakecli_no_such_module"),
]}

HEAD = "dougong: 1\nbrand: {slug: maple, name: Maple, currency: CNY, timezone: Asia/Shanghai}\ncomponents:\n"


@pytest.fixture(autouse=True)
def installed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    problems: list[str] = []
    monkeypatch.setattr(registry.discovery, "discover", lambda group="dougong.components": (INSTALLED, problems))
    hooks_dir = tmp_path / "hooks"
    hooks_dir.mkdir()
    names = [c.manifest.hooks for c in INSTALLED.values() if c.manifest.hooks.startswith("fakecli_hooks_")]
    for module in names:
        (hooks_dir / f"{module}.py").write_text(textwrap.dedent("""
            def dougong_tables(registrar): pass
            def dougong_schema(registrar): pass
            def helper(): pass
            dougong_not_a_hook = 3
        """))
    monkeypatch.syspath_prepend(str(hooks_dir))
    yield problems
    for module in names:
        sys.modules.pop(module, None)


def run(*args: str):
    return CliRunner().invoke(core.cli.app, [str(a) for a in args])


def write(tmp_path: Path, name: str, components: str) -> Path:
    path = tmp_path / name
    path.write_text(HEAD + components, encoding="utf-8")
    return path


def test_a_clean_blueprint_is_ok_with_its_components(tmp_path: Path):
    good = write(tmp_path, "good.yaml", "  group_buy: {group_size: 4}\n")
    result = run("validate", good)
    assert result.exit_code == 0, result.output
    assert result.output == f"{good}: ok (3 components: catalog, orders, group_buy)\n"


def test_every_problem_of_every_file_then_exit_1(tmp_path: Path):
    good = write(tmp_path, "good.yaml", "  catalog:\n")
    bad = write(tmp_path, "bad.yaml", "  order: {}\n  group_buy:\n    group_size: 1\n    grup_size: 2\n")
    result = run("validate", bad, good)
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{bad}:4:3: components.order: unknown component 'order' (did you mean 'orders'?)",
        f"{bad}:6:17: components.group_buy.group_size: 1 is less than the minimum of 2",
        f"{bad}:7:5: components.group_buy.grup_size: unknown setting 'grup_size' (did you mean 'group_size'?)",
        f"{good}: ok (1 components: catalog)",
    ]


def test_output_is_plain_unwrapped_text_when_not_a_terminal(tmp_path: Path):
    # Brackets must not be taken for rich markup, and a long line must stay one line.
    bad = write(tmp_path, "bad.yaml", "  catalog:\n    '[bold]" + "x" * 100 + "': 1\n")
    result = run("validate", bad)
    assert result.exit_code == 1
    assert "\x1b[" not in result.output
    [line] = result.output.splitlines()
    assert line.startswith(f"{bad}:5:5: components.catalog.[bold]{'x' * 100}: unknown setting '[bold]{'x' * 100}'")


def test_unreadable_and_broken_files_are_reported_not_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    absent = tmp_path / "absent.yaml"
    result = run("validate", absent)
    assert result.exit_code == 1 and result.output.startswith(f"{absent}: cannot read the blueprint")

    real_load = core.blueprint.load_blueprint
    boom = write(tmp_path, "boom.yaml", "  catalog:\n")
    good = write(tmp_path, "good.yaml", "  catalog:\n")

    def flaky(path, **kwargs):
        if Path(path).name == "boom.yaml":
            raise RuntimeError("kernel bug")
        return real_load(path, **kwargs)

    monkeypatch.setattr(core.blueprint, "load_blueprint", flaky)
    result = run("validate", boom, good)
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{boom}: internal error while checking: RuntimeError('kernel bug') (please report this)",
        f"{good}: ok (1 components: catalog)",
    ]


def test_broken_installed_packages_are_shown_when_validation_fails(tmp_path: Path, installed: list[str]):
    installed.append("component 'payments' (acme): cannot import 'acme.payments': ImportError('x')")
    good = write(tmp_path, "good.yaml", "  catalog:\n")
    ok = run("validate", good)
    assert ok.exit_code == 0 and "payments" not in ok.output  # unused breakage does not fail a blueprint
    bad = write(tmp_path, "bad.yaml", "  payments:\n")
    failed = run("validate", bad)
    assert failed.exit_code == 1
    assert "warning: component 'payments' (acme): cannot import 'acme.payments'" in failed.output


def test_environment_variables_come_from_the_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "env.yaml"
    # Block style: in a flow mapping ({...}) YAML itself would trip over the braces.
    path.write_text("dougong: 1\nbrand:\n  slug: maple\n  name: ${BRAND_NAME}\n  currency: CNY\n  timezone: UTC\n"
                    "components:\n  catalog:\n")
    monkeypatch.delenv("BRAND_NAME", raising=False)
    assert "environment variable BRAND_NAME is not set" in run("validate", path).output
    monkeypatch.setenv("BRAND_NAME", "Maple")
    assert run("validate", path).exit_code == 0


def test_lock_writes_beside_the_blueprint(tmp_path: Path):
    path = write(tmp_path, "brand.yaml", "  group_buy:\n")
    result = run("lock", path)
    assert result.exit_code == 0, result.output
    lock = tmp_path / "brand.lock.json"
    assert result.output.strip() == str(lock)
    assert json.loads(lock.read_text()) == {
        "kernel": "0.1.0",
        "components": {name: {"version": INSTALLED[name].manifest.version, "distribution": "acme"}
                       for name in ("catalog", "group_buy", "orders")},
    }


def test_lock_refuses_a_blueprint_with_problems(tmp_path: Path):
    path = write(tmp_path, "brand.yaml", "  group_by:\n")
    result = run("lock", path)
    assert result.exit_code == 1
    assert "unknown component 'group_by'" in result.output
    assert not (tmp_path / "brand.lock.json").exists()


def blueprints_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "project" / "blueprints"
    folder.mkdir(parents=True)
    write(folder, "bakery.yaml", "  catalog:\n")
    write(folder, "tea.yaml", "  group_buy:\n    group_size: 1\n")  # a settings mistake still uses it
    (folder / "secret.yaml").write_text(HEAD + "  points_mall:\n    x: ${UNSET_VAR}\n")
    (folder / "broken.yaml").write_text("components: [\n")
    (folder / "notes.txt").write_text("components:\n  orders:\n")
    return folder.parent


def test_components_json_lists_fields_hooks_and_blueprints(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(blueprints_dir(tmp_path))
    result = run("components", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [row["name"] for row in rows] == ["catalog", "group_buy", "orders", "points_mall"]
    group_buy = next(row for row in rows if row["name"] == "group_buy")
    assert group_buy == {
        "name": "group_buy", "version": "2.0.0", "summary": "[b]group_buy[/b] things", "depends": {"orders": ""},
        "kernel": ">=0.1", "module": "fake.group_buy", "distribution": "acme",
        "hooks": ["dougong_schema", "dougong_tables"], "blueprints": ["tea.yaml"],
        # These fakes cannot boot together (a hooks module is missing): no events are listed.
        "emits": [], "handles": [],
        # What `dougong check` finds without booting; the table prints it as "BROKEN group_buy: ...".
        "broken": ["fake.group_buy: [settings-described] setting 'group_size' has no description"],
    }
    by_name = {row["name"]: row for row in rows}
    # Directly named, or pulled in as a dependency.
    assert by_name["catalog"]["blueprints"] == ["bakery.yaml", "secret.yaml", "tea.yaml"]
    assert by_name["orders"]["blueprints"] == ["secret.yaml", "tea.yaml"]
    assert by_name["points_mall"]["hooks"][0].startswith("<cannot import fakecli_no_such_module")


def test_components_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, installed: list[str]):
    monkeypatch.chdir(blueprints_dir(tmp_path))
    installed.append("entry point 'x' names a manifest called 'y'; they must match")
    result = run("components")
    assert result.exit_code == 0, result.output
    for text in ("group_buy", "2.0.0", "[b]", "orders", "tea.yaml"):  # "[b]" printed, not taken for markup
        assert text in result.output
    assert "problem: entry point 'x' names a manifest called 'y'" in result.output
    assert "BROKEN group_buy: fake.group_buy: [settings-described] setting 'group_size' has no description" in result.output


def test_components_without_a_blueprints_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    rows = json.loads(run("components", "--json").output)
    assert all(row["blueprints"] == [] for row in rows)


def test_the_runtime_commands_share_the_app():
    names = {command.name or command.callback.__name__ for command in core.cli.app.registered_commands}
    assert {"validate", "lock", "components", "serve", "schema", "token", "migrate"} <= names
