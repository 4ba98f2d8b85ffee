"""The channels: staff push, the new-member gift, the order gift, and the live-room coupon
(claimable only while the room is live, only by members in it)."""

from __future__ import annotations

from coupons_helpers import CNY, MINE, PLACE, PUSH, admin_of, claim, gid, lines, make_template, pay, start

from core.testing import member, staff


async def test_push_to_a_segment_skips_who_is_over_the_limit_and_replays_change_nothing(kernel_factory, graphql):
    kernel, _shop = await start(kernel_factory)
    admin = admin_of(graphql, kernel)
    t = await make_template(admin, channel="PUSH", totalQuantity=3)
    segment = [gid("Member", m) for m in (1, 2)]
    first = await admin.mutate(PUSH, t=t, m=segment, key="push-1")
    assert (first["issued"], first["skipped"]) == (2, [])
    assert await admin.mutate(PUSH, t=t, m=segment, key="push-1") == first  # a replay gives nothing more
    again = await admin.mutate(PUSH, t=t, m=[gid("Member", m) for m in (1, 3, 4, 99)])
    assert again["issued"] == 1
    assert [(s["memberId"], s["code"]) for s in again["skipped"]] == [
        (gid("Member", 1), "COUPONS_LIMIT_REACHED"), (gid("Member", 4), "COUPONS_SOLD_OUT"), (gid("Member", 99), "COUPONS_SOLD_OUT")]
    # The typed form: the ErrorCode enum and the code's declared meaning.
    assert [s["error"]["code"] for s in again["skipped"]] == [s["code"] for s in again["skipped"]]
    assert again["skipped"][0]["error"]["message"] == kernel.contributions.error_codes["COUPONS_LIMIT_REACHED"].value
    assert (await claim(graphql(kernel, member(5)), t))["userErrors"][0]["code"] == "COUPONS_NOT_CLAIMABLE"
    mine = (await graphql(kernel, member(1)).data(MINE))["myCoupons"]["nodes"]
    assert [(c["source"], c["status"]) for c in mine] == [("push", "AVAILABLE")]


async def test_new_members_and_paid_orders_get_their_gifts_once(kernel_factory, graphql):
    kernel, shop = await start(kernel_factory)
    admin = admin_of(graphql, kernel)
    await make_template(admin, title="welcome", channel="NEW_MEMBER", amountOff=CNY(1000), validDays=7)
    await make_template(admin, title="thanks", channel="ORDER_GIFT", amountOff=CNY(500), giftMinimum=CNY(20000))
    async with kernel.transaction() as tx:
        newcomer = await kernel.service("members").create_member(tx, phone="13911112222", nickname="new")
    me = graphql(kernel, member(newcomer))
    assert [c["template"]["title"] for c in (await me.data(MINE))["myCoupons"]["nodes"]] == ["welcome"]
    small = (await me.mutate(PLACE, input={"lines": lines(shop.sku)}))["order"]["id"]  # ¥100: below the gift's ¥200
    await pay(me, small)
    big = (await me.mutate(PLACE, input={"lines": lines(shop.sku, 2)}))["order"]["id"]
    await pay(me, big)
    titles = sorted(c["template"]["title"] for c in (await me.data(MINE))["myCoupons"]["nodes"])
    assert titles == ["thanks", "welcome"]
    # At-least-once delivery: replaying the sign-up and the payment gives nothing twice.
    await kernel.events.redeliver()
    service = kernel.service("coupons")
    async with kernel.transaction() as tx:
        assert await service.give(tx, "new_member", newcomer, "new_member") == []
    assert len((await me.data(MINE))["myCoupons"]["nodes"]) == 2


ROOM = """mutation($input: CreateLiveRoomInput!) { createLiveRoom(input: $input) { room { id } userErrors { code } } }"""
STEP = "mutation($room: ID!) { %s(input: {roomId: $room}) { userErrors { code } } }"
JOIN = "mutation($room: ID!) { joinLiveRoom(input: {roomId: $room}) { userErrors { code } } }"


async def test_a_live_room_coupon_is_claimable_only_while_live_and_only_in_the_room(kernel_factory, graphql):
    from datetime import timedelta

    kernel, shop = await start(kernel_factory, extra="  live_room: {}\n")
    admin = admin_of(graphql, kernel)
    async with kernel.transaction() as tx:
        host_id = await kernel.service("members").create_staff(tx, name="Host", roles=("live_host",))
    host = graphql(kernel, staff(host_id, "live_host"))
    now = kernel.clock.now()
    room = (await host.mutate(ROOM, input={"title": "Tasting", "scheduledStartAt": now.isoformat(),
                                           "scheduledEndAt": (now + timedelta(hours=2)).isoformat()}))["room"]["id"]
    t = await make_template(admin, channel="LIVE_ROOM", liveRoomId=room, totalQuantity=10)
    viewer, outsider = graphql(kernel, member(1)), graphql(kernel, member(2))
    assert (await claim(viewer, t))["userErrors"][0]["code"] == "COUPONS_ROOM_NOT_LIVE"
    assert (await host.mutate(STEP % "startLiveRoom", room=room))["userErrors"] == []
    assert (await viewer.mutate(JOIN, room=room))["userErrors"] == []
    assert (await claim(outsider, t))["userErrors"][0]["code"] == "COUPONS_NOT_IN_ROOM"
    got = await claim(viewer, t)
    assert got["userErrors"] == [] and got["coupon"]["source"] == "live_room"
    assert (await host.mutate(STEP % "endLiveRoom", room=room))["userErrors"] == []
    assert (await claim(graphql(kernel, member(3)), t))["userErrors"][0]["code"] == "COUPONS_ROOM_NOT_LIVE"


async def test_a_live_room_coupon_needs_live_rooms_in_the_blueprint(kernel_factory, graphql):
    kernel, _shop = await start(kernel_factory)
    made = await admin_of(graphql, kernel).mutate(
        """mutation($i: CreateCouponTemplateInput!) { createCouponTemplate(input: $i) { userErrors { code field } } }""",
        i={"title": "live", "kind": "FIXED", "amountOff": CNY(100), "validDays": 1, "channel": "LIVE_ROOM",
           "liveRoomId": gid("LiveRoom", 1)})
    assert made["userErrors"] == [{"code": "COUPONS_LIVE_ROOM_UNAVAILABLE", "field": "input.channel"}]
