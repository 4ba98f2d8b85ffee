"""Storefront pages in the blueprint: where they are written, how they are checked.

A blueprint lists its pages under ``pages:``, or names a YAML file beside it that does
(``pages: storefront.yaml``, holding the same list)::

    pages:
      - slug: home
        title: 首页 Home
        blocks:
          - type: catalog.banner
            key: double-11                      # optional; defaults to the block's position
            title: 双十一 Double 11
            settings: {image: https://cdn.example.com/d11.jpg, link: /pages/d11}
            from: 2026-11-01T00:00:00+08:00     # optional schedule (the brand's zone if none)
            until: 2026-11-12T00:00:00+08:00
            members_only: false                 # only for signed-in members
            show_empty: false                   # show even when it has nothing to show

The shape is checked with the blueprint (its JSON Schema). What depends on the components —
that a block type exists, that its component is loaded, that its settings fit the block's own
JSON Schema — is checked at boot, once the components registered their blocks, and every
problem is reported at once with the file, line and column of the offending value, like
component settings. ``dougong validate`` runs the same boot.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping
from zoneinfo import ZoneInfo

from jsonschema import Draft202012Validator
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError

from core.errors import BootError

if TYPE_CHECKING:  # pragma: no cover
    from core.blueprint import Problem, _Located
    from core.kernel import Kernel


@dataclass(frozen=True)
class PagesSource:
    """The pages as written: the parsed data and the way back to their lines."""

    located: Any  # core.blueprint._Located of the file holding them
    prefix: tuple[Any, ...]  # ("pages",) inside the blueprint, () in a file of their own
    data: list[Any]


@dataclass(frozen=True)
class Placement:
    key: str
    block_type: str
    title: str | None
    settings: dict[str, Any]
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    members_only: bool = False
    show_empty: bool = False


@dataclass(frozen=True)
class Page:
    slug: str
    title: str
    blocks: tuple[Placement, ...] = field(default_factory=tuple)


class PagesError(BootError):
    """The pages do not fit the loaded components; ``problems`` carry file:line:column."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def read_source(file: str, data: Mapping[str, Any], located: _Located, problems: list[Problem]) -> PagesSource | None:
    """Called by the blueprint loader once the blueprint's own schema passed: the inline list,
    or the file it names (relative to the blueprint's folder), parsed and shape-checked."""
    from core.blueprint import SCHEMA, Problem, _schema_problems
    from core.blueprint import _Located as Located

    raw = data.get("pages")
    if raw is None:
        return None
    if isinstance(raw, list):
        return PagesSource(located, ("pages",), raw)
    if not isinstance(raw, str):
        return None  # the schema reported it
    path = Path(raw) if Path(raw).is_absolute() else Path(file).resolve().parent / raw
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(located.problem(("pages",), f"cannot read the pages file {raw!r}: {exc}", hint="name a UTF-8 YAML file beside the blueprint"))
        return None
    try:
        root = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problems.append(Problem(str(path), line, column, f"YAML syntax error: {exc.problem or exc.context}"))
        return None
    except Exception as exc:  # ruamel raises a few unmarked errors on odd input
        problems.append(Problem(str(path), 1, 1, f"YAML could not be read: {exc}"))
        return None
    own = Located(str(path), root)
    pages = _plain(root)
    found = _schema_problems(Draft202012Validator({**SCHEMA["properties"]["pages"], "type": "array"}), pages, (), own, component=None)
    if found:
        problems += found
        return None
    return PagesSource(own, (), pages)


