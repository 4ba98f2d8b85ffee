from registry.manifest import Manifest

manifest = Manifest(
    name="guide_attribution",
    version="1.0.0",
    summary="导购一人一码: channel codes, member-to-guide binding, per-order attribution by one precedence, guide and store figures",
    titles={"zh": "导购归属", "en": "Guide attribution"},
    summaries={
        "zh": "导购、门店、分享会员的渠道码；首次触达绑定导购与门店；按唯一优先级归属订单；导购与门店业绩、排行榜、零拉新导购",
        "en": "Channel codes for guides, stores and sharing members; first-touch binding to a guide and store; "
        "each order credited by one precedence; per-guide and per-store figures, leaderboards, idle guides",
    },
    hooks="components.guide_attribution.hooks",
    access={
        "myGuide": "member",
        "myChannelCode": "member or staff",
        "storeChannelCode": "guide_attribution.manage",
        "myGuideCustomers": "staff",
        "guideCustomers": "guide_attribution.manage",
        "guideBindingRules": "staff",
        "myGuideFigures": "staff",
        "guideFigures": "guide_attribution.report",
        "guideLeaderboard": "guide_attribution.report",
        "idleGuides": "guide_attribution.report",
        "touchChannelCode": "member",
        "transferGuideCustomers": "guide_attribution.manage",
        "placeOrderForCustomer": "guide_attribution.place_for_customer",
    },
    moves={"placeOrderForCustomer": "money+stock"},
    kernel=">=0.1,<1",
    # live_room is read when the blueprint loads it (a viewer's sharer), never required.
    depends={"orders": ">=1.0,<2", "members": ">=1.0,<2"},
    settings_schema={
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "binding": {
                "type": "object",
                "additionalProperties": False,
                "default": {},
                "description": "how a first touch binds a member to a guide and store",
                "properties": {
                    "mode": {
                        "enum": ["permanent", "protected"],
                        "default": "permanent",
                        "description": "permanent: the first touch binds for good (only staff transfer); protected: "
                        "protected for protect_days, then another guide's or store's code re-binds",
                    },
                    "protect_days": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": 3650,
                        "default": 30,
                        "description": "protected mode: days a binding is protected from re-binding",
                    },
                },
            },
        },
    },
)
