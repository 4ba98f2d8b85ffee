from registry.manifest import Manifest

manifest = Manifest(
    name="catalog",
    version="1.0.0",
    summary="Products (SPU), SKUs with specs and prices, categories as a tree",
    titles={"zh": "商品目录", "en": "Catalog"},
    summaries={"zh": "商品（SPU）、带规格和价格的 SKU、树形类目", "en": "Products (SPU), SKUs with specs and prices, categories as a tree"},
    hooks="components.catalog.hooks",
    kernel=">=0.1,<1",
    # Who may call each root field, and the mutations that move money, stock or points (dougong check).
    access={
        "categories": "public",
        "createCategory": "catalog.manage",
        "createProduct": "catalog.manage",
        "createSku": "catalog.manage",
        "product": "public",
        "products": "public",
        "updateProduct": "catalog.manage",
        "updateSku": "catalog.manage",
    },
    settings_schema={
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "max_skus_per_product": {
                "type": "integer",
                "minimum": 1,
                "maximum": 200,
                "default": 50,
                "description": "how many SKUs one product may have",
            },
        },
    },
)
