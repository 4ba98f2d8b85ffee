from registry.manifest import Manifest

manifest = Manifest(
    name="inventory",
    version="1.0.0",
    summary="Stock per SKU and location; one reserve / release / commit service for every seller",
    titles={"zh": "库存", "en": "Inventory"},
    summaries={
        "zh": "按 SKU 和库位管理库存；所有售卖方式共用一套预占、释放、扣减服务",
        "en": "Stock per SKU and location; one reserve / release / commit service for every seller",
    },
    hooks="components.inventory.hooks",
    kernel=">=0.1,<1",
    # Who may call each root field, and the mutations that move money, stock or points (dougong check).
    access={
        "setStock": "inventory.manage",
    },
    depends={"catalog": ">=1.0,<2"},
    settings_schema={
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "demo_stock": {"type": "integer", "minimum": 0, "default": 100, "description": "units per SKU the demo data puts on hand"},
        },
    },
)
