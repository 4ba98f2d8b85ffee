"""From a JSON Schema verdict to a problem a consultant can act on: the YAML line and column of
the value at fault (:class:`_Located`) and a message in the consultant's words rather than
jsonschema's (:func:`_explain`). Used by :mod:`core.blueprint` (which re-exports these names),
the dry-run boot and the secret check."""

from __future__ import annotations

import re
from typing import Any, Collection, Iterator

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from core.blueprint_model import Problem
from core.units import DURATION_PATTERN, DURATION_SCHEMA, MONEY_PATTERN, MONEY_SCHEMA
from registry.resolve import closest

# Component authors often override the shared fragments' description with what the setting
# means ("how long the winner has to pay"); the error should still say what to write.
_KNOWN_PATTERNS = {DURATION_PATTERN: DURATION_SCHEMA["description"], MONEY_PATTERN: MONEY_SCHEMA["description"]}
_TYPE_NAMES = {
    "object": "a mapping",
    "array": "a list",
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "nothing",
    "other": "a date or time",
}


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

    def problem(
        self,
        path: tuple[Any, ...],
        message: str,
        *,
        key: bool = False,
        component: str | None = None,
        hint: str | None = None,
        setting: str | None = None,
    ) -> Problem:
        line, column = self.position(path, key=key)
        return Problem(self.file, line, column, message, component, setting if setting is not None else _dotted(path), hint)


def _dotted(path: tuple[Any, ...]) -> str | None:
    if not path:
        return None
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text


def _schema_problems(
    validator: Draft202012Validator,
    data: Any,
    prefix: tuple[Any, ...],
    located: _Located,
    *,
    component: str | None,
    unset: Collection[tuple[Any, ...]] = frozenset(),
) -> list[Problem]:
    problems: list[Problem] = []
    for error in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]):
        path = prefix + tuple(error.absolute_path)
        if any(path[: len(u)] == u for u in unset):
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
        yield located.problem(
            path + (error.instance,),
            f"{error.instance!r} is not a valid {what}",
            key=True,
            component=component,
            setting=_dotted(path + (error.instance,)),
        )
        return
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = list((schema.get("properties") or {}).keys())
        for extra in sorted(set(error.instance) - set(allowed), key=str):
            noun = "setting" if component else "key"
            if allowed:
                hint = closest(extra, allowed) or f"known: {', '.join(allowed)}"
            else:
                hint = f"{component or _dotted(path) or where} takes no settings"
            yield located.problem(
                path + (extra,), f"unknown {noun} {extra!r}", key=True, component=component, hint=hint, setting=_dotted(path + (extra,))
            )
        return
    if error.validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        name = missing[0] if missing else error.message
        noun = "setting" if component else "key"
        yield located.problem(path, f"missing required {noun} {name!r}", key=bool(path), component=component, setting=_dotted(path + (name,)))
        return
    if error.validator == "type":
        expected = schema.get("type")
        expected = (
            " or ".join(_TYPE_NAMES.get(str(t), str(t)) for t in expected)
            if isinstance(expected, list)
            else _TYPE_NAMES.get(str(expected), str(expected))
        )
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
        yield located.problem(path, "name at least one component", key=True, component=component, hint="for example `catalog: {}`")
        return
    if error.validator in ("anyOf", "oneOf") and error.context and all(e.validator == "type" for e in error.context):
        wanted = " or ".join(dict.fromkeys(_TYPE_NAMES.get(e.validator_value, str(e.validator_value)) for e in error.context))
        got = _TYPE_NAMES.get(_json_type(error.instance), "something else")
        yield located.problem(path, f"wrong type: expected {wanted}, got {got}", component=component)
        return
    if error.validator == "enum":
        options = [str(o) for o in error.validator_value]
        yield located.problem(
            path, f"{error.instance!r} is not one of {', '.join(options)}", component=component, hint=closest(str(error.instance), options)
        )
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
