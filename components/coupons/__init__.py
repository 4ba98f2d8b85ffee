from registry.manifest import Manifest

manifest = Manifest(
    name="coupons",
    version="1.0.0",
    summary="优惠券: coupon templates, claim centre, staff push, gifts, live-room coupons, the coupon price stage",
    titles={"zh": "优惠券", "en": "Coupons"},
    summaries={
        "zh": "券模板、领券中心、定向发券、新人券、下单礼、直播间券，结算中的优惠券价格阶段",
        "en": "Coupon templates, a claim centre, staff push, new-member and order gifts, live-room coupons, and the coupon stage of the one checkout",
    },
    hooks="components.coupons.hooks",
    access={
        "claimCoupon": "member",
        "myCoupons": "member",
        "couponTemplates": "public",
        "couponTemplate": "public",
        "createCouponTemplate": "coupons.manage",
        "setCouponTemplateActive": "coupons.manage",
        "pushCoupons": "coupons.manage",
    },
    moves={"claimCoupon": "money", "pushCoupons": "money"},
    kernel=">=0.1,<1",
    # live_room is used when the blueprint loads it (live-room coupons) but not required: the
    # kernel has no optional dependencies, so the coupons call its service only if present.
    depends={"orders": ">=1.0,<2", "catalog": ">=1.0,<2", "members": ">=1.0,<2"},
    settings_schema={
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "per_order": {
                "enum": ["one", "one_per_scope"],
                "default": "one",
                "description": "one coupon per order, or one per scope kind (a SKU, a product, a category "
                "and a whole-shop coupon together; narrower scopes apply first)",
            },
            "return_on_cancel": {
                "type": "boolean",
                "default": True,
                "description": "an unpaid order that is cancelled or times out gives its coupons back",
            },
            "return_on_full_refund": {
                "type": "boolean",
                "default": True,
                "description": "a paid order refunded in full gives its coupons back (a partial refund never does)",
            },
        },
    },
)
