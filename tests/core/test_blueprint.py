"""Loading blueprints: every problem kind at its line and column, all at once; defaults; env."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from core.blueprint import (
    AuthSettings,
    Blueprint,
    BlueprintError,
    Brand,
    ComponentEntry,
    Problem,
    Storage,
    check_blueprint,
    load_blueprint,
)
from core.units import DURATION_SCHEMA, MONEY_SCHEMA
from registry import InstalledComponent, Manifest

NO_SETTINGS = {"type": "object", "additionalProperties": False, "properties": {}}


def fake(name: str, version: str = "1.0.0", *, depends: dict[str, str] | None = None, kernel: str = ">=0.1",
         schema: dict | None = None) -> InstalledComponent:
    manifest = Manifest(name=name, version=version, summary=name, hooks=f"fake.{name}.hooks", kernel=kernel,
                        depends=depends or {}, settings_schema=schema or NO_SETTINGS)
    return InstalledComponent(manifest, module=f"fake.{name}", distribution=None)


ORDERS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"payment_timeout": {**DURATION_SCHEMA, "default": "30m", "description": "how long a buyer has to pay"}},
}
GROUP_BUY_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["default_duration"],
    "properties": {
        "default_duration": DURATION_SCHEMA,
        "group_size": {"type": "integer", "minimum": 2, "default": 3},
        "price": MONEY_SCHEMA,
        "late_payment": {"enum": ["refund", "keep_seat"], "default": "refund"},
        "virtual_fill": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "enabled": {"type": "boolean", "default": False},
                "min_ratio": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.6},
            },
        },
        "label": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
    },
}
POINTS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "earn_per_yuan": {"type": "integer", "minimum": 0, "default": 1},
        "expiry": {"type": "object", "properties": {"rule": {"enum": ["never", "end_of_next_year"], "default": "never"}}},
    },
}
STRICT_SCHEMA = {"type": "object", "required": ["api_key"], "properties": {"api_key": {"type": "string"}}}

INSTALLED = {c.manifest.name: c for c in [
    fake("catalog"),
    fake("orders", "1.3.0", depends={"catalog": ">=1.0"}, schema=ORDERS_SCHEMA),
    fake("group_buy", "1.2.0", depends={"orders": ">=1.0"}, schema=GROUP_BUY_SCHEMA),
    fake("points_mall", depends={"orders": ""}, schema=POINTS_SCHEMA),
    fake("futuristic", kernel=">=9"),
    fake("loop_a", depends={"loop_b": ""}),
    fake("loop_b", depends={"loop_a": ""}),
    fake("needs_ghost", depends={"ghost": ""}),
    fake("needs_new_orders", depends={"orders": ">=2"}),
    fake("strict", schema=STRICT_SCHEMA),
    fake("uses_strict", depends={"strict": ""}),
]}

# Lines 1-7; components start on line 8.
HEAD = """\
dougong: 1
brand:
  slug: maple-tea
  name: Maple Tea
  currency: CNY
  timezone: Asia/Shanghai
