"""A live-room order of a viewer who joined through a guide's code outranks the bound guide."""

from datetime import timedelta

from conftest import open_shop
from guide_helpers import TOUCH, code_of, gid, guide

from core.testing import member, staff

LIVE = """\
dougong: 1
brand: {slug: gl, name: GL, currency: CNY, timezone: Asia/Shanghai}
components:
  guide_attribution: {}
  live_room: {live_price_for: anyone}
"""
JOIN = """mutation($room: ID!, $code: String) { joinLiveRoom(input: {roomId: $room, shareCode: $code}) { userErrors { code } } }"""
ORDER = """mutation($sku: ID!, $room: ID) { createOrder(input: {lines: [{skuId: $sku, quantity: 1}], source: {liveRoomId: $room}}) {
  order { id guideAttribution { reason guideId } } userErrors { code field } } }"""


async def test_the_guide_a_viewer_joined_through_is_credited_before_the_bound_guide(kernel_factory, graphql):
    kernel = await kernel_factory(LIVE)
    shop = await open_shop(kernel, members=4)
    async with kernel.transaction() as tx:
        rooms = kernel.service("live_room")
        now = tx.now()
        room = await rooms.create_room(tx, staff(1, "admin"), title="Tea night", host_staff_id=None, scheduled_start_at=now,
                                       scheduled_end_at=now + timedelta(hours=2), shelf=[])
        await rooms.start(tx, staff(1, "admin"), room)
    room_id = gid("LiveRoom", room)
    bound, host_guide = await guide(kernel), await guide(kernel)
    await graphql(kernel, member(2)).mutate(TOUCH, code=await code_of(graphql, kernel, bound))
    joined = await graphql(kernel, member(2)).mutate(JOIN, room=room_id, code=await code_of(graphql, kernel, host_guide))
    assert joined["userErrors"] == []
    placed = await graphql(kernel, member(2)).mutate(ORDER, sku=shop.sku, room=room_id)
    assert placed["userErrors"] == [], placed
    assert placed["order"]["guideAttribution"] == {"reason": "LIVE_ROOM_SHARER", "guideId": gid("Staff", host_guide.id)}
    outside = await graphql(kernel, member(2)).mutate(ORDER, sku=shop.sku, room=None)
    assert outside["order"]["guideAttribution"] == {"reason": "BOUND_GUIDE", "guideId": gid("Staff", bound.id)}
