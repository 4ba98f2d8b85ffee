"""Issue 28, "attribution only from proof": a sharer or guide is credited only through a share
code the brand issued, or state the server holds (the viewer joined the room through a code;
the group exists and the buyer is in it or may join it). Every client claim that cannot be
proven answers a typed error and writes nothing; a valid code that credits nobody (one's own,
a guide who left) lets the purchase go ahead and records why."""

from __future__ import annotations

from sqlalchemy import func, select

from components.live_room.models import RoomOrder, Viewer
from components.members import share_codes
from components.orders.models import Order
from core.auth import Actor
from core.gql.relay import to_global_id as G

BLUEPRINT = """\
dougong: 1
brand: {slug: attr, name: Attribution, currency: CNY, timezone: Asia/Shanghai}
components:
  live_room: {}
  group_buy: {}
"""
ORDERS_ONLY = """\
dougong: 1
brand: {slug: attr-plain, name: Plain, currency: CNY, timezone: Asia/Shanghai}
components:
  orders: {}
"""
SKU = "{ products(first: 1) { nodes { skus { id } } } }"
MY_CODE = "{ myShareCode }"
GUIDE_CODE = "query($id: ID!) { guideShareCode(staffId: $id) }"
PLACE = """mutation($source: OrderSourceInput, $sku: ID!) {
  placeOrder(input: {checkout: {lines: [{skuId: $sku, quantity: 1}], source: $source}}) {
    order { id source { sharerMemberId guideId shareCode groupId liveRoomId creditRefused } } userErrors { code field } } }"""
JOIN = """mutation($room: ID!, $code: String, $sharer: ID, $guide: ID) {
  joinLiveRoom(input: {roomId: $room, shareCode: $code, sharerMemberId: $sharer, guideId: $guide}) { viewerCount userErrors { code field } } }"""
ROOM_ORDER = """mutation($room: ID!, $sku: ID!) { createLiveRoomOrder(input: {roomId: $room, lines: [{skuId: $sku, quantity: 1}],
  expectLivePrice: false}) { order { id source { sharerMemberId guideId } } userErrors { code field } } }"""

MEMBER_A, MEMBER_B, MEMBER_C, MEMBER_D = (Actor("member", i) for i in (1, 2, 3, 4))
ADMIN, GUIDE, HOST = Actor("staff", 1, frozenset({"admin"})), Actor("staff", 5, frozenset({"guide"})), Actor("staff", 4, frozenset({"live_host"}))


async def _count(kernel, model) -> int:  # noqa: ANN001
    async with kernel.transaction() as tx:
        return await tx.session.scalar(select(func.count()).select_from(model))


def _tampered(code: str) -> str:
    last = code[-1]
    return code[:-1] + ("A" if last != "A" else "B")


