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
    depends={"orders": ">=1.0,<2"},
    settings_schema={
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "pickup_window": {**DURATION_SCHEMA, "default": "3d",
                              "description": "how long a paid pickup waits, from payment (or the end of its slot if later)"},
            "expiry_reminder_before": {**DURATION_SCHEMA, "default": "1d",
                                       "description": "the store_pickup.expiring_soon event fires this long before a "
                                                      "waiting pickup's window ends (a window no longer than this gets none)"},
            "on_expiry": {"enum": ["refund", "keep"], "default": "refund",
                          "description": "refund: cancel the pickup and refund the order; keep: leave it open, marked overdue"},
            "stock": {"enum": ["central", "per_store"], "default": "central",
                      "description": "per_store: pickup checkouts reserve the store's own stock (inventory location = store id)"},
            "slots": {"enum": ["optional", "required"], "default": "optional",
                      "description": "whether a pickup checkout must name a time slot"},
            "code_digits": {"type": "integer", "minimum": 6, "maximum": 12, "default": 8,
                            "description": "length of the numeric pickup code"},
            "qr_secret": {"type": "string", "minLength": 32, "writeOnly": True,
                          "description": "key for signing QR payloads; defaults to a key derived from the kernel's token secret"},
            "rate_limit": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "window": {**DURATION_SCHEMA, "default": "15m"},
                    "per_clerk": {"type": "integer", "minimum": 1, "default": 10,
                                  "description": "refused verification attempts a clerk may make per window"},
                    "per_store": {"type": "integer", "minimum": 1, "default": 30,
                                  "description": "refused verification attempts a store's clerks may make together per window"},
                },
            },
        },
    },
)
