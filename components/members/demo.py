"""Demo people for sandboxes and tests.

Seeded first on a fresh database (members depends on nothing), so the ids are predictable:
members 1–5 and staff 1–5 as listed. The README documents them; the demo blueprint and the
tests of other components sign in as them, so keep the order stable and only append.
"""

# (phone, nickname, channel, guide staff id, store id)
MEMBERS = [
    ("13800000001", "小雨 Xiaoyu", "wechat_mini_program", None, None),
    ("13800000002", "阿杰 Ajie", "live_room", None, None),
    ("13800000003", "林姐 Sister Lin", "store", 2, 1),
    ("13800000004", "茶小白 Tea newbie", "guide_share", 3, 2),
    ("13800000005", "老王 Old Wang", "wechat_mini_program", None, None),
]

# (name, roles, store ids)
STAFF = [
    ("王店长 Manager Wang", ("admin",), ()),
    ("陈导购 Clerk Chen (store 1)", ("store_clerk",), (1,)),
    ("刘导购 Clerk Liu (store 2)", ("store_clerk",), (2,)),
    ("主播 Host Mia", ("live_host",), ()),
    ("周导购 Guide Zhou", ("guide",), ()),  # staff 5: a shopping guide with a share code of her own
]


async def seed(kernel, tx) -> None:  # noqa: ANN001
    service = kernel.service("members")
    # Staff first: two members name a guide, who must exist.
    for name, roles, stores in STAFF:
        await service.create_staff(tx, name=name, roles=roles, store_ids=stores)
    for phone, nickname, channel, guide, store in MEMBERS:
        await service.create_member(
            tx,
            phone=phone,
            nickname=nickname,
            source_channel=channel,
            source_guide_id=guide,
            source_store_id=store,
        )
