"""``dougong new component NAME``: a complete component package from the templates in
:mod:`core.templates` — its own pyproject.toml and entry point, manifest with described
settings, hooks, models with their first migration, service, GraphQL (a query, a mutation with
``userErrors`` and an idempotency key), README, demo seed and tests using the dougong pytest
plugin. What it writes passes its own tests and ``dougong check`` unchanged (a test keeps it so).
"""

from __future__ import annotations

import keyword
import re
import uuid
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path

NAME = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
RESERVED = {"kernel", "core", "registry", "components", "dougong"}
SUFFIX = ".tmpl"


class ScaffoldError(Exception):
    """The name or the destination cannot be used; the message says why."""


def words(name: str) -> dict[str, str]:
    """Every spelling the templates use for ``name`` (``gift_card``)."""
    parts = name.split("_")
    pascal = "".join(p[:1].upper() + p[1:] for p in parts)
    return {
        "name": name,  # gift_card: component, tables, permissions, events
        "NAME": name.upper(),  # GIFT_CARD: error codes
        "Name": pascal,  # GiftCard: GraphQL types
        "nameCamel": pascal[:1].lower() + pascal[1:],  # giftCard: GraphQL fields
        "Title": " ".join(parts).capitalize(),  # Gift card: for people
        "package": f"dougong_{name}",  # the Python package
        "dist": f"dougong-{name.replace('_', '-')}",  # the distribution on PyPI
        "slug": name.replace("_", "-"),
        "summary": f"{' '.join(parts).capitalize()}: a dougong component",
        "revision": uuid.uuid4().hex[:12],
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
    }


def check_name(name: str) -> None:
    if not NAME.match(name):
        raise ScaffoldError(
            f"component name {name!r} must be snake_case: lower-case letters and digits, "
            "words joined by single underscores, starting with a letter (gift_card)"
        )
    if name in RESERVED or keyword.iskeyword(name):
        raise ScaffoldError(f"component name {name!r} is reserved")
    if len(name) > 40:
        raise ScaffoldError(f"component name {name!r} is longer than 40 characters (table names start with it)")


def render(text: str, values: dict[str, str]) -> str:
    out = re.sub(r"\{\{(\w+)\}\}", lambda m: values[m.group(1)], text)
    leftover = re.search(r"\{\{\w*\}\}", out)
    if leftover:  # a template naming a value we do not have is our bug, not the user's
        raise RuntimeError(f"unfilled placeholder {leftover.group(0)}")
    return out


def target_path(relative: Path, values: dict[str, str]) -> Path:
    parts = [values["package"] if p == "package" else p for p in relative.parts]
    path = Path(*parts)
    name = path.name.removesuffix(SUFFIX)
    if name == "first.py":  # Alembic's file naming: <revision>_<message>.py
        name = f"{values['revision']}_{values['name']}_tables.py"
    elif name == "test_component.py":
        name = f"test_{values['name']}.py"
    return path.with_name(name)


def write_component(name: str, into: Path, *, force: bool = False) -> Path:
    """Write ``dougong-NAME/`` under ``into``; returns the folder written."""
    check_name(name)
    values = words(name)
    folder = Path(into) / values["dist"]
    if folder.exists() and any(folder.iterdir()) and not force:
        raise ScaffoldError(f"{folder} exists and is not empty (pass --force to write into it)")
    root = resources.files("core.templates") / "component"
    for source, relative in _walk(root, Path()):
        target = folder / target_path(relative, values)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render(source.read_text(encoding="utf-8"), values), encoding="utf-8")
    return folder


def _walk(node, relative: Path):  # noqa: ANN001, ANN202 - importlib.resources Traversable
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        if child.is_dir():
            if child.name != "__pycache__":
                yield from _walk(child, relative / child.name)
        elif child.name.endswith(SUFFIX):
            yield child, relative / child.name