components:
"""


def check(text: str, env: dict[str, str] | None = None, installed=INSTALLED) -> list[Problem]:
    return check_blueprint("b.yaml", text=text, installed=installed, env=env or {})


def load(text: str, env: dict[str, str] | None = None) -> Blueprint:
    return load_blueprint("b.yaml", text=text, installed=INSTALLED, env=env or {})


def one(text: str, env: dict[str, str] | None = None) -> Problem:
    problems = check(text, env)
    assert len(problems) == 1, "\n".join(map(str, problems))
    return problems[0]


def where(problem: Problem) -> tuple[int | None, int | None]:
    return problem.line, problem.column


def by_setting(problems: list[Problem]) -> dict[str, Problem]:
    return {p.setting: p for p in problems}


# -- a clean blueprint --------------------------------------------------------------------------

def test_clean_blueprint_gives_typed_settings_in_resolution_order():
    blueprint = load(HEAD + "  group_buy:\n    version: '>=1.0'\n    default_duration: 24h\n  points_mall:\n")
    assert blueprint.path == "b.yaml" and blueprint.format == 1
    assert blueprint.brand == Brand(slug="maple-tea", name="Maple Tea", currency="CNY", timezone="Asia/Shanghai")
    assert list(blueprint.components) == ["catalog", "orders", "group_buy", "points_mall"]
    assert blueprint.components["group_buy"] == ComponentEntry("group_buy", ">=1.0", {
        "default_duration": "24h", "group_size": 3, "late_payment": "refund",
        "virtual_fill": {"enabled": False, "min_ratio": 0.6},
    })
    # Pulled-in components get their defaults too.
    assert blueprint.components["orders"] == ComponentEntry("orders", None, {"payment_timeout": "30m"})
    assert blueprint.components["catalog"].settings == {}
    assert blueprint.components["points_mall"].settings == {"earn_per_yuan": 1, "expiry": {"rule": "never"}}
    assert blueprint.resolution.requested == {"group_buy": ">=1.0", "points_mall": None}
    assert blueprint.resolution.pulled_in == {"orders": ("group_buy", "orders"), "catalog": ("group_buy", "orders", "catalog")}
    assert blueprint.storage == Storage(database=beside_b("var/maple-tea.db"))
    assert blueprint.auth == AuthSettings(secret=None, dev_sign_in=False, token_ttl=timedelta(days=7))
    assert blueprint.production is False and blueprint.demo_data is False
    assert check(HEAD + "  catalog: {}\n") == []


def test_defaults_never_override_what_is_written():
    settings = load(HEAD + "  group_buy:\n    default_duration: 2h\n    group_size: 5\n    virtual_fill: {enabled: true}\n").components["group_buy"].settings
    assert settings["group_size"] == 5 and settings["virtual_fill"] == {"enabled": True, "min_ratio": 0.6}


def test_the_version_key_is_not_a_setting():
    blueprint = load(HEAD + "  catalog:\n    version: '>=1'\n")
    assert blueprint.components["catalog"] == ComponentEntry("catalog", ">=1", {})


def test_top_level_options():
    text = HEAD.replace("components:\n", "auth:\n  secret: " + "s" * 32 + "\n  dev_sign_in: true\n  token_ttl: 12h\n"
                        "demo_data: true\ncomponents:\n") + "  catalog:\n"
    blueprint = load(text)
    assert blueprint.auth == AuthSettings(secret="s" * 32, dev_sign_in=True, token_ttl=timedelta(hours=12))
    assert blueprint.demo_data is True
    # Production never keeps the development sign-in.
    assert load(text.replace("demo_data: true", "production: true")).auth.dev_sign_in is False


@pytest.mark.parametrize(
    ("written", "env", "expected"),
    [
        ("sqlite:///var/x.db", {}, "sqlite+aiosqlite:///var/x.db"),
        ("sqlite+aiosqlite:///var/x.db", {}, "sqlite+aiosqlite:///var/x.db"),
        ("sqlite:////srv/data/x.db", {}, "sqlite+aiosqlite:////srv/data/x.db"),
        ("postgresql://u:p@db/maple", {}, "postgresql+asyncpg://u:p@db/maple"),
        ("postgresql+asyncpg://u@db/maple", {}, "postgresql+asyncpg://u@db/maple"),
        (None, {"DATABASE_URL": "postgresql://u@db/env"}, "postgresql+asyncpg://u@db/env"),
        ("sqlite:///var/named.db", {"DATABASE_URL": "postgresql://u@db/env"}, "sqlite+aiosqlite:///var/named.db"),
        (None, {}, "sqlite+aiosqlite:///var/maple-tea.db"),
    ],
)
def test_storage_urls(written: str | None, env: dict, expected: str):
    storage = f"storage:\n  database: {written}\n" if written else ""
    if ":///var/" in expected:  # relative SQLite paths are relative to the blueprint (here b.yaml)
        expected = beside_b(expected.split(":///", 1)[1])
    assert load(HEAD.replace("components:\n", storage + "components:\n") + "  catalog:\n", env).storage.database == expected


def beside_b(relative: str) -> str:
    return f"sqlite+aiosqlite:///{Path('b.yaml').resolve().parent / relative}"


def test_a_relative_sqlite_path_follows_the_blueprint_file_not_the_current_directory(tmp_path, monkeypatch):
    brand_dir, elsewhere = tmp_path / "brands" / "maple", tmp_path / "elsewhere"
    brand_dir.mkdir(parents=True)
    elsewhere.mkdir()
    path = brand_dir / "maple.yaml"
    path.write_text(HEAD.replace("components:\n", "storage: {database: 'sqlite:///var/maple.db'}\ncomponents:\n") + "  catalog:\n")
    for cwd in (brand_dir, elsewhere, tmp_path):
        monkeypatch.chdir(cwd)
        assert load_blueprint(path.relative_to(cwd) if cwd != elsewhere else path, installed=INSTALLED).storage.database == (
            f"sqlite+aiosqlite:///{brand_dir / 'var' / 'maple.db'}")


# -- YAML itself ------------------------------------------------------------------------------

def test_yaml_syntax_error_is_one_problem_at_its_position():
    problem = one("dougong: 1\nbrand: {slug: maple\ncomponents: {}\n")
    assert problem.message.startswith("YAML syntax error")
    assert problem.line == 3 and problem.column is not None
    problem = one("dougong: 1\nbrand: b: c\n")
    assert where(problem) == (2, 9) and "mapping values are not allowed here" in problem.message


def test_duplicate_key_is_a_yaml_problem():
    problem = one(HEAD + "  catalog: {}\n  catalog: {}\n")
    assert where(problem) == (9, 3) and "duplicate key" in problem.message
    assert problem.hint == "each key may appear only once in a mapping"


@pytest.mark.parametrize("text", ["", "- catalog\n", "just text\n"])
def test_a_blueprint_must_be_a_mapping(text: str):
    problem = one(text)
    assert where(problem) == (1, 1) and "a blueprint is a mapping" in problem.message


def test_unreadable_file(tmp_path: Path):
    problems = check_blueprint(tmp_path / "absent.yaml", installed=INSTALLED, env={})
    assert len(problems) == 1 and problems[0].line is None
    assert str(problems[0]).startswith(f"{tmp_path / 'absent.yaml'}: cannot read the blueprint")


def test_loading_from_a_file(tmp_path: Path):
    path = tmp_path / "brand.yaml"
    path.write_text(HEAD + "  catalog:\n", encoding="utf-8")
    assert load_blueprint(path, installed=INSTALLED, env={}).path == str(path)
    path.write_text(HEAD + "  catalg:\n", encoding="utf-8")
    [problem] = check_blueprint(path, installed=INSTALLED, env={})
    assert problem.file == str(path) and where(problem) == (8, 3)


# -- the blueprint schema ------------------------------------------------------------------------

def test_unknown_top_level_key_at_its_key_with_the_closest_key():
    problem = one(HEAD + "  catalog:\nproduktion: true\n")
    assert where(problem) == (9, 1)
    assert problem.setting == "produktion" and problem.message == "unknown key 'produktion'"
    assert problem.hint == "did you mean 'production'?"


def test_unknown_nested_key_with_the_closest_key():
    problems = check(HEAD.replace("  currency: CNY\n", "  curency: CNY\n") + "  catalog:\n")
    # Both: the misspelt key, and the key it should have been, missing from its mapping.
    assert [(p.setting, where(p), p.message, p.hint) for p in problems] == [
        ("brand.currency", (2, 1), "missing required key 'currency'", None),
        ("brand.curency", (5, 3), "unknown key 'curency'", "did you mean 'currency'?"),
    ]


def test_missing_required_keys():
    problems = by_setting(check("dougong: 1\ncomponents:\n  catalog:\n"))
    assert where(problems["brand"]) == (1, 1) and problems["brand"].message == "missing required key 'brand'"
    problems = by_setting(check(HEAD.replace("  timezone: Asia/Shanghai\n", "") + "  catalog:\n"))
    assert where(problems["brand.timezone"]) == (2, 1)
    assert problems["brand.timezone"].message == "missing required key 'timezone'"


def test_format_version_brand_fields_and_time_zone():
    text = HEAD.replace("dougong: 1", "dougong: 2").replace("maple-tea", "Maple Tea").replace("CNY", "CNH") \
        .replace("Asia/Shanghai", "Asia/Shangai") + "  catalog:\n"
    problems = by_setting(check(text))
    assert where(problems["dougong"]) == (1, 10) and problems["dougong"].message == "must be 1, got 2"
    assert where(problems["brand.slug"]) == (3, 9) and "lowercase letters, digits and dashes" in problems["brand.slug"].message
    assert where(problems["brand.currency"]) == (5, 13) and problems["brand.currency"].message.startswith("'CNH' is not one of ")
    assert problems["brand.currency"].hint == "did you mean 'CNY'?"
    assert where(problems["brand.timezone"]) == (6, 13)
    assert problems["brand.timezone"].message == "unknown time zone 'Asia/Shangai'"
    assert len(problems) == 4


def test_wrong_types_in_the_blueprint():
    text = HEAD.replace("components:\n", "production: 'no'\nauth: [secret]\ncomponents:\n") + "  catalog:\n"
    problems = by_setting(check(text))
    assert where(problems["production"]) == (7, 13)
    assert problems["production"].message == "wrong type: expected true or false, got text 'no'"
    assert where(problems["auth"]) == (8, 7) and problems["auth"].message == "wrong type: expected a mapping, got a list"


def test_a_date_where_text_is_expected():
    problem = one(HEAD.replace("Maple Tea", "2024-01-01") + "  catalog:\n")
    assert where(problem) == (4, 9) and problem.message.startswith("wrong type: expected text, got a date or time")


def test_auth_values_are_checked_without_echoing_the_secret():
    text = HEAD.replace("components:\n", "auth:\n  secret: hunter2\n  token_ttl: 0m\ncomponents:\n") + "  catalog:\n"
    problems = by_setting(check(text))
    assert where(problems["auth.secret"]) == (8, 11)
    assert problems["auth.secret"].message == "must be at least 32 characters long"
    assert "hunter2" not in str(problems["auth.secret"])
    assert where(problems["auth.token_ttl"]) == (9, 14)
    assert problems["auth.token_ttl"].message == "'0m' is not " + DURATION_SCHEMA["description"]


def test_empty_components():
    problem = one(HEAD.replace("components:\n", "components: {}\n"))
    assert where(problem) == (7, 1) and problem.message == "name at least one component"


def test_component_block_of_the_wrong_type_does_not_crash():
    problems = check(HEAD + "  catalog: 5\n  orders: [a]\n")
    assert [(where(p), p.setting, p.message) for p in problems] == [
        ((8, 12), "components.catalog", "wrong type: expected a mapping or nothing, got a whole number 5"),
        ((9, 11), "components.orders", "wrong type: expected a mapping or nothing, got a list"),
    ]


def test_component_names_must_be_snake_case_text():
    problems = check(HEAD + "  Group-Buy: {}\n  1: {}\n")
    # Only the name is reported: "unknown component" on top would be noise.
    assert [(where(p), p.setting, p.message) for p in problems] == [
        ((8, 3), "components.Group-Buy", "'Group-Buy' is not a valid component name (lowercase, digits, underscores)"),
        ((9, 3), "components.1", "1 is not a valid component name (lowercase, digits, underscores)"),
    ]


# -- resolution problems, at the component's key -----------------------------------------------

def test_unknown_component_at_its_key_with_close_names():
    problem = one(HEAD + "  catalog:\n  group_by: {}\n")
    assert where(problem) == (9, 3)
    assert (problem.component, problem.setting) == ("group_by", "components.group_by")
    assert problem.message == "unknown component 'group_by'" and problem.hint == "did you mean 'group_buy'?"


def test_version_range_not_satisfied_at_the_component_key():
    problem = one(HEAD + "  group_buy:\n    version: '>=2.0'\n    default_duration: 1h\n")
    assert where(problem) == (8, 3)
    assert problem.message == "the blueprint needs group_buy >=2.0, but 1.2.0 is installed"


def test_invalid_version_text():
    problems = check(HEAD + "  catalog:\n    version: latest\n  orders:\n    version: 2\n")
    assert [(where(p), p.setting) for p in problems] == [((8, 3), "components.catalog"), ((11, 14), "components.orders.version")]
    assert "'latest'" in problems[0].message and "PEP 440" in problems[0].message
    assert problems[1].message == "the version range must be text like '>=1.0', got 2"


def test_dependency_cycle_prints_the_chain():
    problem = one(HEAD + "  catalog:\n  loop_a:\n")
    assert where(problem) == (9, 3) and problem.component == "loop_a"
    assert problem.message == "dependency cycle: loop_a → loop_b → loop_a"


def test_missing_dependency_names_the_chain():
    problem = one(HEAD + "  needs_ghost:\n")
    assert where(problem) == (8, 3)
    assert problem.message.startswith("needs_ghost → ghost: 'needs_ghost' depends on 'ghost', which is not installed")


def test_dependency_version_not_satisfied_names_the_chain():
    problem = one(HEAD + "  needs_new_orders:\n")
    assert where(problem) == (8, 3) and problem.component == "orders"
    assert problem.message == "needs_new_orders → orders: needs_new_orders needs orders >=2, but 1.3.0 is installed"


def test_kernel_range_the_component_does_not_accept():
    problem = one(HEAD + "  futuristic:\n")
    assert where(problem) == (8, 3)
    assert problem.message == "futuristic 1.0.0 works with kernel >=9, but this kernel is 0.1.0"


# -- component settings ----------------------------------------------------------------------------

GROUP_BUY_MISTAKES = HEAD + """\
  group_buy:
    group_size: 1
    grup_size: 4
    virtual_fill: {enabled: 'yes', min_ratio: 2}
    late_payment: refnd
    price: "9.999"
    label: [x]
  orders:
    payment_timeout: soon
  points_mall:
    earn_per_yuan: '3'
