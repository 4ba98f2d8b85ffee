"""Blueprints: the one YAML file a consultant writes per brand.

Format (``core/blueprint_schema.json`` is the single source)::

    dougong: 1                         # format version
    brand: {slug: maple-tea, name: 枫叶茶饮, currency: CNY, timezone: Asia/Shanghai}
    storage:                           # optional
      database: ${DATABASE_URL}        # sqlite:///var/x.db (default var/<slug>.db) or postgresql://…
      redis: ${REDIS_URL}              # optional: subscriptions across processes
    auth:                              # optional
      secret: ${DOUGONG_SECRET}        # required in production
      dev_sign_in: true                # development sign-in mutation (never in production)
      token_ttl: 7d
    production: false                  # turns off introspection, GraphiQL and dev sign-in
    demo_data: false                   # seed demo data into an empty database on serve
    components:
      group_buy:
        version: ">=1.0"               # optional PEP 440 range; every other key is a setting
        default_duration: 24h

``${VAR}`` and ``${VAR:-default}`` are substituted from the environment in every string.
Every problem is reported at once, each with file:line:column, the component, the setting's
path and a hint where one is obvious; nothing of a component runs before its settings passed
its own JSON Schema.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Iterator, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

import core
from core.units import parse_duration
from registry.discovery import InstalledComponent, discover
from registry.resolve import Resolution, closest, resolve

log = logging.getLogger("dougong.blueprint")

SCHEMA: dict[str, Any] = json.loads((Path(__file__).parent / "blueprint_schema.json").read_text(encoding="utf-8"))
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_TYPE_NAMES = {"object": "a mapping", "array": "a list", "string": "text", "integer": "a whole number",
               "number": "a number", "boolean": "true or false", "null": "nothing"}


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    column: int | None
    message: str
    component: str | None = None
    setting: str | None = None
    hint: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}:{self.column or 1}"
        text = f"{where}: "
        if self.setting:
            text += f"{self.setting}: "
        text += self.message
        if self.hint:
            text += f" ({self.hint})"
        return text


class BlueprintError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class Brand:
    slug: str
    name: str
    currency: str
    timezone: str


@dataclass(frozen=True)
class Storage:
    database: str
    redis: str | None = None


@dataclass(frozen=True)
class AuthSettings:
    secret: str | None = None
    dev_sign_in: bool = False
    token_ttl: timedelta = timedelta(days=7)


@dataclass(frozen=True)
class ComponentEntry:
    name: str
    version: str | None
    settings: dict[str, Any]


@dataclass(frozen=True)
class Blueprint:
    path: str
    format: int
    brand: Brand
    storage: Storage
    auth: AuthSettings
    production: bool
    demo_data: bool
    components: dict[str, ComponentEntry]
    resolution: Resolution = field(repr=False)


def load_blueprint(
    path: str | os.PathLike,
    *,
    text: str | None = None,
    installed: Mapping[str, InstalledComponent] | None = None,
    env: Mapping[str, str] | None = None,
) -> Blueprint:
    blueprint, problems = _load(str(path), text, installed, env)
    if problems or blueprint is None:
        raise BlueprintError(problems)
    return blueprint


def check_blueprint(
    path: str | os.PathLike,
    *,
    text: str | None = None,
    installed: Mapping[str, InstalledComponent] | None = None,
    env: Mapping[str, str] | None = None,
) -> list[Problem]:
    return _load(str(path), text, installed, env)[1]


# -- positions ---------------------------------------------------------------------------------

class _Located:
    """The parsed document plus a way back from a JSON path to the YAML line and column."""

    def __init__(self, file: str, root: Any) -> None:
        self.file = file
        self.root = root

    def position(self, path: tuple[Any, ...], *, key: bool = False) -> tuple[int | None, int | None]:
        """1-based line/column of the value at ``path`` (of its key with ``key=True``); falls
        back to the nearest ancestor that exists in the YAML."""
        node = self.root
        best: tuple[int | None, int | None] = (1, 1)
        for depth, step in enumerate(path):
            last = depth == len(path) - 1
            if isinstance(node, CommentedMap) and step in node:
                line, col = node.lc.key(step) if (key and last) else node.lc.value(step)
                best = (line + 1, col + 1)
                node = node[step]
            elif isinstance(node, CommentedSeq) and isinstance(step, int) and 0 <= step < len(node):
                line, col = node.lc.item(step)
                best = (line + 1, col + 1)
                node = node[step]
            else:
                break
        return best

    def problem(self, path: tuple[Any, ...], message: str, *, key: bool = False, component: str | None = None,
                hint: str | None = None, setting: str | None = None) -> Problem:
        line, column = self.position(path, key=key)
        return Problem(self.file, line, column, message, component, setting if setting is not None else _dotted(path), hint)


def _dotted(path: tuple[Any, ...]) -> str | None:
    if not path:
        return None
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text


# -- loading -----------------------------------------------------------------------------------

def _load(
    file: str,
    text: str | None,
    installed: Mapping[str, InstalledComponent] | None,
    env: Mapping[str, str] | None,
) -> tuple[Blueprint | None, list[Problem]]:
    env = os.environ if env is None else env
    if text is None:
        try:
            text = Path(file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            return None, [Problem(file, None, None, f"cannot read the blueprint: {exc}")]
    try:
        root = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = f"YAML syntax error: {exc.problem or exc.context}"
        return None, [Problem(file, mark.line + 1 if mark else None, mark.column + 1 if mark else None, message,
                              hint="check indentation, colons and quotes around this spot")]
    except Exception as exc:  # ruamel raises a few unmarked errors on odd input
        return None, [Problem(file, None, None, f"YAML could not be read: {exc}")]
    located = _Located(file, root)
    if not isinstance(root, CommentedMap):
        return None, [Problem(file, 1, 1, "a blueprint is a mapping with dougong, brand and components",
                              hint="start from blueprints/demo.yaml")]

    problems: list[Problem] = []
    data = _substitute(root, (), env, located, problems)
    problems += _schema_problems(Draft202012Validator(SCHEMA), data, (), located, component=None)
    brand = data.get("brand") if isinstance(data.get("brand"), dict) else {}
    timezone = brand.get("timezone")
    if isinstance(timezone, str) and timezone:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(located.problem(("brand", "timezone"), f"unknown time zone {timezone!r}", hint="use an IANA name such as Asia/Shanghai"))

    blocks = data.get("components") if isinstance(data.get("components"), dict) else {}
    requested: dict[str, str | None] = {}
    for name, block in blocks.items():
        version = block.get("version") if isinstance(block, dict) else None
        if version is not None and not isinstance(version, str):
            problems.append(located.problem(("components", name, "version"), f"the version range must be text like '>=1.0', got {version!r}", component=name))
            version = None
        requested[name] = version

    if installed is None:
        installed, discovery_problems = discover()
        # A broken package the blueprint does not use must not fail it; one it uses shows up
        # below as an unknown component, and `dougong components` lists the breakage.
        for text in discovery_problems:
            log.warning("%s", text)

    resolution, resolution_problems = resolve(requested, installed, core.__version__) if requested else (None, [])
    for rp in resolution_problems:
        anchor = rp.chain[0] if rp.chain and rp.chain[0] in blocks else (rp.component if rp.component in blocks else None)
        path = ("components", anchor) if anchor else ("components",)
        problems.append(located.problem(path, rp.message, key=True, component=rp.component, hint=rp.hint,
                                        setting=f"components.{anchor}" if anchor else "components"))

    entries: dict[str, ComponentEntry] = {}
    if resolution is not None:
        for component in resolution.order:
            name = component.manifest.name
            block = blocks.get(name) or {}
            settings = {k: v for k, v in block.items() if k != "version"}
            found = _schema_problems(Draft202012Validator(component.manifest.settings_schema), settings,
                                     ("components", name), located, component=name)
            problems += found
            if not found:
                settings = _with_defaults(component.manifest.settings_schema, settings)
            entries[name] = ComponentEntry(name, requested.get(name), settings)

    if problems:
        return None, problems
    return _blueprint(file, data, entries, resolution, env), []


def _substitute(node: Any, path: tuple[Any, ...], env: Mapping[str, str], located: _Located, problems: list[Problem]) -> Any:
    """Plain Python data with ${VAR} substituted; unset variables become problems."""
    if isinstance(node, CommentedMap):
        return {key: _substitute(value, path + (key,), env, located, problems) for key, value in node.items()}
    if isinstance(node, CommentedSeq):
        return [_substitute(value, path + (i,), env, located, problems) for i, value in enumerate(node)]
    if isinstance(node, str) and "${" in node:
        def replace(match: re.Match) -> str:
            name, default = match.group(1), match.group(2)
            if name in env:
                return env[name]
            if default is not None:
                return default
            problems.append(located.problem(path, f"environment variable {name} is not set",
                                            hint=f"export {name}=… or write ${{{name}:-default}}"))
            return match.group(0)  # keep the text: an empty value would add a second, misleading problem
        return _ENV.sub(replace, str(node))
    if isinstance(node, str):
        return str(node)
    return node


def _schema_problems(validator: Draft202012Validator, data: Any, prefix: tuple[Any, ...], located: _Located, *, component: str | None) -> list[Problem]:
    problems = []
    for error in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]):
        problems += _explain(error, prefix, located, component)
    return problems


def _explain(error: ValidationError, prefix: tuple[Any, ...], located: _Located, component: str | None) -> Iterator[Problem]:
    path = prefix + tuple(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    where = "a component" if component else "the blueprint"
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = list((schema.get("properties") or {}).keys())
        for extra in sorted(set(error.instance) - set(allowed)):
            noun = "setting" if component else "key"
            if allowed:
                hint = closest(extra, allowed) or f"known: {', '.join(allowed)}"
            else:
                hint = f"{component or _dotted(path) or where} takes no settings"
            yield located.problem(path + (extra,), f"unknown {noun} {extra!r}", key=True, component=component,
                                  hint=hint, setting=_dotted(path + (extra,)))
        return
    if error.validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        name = missing[0] if missing else error.message
        yield located.problem(path, f"missing required setting {name!r}", key=bool(path), component=component,
                              setting=_dotted(path + (name,)))
        return
    if error.validator == "type":
        expected = schema.get("type")
        expected = " or ".join(_TYPE_NAMES.get(t, t) for t in expected) if isinstance(expected, list) else _TYPE_NAMES.get(expected, expected)
        got = _TYPE_NAMES.get(_json_type(error.instance), "something else")
        yield located.problem(path, f"wrong type: expected {expected}, got {got} {error.instance!r}", component=component)
        return
    if error.validator == "pattern" and schema.get("description"):
        yield located.problem(path, f"{error.instance!r} is not {schema['description']}", component=component)
        return
    if error.validator == "enum":
        options = [str(o) for o in error.validator_value]
        yield located.problem(path, f"{error.instance!r} is not one of {', '.join(options)}", component=component,
                              hint=closest(str(error.instance), options))
        return
    if error.validator == "const":
        yield located.problem(path, f"must be {error.validator_value!r}, got {error.instance!r}", component=component)
        return
    if error.validator == "propertyNames":
        yield located.problem(path, f"{error.instance!r} is not a valid component name (lowercase, digits, underscores)", key=True, component=component)
        return
    yield located.problem(path, error.message, component=component)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _with_defaults(schema: Mapping[str, Any], value: Any) -> Any:
    """Fill ``default``s of absent properties, recursively, without touching given values."""
    if not isinstance(value, dict) or schema.get("type") not in ("object", None):
        return value
    result = dict(value)
    for name, sub in (schema.get("properties") or {}).items():
        if not isinstance(sub, dict):
            continue
        if name not in result:
            if "default" in sub:
                result[name] = copy.deepcopy(sub["default"])
            elif sub.get("type") == "object" and sub.get("properties"):
                result[name] = _with_defaults(sub, {})
                if not result[name]:
                    del result[name]
                continue
        if name in result:
            result[name] = _with_defaults(sub, result[name])
    return result


def _database_url(raw: str | None, slug: str, env: Mapping[str, str]) -> str:
    url = raw or env.get("DATABASE_URL") or f"sqlite:///var/{slug}.db"
    if url.startswith("sqlite:///"):
        url = "sqlite+aiosqlite:///" + url[len("sqlite:///"):]
    elif url.startswith("postgresql://"):
        url = "postgresql+asyncpg://" + url[len("postgresql://"):]
    elif url.startswith("postgres://"):
        url = "postgresql+asyncpg://" + url[len("postgres://"):]
    return url


def _blueprint(file: str, data: dict, entries: dict[str, ComponentEntry], resolution: Resolution | None, env: Mapping[str, str]) -> Blueprint:
    brand_data = data["brand"]
    brand = Brand(slug=brand_data["slug"], name=brand_data["name"], currency=brand_data["currency"], timezone=brand_data["timezone"])
    storage_data = data.get("storage") or {}
    storage = Storage(database=_database_url(storage_data.get("database"), brand.slug, env), redis=storage_data.get("redis") or None)
    auth_data = data.get("auth") or {}
    production = bool(data.get("production", False))
    auth = AuthSettings(
        secret=auth_data.get("secret") or None,
        dev_sign_in=bool(auth_data.get("dev_sign_in", False)) and not production,
        token_ttl=parse_duration(auth_data["token_ttl"]) if auth_data.get("token_ttl") else timedelta(days=7),
    )
    assert resolution is not None  # components has minProperties 1, so resolution ran
    return Blueprint(
        path=file, format=int(data["dougong"]), brand=brand, storage=storage, auth=auth,
        production=production, demo_data=bool(data.get("demo_data", False)), components=entries, resolution=resolution,
    )
