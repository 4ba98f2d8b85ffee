"""A demo session: host Mia (staff 4) live tonight with three products at live prices.

The room is scheduled to start one hour from the seed and run for two hours, so a sandbox can
start it at once (`startLiveRoom` as staff 4) and try the whole session.
"""

from __future__ import annotations

from datetime import timedelta

from components.live_room.service import ShelfEntry
from core.auth import Actor


async def seed(kernel, tx) -> None:  # noqa: ANN001
    catalog = kernel.service("catalog")
    staff = await kernel.service("members").active_staff(tx.session)
    host = next((person for person in staff if "Host" in person.name), None)
    products = await catalog.product_ids(tx.session, on_sale_only=True, limit=3)
    if host is None or not products:
        return
    shelf = []
    for product_id in products:
        skus = await catalog.product_skus(tx.session, product_id)
        # 15% off every SKU while live, rounded down to the yuan.
        prices = tuple((sku.id, max(100, sku.price_minor * 85 // 100 // 100 * 100)) for sku in skus)
        shelf.append(ShelfEntry(product_id=product_id, live_prices=prices))
    now = tx.now()
    await kernel.service("live_room").create_room(
        tx,
        Actor("staff", host.id, frozenset(host.roles)),
        title="龙井开汤 Longjing tasting night",
        host_staff_id=host.id,
        scheduled_start_at=now + timedelta(hours=1),
        scheduled_end_at=now + timedelta(hours=3),
        play_url="https://live.example.com/demo/longjing.flv",
        push_url="rtmp://push.example.com/live/longjing?key=demo",
        replay_url="https://live.example.com/demo/longjing-replay.m3u8",
        shelf=shelf,
    )