"""


def test_every_settings_problem_at_its_position():
    problems = check(GROUP_BUY_MISTAKES)
    found = {p.setting: (where(p), p.message, p.hint) for p in problems}
    assert found == {
        "components.group_buy.default_duration": ((8, 3), "missing required setting 'default_duration'", None),
        "components.group_buy.group_size": ((9, 17), "1 is less than the minimum of 2", None),
        "components.group_buy.grup_size": ((10, 5), "unknown setting 'grup_size'", "did you mean 'group_size'?"),
        "components.group_buy.virtual_fill.enabled": ((11, 29), "wrong type: expected true or false, got text 'yes'", None),
        "components.group_buy.virtual_fill.min_ratio": ((11, 47), "2 is greater than the maximum of 1", None),
        "components.group_buy.late_payment": ((12, 19), "'refnd' is not one of refund, keep_seat", "did you mean 'refund'?"),
        "components.group_buy.price": ((13, 12), "'9.999' is not " + MONEY_SCHEMA["description"], None),
        "components.group_buy.label": ((14, 12), "wrong type: expected text or a whole number, got a list", None),
        # The component's own description ("how long a buyer has to pay") does not say what to write.
        "components.orders.payment_timeout": ((16, 22), "'soon' is not a duration such as 90s, 30m, 24h, 3d, 2w or 1h30m", None),
        "components.points_mall.earn_per_yuan": ((18, 20), "wrong type: expected a whole number, got text '3'", None),
    }
    assert {p.component for p in problems} == {"group_buy", "orders", "points_mall"}
    assert [p.line for p in problems] == sorted(p.line for p in problems)
    assert str(by_setting(problems)["components.group_buy.grup_size"]) == \
        "b.yaml:10:5: components.group_buy.grup_size: unknown setting 'grup_size' (did you mean 'group_size'?)"


def test_a_component_without_settings_says_so():
    problem = one(HEAD + "  catalog:\n    colour: red\n")
    assert where(problem) == (9, 5) and problem.message == "unknown setting 'colour'"
    assert problem.hint == "catalog takes no settings"


def test_unknown_setting_with_nothing_close_lists_the_known_ones():
    problem = one(HEAD + "  points_mall:\n    zzz: 1\n")
    assert problem.hint == "known: earn_per_yuan, expiry"


def test_a_pulled_in_component_is_reported_at_the_components_key():
    problem = one(HEAD + "  uses_strict:\n")
    assert where(problem) == (7, 1)
    assert (problem.component, problem.setting) == ("strict", "components.strict.api_key")
    assert problem.message == "missing required setting 'api_key'"


def test_settings_of_healthy_components_are_checked_even_when_others_fail_to_resolve():
    problems = check(HEAD + "  nope: {}\n  group_buy: {group_size: 1, default_duration: 1h}\n  loop_a:\n")
    assert [(where(p), p.setting) for p in problems] == [
        ((8, 3), "components.nope"),
        ((9, 27), "components.group_buy.group_size"),
        ((10, 3), "components.loop_a"),
    ]


def test_all_problems_at_once_sorted_by_position():
    text = (
        "dougong: 1\n"
        "brand: {slug: m, name: M, currency: CNY, timezone: Mars/Base}\n"
        "extra: 1\n"
        "storage:\n"
        "  database: ${MISSING_DB}\n"
        "components:\n"
        "  nope: {}\n"
        "  loop_a: {}\n"
        "  group_buy: {group_size: 1}\n"
    )
    problems = check(text)
    assert [(p.line, p.column, p.setting) for p in problems] == [
        (2, 52, "brand.timezone"),
        (3, 1, "extra"),
        (5, 13, "storage.database"),
        (7, 3, "components.nope"),
        (8, 3, "components.loop_a"),
        (9, 3, "components.group_buy.default_duration"),
        (9, 27, "components.group_buy.group_size"),
    ]
    with pytest.raises(BlueprintError) as caught:
        load_blueprint("b.yaml", text=text, installed=INSTALLED, env={})
    assert caught.value.problems == problems
    assert str(caught.value).splitlines() == [str(p) for p in problems]


# -- ${ENV} substitution ----------------------------------------------------------------------------

def test_environment_variables_are_substituted_before_validation():
    text = HEAD.replace("components:\n", "storage:\n  database: postgresql://${DB_USER}@${DB_HOST:-localhost}/maple\n"
                        "components:\n") + "  group_buy:\n    default_duration: ${GB_DURATION:-24h}\n"
    blueprint = load(text, env={"DB_USER": "shop"})
    assert blueprint.storage.database == "postgresql+asyncpg://shop@localhost/maple"
    assert blueprint.components["group_buy"].settings["default_duration"] == "24h"
    assert load(text, env={"DB_USER": "shop", "DB_HOST": "db", "GB_DURATION": "2h"}).components["group_buy"].settings["default_duration"] == "2h"
    # A substituted value is validated like a written one.
    problem = one(text, env={"DB_USER": "shop", "GB_DURATION": "later"})
    assert where(problem) == (11, 23) and problem.message.startswith("'later' is not a duration")


def test_unset_variable_without_default_is_a_problem_at_its_value():
    text = HEAD.replace("components:\n", "auth:\n  secret: ${DOUGONG_SECRET}\ncomponents:\n") + "  catalog:\n"
    problem = one(text)
    assert where(problem) == (8, 11) and problem.setting == "auth.secret"
    assert problem.message == "environment variable DOUGONG_SECRET is not set"
    assert problem.hint == "export DOUGONG_SECRET=… or write ${DOUGONG_SECRET:-default}"
    assert load(text, env={"DOUGONG_SECRET": "x" * 40}).auth.secret == "x" * 40


def test_an_empty_default_is_allowed():
    text = HEAD.replace("Maple Tea", "Maple${SUFFIX:-}") + "  catalog:\n"
    assert load(text).brand.name == "Maple"


def test_process_environment_is_used_when_no_env_is_given(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DOUGONG_TEST_BRAND_NAME", "From Env")
    text = HEAD.replace("Maple Tea", "${DOUGONG_TEST_BRAND_NAME}") + "  catalog:\n"
    assert load_blueprint("b.yaml", text=text, installed=INSTALLED).brand.name == "From Env"


# -- problems as text, and the real installed components -------------------------------------------

def test_problem_text():
    full = Problem("blueprints/x.yaml", 12, 5, "1 is less than the minimum of 2", "group_buy",
                   "components.group_buy.group_size", "use 2 or more")
    assert str(full) == "blueprints/x.yaml:12:5: components.group_buy.group_size: 1 is less than the minimum of 2 (use 2 or more)"
    assert str(Problem("x.yaml", None, None, "cannot read the blueprint")) == "x.yaml: cannot read the blueprint"


def test_installed_components_are_discovered_when_not_given():
    assert check_blueprint("b.yaml", text=HEAD + "  catalog: {}\n", env={}) == []
