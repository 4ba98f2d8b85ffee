"""A running demo offer: 3-person groups for Longjing at 99.00, a week long."""

from datetime import timedelta


async def seed(kernel, tx) -> None:
    first = await kernel.service("catalog").sku_ids(tx.session, limit=1)
    if not first:
        return
    sku = first[0]
    now = tx.now()
    await kernel.service("group_buy").create_offer(
        tx,
        sku_id=sku,
        group_price_minor=9900,
        leader_price_minor=8900,
        group_size=3,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=7),
        total_limit=30,
        per_member_limit=2,
    )
