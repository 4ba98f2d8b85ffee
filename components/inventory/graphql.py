"""Inventory's GraphQL: `Sku.stockLeft` (added to catalog's type) and a staff mutation."""

from __future__ import annotations

from typing import Annotated

import strawberry

from components.inventory.models import CENTRAL
from core.errors import DomainError, refuse_both
from core.gql import Context, Payload, decode_id, run_mutation
from core.gql.loaded import loaded
from core.gql.relay import to_global_id

MANAGE = "inventory.manage"


async def load_available(ctx: Context, sku_ids: list[int]) -> list[int]:
    found = await ctx.kernel.service("inventory").available(await ctx.session(), sku_ids, CENTRAL)
    return [found[s] for s in sku_ids]


@loaded("inventory.available", key="pk")
async def sku_stock_left(root, info: strawberry.Info) -> int:  # noqa: ANN001  (root is catalog's Sku)
    """Units available to buy now (on hand minus those held for unpaid orders; answered by the loader, core.gql.loaded)."""


@strawberry.input(description="A stock count for one SKU at the central warehouse or at one pickup store.")
class SetStockInput:
    sku_id: strawberry.ID = strawberry.field(description="Global id of the Sku.")
    on_hand: int = strawberry.field(description="Units physically there now; never below the units held for unpaid orders.")
    pickup_store_id: strawberry.ID | None = strawberry.field(
        default=None, description="Global id of the PickupStore whose stock this is; null for the central warehouse."
    )
    location_id: int | None = strawberry.field(
        default=None,
        description="The location as a number: 0 central, else a pickup store's number.",
        deprecation_reason="Use pickupStoreId; removed in the next release.",
    )


@strawberry.type(description="The result of setStock.")
class SetStockPayload(Payload):
    sku_id: strawberry.ID | None = strawberry.field(default=None, description="Global id of the Sku whose stock was set; null when refused.")
    pickup_store_id: strawberry.ID | None = strawberry.field(
        default=None, description="Global id of the PickupStore the count is for; null for the central warehouse or when refused."
    )
    available: int | None = strawberry.field(
        default=None, description="Units that can be bought there now (on hand minus those held); null when refused."
    )


async def _location(ctx: Context, session, input: SetStockInput) -> int:  # noqa: ANN001, A002
    """The one location the service gets, from either input form."""
    refuse_both(input.pickup_store_id, input.location_id, new_name="pickupStoreId", old_name="locationId", field="input.pickupStoreId")
    if input.pickup_store_id is None:
        return CENTRAL if input.location_id is None else input.location_id
    store = decode_id(input.pickup_store_id, "PickupStore", field="input.pickupStoreId")
    # The brand's store list is whoever claimed it (store_pickup); inventory does not depend on it.
    claimed = ctx.kernel.contributions.stores.get("stores")
    if claimed is None or store not in await claimed.value(session, [store]):
        raise DomainError("INVENTORY_UNKNOWN_PICKUP_STORE", "No pickup store with that id.", field="input.pickupStoreId")
    return store


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Staff (inventory.manage): set the units on hand of a SKU centrally or at a pickup store.")
    async def set_stock(
        self,
        info: strawberry.Info,
        input: Annotated[SetStockInput, strawberry.argument(description="The SKU, the place and the count.")],  # noqa: A002
    ) -> SetStockPayload:
        ctx: Context = info.context
        service = ctx.kernel.service("inventory")

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require(MANAGE)
            sku_id = decode_id(input.sku_id, "Sku", field="input.skuId")
            location = await _location(ctx, tx.session, input)
            if (await ctx.kernel.service("catalog").skus(tx.session, [sku_id])).get(sku_id) is None:
                raise DomainError("KERNEL_NOT_FOUND", "No such SKU.", field="input.skuId")
            await service.set_stock(tx, sku_id, input.on_hand, location)
            return {"sku": sku_id, "location": location}

        result, errors = await run_mutation(ctx, work)
        if errors:
            return SetStockPayload(user_errors=errors)
        location = result["location"]
        available = (await service.available(await ctx.session(), [result["sku"]], location))[result["sku"]]
        store = strawberry.ID(to_global_id("PickupStore", location)) if location != CENTRAL else None
        return SetStockPayload(sku_id=input.sku_id, pickup_store_id=store, available=available)
