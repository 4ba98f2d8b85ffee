from components.catalog import demo, graphql, graphql_mutations, models
from components.catalog.examples import dougong_examples  # noqa: F401  (a hook of this plugin)
from components.catalog.service import CatalogService
from core.hookspecs import hookimpl


@hookimpl
def dougong_tables(registrar):
    for model in (models.Category, models.Product, models.Sku):
        registrar.table(model)


@hookimpl
def dougong_services(registrar):
    registrar.service("catalog", CatalogService(registrar.settings))


@hookimpl
def dougong_schema(registrar):
    registrar.query(graphql.Query)
    registrar.mutation(graphql_mutations.Mutation)
    registrar.node(graphql.Product, graphql.load_products)
    registrar.node(graphql.Sku, graphql.load_skus)
    registrar.node(graphql.Category, graphql.load_categories)


@hookimpl
def dougong_dataloaders(registrar):
    registrar.dataloader("catalog.products", graphql.load_products)
    registrar.dataloader("catalog.skus", graphql.load_skus)
    registrar.dataloader("catalog.skus_by_product", graphql.load_skus_by_product)
    registrar.dataloader("catalog.categories", graphql.load_categories)
    registrar.dataloader("catalog.category_children", graphql.load_category_children)


@hookimpl
def dougong_permissions(registrar):
    registrar.permission(graphql.MANAGE, "Create and change products, SKUs and categories", roles=("admin",))


@hookimpl
def dougong_error_codes(registrar):
    registrar.error_code("CATALOG_INVALID_TITLE", "A title is empty or too long.")
    registrar.error_code("CATALOG_INVALID_PRICE", "A price is negative, fractional or too large.")
    registrar.error_code("CATALOG_INVALID_SPEC", "A SKU's spec or weight is malformed.")
    registrar.error_code("CATALOG_INVALID_STATUS", "A product status is not draft, on_sale or off_sale.")
    registrar.error_code("CATALOG_UNKNOWN_CATEGORY", "The category does not exist.")
    registrar.error_code("CATALOG_NO_SKU", "A product needs at least one SKU.")
    registrar.error_code("CATALOG_TOO_MANY_SKUS", "A product has more SKUs than the setting allows.")


@hookimpl
async def dougong_seed_demo(kernel, tx):
    await demo.seed(kernel, tx)


@hookimpl
def dougong_events(registrar):
    registrar.event(
        "catalog.product_changed",
        "A product or one of its SKUs was created or changed",
        payload={"productId": "int", "skuId": "int (when one SKU changed)"},
    )


@hookimpl
def dougong_page_blocks(registrar):
    from components.catalog import blocks

    blocks.register(registrar)
