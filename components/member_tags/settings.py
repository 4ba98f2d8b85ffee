"""member_tags' settings schema and its defaults (import-free: the manifest reads it)."""

from __future__ import annotations

import copy
from typing import Any

SEGMENT_NAMES = [
    "important_value",
    "important_keep",
    "important_develop",
    "important_win_back",
    "general_value",
    "general_keep",
    "general_develop",
    "general_win_back",
]
STAGE_NAMES = ["prospect", "new", "repeat", "dormant", "churned"]
DAYS = {"type": "integer", "minimum": 1, "maximum": 3650}


def _split(what: str, unit: str) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "description": f"when {what} counts as high: above the brand's median, or against a fixed threshold",
        "properties": {
            "split": {
                "enum": ["median", "threshold"],
                "default": "median",
                "description": "median: better than the brand's median customer; threshold: against `threshold`",
            },
            "threshold": {"type": "integer", "minimum": 0, "description": f"with split: threshold, {unit}"},
        },
    }


RULE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name"],
    "minProperties": 2,
    "description": "a named rule: members meeting every condition it names hold its tag (and lose it when they stop)",
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 40, "description": "the tag's name, unique among rules"},
        "description": {"type": "string", "maxLength": 200, "description": "what the rule means, shown to staff"},
        "window_days": {**DAYS, "description": "the window for min_orders, max_orders and min_paid_minor (default: window_days)"},
        "min_orders": {"type": "integer", "minimum": 0, "description": "at least this many counted orders in the window"},
        "max_orders": {"type": "integer", "minimum": 0, "description": "at most this many counted orders in the window"},
        "min_paid_minor": {"type": "integer", "minimum": 0, "description": "at least this much paid (minor units, net of refunds) in the window"},
        "last_order_within_days": {**DAYS, "description": "the last counted order at most this many days ago"},
        "no_order_for_days": {**DAYS, "description": "no counted order for at least this many days (or never)"},
        "stages": {
            "type": "array",
            "minItems": 1,
            "uniqueItems": True,
            "description": "the member is in one of these lifecycle stages",
            "items": {"enum": STAGE_NAMES, "description": "a lifecycle stage"},
        },
        "segments": {
            "type": "array",
            "minItems": 1,
            "uniqueItems": True,
            "description": "the member is in one of these RFM segments",
            "items": {"enum": SEGMENT_NAMES, "description": "an RFM segment"},
        },
    },
}

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "window_days": {**DAYS, "default": 365, "description": "the RFM window: frequency and monetary count the last this many days"},
        "rfm": {
            "type": "object",
            "additionalProperties": False,
            "default": {},
            "description": "how each RFM dimension splits into high and low",
            "properties": {
                "recency": _split("recency (days since the last order; fewer is higher)", "days: high when at most this many"),
                "frequency": _split("frequency (orders in the window)", "orders: high when at least this many"),
                "monetary": _split("monetary (paid in the window, net of refunds)", "minor units: high when at least this much"),
            },
        },
        "lifecycle": {
            "type": "object",
            "additionalProperties": False,
            "default": {},
            "description": "the day and order-count thresholds of the lifecycle stages",
            "properties": {
                "repeat_from_orders": {
                    "type": "integer",
                    "minimum": 2,
                    "maximum": 1000,
                    "default": 2,
                    "description": "an active customer with at least this many counted orders is REPEAT, else NEW",
                },
                "dormant_after_days": {**DAYS, "default": 180, "description": "no order for this many days: DORMANT"},
                "churned_after_days": {**DAYS, "default": 365, "description": "no order for this many days: CHURNED (more than dormant_after_days)"},
            },
        },
        "rules": {
            "type": "array",
            "maxItems": 50,
            "default": [],
            "items": RULE,
            "description": "tag rules, re-evaluated on every order event of a member and by the scheduled recompute",
        },
        "channel_tags": {
            "type": "boolean",
            "default": True,
            "description": "tag a new member with their source channel, guide and store (from member.registered)",
        },
        "recompute_every": {
            "type": "integer",
            "minimum": 60,
            "maximum": 86400,
            "default": 3600,
            "description": "seconds between scheduled recomputes (segments and stages drift with time alone)",
        },
    },
}

DEFAULTS = {
    "window_days": 365,
    "channel_tags": True,
    "recompute_every": 3600,
    "rules": [],
    "lifecycle": {"repeat_from_orders": 2, "dormant_after_days": 180, "churned_after_days": 365},
}


def resolved(settings: dict[str, Any] | None) -> dict[str, Any]:
    """The settings with every default filled in, and the rules checked for what the schema
    cannot say (unique names, dormant before churned)."""
    out = copy.deepcopy(DEFAULTS)
    given = copy.deepcopy(settings or {})
    out["lifecycle"].update(given.pop("lifecycle", {}) or {})
    out.update(given)
    out.setdefault("rfm", {})
    names = [rule["name"] for rule in out["rules"]]
    duplicate = sorted({n for n in names if names.count(n) > 1})
    if duplicate:
        raise ValueError(f"member_tags.rules: two rules are named {duplicate[0]!r}; a rule's name is its tag")
    for dimension, split in out["rfm"].items():
        if split.get("split") == "threshold" and "threshold" not in split:
            raise ValueError(f"member_tags.rfm.{dimension}: split: threshold needs a threshold")
    life = out["lifecycle"]
    if life["churned_after_days"] <= life["dormant_after_days"]:
        raise ValueError("member_tags.lifecycle: churned_after_days must be more than dormant_after_days")
    return out
