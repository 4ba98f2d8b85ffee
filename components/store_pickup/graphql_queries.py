"""Store pickup's root queries: stores near a point, the store list, a member's and a store's
pickups. Thin: the rules are in service.py."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from sqlalchemy import select

from components.store_pickup import models
from components.store_pickup.graphql import (
    NearbyPickupStore,
    PickupOrder,
    PickupState,
    PickupStore,
    _require_store_staff,
    _service,
    load_pickups,
    load_stores,
    pickup_node,
    store_node,
)
from components.store_pickup.graphql_inputs import store_choice
from components.store_pickup.stores import MAX_NEAREST
from core.clock import as_utc
from core.gql import Connection, Context, connection, decode_id, fetch_page
from core.gql.relay import After, Before, First, Last

NEAREST_DEFAULT = 10


def _arg(text: str) -> strawberry.argument:  # type: ignore[valid-type]
    return strawberry.argument(description=text)


@strawberry.type
class Query:
    @strawberry.field(
        description=f"The nearest stores that can serve pickup (open now, or at `at`), nearest first; at most {MAX_NEAREST}. "
        "A short ranked answer, not a list to page through."
    )
    async def pickup_stores_near(
        self,
        info: strawberry.Info,
        latitude: Annotated[float, _arg("Latitude of the point, in degrees (WGS 84).")],
        longitude: Annotated[float, _arg("Longitude of the point, in degrees (WGS 84).")],
        first: Annotated[int | None, _arg(f"How many stores, 1 to {MAX_NEAREST}; default {NEAREST_DEFAULT}.")] = None,
        radius_km: Annotated[float | None, _arg("Only stores within this many kilometres; default: any distance.")] = None,
        at: Annotated[datetime | None, _arg("The moment the store must serve pickup (ISO 8601); default now.")] = None,
        open_only: Annotated[bool, _arg("Only stores serving pickup at `at` (status OPEN and within hours); false: every OPEN store.")] = True,
    ) -> list[NearbyPickupStore]:
        ctx: Context = info.context
        found = await _service(ctx).nearest(
            await ctx.session(),
            latitude,
            longitude,
            limit=NEAREST_DEFAULT if first is None else first,
            radius_m=radius_km * 1000 if radius_km is not None else None,
            at=as_utc(at) if at else None,
            open_only=open_only,
        )
        return [NearbyPickupStore(store=store_node(f.store), distance_meters=round(f.distance_m)) for f in found]

    @strawberry.field(description="One pickup store by id; null when there is none.")
    async def pickup_store(self, info: strawberry.Info, id: Annotated[strawberry.ID, _arg("Global id of the PickupStore.")]) -> PickupStore | None:  # noqa: A002
        return (await load_stores(info.context, [decode_id(id, "PickupStore", field="id")]))[0]

    @strawberry.field(description="All pickup stores, in the order they were opened.")
    async def pickup_stores(
        self,
        info: strawberry.Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[PickupStore]:
        ctx: Context = info.context
        page = await fetch_page(await ctx.session(), select(models.Store), models.Store.id, first, after, last=last, before=before)
        return connection(page, store_node)

    @strawberry.field(description="The signed-in member's pickups, newest first, with their codes; null with an error for anyone else.")
    async def my_pickups(
        self,
        info: strawberry.Info,
        first: First = None,
        after: After = None,
        state: Annotated[PickupState | None, _arg("Only pickups in this state; default: all.")] = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[PickupOrder] | None:
        ctx: Context = info.context
        member_id = ctx.require_member()
        stmt = select(models.Pickup).where(models.Pickup.member_id == member_id)
        if state is not None:
            stmt = stmt.where(models.Pickup.state == state.value)
        page = await fetch_page(await ctx.session(), stmt, models.Pickup.id, first, after, last=last, before=before, descending=True)
        return connection(page, pickup_node)

    @strawberry.field(description="Staff: pickups at one of their stores (awaiting by default), oldest first; null with an error for other stores.")
    async def store_pickups(
        self,
        info: strawberry.Info,
        pickup_store_id: Annotated[strawberry.ID | None, _arg("Global id of the PickupStore. Required (or the deprecated storeId).")] = None,
        store_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Global id of the PickupStore.", deprecation_reason="Use pickupStoreId; removed in the next release."),
        ] = None,
        state: Annotated[PickupState, _arg("Only pickups in this state.")] = PickupState.AWAITING_PICKUP,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[PickupOrder] | None:
        ctx: Context = info.context
        value, field = store_choice(pickup_store_id, store_id, prefix="")
        pk = decode_id(value, "PickupStore", field=field)
        _require_store_staff(ctx, pk)
        stmt = select(models.Pickup).where(models.Pickup.store_id == pk, models.Pickup.state == state.value)
        page = await fetch_page(await ctx.session(), stmt, models.Pickup.id, first, after, last=last, before=before)
        return connection(page, pickup_node)

    @strawberry.field(description="One pickup by id: its member's, or a clerk's of its store; null otherwise.")
    async def pickup_order(self, info: strawberry.Info, id: Annotated[strawberry.ID, _arg("Global id of the PickupOrder.")]) -> PickupOrder | None:  # noqa: A002
        return (await load_pickups(info.context, [decode_id(id, "PickupOrder", field="id")]))[0]
