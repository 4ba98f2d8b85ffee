from registry.manifest import Manifest

manifest = Manifest(
    name="catalog",
    version="1.0.0",
    summary="Products (SPU), SKUs with specs and prices, categories as a tree",
    hooks="components.catalog.hooks",
    kernel=">=0.1,<1",
    settings_schema={
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "max_skus_per_product": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50,
                                     "description": "how many SKUs one product may have"},
        },
    },
)
