from registry.manifest import Manifest

manifest = Manifest(
    name="insights",
    version="1.0.0",
    summary="Private-domain insights: reach, value per customer, referral rate, GMV by channel, live room, offer, guide and store",
    titles={"zh": "私域洞察", "en": "Insights"},
    summaries={
        "zh": "私域经营指标：触达、客户价值（生命周期价值、复购率、客单价）、老带新率，按渠道、直播间、拼团、导购、门店的 GMV，按日",
        "en": "Reach, value per customer (lifetime value, repurchase rate, average order value), referral rate, "
        "and GMV by channel, live room, group-buy offer, guide and store, per day, kept from events",
    },
    hooks="components.insights.hooks",
    kernel=">=0.1,<1",
    access={"insights": "insights.view"},
    moves={},
    # orders: its events and its history (the rebuild); members: reach counts. notifications
    # is used when the blueprint loads it (subscription reach) but not required.
    depends={"orders": ">=1.0,<2", "members": ">=1.0,<2"},
    settings_schema={
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "max_period_days": {
                "type": "integer",
                "minimum": 1,
                "maximum": 1100,
                "default": 366,
                "description": "the longest period one insights query may cover, in days (a longer one is INSIGHTS_PERIOD_TOO_LONG)",
            },
        },
    },
)
