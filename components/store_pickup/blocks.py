"""store_pickup's storefront block: the open stores nearest the caller."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import select

from components.store_pickup import models
from components.store_pickup.graphql import NearbyPickupStore, store_node
from core.storefront import PageRequest, StorefrontBlock


@strawberry.type(description="The pickup stores nearest the location the page was asked for, open now; without a "
                             "location, the brand's open stores in the order they opened (`distanceMeters` 0: unknown).")
class PickupStoresBlock(StorefrontBlock):
    stores: list[NearbyPickupStore] = strawberry.field(description="Open stores, nearest first when located.")
    located: bool = strawberry.field(description="Whether the stores are ranked by the caller's location.")


SETTINGS = {"type": "object", "additionalProperties": False, "properties": {
    "limit": {"type": "integer", "minimum": 1, "maximum": 10, "default": 3},
    "radius_km": {"type": "number", "exclusiveMinimum": 0, "maximum": 500},
}}


async def nearest_stores(page: PageRequest, settings: dict[str, Any]) -> dict[str, Any]:
    session = await page.session()
    if page.latitude is not None and page.longitude is not None:
        radius = settings.get("radius_km")
        found = await page.kernel.service("store_pickup").nearest(
            session, page.latitude, page.longitude, limit=settings["limit"], radius_m=radius * 1000 if radius else None)
        return {"stores": [NearbyPickupStore(store=store_node(f.store), distance_meters=round(f.distance_m)) for f in found],
                "located": True}
    rows = (await session.scalars(select(models.Store).where(models.Store.status == "open")
                                  .order_by(models.Store.id).limit(settings["limit"]))).all()
    return {"stores": [NearbyPickupStore(store=store_node(row), distance_meters=0) for row in rows], "located": False}


def register(registrar: Any) -> None:
    registrar.page_block("store_pickup.nearest", titles={"zh": "附近门店", "en": "Nearest stores"}, settings_schema=SETTINGS,
                         graphql_type=PickupStoresBlock, resolve=nearest_stores)
