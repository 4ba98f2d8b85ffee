"""Demo data: a claim-centre coupon (满 100 减 20), a 10 % tea coupon, a new-member gift and an
order gift, and one coupon already in the first member's wallet."""

from __future__ import annotations

from typing import Any


async def seed(kernel: Any, tx: Any) -> None:
    service = kernel.service("coupons")
    make = service.create_template
    twenty = await make(
        tx,
        {
            "title": "满100减20",
            "kind": "fixed",
            "amount_minor": 2000,
            "threshold_minor": 10000,
            "valid_days": 30,
            "total_quantity": 1000,
            "per_member_limit": 2,
            "channel": "claim_centre",
        },
    )
    await make(
        tx,
        {
            "title": "茶叶九折 10% off tea (cap ¥50)",
            "kind": "percent",
            "percent_off": 10,
            "cap_minor": 5000,
            "valid_days": 14,
            "total_quantity": 500,
            "per_member_limit": 1,
            "channel": "claim_centre",
            "combines_with": [name for name in ("live_room",) if kernel.has_component(name)],
        },
    )
    await make(tx, {"title": "新人券 ¥10 welcome", "kind": "fixed", "amount_minor": 1000, "valid_days": 7, "channel": "new_member"})
    await make(
        tx,
        {
            "title": "下单礼 ¥5 next time",
            "kind": "fixed",
            "amount_minor": 500,
            "threshold_minor": 5000,
            "valid_days": 30,
            "channel": "order_gift",
            "gift_min_minor": 5000,
        },
    )
    members = await kernel.service("members").member_ids(tx.session, limit=1)
    if members:
        await service.issue(tx, await service.template(tx, twenty), members[0], source="claim")