async def test_checkout_credits_sharers_and_guides_only_from_proof(kernel_factory, graphql):
    kernel = await kernel_factory(BLUEPRINT, seed_demo=True)
    a, b = graphql(kernel, MEMBER_A), graphql(kernel, MEMBER_B)
    sku = (await a.data(SKU))["products"]["nodes"][0]["skus"][0]["id"]
    code_a = (await a.data(MY_CODE))["myShareCode"]
    code_guide = (await graphql(kernel, GUIDE).data(MY_CODE))["myShareCode"]
    assert code_a.startswith("m") and code_guide.startswith("g") and len(code_guide) <= 32
    assert (await graphql(kernel, ADMIN).data(GUIDE_CODE, id=G("Staff", 5)))["guideShareCode"] == code_guide
    # Not a guide: no code for them, and nobody else's code for the asking.
    assert (await graphql(kernel, HOST).data(MY_CODE))["myShareCode"] is None
    assert (await graphql(kernel).data(MY_CODE))["myShareCode"] is None
    refused = await graphql(kernel, ADMIN).execute(GUIDE_CODE, id=G("Staff", 4))
    assert refused["errors"][0]["extensions"]["code"] == "MEMBERS_NOT_A_GUIDE"
    assert (await b.execute(GUIDE_CODE, id=G("Staff", 5)))["errors"][0]["extensions"]["code"] == "KERNEL_FORBIDDEN"

    # A valid member code credits that member; a guide's code credits the guide.
    shared = await b.mutate(PLACE, sku=sku, source={"shareCode": code_a})
    assert shared["userErrors"] == [] and shared["order"]["source"]["sharerMemberId"] == G("Member", 1)
    assert shared["order"]["source"]["shareCode"] == code_a and shared["order"]["source"]["creditRefused"] is None
    guided = await b.mutate(PLACE, sku=sku, source={"shareCode": code_guide, "guideId": G("Staff", 5)})
    assert guided["userErrors"] == [] and guided["order"]["source"]["guideId"] == G("Staff", 5)
    assert guided["order"]["source"]["sharerMemberId"] is None

    other_brand = share_codes.sign(share_codes.derive_key(kernel.signing_secret()), "another-brand", "member", 1)
    cases = [
        ({"guideId": G("Staff", 999)}, "MEMBERS_NOT_A_GUIDE", "input.source.guideId"),  # forged guide id
        ({"guideId": G("Staff", 4)}, "MEMBERS_NOT_A_GUIDE", "input.source.guideId"),  # staff, but not a guide
        ({"guideId": G("Staff", 1), "shareCode": code_guide}, "MEMBERS_NOT_A_GUIDE", "input.source.guideId"),  # not the code's
        ({"sharerMemberId": G("Member", 1)}, "MEMBERS_UNPROVEN_SHARER", "input.source.sharerMemberId"),  # no code
        ({"sharerMemberId": G("Member", 3), "shareCode": code_a}, "MEMBERS_UNPROVEN_SHARER", "input.source.sharerMemberId"),
        ({"sharerMemberId": G("Member", 999)}, "MEMBERS_UNPROVEN_SHARER", "input.source.sharerMemberId"),  # nobody
        ({"shareCode": _tampered(code_a)}, "MEMBERS_INVALID_SHARE_CODE", "input.source.shareCode"),
        ({"shareCode": "m1.AAAAAAAAAAAAAAAA"}, "MEMBERS_INVALID_SHARE_CODE", "input.source.shareCode"),  # forged
        ({"shareCode": "g" + code_a[1:]}, "MEMBERS_INVALID_SHARE_CODE", "input.source.shareCode"),  # kind swapped
        ({"shareCode": other_brand}, "MEMBERS_INVALID_SHARE_CODE", "input.source.shareCode"),
        ({"shareCode": "x" * 65}, "KERNEL_INVALID_INPUT", "input.source.shareCode"),
        ({"groupId": G("GroupBuyGroup", 999)}, "GROUP_BUY_UNKNOWN_GROUP", "input.source.groupId"),  # no such group
        ({"liveRoomId": G("LiveRoom", 999)}, "KERNEL_NOT_FOUND", "input.source.liveRoomId"),
    ]
    before = await _count(kernel, Order)
    for source, code, field in cases:
        payload = await b.mutate(PLACE, sku=sku, source=source)
        assert payload["order"] is None and payload["userErrors"] == [{"code": code, "field": field}], (source, payload)
    assert await _count(kernel, Order) == before  # nothing was written

    # One's own code credits nobody, and says so; the purchase goes ahead.
    own = await a.mutate(PLACE, sku=sku, source={"shareCode": code_a})
    assert own["userErrors"] == [] and own["order"]["source"]["sharerMemberId"] is None
    assert own["order"]["source"]["creditRefused"] == "SELF_SHARE"
    # A guide who was deactivated: their poster's code still sells, crediting nobody; naming them is refused.
    async with kernel.transaction() as tx:
        await kernel.service("members.staff_admin").set_active(tx, 5, False)
    stale = await b.mutate(PLACE, sku=sku, source={"shareCode": code_guide})
    assert stale["userErrors"] == [] and stale["order"]["source"]["guideId"] is None
    assert stale["order"]["source"]["creditRefused"] == "GUIDE_INACTIVE"
    inactive = await b.mutate(PLACE, sku=sku, source={"guideId": G("Staff", 5)})
    assert inactive["userErrors"] == [{"code": "MEMBERS_NOT_A_GUIDE", "field": "input.source.guideId"}]


