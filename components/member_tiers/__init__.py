from core.units import DURATION_SCHEMA, MONEY_SCHEMA
from registry.manifest import Manifest

PERCENT = {"type": "integer", "minimum": 0, "maximum": 100}
TIER = {
    "type": "object",
    "additionalProperties": False,
    "required": ["code", "name", "threshold"],
    "description": "one tier, from the lowest; thresholds rise strictly, the first is 0",
    "properties": {
        "code": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,31}$", "description": "a stable name (gold), shown to frontends"},
        "name": {"type": "string", "minLength": 1, "maxLength": 40, "description": "the tier as members read it (黄金会员)"},
        "threshold": {"type": "integer", "minimum": 0, "maximum": 10**12, "description": "growth at which a member is raised to this tier, at once"},
        "keep": {
            "type": "integer",
            "minimum": 0,
            "maximum": 10**12,
            "default": 0,
            "description": "growth a member must earn in one review period to keep this tier at the review (0: the tier is never lost)",
        },
        "discount_percent": {
            **PERCENT,
            "maximum": 90,
            "default": 0,
            "description": "member price: this percent off plain lines at checkout (5 = 95折)",
        },
        "points_percent": {
            "type": "integer",
            "minimum": 100,
            "maximum": 10000,
            "default": 100,
            "description": "points earned by this tier's orders, in percent of the brand's rate (150 = 1.5×)",
        },
    },
}
TERM = {
    "type": "object",
    "additionalProperties": False,
    "required": ["code", "name", "price", "days"],
    "description": "a paid membership term (付费会员卡) members buy through checkout",
    "properties": {
        "code": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,31}$", "description": "a stable name (svip_month)"},
        "name": {"type": "string", "minLength": 1, "maxLength": 40, "description": "the term as members read it (SVIP 月卡)"},
        "price": {**MONEY_SCHEMA, "description": 'what the term costs, e.g. "19.00"'},
        "days": {"type": "integer", "minimum": 1, "maximum": 3660, "description": "how long one purchase lasts"},
        "discount_percent": {
            **PERCENT,
            "maximum": 90,
            "default": 0,
            "description": "member price while the term runs (the better of tier and term applies)",
        },
        "points_percent": {
            "type": "integer",
            "minimum": 100,
            "maximum": 10000,
            "default": 100,
            "description": "points multiplier while the term runs (the better of tier and term applies)",
        },
    },
}

manifest = Manifest(
    name="member_tiers",
    version="1.0.0",
    summary="会员等级: growth value from paid orders, tiers with a member price and a points multiplier, paid membership terms",
    titles={"zh": "会员等级", "en": "Member tiers"},
    summaries={
        "zh": "成长值（按实付累计、退款冲回）、会员等级（会员价、积分倍率、保级降级）、付费会员卡",
        "en": "Growth value from paid orders (reversed on refund), tiers with a member price and a points "
        "multiplier, keep-level reviews, and paid membership terms bought through checkout",
    },
    hooks="components.member_tiers.hooks",
    kernel=">=0.1,<1",
    access={
        "myMemberTier": "member",
        "myGrowthLedger": "member",
        "memberTiers": "public",
        "membershipTerms": "public",
        "memberTierStatus": "member_tiers.adjust",
        "buyMembershipTerm": "member",
        "adjustMemberGrowth": "member_tiers.adjust",
    },
    moves={"buyMembershipTerm": "money", "adjustMemberGrowth": "points"},
    depends={"orders": ">=1.0,<2", "catalog": ">=1.0,<2", "members": ">=1.0,<2"},
    settings_schema={
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "growth_per_yuan": {
                "type": "integer",
                "minimum": 0,
                "maximum": 1000,
                "default": 1,
                "description": "growth per whole currency unit paid (0: orders earn no growth)",
            },
            "no_growth_kinds": {
                "type": "array",
                "items": {"type": "string", "description": "an order kind"},
                "default": ["auction_deposit", "membership_term"],
                "description": "order kinds that earn no growth (a deposit is security, a term is the membership itself)",
            },
            "tiers": {
                "type": "array",
                "items": TIER,
                "minItems": 1,
                "maxItems": 20,
                "default": [{"code": "member", "name": "会员", "threshold": 0}],
                "description": "the tiers, lowest first; the first tier has threshold 0 and is everyone's",
            },
            "review_period": {
                **DURATION_SCHEMA,
                "default": "365d",
                "description": "a member above the first tier is reviewed this long after reaching it, "
                "and again every period after; only a review lowers a tier",
            },
            "terms": {
                "type": "array",
                "items": TERM,
                "maxItems": 10,
                "default": [],
                "description": "paid membership terms on sale (none: no paid membership)",
            },
        },
    },
)
