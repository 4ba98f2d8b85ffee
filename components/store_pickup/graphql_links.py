"""What store pickup adds to other components' types (it depends on orders, and through it on
members): an order's pickup and store, a member's registration store, a staff member's stores.

Each link goes through a DataLoader, so a page of orders or staff costs one statement per link.
"""

from __future__ import annotations

import strawberry
from sqlalchemy import select

from components.store_pickup import models
from components.store_pickup.graphql import PickupOrder, PickupStore, _may_see_pickup, pickup_node
from core.gql import Context


async def load_pickups_by_order(ctx: Context, order_ids: list[int]) -> list[models.Pickup | None]:
    """The pickup row of each order (one per order at most), or None: rows, not nodes, so each
    link decides what the caller may see."""
    session = await ctx.session()
    rows = {r.order_id: r for r in (await session.scalars(select(models.Pickup).where(models.Pickup.order_id.in_(order_ids)))).all()}
    return [rows.get(k) for k in order_ids]


async def order_pickup(root, info: strawberry.Info) -> PickupOrder | None:  # noqa: ANN001  (root is orders' Order)
    """The order's pickup (state, window, and the code for the member who owns it); null when the
    order is not collected at a store, or for anyone but its member and the clerks of its store."""
    ctx: Context = info.context
    row = await ctx.loader("store_pickup.pickup_by_order").load(root.pk)
    return pickup_node(row) if row is not None and _may_see_pickup(ctx, row) else None


async def order_pickup_store(root, info: strawberry.Info) -> PickupStore | None:  # noqa: ANN001  (root is orders' Order)
    """The store the order is collected at; null for an order that is not collected at a store."""
    ctx: Context = info.context
    row = await ctx.loader("store_pickup.pickup_by_order").load(root.pk)
    return await ctx.loader("store_pickup.stores").load(row.store_id) if row is not None else None


async def member_source_pickup_store(root, info: strawberry.Info) -> PickupStore | None:  # noqa: ANN001  (root is members' Member)
    """The store the member registered at; null when they registered elsewhere."""
    store_id = root.source_store_id
    return await info.context.loader("store_pickup.stores").load(store_id) if store_id is not None else None


async def staff_pickup_stores(root, info: strawberry.Info) -> list[PickupStore]:  # noqa: ANN001  (root is members' Staff)
    """The stores a store clerk works at; empty for other roles."""
    found = await info.context.loader("store_pickup.stores").load_many(list(root.store_ids))
    return [store for store in found if store is not None]


def register(registrar) -> None:  # noqa: ANN001
    registrar.extend(
        "Order",
        "pickup",
        order_pickup,
        "The order's pickup with its code (the code for its member only); null unless collected at a store, "
        "and for anyone but its member and the clerks of its store.",
    )
    registrar.extend("Order", "pickupStore", order_pickup_store, "The store the order is collected at; null when it is not collected at a store.")
    registrar.extend("Member", "sourcePickupStore", member_source_pickup_store, "The pickup store the member registered at; null when none.")
    registrar.extend("Staff", "pickupStores", staff_pickup_stores, "The pickup stores a store clerk works at; empty for other roles.")
