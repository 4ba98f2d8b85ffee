"""``dougong validate``: secrets written into a blueprint instead of read from the environment.

A blueprint is committed, copied between brands and pasted into chats; a signing key written
in it is a key everyone with the file holds. Checked: ``auth.secret`` and every component
setting whose JSON Schema marks it ``writeOnly: true`` (the standard annotation for values
that are set but never shown — store_pickup's ``qr_secret``, members' WeChat ``app_secret``).
A value that does not come from ``${VAR}`` is a problem, with the line and a hint.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator, Mapping

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from core.blueprint import Problem, _Located

HINT = "write it as ${SOME_ENV_VAR} and keep the value in your secret store"


def literal_secrets(path: Path, installed: Mapping[str, Any]) -> list[Problem]:
    try:
        root = YAML(typ="rt").load(path.read_text(encoding="utf-8"))
    except Exception:  # the blueprint's own check reports unreadable YAML
        return []
    if not isinstance(root, CommentedMap):
        return []
    located = _Located(str(path), root)
    problems = []
    for where, value in _secret_values(root, installed):
        if isinstance(value, str) and value and "${" not in value:
            problems.append(
                located.problem(where, "a secret is written in the blueprint", hint=HINT, component=where[1] if where[0] == "components" else None)
            )
    return problems


def _secret_values(root: CommentedMap, installed: Mapping[str, Any]) -> Iterator[tuple[tuple[Any, ...], Any]]:
    auth = root.get("auth")
    if isinstance(auth, CommentedMap) and "secret" in auth:
        yield ("auth", "secret"), auth["secret"]
    components = root.get("components")
    if not isinstance(components, CommentedMap):
        return
    for name, block in components.items():
        component = installed.get(name)
        if component is None or not isinstance(block, CommentedMap):
            continue
        yield from _walk(block, component.manifest.settings_schema, ("components", name))


def _walk(value: Any, schema: Any, where: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if not isinstance(schema, Mapping):
        return
    if schema.get("writeOnly") is True:
        yield where, value
        return
    properties = schema.get("properties")
    if isinstance(value, CommentedMap) and isinstance(properties, Mapping):
        for key, sub in properties.items():
            if key in value:
                yield from _walk(value[key], sub, (*where, key))
