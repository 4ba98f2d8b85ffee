"""Reference pages of the docs site, generated from the code so they cannot drift from it.

``docs/reference_hook.py`` (an MkDocs hook) replaces markers such as ``<!-- dougong:hooks -->``
in the Markdown pages with what these functions return: the hook contract from
:mod:`core.hookspecs`, the registrar API from :class:`core.contributions.Registrar`, the
blueprint format from the kernel's JSON Schema and every installed component's settings
schema, and the declared events, error codes and permissions of the installed components.
"""

from __future__ import annotations

import inspect
import json
import re
import tempfile
import textwrap
from pathlib import Path
from typing import Any, Callable, Mapping

ROLE = re.compile(r":(?:class|mod|func|meth|attr):`~?([^`]+)`")


def rst_to_markdown(text: str) -> str:
    """The few reStructuredText habits of our docstrings, in Markdown: ``code``, :class:`x`,
    ``Example::`` blocks, and definition lists (a term, then its indented text)."""
    text = ROLE.sub(r"`\1`", text).replace("``", "`")
    out: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        following = lines[i + 1] if i + 1 < len(lines) else ""
        if line.rstrip().endswith("::"):
            intro = line.rstrip()[:-2].rstrip()
            out += [intro + ":" if intro else "", "", "```python"]
            block: list[str] = []
            i += 1
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith((" ", "\t"))):
                block.append(lines[i])
                i += 1
            out += [*textwrap.dedent("\n".join(block)).strip("\n").splitlines(), "```", ""]
            continue
        if line.strip() and not line.startswith(" ") and following.startswith("    ") and not following.lstrip().startswith("-"):
            out += ["", f"**{line.strip()}**:"]  # a definition list's term
        elif line.startswith("    ") and not line.lstrip().startswith("-"):
            out.append(line.strip())  # a definition's text: a paragraph, not a code block
        else:
            out.append(line)
        i += 1
    return "\n".join(out).strip() + "\n"


def signature(function: Callable[..., Any], *, drop_self: bool = False) -> str:
    """``(name: Type = default, ...) -> Result`` with annotations as written (no quotes)."""
    sig = inspect.signature(function)
    params: list[str] = []
    for param in sig.parameters.values():
        if drop_self and param.name == "self":
            continue
        text = param.name if param.kind is not param.VAR_POSITIONAL else "*" + param.name
        if param.kind is param.KEYWORD_ONLY and not any(p.startswith("*") for p in params):
            params.append("*")
        if param.annotation is not param.empty:
            text += f": {param.annotation if isinstance(param.annotation, str) else param.annotation.__name__}"
        if param.default is not param.empty:
            text += f" = {param.default!r}"
        params.append(text)
    result = sig.return_annotation
    returns = "" if result is sig.empty else f" -> {result if isinstance(result, str) else getattr(result, '__name__', result)}"
    return f"({', '.join(params)}){returns}"


def _doc(obj: Any) -> str:
    return rst_to_markdown(inspect.cleandoc(obj.__doc__ or ""))


def hooks_reference() -> str:
    from core import hookspecs

    parts = [rst_to_markdown(inspect.cleandoc(hookspecs.__doc__ or "")), ""]
    for name, function in vars(hookspecs).items():
        if not (name.startswith("dougong_") and hasattr(function, "dougong_spec")):
            continue
        options = function.dougong_spec
        kind = "first result" if options.get("firstresult") else "collect" if name in hookspecs.COLLECT_HOOKS else "call"
        asynchronous = "async " if inspect.iscoroutinefunction(function) else ""
        parts += [f"## `{name}`", "", f"`{asynchronous}def {name}{signature(function)}` — *{kind}*", "", _doc(function)]
    return "\n".join(parts)


def registrar_reference() -> str:
    from core.contributions import Registrar

    parts = [_doc(Registrar), ""]
    for name, method in vars(Registrar).items():
        if name.startswith("_") or not callable(method):
            continue
        parts += [f"### `registrar.{name}{signature(method, drop_self=True)}`", "", _doc(method), ""]
    return "\n".join(parts)


def _type_of(schema: Mapping[str, Any]) -> str:
    if "enum" in schema:
        return " \\| ".join(f"`{json.dumps(v, ensure_ascii=False)}`" for v in schema["enum"])
    if "const" in schema:
        return f"`{json.dumps(schema['const'])}`"
    kind = schema.get("type", "any")
    bounds = [
        f"{word} {schema[key]}"
        for key, word in (("minimum", "≥"), ("maximum", "≤"), ("minLength", "length ≥"), ("maxLength", "length ≤"))
        if key in schema
    ]
    pattern = " (a duration: `30m`, `24h`, `7d`)" if "duration" in str(schema.get("description", "")).lower() else ""
    return f"{kind}{', ' + ', '.join(bounds) if bounds else ''}{pattern}"


