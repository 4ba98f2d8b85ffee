"""Demo people. Ids are predictable on a fresh database: members 1–5, staff 1–4."""

MEMBERS = [
    ("13800000001", "小雨 Xiaoyu", "wechat_mini_program"),
    ("13800000002", "阿杰 Ajie", "live_room"),
    ("13800000003", "林姐 Sister Lin", "store"),
    ("13800000004", "茶小白 Tea newbie", "guide_share"),
    ("13800000005", "老王 Old Wang", "wechat_mini_program"),
]

STAFF = [
    ("王店长 Manager Wang", ("admin",), ()),
    ("陈导购 Clerk Chen (store 1)", ("store_clerk",), (1,)),
    ("刘导购 Clerk Liu (store 2)", ("store_clerk",), (2,)),
    ("主播 Host Mia", ("live_host",), ()),
]


async def seed(kernel, tx) -> None:
    service = kernel.service("members")
    for phone, nickname, channel in MEMBERS:
        await service.create_member(tx, phone=phone, nickname=nickname, source_channel=channel)
    for name, roles, stores in STAFF:
        await service.create_staff(tx, name=name, roles=roles, store_ids=stores)
