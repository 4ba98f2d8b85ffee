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
import dataclasses
import json
import logging
import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Any, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jsonschema import Draft202012Validator
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.reader import ReaderError

import core
from core.blueprint_model import (  # noqa: F401  (re-exported: core.blueprint is where callers import them)
    DEFAULT_STATEMENT_TIMEOUT,
    AuthSettings,
    Blueprint,
    BlueprintError,
    Brand,
    ComponentEntry,
    Cors,
    Problem,
    Storage,
)
from core.blueprint_problems import _dotted, _explain, _json_type, _Located, _schema_problems  # noqa: F401
from core.units import DURATION_PATTERN, parse_duration
from registry.discovery import InstalledComponent, discover
from registry.resolve import Resolution, resolve

log = logging.getLogger("dougong.blueprint")

SCHEMA: dict[str, Any] = json.loads((Path(__file__).parent / "blueprint_schema.json").read_text(encoding="utf-8"))
_COMPONENT_NAME = re.compile(SCHEMA["properties"]["components"]["propertyNames"]["pattern"])
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


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
            line, column = _line_column(raw[: exc.start].decode("utf-8", errors="replace"))
            return None, [
                Problem(
                    file, line, column, f"the blueprint is not valid UTF-8: {exc.reason} (byte {raw[exc.start]:#04x})", hint="save the file as UTF-8"
                )
            ]
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
        line, column = _line_column(text[: exc.position])
        return None, [
            Problem(
                file,
                line,
                column,
                f"YAML could not be read: character U+{exc.character:04X} is not allowed"
                if isinstance(exc.character, int)
                else f"YAML could not be read: {exc.reason}",
                hint="remove the control character (an invisible one, often pasted)",
            )
        ]
    except Exception as exc:  # ruamel raises a few unmarked errors on odd input
        return None, [Problem(file, 1, 1, f"YAML could not be read: {exc}")]
    located = _Located(file, root)
    if not isinstance(root, CommentedMap):
        return None, [Problem(file, 1, 1, "a blueprint is a mapping with dougong, brand and components", hint="start from blueprints/demo.yaml")]

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
        problems.append(
            located.problem(
                ("cors", "credentials"), "credentials cannot be allowed for every origin (*)", hint="list the frontends' origins instead of *"
            )
        )

    blocks = data.get("components") if isinstance(data.get("components"), dict) else {}
    requested: dict[str, str | None] = {}
    for name, block in blocks.items():
        if not isinstance(name, str):  # propertyNames patterns ignore non-strings such as `1:`
            problems.append(
                located.problem(
                    ("components", name),
                    f"{name!r} is not a valid component name (lowercase, digits, underscores)",
                    key=True,
                    setting=f"components.{name}",
                )
            )
            continue
        if not _COMPONENT_NAME.search(name):
            continue  # the schema reported it; "unknown component" on top would be noise
        version = block.get("version") if isinstance(block, dict) else None
        if version is not None and not isinstance(version, str):
            problems.append(
                located.problem(("components", name, "version"), f"the version range must be text like '>=1.0', got {version!r}", component=name)
            )
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
        problems.append(
            located.problem(
                path, rp.message, key=True, component=rp.component, hint=rp.hint, setting=f"components.{anchor}" if anchor else "components"
            )
        )

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
            found = [
                located.problem(
                    ("components", name),
                    f"the settings schema of {name!r} is broken: {exc}",
                    key=True,
                    component=name,
                    setting=f"components.{name}",
                    hint=f"report this to the author of {component.distribution or name!r}",
                )
            ]
        problems += found
        if not found:
            settings = _with_defaults(component.manifest.settings_schema, settings)
        entries[name] = ComponentEntry(name, requested.get(name), settings)

    if not problems:
        from core.pages import read_source

        pages = read_source(file, data, located, problems)
    if problems:
        return None, sorted(problems, key=lambda p: (p.line or 0, p.column or 0))
    return dataclasses.replace(_blueprint(file, data, entries, resolution, env), pages=pages), []


def _line_column(before: str) -> tuple[int, int]:
    """1-based line and column just after ``before``, the text preceding a position."""
    line = before.count("\n") + 1
    return line, len(before) - (before.rfind("\n") + 1) + 1


def _substitute(
    node: Any, path: tuple[Any, ...], env: Mapping[str, str], located: _Located, problems: list[Problem], unset: set[tuple[Any, ...]]
) -> Any:
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
            problems.append(located.problem(path, f"environment variable {name} is not set", hint=f"export {name}=… or write ${{{name}:-default}}"))
            unset.add(path)  # the schema's verdict on the placeholder text would only mislead
            return match.group(0)

        return _ENV.sub(replace, str(node))
    if isinstance(node, str):
        return str(node)
    return node


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
        url = "sqlite+aiosqlite:///" + _beside(url[len(sqlite) :], file)
    elif url.startswith("postgresql://"):
        url = "postgresql+asyncpg://" + url[len("postgresql://") :]
    elif url.startswith("postgres://"):
        url = "postgresql+asyncpg://" + url[len("postgres://") :]
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
        database=_database_url(storage_data.get("database"), brand.slug, env, file),
        redis=storage_data.get("redis") or None,
        statement_timeout=parse_duration(storage_data["statement_timeout"]) if storage_data.get("statement_timeout") else DEFAULT_STATEMENT_TIMEOUT,
    )
    cors_data = data.get("cors") or {}
    cors = Cors(
        origins=tuple(cors_data.get("origins") or ()),
        credentials=bool(cors_data.get("credentials", False)),
        max_age=int(cors_data.get("max_age", 600)),
    )
    auth_data = data.get("auth") or {}
    production = bool(data.get("production", False))
    auth = AuthSettings(
        secret=auth_data.get("secret") or None,
        dev_sign_in=bool(auth_data.get("dev_sign_in", False)) and not production,
        token_ttl=parse_duration(auth_data["token_ttl"]) if auth_data.get("token_ttl") else timedelta(days=7),
    )
    assert resolution is not None  # components has minProperties 1, so resolution ran
    return Blueprint(
        path=file,
        format=int(data["dougong"]),
        brand=brand,
        storage=storage,
        auth=auth,
        production=production,
        demo_data=bool(data.get("demo_data", False)),
        components=entries,
        resolution=resolution,
        cors=cors,
    )