def _plain(node: Any) -> Any:
    if isinstance(node, Mapping):
        return {k: _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def build_pages(kernel: Kernel, blueprint: Any = None) -> dict[str, Page]:
    """The blueprint's pages checked against the loaded block types; :class:`PagesError`
    listing every problem otherwise. ``blueprint``: another version of the kernel's own with
    the same components (the studio's preview swaps a running sandbox's pages this way)."""
    source = getattr(blueprint or kernel.blueprint, "pages", None)
    if source is None:
        return {}
    blocks = kernel.contributions.page_blocks
    zone = ZoneInfo(kernel.blueprint.brand.timezone)
    problems: list[Problem] = []
    pages: dict[str, Page] = {}
    located = source.located
    for p_index, page in enumerate(source.data):
        page_path = source.prefix + (p_index,)
        slug = page["slug"]
        if slug in pages:
            problems.append(located.problem(page_path + ("slug",), f"page {slug!r} is defined twice", hint="each page needs its own slug"))
            continue
        placements = []
        keys: set[str] = set()
        for b_index, block in enumerate(page.get("blocks") or []):
            path = page_path + ("blocks", b_index)
            placement = _placement(kernel, blocks, block, path, b_index, zone, located, problems)
            if placement is None:
                continue
            if placement.key in keys:
                problems.append(located.problem(path + ("key",), f"block key {placement.key!r} is used twice on page {slug!r}"))
                continue
            keys.add(placement.key)
            placements.append(placement)
        pages[slug] = Page(slug, page.get("title") or slug, tuple(placements))
    if problems:
        raise PagesError(sorted(problems, key=lambda p: (p.file, p.line or 0, p.column or 0)))
    return pages


def _placement(
    kernel: Kernel,
    blocks: Mapping[str, Any],
    block: Mapping[str, Any],
    path: tuple[Any, ...],
    index: int,
    zone: ZoneInfo,
    located: _Located,
    problems: list[Problem],
) -> Placement | None:
    from core.blueprint import _schema_problems, _with_defaults

    name = block["type"]
    kind = blocks.get(name)
    if kind is None:
        problems.append(_unknown_block(kernel, blocks, name, path + ("type",), located))
        return None
    settings = block.get("settings") or {}
    found = _schema_problems(Draft202012Validator(kind.settings_schema), settings, path + ("settings",), located, component=kind.component)
    times: dict[str, datetime | None] = {}
    for key in ("from", "until"):
        value = block.get(key)
        times[key] = None
        if value is not None:
            moment = _moment(value, zone)
            if moment is None:
                found.append(located.problem(path + (key,), f"{value!r} is not a date and time", hint="write it like 2026-11-11T00:00:00+08:00"))
            times[key] = moment
    if times["from"] and times["until"] and times["until"] <= times["from"]:
        found.append(located.problem(path + ("until",), "the block's end is not after its start"))
    if found:
        problems += found
        return None
    return Placement(
        key=str(block.get("key") or index),
        block_type=name,
        title=block.get("title"),
        settings=_with_defaults(kind.settings_schema, settings),
        starts_at=times["from"],
        ends_at=times["until"],
        members_only=bool(block.get("members_only", False)),
        show_empty=bool(block.get("show_empty", False)),
    )


def _unknown_block(kernel: Kernel, blocks: Mapping[str, Any], name: str, path: tuple[Any, ...], located: _Located) -> Problem:
    component = name.split(".", 1)[0] if isinstance(name, str) and "." in name else None
    if component is not None and component not in kernel.components:
        from registry.discovery import discover

        if component in discover()[0]:
            return located.problem(
                path,
                f"block {name!r} comes from component {component!r}, which this blueprint does not load",
                component=component,
                hint=f"add {component} under components",
            )
    close = difflib.get_close_matches(str(name), list(blocks), n=1)
    hint = (
        f"did you mean {close[0]!r}?"
        if close
        else ("known blocks: " + ", ".join(sorted(blocks)) if blocks else "no loaded component offers page blocks")
    )
    return located.problem(path, f"unknown block type {name!r}", hint=hint)


def _moment(value: Any, zone: ZoneInfo) -> datetime | None:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
    else:
        return None
    # A time without a zone is the brand's local time (a consultant writes 双十一 midnight).
    return (moment.replace(tzinfo=zone) if moment.tzinfo is None else moment).astimezone(timezone.utc)
