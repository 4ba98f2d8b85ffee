from core.units import DURATION_SCHEMA
from registry.manifest import Manifest

manifest = Manifest(
    name="flash_sale",
    version="1.0.0",
    summary="秒杀: time-slot sessions with flash prices, their own stock per SKU, per-member limits and a short payment window",
    titles={"zh": "秒杀", "en": "Flash sale"},
    summaries={
        "zh": "按场次的秒杀价、场次独立库存、每人限购、更短的支付时限与倒计时",
        "en": "Time-slot sessions with flash prices, their own stock per SKU, per-member limits, a short payment window and a countdown",
    },
    hooks="components.flash_sale.hooks",
    access={
        "buyFlashSaleItem": "member",
        "createFlashSaleSession": "flash_sale.manage",
        "flashSaleSessions": "public",
        "flashSaleSession": "public",
    },
    moves={"buyFlashSaleItem": "money+stock"},
    kernel=">=0.1,<1",
    depends={"orders": ">=1.0,<2", "catalog": ">=1.0,<2"},
    settings_schema={
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "payment_window": {
                **DURATION_SCHEMA,
                "default": "5m",
                "description": "a flash-sale order not paid within this is cancelled and its units go "
                "back to the session (shorter than the brand's usual payment timeout)",
            },
            "redis_gate": {
                "type": "object",
                "additionalProperties": False,
                "description": "a Redis counter in front of the database (needs storage.redis): buyers beyond the stock "
                "are refused by a Lua pre-decrement without touching the database, which stays the "
                "source of truth",
                "properties": {
                    "enabled": {
                        "type": "boolean",
                        "default": False,
                        "description": "refuse buyers beyond the stock in Redis before they reach the database",
                    },
                    "reconcile_every": {
                        **DURATION_SCHEMA,
                        "default": "5s",
                        "description": "how often the gate is set to the database's units left "
                        "(after a Redis restart, a crash, refused or unpaid orders)",
                    },
                },
            },
        },
    },
)
