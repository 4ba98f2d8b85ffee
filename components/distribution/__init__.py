from core.units import MONEY_SCHEMA
from registry.manifest import Manifest

manifest = Manifest(
    name="distribution",
    version="1.0.0",
    summary="分销 / 销售员: promoters, referral binding, per-SKU commission on one or two levels, frozen until "
    "after-sale ends, tiers, leaderboards and reviewed withdrawals",
    titles={"zh": "分销员", "en": "Distribution"},
    summaries={
        "zh": "销售员申请与审核、客户绑定、按SKU一级/二级佣金（售后期结束前冻结）、等级与月目标、排行榜、提现审核与打款",
        "en": "Promoters, referral binding, per-SKU commission on one or two levels frozen until after-sale ends, "
        "tiers with monthly targets, leaderboards and reviewed withdrawals",
    },
    hooks="components.distribution.hooks",
    access={
        "applyForPromoter": "member",
        "bindPromoter": "member",
        "myPromoter": "member",
        "myCustomers": "member",
        "myCommissions": "member",
        "myCommissionLedger": "member",
        "myWithdrawals": "member",
        "requestWithdrawal": "member",
        "promoterLeaderboard": "member or staff",
        "promoters": "distribution.manage",
        "promoterWithdrawals": "distribution.manage",
        "commissionRules": "distribution.manage",
        "distributionReport": "distribution.manage",
        "reviewPromoterApplication": "distribution.manage",
        "setCommissionRule": "distribution.manage",
        "reviewWithdrawal": "distribution.manage",
    },
    moves={"requestWithdrawal": "money", "reviewWithdrawal": "money"},
    kernel=">=0.1,<1",
    # wechat_pay is used when loaded (payout: wechat_pay) but not required: its service is asked for at payout time.
    depends={"orders": ">=1.0,<2", "catalog": ">=1.0,<2", "members": ">=1.0,<2"},
    settings_schema={
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "eligibility": {
                "enum": ["everyone", "approved", "spend"],
                "default": "approved",
                "description": "who may become a promoter: every member at once, applicants staff approve, "
                "or members whose paid spend reached spend_threshold",
            },
            "spend_threshold": {
                **MONEY_SCHEMA,
                "default": "0.00",
                "description": "eligibility spend: paid minus refunded, counted from orders paid while distribution is installed",
            },
            "binding": {
                "enum": ["permanent", "time_limited", "last_click"],
                "default": "permanent",
                "description": "referral binding: the first promoter for ever; a promoter for binding_days then "
                "lapsing; or the promoter of the latest proven click",
            },
            "binding_days": {
                "type": "integer",
                "minimum": 1,
                "maximum": 3650,
                "default": 30,
                "description": "time_limited: how long a binding lasts (a new click of the same promoter renews it)",
            },
            "levels": {"enum": [1, 2], "default": 1, "description": "1: the buyer's promoter earns; 2: that promoter's own promoter earns too"},
            "level1_bps": {
                "type": "integer",
                "minimum": 0,
                "maximum": 10000,
                "default": 500,
                "description": "brand default commission of level one, in basis points of what a line was paid",
            },
            "level2_bps": {
                "type": "integer",
                "minimum": 0,
                "maximum": 10000,
                "default": 200,
                "description": "brand default commission of level two, in basis points",
            },
            "tiers": {
                "type": "array",
                "default": [],
                "maxItems": 20,
                "description": "promoter tiers by lifetime sales, each with a monthly sales target",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["name", "min_sales"],
                    "description": "one tier",
                    "properties": {
                        "name": {"type": "string", "minLength": 1, "maxLength": 40, "description": "the tier's name"},
                        "min_sales": {**MONEY_SCHEMA, "description": "lifetime sales that reach the tier"},
                        "monthly_target": {**MONEY_SCHEMA, "description": "the tier's monthly sales target"},
                    },
                },
            },
            "withdrawal_minimum": {**MONEY_SCHEMA, "default": "1.00", "description": "the smallest withdrawal"},
            "withdrawal_fee_bps": {
                "type": "integer",
                "minimum": 0,
                "maximum": 5000,
                "default": 0,
                "description": "the withdrawal fee in basis points of the amount (rounded up)",
            },
            "withdrawal_fee_minimum": {**MONEY_SCHEMA, "default": "0.00", "description": "the smallest fee when a fee is charged"},
            "payout": {
                "enum": ["sandbox", "wechat_pay"],
                "default": "sandbox",
                "description": "who pays withdrawals out: the sandbox, or WeChat Pay transfer to balance (needs wechat_pay)",
            },
        },
    },
)
