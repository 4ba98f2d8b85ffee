from core.units import DURATION_SCHEMA
from registry.manifest import Manifest

manifest = Manifest(
    name="points_mall",
    version="1.0.0",
    summary="积分商城: an exact points ledger (earn, sign-in, expiry, refunds) and a points mall",
    titles={"zh": "积分商城", "en": "Points mall"},
    summaries={
        "zh": "精确的积分账本（获得、签到、过期、退款）与积分兑换商城",
        "en": "An exact points ledger (earn, sign-in, expiry, refunds) and a points mall",
    },
    hooks="components.points_mall.hooks",
    kernel=">=0.1,<1",
    # Who may call each root field, and the mutations that move money, stock or points (dougong check).
    access={
        "adjustPoints": "points_mall.adjust",
        "checkInDaily": "member",
        "createPointsMallItem": "points_mall.manage",
        "memberPoints": "points_mall.adjust",
        "myPoints": "member",
        "myPointsLedger": "member",
        "myPointsRedemptions": "member",
        "pointsMallItem": "public",
        "pointsMallItems": "public",
        "redeemPointsItem": "member",
        "setMemberTier": "points_mall.manage",
        "signInDaily": "member",
        "updatePointsMallItem": "points_mall.manage",
    },
    moves={
        "adjustPoints": "points",
        "checkInDaily": "points",
        "redeemPointsItem": "points+stock",
        "signInDaily": "points",
    },
    depends={"orders": ">=1.0,<2", "catalog": ">=1.0,<2", "members": ">=1.0,<2"},
    settings_schema={
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "earn_per_yuan": {
                "type": "integer",
                "minimum": 0,
                "maximum": 1000,
                "default": 1,
                "description": "points per whole currency unit paid in cash (0: orders earn nothing)",
            },
            "grant_on": {
                "enum": ["after_sale", "completed", "paid"],
                "default": "after_sale",
                "description": "grant an order's points when its after-sale window closes (default: they can "
                "no longer be taken back by a refund), when it is completed, or when it is paid",
            },
            "freeze_days": {
                "type": "integer",
                "minimum": 0,
                "maximum": 365,
                "default": 0,
                "description": "grant an order's points this many days after `grant_on` (0: at once)",
            },
            "activity_orders_earn": {"type": "boolean", "default": True, "description": "whether group-buy and auction orders earn points"},
            "expiry": {
                "type": "object",
                "description": "when earned points expire",
                "additionalProperties": False,
                "properties": {
                    "rule": {
                        "enum": ["never", "days", "end_of_next_year"],
                        "default": "end_of_next_year",
                        "description": "days: N days after earning; end_of_next_year: 31 December of the "
                        "year after earning, midnight in the brand's time zone",
                    },
                    "days": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": 3660,
                        "default": 365,
                        "description": "with rule days: how many days points live",
                    },
                },
            },
            "expiry_check_every": {
                **DURATION_SCHEMA,
                "default": "1h",
                "description": "how often the expiry job writes off expired points (a spend always writes them off first)",
            },
            "sign_in_rewards": {
                "type": "array",
                "items": {"type": "integer", "minimum": 0, "maximum": 100000},
                "minItems": 1,
                "maxItems": 31,
                "default": [5, 5, 10, 10, 10, 20, 30],
                "description": "points for day 1, 2, … of a sign-in streak; the last repeats",
            },
            "earn_caps": {
                "type": "object",
                "additionalProperties": False,
                "description": "most points orders may earn a member per calendar day / month (brand time zone); "
                "leave out for no cap. Sign-in rewards and staff grants are not capped",
                "properties": {
                    "per_day": {"type": "integer", "minimum": 0, "maximum": 10**9, "description": "most points orders earn a member in one day"},
                    "per_month": {
                        "type": "integer",
                        "minimum": 0,
                        "maximum": 10**9,
                        "description": "most points orders earn a member in one calendar month",
                    },
                },
            },
            "earn_multipliers": {
                "type": "array",
                "maxItems": 50,
                "description": "earn more on some days or tiers (double-points days, gold members 150%); the "
                "highest matching rule wins, rules never multiply each other",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["percent"],
                    "properties": {
                        "percent": {
                            "type": "integer",
                            "minimum": 0,
                            "maximum": 10000,
                            "description": "earn this percent of the base rate (200 = double)",
                        },
                        "min_tier": {
                            "type": "integer",
                            "minimum": 0,
                            "maximum": 100,
                            "description": "the rule applies to members of this tier and above (0: everyone)",
                        },
                        "weekdays": {
                            "type": "array",
                            "items": {"type": "integer", "minimum": 1, "maximum": 7},
                            "description": "1 = Monday … 7 = Sunday",
                        },
                        "dates": {
                            "type": "array",
                            "items": {"type": "string", "format": "date"},
                            "description": "brand-calendar dates, e.g. the member day",
                        },
                    },
                },
            },
            "points_payment": {
                "type": "object",
                "additionalProperties": False,
                "description": "积分抵现: members pay part of an order with points at checkout (price stage `points`)",
                "properties": {
                    "enabled": {"type": "boolean", "default": False, "description": "offer 积分抵现 at checkout (CheckoutInput.usePoints)"},
                    "points_per_unit": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": 1000000,
                        "default": 100,
                        "description": "points worth one currency unit (100: 100 points pay 1 yuan)",
                    },
                    "max_percent": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": 100,
                        "default": 50,
                        "description": "most of an order (after coupons, before delivery) points may pay",
                    },
                    "max_points": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": 10**9,
                        "description": "most points one order may use (leave out: no cap but max_percent)",
                    },
                },
            },
            "refund_shortfall": {
                "enum": ["allow_negative", "deduct_available"],
                "default": "deduct_available",
                "description": "when a refund reverses points the member already spent: let the "
                "balance go negative, or take what is left and record the shortfall",
            },
        },
    },
)