async def test_a_live_room_credits_whom_the_viewer_joined_through(kernel_factory, graphql):
    kernel = await kernel_factory(BLUEPRINT, seed_demo=True)
    room = G("LiveRoom", 1)  # the demo room: scheduled, joinable
    sku = (await graphql(kernel, MEMBER_A).data(SKU))["products"]["nodes"][0]["skus"][0]["id"]
    code_a = (await graphql(kernel, MEMBER_A).data(MY_CODE))["myShareCode"]
    code_guide = (await graphql(kernel, GUIDE).data(MY_CODE))["myShareCode"]
    c, d = graphql(kernel, MEMBER_C), graphql(kernel, MEMBER_D)

    # Claims the server cannot prove are refused at the door, and no viewer row is written.
    for variables, code in (({"sharer": G("Member", 1)}, "MEMBERS_UNPROVEN_SHARER"),
                            ({"code": _tampered(code_a)}, "MEMBERS_INVALID_SHARE_CODE"),
                            ({"guide": G("Staff", 4)}, "MEMBERS_NOT_A_GUIDE"),
                            ({"guide": G("Staff", 77)}, "MEMBERS_NOT_A_GUIDE")):
        payload = await d.mutate(JOIN, room=room, **variables)
        assert [e["code"] for e in payload["userErrors"]] == [code] and payload["viewerCount"] is None
    assert await _count(kernel, Viewer) == 0

    # C joins through A's link (and a guide's): C's order from the room credits them.
    joined = await c.mutate(JOIN, room=room, code=code_a, guide=G("Staff", 5))
    assert joined["userErrors"] == []
    ordered = await c.mutate(ROOM_ORDER, room=room, sku=sku)
    assert ordered["userErrors"] == [], ordered
    # The guide's code through a member who never joined still needs nothing from the room.
    d_order = await d.mutate(ROOM_ORDER, room=room, sku=sku)  # D never joined: nobody is credited
    assert d_order["userErrors"] == []
    own = await graphql(kernel, MEMBER_A).mutate(JOIN, room=room, code=code_a)  # one's own link
    assert own["userErrors"] == []
    a_order = await graphql(kernel, MEMBER_A).mutate(ROOM_ORDER, room=room, sku=sku)
    b = graphql(kernel, MEMBER_B)
    assert (await b.mutate(JOIN, room=room, code=code_guide))["userErrors"] == []
    b_order = await b.mutate(ROOM_ORDER, room=room, sku=sku)
    async with kernel.transaction() as tx:
        rows = {r.member_id: (r.sharer_member_id, r.guide_id) for r in (await tx.session.scalars(select(RoomOrder))).all()}
    assert rows == {3: (1, 5), 4: (None, None), 1: (None, None), 2: (None, 5)}
    assert a_order["userErrors"] == [] and b_order["userErrors"] == []


async def test_a_room_or_group_no_loaded_component_knows_is_refused(kernel_factory, graphql):
    kernel = await kernel_factory(ORDERS_ONLY, seed_demo=True)
    member = graphql(kernel, MEMBER_B)
    sku = (await member.data(SKU))["products"]["nodes"][0]["skus"][0]["id"]
    before = await _count(kernel, Order)
    for key, type_name in (("groupId", "GroupBuyGroup"), ("liveRoomId", "LiveRoom")):
        payload = await member.mutate(PLACE, sku=sku, source={key: G(type_name, 1)})
        assert payload["userErrors"] == [{"code": "ORDERS_UNKNOWN_SOURCE", "field": f"input.source.{key}"}]
    assert await _count(kernel, Order) == before
