from core.units import DURATION_SCHEMA
from registry.manifest import Manifest

manifest = Manifest(
    name="store_pickup",
    version="1.0.0",
    summary="门店自提: buy online, collect in store with a code the store's clerk verifies",
    titles={"zh": "门店自提", "en": "Store pickup"},
    summaries={"zh": "线上下单、到店凭提货码自提，由门店店员核销", "en": "Buy online, collect in store with a code the store's clerk verifies"},
    hooks="components.store_pickup.hooks",
    kernel=">=0.1,<1",
    # Who may call each root field, and the mutations that move money, stock or points (dougong check).
    access={
        "checkoutPickup": "member",
        "choosePickupStore": "member",
        "confirmPickup": "store_pickup.verify",
        "createPickupSlots": "store_pickup.manage",
        "createPickupStore": "store_pickup.manage",
        "myPickups": "member",
        "pickupOrder": "public",
        "pickupStore": "public",
        "pickupStores": "public",
        "pickupStoresNear": "public",
        "previewPickup": "store_pickup.verify",
        "storePickups": "store_pickup.view",
        "updatePickupStore": "store_pickup.manage",
    },
    moves={
        "checkoutPickup": "money+stock",
        "confirmPickup": "stock",
    },
    depends={"orders": ">=1.0,<2"},
    settings_schema={
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "pickup_window": {
                **DURATION_SCHEMA,
                "default": "3d",
                "description": "how long a paid pickup waits, from payment (or the end of its slot if later)",
            },
            "expiry_reminder_before": {
                **DURATION_SCHEMA,
                "default": "1d",
                "description": "the store_pickup.expiring_soon event fires this long before a "
                "waiting pickup's window ends (a window no longer than this gets none)",
            },
            "on_expiry": {
                "enum": ["refund", "keep"],
                "default": "refund",
                "description": "refund: cancel the pickup and refund the order; keep: leave it open, marked overdue",
            },
            "stock": {
                "enum": ["central", "per_store"],
                "default": "central",
                "description": "per_store: pickup checkouts reserve the store's own stock (inventory location = store id)",
            },
            "slots": {"enum": ["optional", "required"], "default": "optional", "description": "whether a pickup checkout must name a time slot"},
            "code_digits": {"type": "integer", "minimum": 6, "maximum": 12, "default": 8, "description": "length of the numeric pickup code"},
            "qr_secret": {
                "type": "string",
                "minLength": 32,
                "writeOnly": True,
                "description": "key for signing QR payloads; defaults to a key derived from the kernel's token secret",
            },
            "rate_limit": {
                "type": "object",
                "description": "how many refused pickup-code checks clerks may make, against guessing",
                "additionalProperties": False,
                "properties": {
                    "window": {**DURATION_SCHEMA, "default": "15m", "description": "the window the limits below count in"},
                    "per_clerk": {
                        "type": "integer",
                        "minimum": 1,
                        "default": 10,
                        "description": "refused verification attempts a clerk may make per window",
                    },
                    "per_store": {
                        "type": "integer",
                        "minimum": 1,
                        "default": 30,
                        "description": "refused verification attempts a store's clerks may make together per window",
                    },
                },
            },
        },
    },
)
