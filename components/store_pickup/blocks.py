"""store_pickup's storefront block: the open stores nearest the caller."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import select

from components.store_pickup import models
from components.store_pickup.graphql import NearbyPickupStore, store_node
from core.storefront import PageRequest, StorefrontBlock


@strawberry.type(
    description="The pickup stores nearest the location the page was asked for, open now; without a "
    "location, the brand's open stores in the order they opened (`distanceMeters` 0: unknown)."
)
class PickupStoresBlock(StorefrontBlock):
    stores: list[NearbyPickupStore] = strawberry.field(description="Open stores, nearest first when located.")
    located: bool = strawberry.field(description="Whether the stores are ranked by the caller's location.")


SETTINGS = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "limit": {"type": "integer", "minimum": 1, "maximum": 10, "default": 3},
        "radius_km": {"type": "number", "exclusiveMinimum": 0, "maximum": 500},
    },
}


async def nearest_stores(page: PageRequest, settings: dict[str, Any]) -> dict[str, Any]:
    return (await every_nearest_stores(page, [settings]))[0]


async def every_nearest_stores(page: PageRequest, every: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every stores block of a page from one search: the nearest stores for the largest
    ``limit`` within the widest radius any block asks for (no radius: anywhere). A block's
    answer is a prefix of that list: the stores within its own radius come first in it, nearest
    first, so the block keeps those and the first ``limit`` of them."""
    session = await page.session()
    most = max(s["limit"] for s in every)
    if page.latitude is not None and page.longitude is not None:
        radii = [s.get("radius_km") for s in every]
        widest = None if None in radii else max(radii)
        found = await page.kernel.service("store_pickup").nearest(
            session, page.latitude, page.longitude, limit=most, radius_m=widest * 1000 if widest else None
        )
        nodes = [(f.distance_m, NearbyPickupStore(store=store_node(f.store), distance_meters=round(f.distance_m))) for f in found]
        return [{"stores": _within(nodes, s.get("radius_km"))[: s["limit"]], "located": True} for s in every]
    rows = (await session.scalars(select(models.Store).where(models.Store.status == "open").order_by(models.Store.id).limit(most))).all()
    stores = [NearbyPickupStore(store=store_node(row), distance_meters=0) for row in rows]
    return [{"stores": stores[: s["limit"]], "located": False} for s in every]


def _within(nodes: list[tuple[float, NearbyPickupStore]], radius_km: float | None) -> list[NearbyPickupStore]:
    # The service keeps a store at exactly the radius (it drops only those farther): so do we.
    return [node for distance, node in nodes if radius_km is None or distance <= radius_km * 1000]


def register(registrar: Any) -> None:
    registrar.page_block(
        "store_pickup.nearest",
        titles={"zh": "附近门店", "en": "Nearest stores"},
        settings_schema=SETTINGS,
        graphql_type=PickupStoresBlock,
        resolve=nearest_stores,
        resolve_many=every_nearest_stores,
    )
