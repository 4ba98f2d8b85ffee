"""Composing a blueprint: templates, and adding or removing components with their dependencies.

The blueprint names only what the brand asked for; the kernel pulls in dependencies. The
studio shows both, so adding ``live_room`` also shows ``orders``, ``catalog``, ``inventory``
and ``members`` with the chain that brought each, and removing ``orders`` is refused while
``live_room`` (or anything else loaded) depends on it.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Mapping

import core
from core.studio.document import StudioError, parse, to_plain
from registry.discovery import InstalledComponent
from registry.resolve import closest, resolve

TEMPLATES_DIR = Path(__file__).parent / "templates"
# id -> (titles by language); the order is the order the studio offers them in.
TEMPLATES = {
    "beauty_live": {"zh": "美妆直播（直播间 + 积分 + 门店自提）", "en": "Live-room cosmetics (live room, points, store pickup)"},
    "tea_auction_group_buy": {"zh": "茶叶拍卖 + 拼团", "en": "Tea auctions and group-buy"},
    "supermarket": {"zh": "商超（拼团 + 门店自提 + 积分）", "en": "Supermarket chain (group-buy, store pickup, points)"},
    "empty": {"zh": "空白", "en": "Empty"},
}


def template_text(template: str) -> str:
    if template not in TEMPLATES:
        raise StudioError("TEMPLATE_UNKNOWN", f"no template {template!r}; templates are {', '.join(TEMPLATES)}")
    return (TEMPLATES_DIR / f"{template}.yaml").read_text(encoding="utf-8")


def _named(model: Mapping[str, Any]) -> dict[str, Any]:
    blocks = model.get("components")
    return blocks if isinstance(blocks, dict) else {}


def composition(model: Mapping[str, Any], installed: Mapping[str, InstalledComponent]) -> list[dict[str, Any]]:
    """Every component the blueprint loads: ``named`` by the blueprint, or pulled in with the
    chain that needs it (``["live_room", "orders"]``). Unknown names are listed as such."""
    named = [n for n in _named(model) if isinstance(n, str)]
    resolution, _ = resolve({n: None for n in named if n in installed}, installed, core.__version__)
    rows = [{"name": n, "named": True, "installed": n in installed, "needed_by": []} for n in named]
    if resolution is not None:
        for name, chain in resolution.pulled_in.items():
            rows.append({"name": name, "named": False, "installed": True, "needed_by": list(chain)})
    return rows


def add(model: dict[str, Any], name: str, installed: Mapping[str, InstalledComponent]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``model`` with ``name`` added (defaults), and the components that came with it."""
    if name not in installed:
        raise StudioError(
            "COMPONENT_UNKNOWN", f"no installed component {name!r}", hint=closest(name, sorted(installed)) or "the catalog lists the installed ones"
        )
    if name in _named(model):
        raise StudioError("COMPONENT_PRESENT", f"{name} is already in the blueprint")
    before = {row["name"] for row in composition(model, installed)}
    updated = copy.deepcopy(model)
    if not isinstance(updated.get("components"), dict):
        updated["components"] = {}
    updated["components"][name] = {}
    came = [row for row in composition(updated, installed) if not row["named"] and row["name"] not in before]
    return updated, came


def remove(model: dict[str, Any], name: str, installed: Mapping[str, InstalledComponent]) -> dict[str, Any]:
    """``model`` without ``name``; refused while another loaded component depends on it."""
    rows = composition(model, installed)
    loaded = {row["name"] for row in rows}
    dependents = sorted(other for other in loaded if other in installed and name in installed[other].manifest.depends)
    if dependents:
        raise StudioError(
            "COMPONENT_NEEDED",
            f"{name} cannot be removed: {', '.join(dependents)} depend{'s' if len(dependents) == 1 else ''} on it",
            status=409,
            dependents=dependents,
        )
    if name not in _named(model):
        raise StudioError("COMPONENT_ABSENT", f"{name} is not in the blueprint")
    updated = copy.deepcopy(model)
    del updated["components"][name]
    return updated


def template_model(template: str, slug: str | None, name: str | None) -> tuple[str, dict[str, Any]]:
    """(the template's text, its model with the brand's slug and name filled in)."""
    text = template_text(template)
    model = to_plain(parse(text))
    if slug:
        model["brand"]["slug"] = slug
    if name:
        model["brand"]["name"] = name
    return text, model


def without_pages(model: Any) -> str:
    """What a sandbox runs apart from its pages, as a key: two drafts with the same key differ
    only in their pages, which a running sandbox can swap without booting again."""
    import json

    rest = {k: v for k, v in model.items() if k != "pages"} if isinstance(model, dict) else model
    return json.dumps(rest, sort_keys=True, ensure_ascii=False, default=str)
