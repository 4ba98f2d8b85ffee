"""Demo stores in Shanghai. On a fresh database they get ids 1–3, matching the members demo's
clerks (Clerk Chen works at store 1, Clerk Liu at store 2)."""

from datetime import timedelta

STORES = [
    (
        "静安寺店 Jing'an Temple",
        "上海市静安区南京西路1699号",
        "021-62480001",
        31.2235,
        121.4453,
        {d: ["09:00-21:00"] for d in ("mon", "tue", "wed", "thu", "fri")} | {"sat": ["10:00-22:00"], "sun": ["10:00-22:00"]},
    ),
    (
        "陆家嘴店 Lujiazui",
        "上海市浦东新区世纪大道8号",
        "021-50480002",
        31.2397,
        121.4998,
        {d: ["08:00-20:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
    ),
    ("徐家汇店 Xujiahui", "上海市徐汇区虹桥路1号", "021-64480003", 31.1957, 121.4365, {}),
]


async def seed(kernel, tx) -> None:
    service = kernel.service("store_pickup")
    tomorrow = (tx.now() + timedelta(days=1)).replace(hour=1, minute=0, second=0, microsecond=0)  # 09:00 in Shanghai
    for name, address, phone, lat, lng, hours in STORES:
        store_id = await service.create_store(tx, name=name, address=address, phone=phone, latitude=lat, longitude=lng, hours=hours)
        await service.create_slots(tx, store_id=store_id, starts_at=tomorrow, ends_at=tomorrow + timedelta(hours=10), minutes=60, capacity=10)
