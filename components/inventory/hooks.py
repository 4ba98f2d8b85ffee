from components.inventory import demo, graphql, models
from components.inventory.service import InventoryService
from core.hookspecs import hookimpl


@hookimpl
def dougong_tables(registrar):
    for model in (models.Stock, models.ActivityStock, models.Reservation):
        registrar.table(model)


@hookimpl
def dougong_services(registrar):
    registrar.service("inventory", InventoryService(registrar.settings))


@hookimpl
def dougong_schema(registrar):
    registrar.mutation(graphql.Mutation)
    registrar.extend(
        "Sku",
        "stockLeft",
        graphql.sku_stock_left,
        "Units a shopper can buy now at the central warehouse (on hand minus units held for unpaid orders).",
    )
    # The older name of the same number, kept for one release.
    registrar.extend(
        "Sku",
        "stock",
        graphql.sku_stock_left,
        "Units a shopper can buy now (the same number as stockLeft).",
        deprecation_reason="Use stockLeft; removed in the next release.",
    )


@hookimpl
def dougong_dataloaders(registrar):
    registrar.dataloader("inventory.available", graphql.load_available)


@hookimpl
def dougong_permissions(registrar):
    registrar.permission(graphql.MANAGE, "Set stock on hand", roles=("admin",))


@hookimpl
def dougong_error_codes(registrar):
    registrar.error_code("INVENTORY_OUT_OF_STOCK", "Not enough units available; details carry skuId and available.")
    registrar.error_code("INVENTORY_ACTIVITY_SOLD_OUT", "The activity's own quantity is used up.")
    registrar.error_code("INVENTORY_BELOW_RESERVED", "Stock cannot go below what is held for unpaid orders.")
    registrar.error_code("INVENTORY_UNKNOWN_PICKUP_STORE", "setStock named a pickup store the brand does not have.")


@hookimpl
async def dougong_seed_demo(kernel, tx):
    """Stock every SKU the catalog seeded (see demo.py)."""
    await demo.seed(kernel, tx)
