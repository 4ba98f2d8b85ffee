"""Inventory's GraphQL: `Sku.stock` (added to catalog's type) and a staff mutation."""

from __future__ import annotations

import strawberry

from components.inventory.models import CENTRAL
from core.gql import Context, Payload, decode_id, run_mutation

MANAGE = "inventory.manage"


async def load_available(ctx: Context, sku_ids: list[int]) -> list[int]:
    found = await ctx.kernel.service("inventory").available(await ctx.session(), sku_ids, CENTRAL)
    return [found[s] for s in sku_ids]


async def sku_stock(root, info: strawberry.Info) -> int:  # noqa: ANN001  (root is catalog's Sku)
    """Units available to buy now (on hand minus those held for unpaid orders)."""
    return await info.context.loader("inventory.available").load(root.pk)


@strawberry.input
class SetStockInput:
    sku_id: strawberry.ID
    on_hand: int
    location_id: int = CENTRAL


@strawberry.type
class SetStockPayload(Payload):
    sku_id: strawberry.ID | None = None
    available: int | None = None


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Staff: set the units on hand of a SKU at a location (0 = central).")
    async def set_stock(self, info: strawberry.Info, input: SetStockInput) -> SetStockPayload:  # noqa: A002
        ctx: Context = info.context
        service = ctx.kernel.service("inventory")

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require(MANAGE)
            sku_id = decode_id(input.sku_id, "Sku", field="input.skuId")
            if (await ctx.kernel.service("catalog").skus(tx.session, [sku_id])).get(sku_id) is None:
                from core.errors import DomainError

                raise DomainError("KERNEL_NOT_FOUND", "No such SKU.", field="input.skuId")
            await service.set_stock(tx, sku_id, input.on_hand, input.location_id)
            return {"sku": sku_id}

        result, errors = await run_mutation(ctx, work)
        if errors:
            return SetStockPayload(user_errors=errors)
        available = (await service.available(await ctx.session(), [result["sku"]], input.location_id))[result["sku"]]
        return SetStockPayload(sku_id=input.sku_id, available=available)
