"""Blueprints: the one YAML file a consultant writes per brand.

Format (``core/blueprint_schema.json`` is the single source)::

    dougong: 1                         # format version
    brand: {slug: maple-tea, name: 枫叶茶饮, currency: CNY, timezone: Asia/Shanghai}
    storage:                           # optional
      database: ${DATABASE_URL}        # sqlite:///var/x.db (default var/<slug>.db) or postgresql://…
      redis: ${REDIS_URL}              # optional: subscriptions across processes
      statement_timeout: 30s           # PostgreSQL: the longest one SQL statement may run
    cors:                              # optional: browsers on these origins may call the API
      origins: [https://h5.maple.example]
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

Rules:

- ``dougong``, ``brand`` and ``components`` are required; ``brand.slug`` is lowercase letters,
  digits and dashes; ``currency`` one of :data:`core.units.CURRENCY_EXPONENT`; ``timezone`` an
  IANA name. Unknown keys anywhere are problems, with the closest known key as the hint.
- ``components`` maps a component name to its block (a mapping, or nothing for "defaults").
  Inside a block the key ``version`` is reserved for a PEP 440 range of the component; every
  other key is a setting, validated against the component's ``manifest.settings_schema`` once
  the component resolved, with schema ``default`` values filled in (nested ones too).
- Dependencies are pulled in: :attr:`Blueprint.components` holds every resolved component in
  resolution order (dependencies first), pulled-in ones with their defaults.
- ``${VAR}`` and ``${VAR:-default}`` are substituted from the environment in every string
  before validation; an unset variable without a default is a problem at that value.
- ``storage.database`` defaults to ``$DATABASE_URL``, then ``sqlite:///var/<slug>.db``;
  ``sqlite://`` and ``postgresql://`` become their async drivers' URLs; a relative SQLite path
  is relative to the blueprint file's folder (never to the current directory).

Every problem is reported at once, each with file:line:column (1-based, of the value, or of
the key when the value is missing or the key is unknown), the component, the setting's path
and a hint where one is obvious; nothing of a component runs before its settings passed its
own JSON Schema.
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
from typing import Any, Collection, Iterator, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.reader import ReaderError

import core
from core.units import DURATION_PATTERN, DURATION_SCHEMA, MONEY_PATTERN, MONEY_SCHEMA, parse_duration
from registry.discovery import InstalledComponent, discover
from registry.resolve import Resolution, closest, resolve

log = logging.getLogger("dougong.blueprint")

SCHEMA: dict[str, Any] = json.loads((Path(__file__).parent / "blueprint_schema.json").read_text(encoding="utf-8"))
_COMPONENT_NAME = re.compile(SCHEMA["properties"]["components"]["propertyNames"]["pattern"])
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
# Component authors often override the shared fragments' description with what the setting
# means ("how long the winner has to pay"); the error should still say what to write.
_KNOWN_PATTERNS = {DURATION_PATTERN: DURATION_SCHEMA["description"], MONEY_PATTERN: MONEY_SCHEMA["description"]}
_TYPE_NAMES = {"object": "a mapping", "array": "a list", "string": "text", "integer": "a whole number",
               "number": "a number", "boolean": "true or false", "null": "nothing", "other": "a date or time"}


# Every character str.splitlines breaks on, written as an escape instead.
_LINE_BREAKS = {ord(c): repr(c)[1:-1] for c in "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"}


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
        # One problem, one line (editors and grep jump to file:line): a key or value may carry
        # a line break of its own, CR, NEL or U+2028 among them.
        return text.translate(_LINE_BREAKS)


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


DEFAULT_STATEMENT_TIMEOUT = timedelta(seconds=30)


@dataclass(frozen=True)
class Storage:
    database: str
    redis: str | None = None
    # Long enough for any report a brand runs, short enough that a query stuck behind a lock
    # answers KERNEL_DATABASE_UNAVAILABLE instead of holding a connection for minutes.
    statement_timeout: timedelta = DEFAULT_STATEMENT_TIMEOUT


@dataclass(frozen=True)
class Cors:
    origins: tuple[str, ...] = ()
    credentials: bool = False
    max_age: int = 600


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
    cors: Cors = Cors()


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
                key_line, key_col = node.lc.key(step)
                line, col = (key_line, key_col) if (key and last) else node.lc.value(step)
                best = (line + 1, col + 1)
                ancestor_key = (key_line + 1, key_col + 1)
                node = node[step]
            elif isinstance(node, CommentedSeq) and isinstance(step, int) and 0 <= step < len(node):
                line, col = node.lc.item(step)
                best = ancestor_key = (line + 1, col + 1)
                node = node[step]
            else:
                # Not written in the file (a pulled-in component, a setting to add): the key of
                # the nearest ancestor is where the consultant would write it.
                if depth:
                    best = ancestor_key
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
            raw = Path(file).read_bytes()
        except OSError as exc:
            return None, [Problem(file, None, None, f"cannot read the blueprint: {exc}")]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            # Point at the bad byte: a consultant's editor shows lines, not offsets.
            line, column = _line_column(raw[:exc.start].decode("utf-8", errors="replace"))
            return None, [Problem(file, line, column, f"the blueprint is not valid UTF-8: {exc.reason} (byte {raw[exc.start]:#04x})",
                                  hint="save the file as UTF-8")]
    try:
        root = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = f"YAML syntax error: {exc.problem or exc.context}"
        duplicate = "duplicate key" in message
        hint = "each key may appear only once in a mapping" if duplicate else "check indentation, colons and quotes around this spot"
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        return None, [Problem(file, line, column, message, hint=hint)]
    except ReaderError as exc:  # a control character YAML does not allow; ruamel gives an offset
        line, column = _line_column(text[:exc.position])
        return None, [Problem(file, line, column, f"YAML could not be read: character U+{exc.character:04X} is not allowed"
                              if isinstance(exc.character, int) else f"YAML could not be read: {exc.reason}",
                              hint="remove the control character (an invisible one, often pasted)")]
    except Exception as exc:  # ruamel raises a few unmarked errors on odd input
        return None, [Problem(file, 1, 1, f"YAML could not be read: {exc}")]
    located = _Located(file, root)
    if not isinstance(root, CommentedMap):
        return None, [Problem(file, 1, 1, "a blueprint is a mapping with dougong, brand and components",
                              hint="start from blueprints/demo.yaml")]

    problems: list[Problem] = []
    unset: set[tuple[Any, ...]] = set()
    data = _substitute(root, (), env, located, problems, unset)
    problems += _schema_problems(Draft202012Validator(SCHEMA), data, (), located, component=None, unset=unset)
    brand = data.get("brand") if isinstance(data.get("brand"), dict) else {}
    timezone = brand.get("timezone")
    if isinstance(timezone, str) and timezone:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(located.problem(("brand", "timezone"), f"unknown time zone {timezone!r}", hint="use an IANA name such as Asia/Shanghai"))
    for section, key in (("auth", "token_ttl"), ("storage", "statement_timeout")):
        block = data.get(section) if isinstance(data.get(section), dict) else {}
        if isinstance(block.get(key), str) and re.search(DURATION_PATTERN, block[key]):
            try:
                parse_duration(block[key])
            except (ValueError, OverflowError) as exc:
                problems.append(located.problem((section, key), str(exc)))
    cors = data.get("cors") if isinstance(data.get("cors"), dict) else {}
    if cors.get("credentials") is True and isinstance(cors.get("origins"), list) and "*" in cors["origins"]:
        problems.append(located.problem(("cors", "credentials"), "credentials cannot be allowed for every origin (*)",
                                        hint="list the frontends' origins instead of *"))

    blocks = data.get("components") if isinstance(data.get("components"), dict) else {}
    requested: dict[str, str | None] = {}
    for name, block in blocks.items():
        if not isinstance(name, str):  # propertyNames patterns ignore non-strings such as `1:`
            problems.append(located.problem(("components", name), f"{name!r} is not a valid component name (lowercase, digits, underscores)",
                                            key=True, setting=f"components.{name}"))
            continue
        if not _COMPONENT_NAME.search(name):
            continue  # the schema reported it; "unknown component" on top would be noise
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

    if resolution is not None:
        to_check = list(resolution.order)
    else:
        # Settings of components whose resolution went fine are still checked, so one
        # unknown component does not hide every other mistake; the rest wait for a fix.
        blamed = {rp.component for rp in resolution_problems} | {name for rp in resolution_problems for name in rp.chain}
        to_check = [installed[name] for name in requested if name in installed and name not in blamed]

    entries: dict[str, ComponentEntry] = {}
    for component in to_check:
        name = component.manifest.name
        block = blocks.get(name)
        if not isinstance(block, dict):  # null, or a wrong type the blueprint schema reported
            block = {}
        settings = {k: v for k, v in block.items() if k != "version"}
        try:
            validator = Draft202012Validator(component.manifest.settings_schema)
            found = _schema_problems(validator, settings, ("components", name), located, component=name, unset=unset)
        except Exception as exc:  # a broken schema is the component's bug, not the consultant's
            found = [located.problem(("components", name), f"the settings schema of {name!r} is broken: {exc}",
                                     key=True, component=name, setting=f"components.{name}",
                                     hint=f"report this to the author of {component.distribution or name!r}")]
        problems += found
        if not found:
            settings = _with_defaults(component.manifest.settings_schema, settings)
        entries[name] = ComponentEntry(name, requested.get(name), settings)

    if problems:
        return None, sorted(problems, key=lambda p: (p.line or 0, p.column or 0))
    return _blueprint(file, data, entries, resolution, env), []


def _line_column(before: str) -> tuple[int, int]:
    """1-based line and column just after ``before``, the text preceding a position."""
    line = before.count("\n") + 1
    return line, len(before) - (before.rfind("\n") + 1) + 1


def _substitute(node: Any, path: tuple[Any, ...], env: Mapping[str, str], located: _Located, problems: list[Problem],
                unset: set[tuple[Any, ...]]) -> Any:
    """Plain Python data with ${VAR} substituted; unset variables become problems."""
    if isinstance(node, CommentedMap):
        return {key: _substitute(value, path + (key,), env, located, problems, unset) for key, value in node.items()}
    if isinstance(node, CommentedSeq):
        return [_substitute(value, path + (i,), env, located, problems, unset) for i, value in enumerate(node)]
    if isinstance(node, str) and "${" in node:
        def replace(match: re.Match) -> str:
            name, default = match.group(1), match.group(2)
            if name in env:
                return env[name]
            if default is not None:
                return default
            problems.append(located.problem(path, f"environment variable {name} is not set",
                                            hint=f"export {name}=… or write ${{{name}:-default}}"))
            unset.add(path)  # the schema's verdict on the placeholder text would only mislead
            return match.group(0)
        return _ENV.sub(replace, str(node))
    if isinstance(node, str):
        return str(node)
    return node


def _schema_problems(validator: Draft202012Validator, data: Any, prefix: tuple[Any, ...], located: _Located, *,
                     component: str | None, unset: Collection[tuple[Any, ...]] = frozenset()) -> list[Problem]:
    problems: list[Problem] = []
    for error in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]):
        path = prefix + tuple(error.absolute_path)
        if any(path[:len(u)] == u for u in unset):
            continue
        problems += _explain(error, prefix, located, component)
    return problems


def _explain(error: ValidationError, prefix: tuple[Any, ...], located: _Located, component: str | None) -> Iterator[Problem]:
    path = prefix + tuple(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    where = "a component" if component else "the blueprint"
    if "propertyNames" in error.relative_schema_path:
        # The error sits on the mapping; the offending name is the instance, so point at its key.
        what = "component name (lowercase, digits, underscores)" if path == ("components",) else "name here"
        yield located.problem(path + (error.instance,), f"{error.instance!r} is not a valid {what}", key=True,
                              component=component, setting=_dotted(path + (error.instance,)))
        return
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = list((schema.get("properties") or {}).keys())
        for extra in sorted(set(error.instance) - set(allowed), key=str):
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
        noun = "setting" if component else "key"
        yield located.problem(path, f"missing required {noun} {name!r}", key=bool(path), component=component,
                              setting=_dotted(path + (name,)))
        return
    if error.validator == "type":
        expected = schema.get("type")
        expected = (" or ".join(_TYPE_NAMES.get(str(t), str(t)) for t in expected) if isinstance(expected, list)
                    else _TYPE_NAMES.get(str(expected), str(expected)))
        got = _TYPE_NAMES.get(_json_type(error.instance), "something else")
        # A whole mapping or list repeated back is noise; its position already shows it.
        shown = f" {error.instance!r}" if not isinstance(error.instance, (dict, list)) else ""
        yield located.problem(path, f"wrong type: expected {expected}, got {got}{shown}", component=component)
        return
    if error.validator == "pattern" and (error.validator_value in _KNOWN_PATTERNS or schema.get("description")):
        wanted = _KNOWN_PATTERNS.get(error.validator_value) or schema["description"]
        yield located.problem(path, f"{error.instance!r} is not {wanted}", component=component)
        return
    if error.validator in ("minLength", "maxLength"):
        # Never echo the value: the usual offender is a secret that is too short.
        bound = "at least" if error.validator == "minLength" else "at most"
        yield located.problem(path, f"must be {bound} {error.validator_value} characters long", component=component)
        return
    if error.validator == "minProperties" and path == ("components",):
        yield located.problem(path, "name at least one component", key=True, component=component,
                              hint="for example `catalog: {}`")
        return
    if error.validator in ("anyOf", "oneOf") and error.context and all(e.validator == "type" for e in error.context):
        wanted = " or ".join(dict.fromkeys(_TYPE_NAMES.get(e.validator_value, str(e.validator_value)) for e in error.context))
        got = _TYPE_NAMES.get(_json_type(error.instance), "something else")
        yield located.problem(path, f"wrong type: expected {wanted}, got {got}", component=component)
        return
    if error.validator == "enum":
        options = [str(o) for o in error.validator_value]
        yield located.problem(path, f"{error.instance!r} is not one of {', '.join(options)}", component=component,
                              hint=closest(str(error.instance), options))
        return
    if error.validator == "const":
        yield located.problem(path, f"must be {error.validator_value!r}, got {error.instance!r}", component=component)
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
    if isinstance(value, dict):
        return "object"
    return "other"  # YAML dates and timestamps, which JSON has no type for


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


def _database_url(raw: str | None, slug: str, env: Mapping[str, str], file: str = "<inline>") -> str:
    url = raw or env.get("DATABASE_URL") or f"sqlite:///var/{slug}.db"
    sqlite = next((p for p in ("sqlite+aiosqlite:///", "sqlite:///") if url.startswith(p)), None)
    if sqlite is not None:
        url = "sqlite+aiosqlite:///" + _beside(url[len(sqlite):], file)
    elif url.startswith("postgresql://"):
        url = "postgresql+asyncpg://" + url[len("postgresql://"):]
    elif url.startswith("postgres://"):
        url = "postgresql+asyncpg://" + url[len("postgres://"):]
    return url


def _beside(database: str, file: str) -> str:
    """A relative SQLite path is relative to the blueprint file, not to the current directory:
    ``dougong migrate`` run from another folder must find the same database, not silently
    create an empty one there. Inline blueprints (no file) keep the current directory."""
    path = Path(database)
    if not database or database.startswith(":") or path.is_absolute() or file.startswith("<"):
        return database
    return str(Path(file).resolve().parent / path)


def _blueprint(file: str, data: dict, entries: dict[str, ComponentEntry], resolution: Resolution | None, env: Mapping[str, str]) -> Blueprint:
    brand_data = data["brand"]
    brand = Brand(slug=brand_data["slug"], name=brand_data["name"], currency=brand_data["currency"], timezone=brand_data["timezone"])
    storage_data = data.get("storage") or {}
    storage = Storage(
        database=_database_url(storage_data.get("database"), brand.slug, env, file), redis=storage_data.get("redis") or None,
        statement_timeout=parse_duration(storage_data["statement_timeout"]) if storage_data.get("statement_timeout")
        else DEFAULT_STATEMENT_TIMEOUT,
    )
    cors_data = data.get("cors") or {}
    cors = Cors(origins=tuple(cors_data.get("origins") or ()), credentials=bool(cors_data.get("credentials", False)),
                max_age=int(cors_data.get("max_age", 600)))
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
        cors=cors,
    )
