"""Issue 18's house rules hold for catalog, inventory, members, notifications and store_pickup:
no undocumented schema element, no raw id, no JSON or String where the shape or the states are
known, every connection paged both ways (core.gql.conventions finds what breaks them)."""

from __future__ import annotations

from pathlib import Path

from core.gql.conventions import findings
from core.kernel import Kernel

ROOT = Path(__file__).resolve().parents[3]
OWNERS = {"catalog", "inventory", "members", "notifications", "store_pickup"}


def test_no_house_rule_finding_in_the_base_commerce_components(tmp_path):
    kernel = Kernel.from_file(ROOT / "blueprints" / "demo.yaml", database_url=f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}")
    found = [str(f) for f in findings(kernel.schema) if f.owner in OWNERS]
    assert found == []
    # The walk sees these components at all: their types are in the schema it read.
    names = set(kernel.schema._schema.type_map)
    assert {"Sku", "SpecValue", "SetStockPayload", "Staff", "NotificationStatus", "PickupHoursInput"} <= names