def settings_table(schema: Mapping[str, Any]) -> str:
    rows = ["| setting | type | default | meaning |", "|---|---|---|---|"]

    def walk(node: Mapping[str, Any], prefix: str) -> None:
        required = set(node.get("required", ()))
        for name, sub in (node.get("properties") or {}).items():
            path = prefix + name
            default = f"`{json.dumps(sub['default'], ensure_ascii=False)}`" if "default" in sub else ("required" if name in required else "—")
            meaning = str(sub.get("description", "")).replace("|", "\\|").replace("\n", " ")
            rows.append(f"| `{path}` | {_type_of(sub)} | {default} | {meaning} |")
            walk(sub, path + ".")
            if isinstance(sub.get("items"), Mapping):
                walk(sub["items"], path + "[].")

    walk(schema, "")
    return "\n".join(rows) + "\n"


def blueprint_reference(installed: Mapping[str, Any] | None = None) -> str:
    schema = json.loads((Path(__file__).with_name("blueprint_schema.json")).read_text(encoding="utf-8"))
    parts = ["## The blueprint file", "", f"Required keys: {', '.join(f'`{k}`' for k in schema['required'])}.", "", settings_table(schema)]
    for name, component in sorted(_installed(installed).items()):
        manifest = component.manifest
        parts += [
            f"## `components.{name}`",
            "",
            f"{manifest.summary} (version {manifest.version}" + (f"; needs {', '.join(sorted(manifest.depends))}" if manifest.depends else "") + ").",
            "",
        ]
        properties = manifest.settings_schema.get("properties") or {}
        parts.append(settings_table(manifest.settings_schema) if properties else "No settings: write `{}`.\n")
    return "\n".join(parts)


def contracts_reference(installed: Mapping[str, Any] | None = None) -> str:
    """Events, error codes and permissions as the installed components declare them."""
    kernel = _kernel_of_everything(_installed(installed))
    c = kernel.contributions
    parts = ["## Events", "", "| event | emitted by | meaning | payload |", "|---|---|---|---|"]
    for name, decl in sorted(c.events.items()):
        payload = "<br>".join(f"`{k}`: {v}" for k, v in decl.payload.items()) or "—"
        parts.append(f"| `{name}` | {decl.component} | {decl.description} | {payload} |")
    parts += ["", "## Error codes", "", "| code | declared by | meaning |", "|---|---|---|"]
    for code, claimed in sorted(c.error_codes.items()):
        parts.append(f"| `{code}` | {claimed.component} | {claimed.value} |")
    parts += ["", "## Permissions", "", "| permission | declared by | meaning | held by |", "|---|---|---|---|"]
    for name, perm in sorted(c.permissions.items()):
        parts.append(f"| `{name}` | {perm.component} | {perm.description} | {', '.join(perm.roles)} |")
    return "\n".join(parts) + "\n"


def _installed(installed: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if installed is not None:
        return installed
    from registry.discovery import discover

    return discover()[0]


def _kernel_of_everything(installed: Mapping[str, Any]) -> Any:
    from core.kernel import Kernel

    names = "".join(f"  {name}: {{}}\n" for name in sorted(installed))
    with tempfile.TemporaryDirectory() as folder:
        text = (
            "dougong: 1\nbrand: {slug: docs, name: Docs, currency: CNY, timezone: Asia/Shanghai}\n"
            f"storage: {{database: 'sqlite+aiosqlite:///{folder}/none.db'}}\ncomponents:\n{names}"
        )
        return Kernel.from_text(text, installed=dict(installed))


def testing_reference() -> str:
    import core.testing

    return rst_to_markdown(inspect.cleandoc(core.testing.__doc__ or ""))


GENERATORS: dict[str, Callable[[], str]] = {
    "hooks": hooks_reference,
    "registrar": registrar_reference,
    "blueprint": blueprint_reference,
    "contracts": contracts_reference,
    "testing": testing_reference,
}
MARKER = re.compile(r"<!-- dougong:(\w+) -->")


def fill(markdown: str) -> str:
    """Replace every ``<!-- dougong:NAME -->`` marker with its generated reference."""
    return MARKER.sub(lambda m: GENERATORS[m.group(1)](), markdown)
