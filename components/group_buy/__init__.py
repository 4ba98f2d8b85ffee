from core.units import DURATION_SCHEMA
from registry.manifest import Manifest

manifest = Manifest(
    name="group_buy",
    version="1.0.0",
    summary="拼团: groups opened by a leader, joined through share links, seats taken on payment",
    titles={"zh": "拼团", "en": "Group-buy"},
    summaries={
        "zh": "团长开团、分享链接参团、支付即占座、到期处理与虚拟成团",
        "en": "Groups opened by a leader, joined through share links, seats taken on payment",
    },
    hooks="components.group_buy.hooks",
    kernel=">=0.1,<1",
    # Who may call each root field, and the mutations that move money, stock or points (dougong check).
    access={
        "createGroupBuyOffer": "group_buy.manage",
        "groupBuyGroup": "public",
        "groupBuyOffer": "public",
        "groupBuyOffers": "public",
        "groupBuyProgress": "public",
        "groupBuyReferrals": "member or staff",
        "joinGroup": "member",
        "myGroupBuys": "member",
        "openGroup": "member",
        "updateGroupBuyOffer": "group_buy.manage",
        "endGroupBuyOffer": "group_buy.manage",
        "withdrawGroupBuyOffer": "group_buy.manage",
    },
    moves={
        "joinGroup": "money+stock",
        "openGroup": "money+stock",
        "withdrawGroupBuyOffer": "money+stock",
    },
    depends={"orders": ">=1.0,<2"},
    settings_schema={
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "default_duration": {
                **DURATION_SCHEMA,
                "default": "24h",
                "description": "how long a group stays open after its leader pays, unless the offer says otherwise",
            },
            "hold_seats_for_unpaid_joins": {
                "type": "boolean",
                "default": True,
                "description": "a group takes at most as many unpaid joins as it has seats left, so unpaid orders cannot "
                "exhaust an offer (off: anyone may join and the first payers take the seats)",
            },
            "late_payment": {
                "enum": ["refund", "open_new_group"],
                "default": "refund",
                "description": "what happens to a payment that arrives after the group filled or closed",
            },
            "virtual_fill": {
                "type": "object",
                "description": "fill a nearly full group with virtual members when it expires",
                "additionalProperties": False,
                "properties": {
                    "enabled": {"type": "boolean", "default": False, "description": "whether expiring groups may be filled"},
                    "min_ratio": {
                        "type": "number",
                        "exclusiveMinimum": 0,
                        "maximum": 1,
                        "default": 0.6,
                        "description": "the share of seats taken by real members before filling",
                    },
                },
            },
        },
    },
)
