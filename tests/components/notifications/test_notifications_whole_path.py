"""The whole path, as a brand runs it (issue 25): members reserve a live room and consent to the
reminder → each is reminded once before the start, across a restart of the kernel between the
reservation and the reminder (and another between the reminder and its delivery); an outbid
member is told once per outbid — never for a proxy bid that raised the price automatically,
never for a leader raising their own maximum."""

from __future__ import annotations

from datetime import datetime, timedelta

from conftest import open_shop
from sqlalchemy import select

from components.notifications.models import Delivery
from core.testing import member, staff

BLUEPRINT = """\
dougong: 1
brand: {slug: maple, name: Maple, currency: CNY, timezone: Asia/Shanghai}
auth: {dev_sign_in: true}
components:
  live_room: {reservation_reminder_before: 15m}
  bidding_sale: {extend_window: 60s, extend_by: 2m}
  notifications:
    rules:
      - event: live_room.reservation_reminder
        template: TPL_LIVE_START
        page: "pages/live/index?id={roomId}"
        fields: {thing1: "{title}", time2: "{scheduledStartAt}"}
      - event: bidding_sale.outbid
        template: TPL_OUTBID
        page: "pages/auction/lot?id={lotId}"
        fields: {thing1: "您的出价已被超过", amount2: "{priceMinor|yuan}"}
"""
CREATE_ROOM = """mutation($input: CreateLiveRoomInput!) { createLiveRoom(input: $input) { room { id } userErrors { code field } } }"""
RESERVE = """mutation($room: ID!) { reserveLiveRoom(input: {roomId: $room}) { reserved userErrors { code } } }"""
UNRESERVE = """mutation($room: ID!) { cancelLiveRoomReservation(input: {roomId: $room}) { reserved userErrors { code } } }"""
CREATE_LOT = """mutation($input: CreateAuctionLotInput!) { createAuctionLot(input: $input) { lot { id } userErrors { code field } } }"""
BID = """mutation($lot: ID!, $amount: Long!, $max: MoneyInput) {
  placeBid(input: {lotId: $lot, amount: {amountMinor: $amount, currency: "CNY"}, maximum: $max}) {
    leading lot { currentPrice { amountMinor } } userErrors { code } } }"""
GRANT = """mutation($t: [String!]!) { grantNotificationConsent(input: {templateIds: $t}) {
  consents { templateId remaining } userErrors { code field } } }"""
MINE = """{ myNotifications(first: 20) { edges { node { event templateId data status sentAt } } } }"""
CONSENTS = "{ myNotificationConsents { templateId remaining } }"
CNY = lambda n: {"amountMinor": n, "currency": "CNY"}  # noqa: E731


async def boot(kernel_factory, url):
    return await kernel_factory(BLUEPRINT, database=url)


async def with_openids(kernel, *member_ids):
    """These members signed in through WeChat (a subscription message goes to an openid)."""
    from components.members.models import Member

    async with kernel.transaction() as tx:
        for member_id in member_ids:
            (await tx.session.get(Member, member_id)).open_id = f"o-{member_id}"


async def grant(client, template, times=1):
    for _ in range(times):
        granted = await client.mutate(GRANT, t=[template])
        assert granted["userErrors"] == [], granted


async def mine(client, event):
    edges = (await client.data(MINE))["myNotifications"]["edges"]
    return [e["node"] for e in edges if e["node"]["event"] == event]


async def deliveries(kernel, event):
    async with kernel.db.read() as session:
        rows = (await session.scalars(select(Delivery).where(Delivery.event == event).order_by(Delivery.id))).all()
    return [(row.member_id, row.status) for row in rows]


async def test_a_reserved_room_reminds_each_member_once_before_the_start_across_restarts(kernel_factory, graphql, clock, tmp_path):
    kernel = await boot(kernel_factory, "sqlite")  # a migrated copy of the template: fast
    url = f"sqlite+aiosqlite:///{tmp_path / 'db-0.sqlite'}"  # the same file, to boot again on
    await open_shop(kernel, members=5)
    await with_openids(kernel, 1, 2, 3, 4, 5)
    start = clock.now() + timedelta(hours=2)
    created = await graphql(kernel, staff(1, "admin")).mutate(CREATE_ROOM, input={
        "title": "春茶品鉴夜 Spring tasting", "scheduledStartAt": start.isoformat(),
        "scheduledEndAt": (start + timedelta(hours=1)).isoformat()})
    assert created["userErrors"] == [], created
    room = created["room"]["id"]
    ann, bo, cy, dee, eve = (graphql(kernel, member(i)) for i in (1, 2, 3, 4, 5))
    for client in (ann, bo, cy, eve):
        assert (await client.mutate(RESERVE, room=room)) == {"reserved": True, "userErrors": []}
    assert (await ann.mutate(RESERVE, room=room))["reserved"] is True  # a second tap: still one reservation
    assert (await eve.mutate(UNRESERVE, room=room))["reserved"] is False  # changed her mind
    await grant(ann, "TPL_LIVE_START", times=2)  # two consents left: still one reminder
    await grant(bo, "TPL_LIVE_START")
    await grant(eve, "TPL_LIVE_START")
    await grant(dee, "TPL_LIVE_START")  # consented, never reserved
    # cy reserved without consenting: her reminder is planned and skipped (WeChat would refuse it).
    await kernel.stop()

    # A deploy between the reservations and the reminder: the reminder is a row, not a task.
    kernel = await boot(kernel_factory, url)
    clock.advance(minutes=104)
    await kernel.run_due()
    assert await deliveries(kernel, "live_room.reservation_reminder") == []  # not before 15 minutes to go
    clock.advance(minutes=2)
    await kernel.run_due()  # the room's reminder emits one event per reservation; observed after commit
    assert await deliveries(kernel, "live_room.reservation_reminder") == [(1, "pending"), (2, "pending"), (3, "pending")]
    await kernel.stop()

    # Another restart with the messages planned but not sent: they go out once, from their rows.
    kernel = await boot(kernel_factory, url)
    wechat = kernel.service("notifications").channels["wechat"]
    await kernel.run_due()
    for _ in range(3):  # later ticks, and the worker's sweep of undelivered events, add nothing
        clock.advance(minutes=1)
        await kernel.run_due()
    assert await deliveries(kernel, "live_room.reservation_reminder") == [(1, "sent"), (2, "sent"), (3, "skipped")]
    assert sorted((m.to, m.template) for m in wechat.sent) == [("o-1", "TPL_LIVE_START"), ("o-2", "TPL_LIVE_START")]
    assert {m.page for m in wechat.sent} == {f"pages/live/index?id={(await room_pk(kernel))}"}

    ann, bo, cy, dee, eve = (graphql(kernel, member(i)) for i in (1, 2, 3, 4, 5))
    (reminder,) = await mine(ann, "live_room.reservation_reminder")
    assert reminder["status"] == "sent" and reminder["templateId"] == "TPL_LIVE_START"
    assert reminder["data"] == {"thing1": "春茶品鉴夜 Spring tasting", "time2": start.isoformat()}
    assert datetime.fromisoformat(reminder["sentAt"]) < start  # before the start
    assert [n["status"] for n in await mine(bo, "live_room.reservation_reminder")] == ["sent"]
    assert [n["status"] for n in await mine(cy, "live_room.reservation_reminder")] == ["skipped"]
    assert await mine(dee, "live_room.reservation_reminder") == []
    assert await mine(eve, "live_room.reservation_reminder") == []
    assert (await ann.data(CONSENTS))["myNotificationConsents"] == [{"templateId": "TPL_LIVE_START", "remaining": 1}]
    assert (await eve.data(CONSENTS))["myNotificationConsents"] == [{"templateId": "TPL_LIVE_START", "remaining": 1}]


async def room_pk(kernel):
    from components.live_room.models import Room

    async with kernel.db.read() as session:
        return (await session.scalars(select(Room.id))).one()


async def test_an_outbid_member_is_told_once_per_outbid_not_per_bid(kernel_factory, graphql, clock):
    kernel = await boot(kernel_factory, "sqlite")
    shop = await open_shop(kernel, members=4, price=500000)
    await with_openids(kernel, 1, 2, 3, 4)
    now = clock.now()
    created = await graphql(kernel, staff(1, "admin")).mutate(CREATE_LOT, input={
        "skuId": shop.sku, "startPrice": CNY(10000), "increment": CNY(1000), "deposit": CNY(0),
        "startsAt": (now - timedelta(minutes=1)).isoformat(), "endsAt": (now + timedelta(minutes=30)).isoformat()})
    assert created["userErrors"] == [], created
    lot = created["lot"]["id"]
    ann, bo, cy, dee = (graphql(kernel, member(i)) for i in (1, 2, 3, 4))
    for client in (ann, bo, cy, dee):
        await grant(client, "TPL_OUTBID", times=3)  # enough consent: what limits the messages is the rule
    wechat = kernel.service("notifications").channels["wechat"]

    async def bid(client, amount, maximum=None):
        placed = await client.mutate(BID, lot=lot, amount=amount, max=CNY(maximum) if maximum else None)
        assert placed["userErrors"] == [], placed
        await kernel.run_due()
        return placed["leading"], placed["lot"]["currentPrice"]["amountMinor"]

    async def told():
        return sorted(member_id for member_id, status in await deliveries(kernel, "bidding_sale.outbid") if status == "sent")

    assert await bid(ann, 10000) == (True, 10000)                # the first bid outbids nobody
    assert await told() == []
    assert await bid(bo, 11000, 20000) == (True, 11000)          # bo takes the lead: ann is told
    assert await told() == [1]
    assert await bid(cy, 15000) == (False, 16000)                # bo's maximum answers by proxy: nobody is told
    assert await bid(cy, 17000) == (False, 18000)                # again
    assert await bid(dee, 19000) == (False, 20000)               # bo's maximum reached, bo still leads
    assert await told() == [1]
    assert await bid(bo, 21000, 30000) == (True, 20000)          # the leader raises their own maximum: nobody is told
    assert await told() == [1]
    assert await bid(cy, 31000) == (True, 31000)                 # above bo's maximum: bo is told, once
    assert await told() == [1, 2]
    assert await bid(ann, 32000, 40000) == (True, 32000)         # ann leads again: cy is told
    assert await bid(dee, 33000) == (False, 34000)               # ann's proxy answers: ann is not told
    assert await told() == [1, 2, 3]
    assert await bid(dee, 41000) == (True, 41000)                # ann outbid a second time: a second message
    for _ in range(2):
        clock.advance(minutes=1)
        await kernel.run_due()
    assert await told() == [1, 1, 2, 3]

    prices = {}
    for member_id, client in ((1, ann), (2, bo), (3, cy), (4, dee)):
        prices[member_id] = [n["data"]["amount2"] for n in await mine(client, "bidding_sale.outbid")]
    assert prices == {1: ["410.00", "110.00"], 2: ["310.00"], 3: ["320.00"], 4: []}  # newest first; the price that beat them
    assert sorted(m.to for m in wechat.sent) == ["o-1", "o-1", "o-2", "o-3"]


GROUP_BUY = """\
dougong: 1
brand: {slug: maple, name: Maple, currency: CNY, timezone: Asia/Shanghai}
auth: {dev_sign_in: true}
components:
  group_buy: {}
  notifications:
    rules:
      - event: group_buy.succeeded
        channel: sms
        template: SMS_GROUP_OK
        recipients: memberIds
        fields: {group: "{groupId}"}
      - event: group_buy.failed
        channel: sms
        template: SMS_GROUP_FAILED
        recipients: memberIds
        fields: {group: "{groupId}", reason: "{reason}"}
"""
OFFER = """mutation($input: CreateGroupBuyOfferInput!) { createGroupBuyOffer(input: $input) { offer { id } userErrors { code field } } }"""
OPEN = """mutation($offer: ID!) { openGroup(input: {offerId: $offer, quantity: 1}) { group { shareCode } order { id } userErrors { code } } }"""
JOIN = """mutation($code: String!) { joinGroup(input: {shareCode: $code, quantity: 1}) { order { id } userErrors { code } } }"""
PAY = "mutation($id: ID!) { payOrder(input: {orderId: $id}) { payment { id } userErrors { code } } }"
SETTLE = "mutation($id: ID!) { sandboxSettlePayment(input: {paymentId: $id}) { order { status } userErrors { code } } }"


async def test_group_results_name_their_members_for_notifications(kernel_factory, graphql, clock):
    kernel = await kernel_factory(GROUP_BUY)
    shop = await open_shop(kernel, members=4, price=10000)
    now = clock.now()
    offer = await graphql(kernel, staff(1, "admin")).mutate(OFFER, input={
        "skuId": shop.sku, "groupPrice": CNY(6900), "groupSize": 2, "duration": "24h", "totalLimit": 10,
        "startsAt": (now - timedelta(hours=1)).isoformat(), "endsAt": (now + timedelta(days=3)).isoformat()})
    assert offer["userErrors"] == [], offer
    ann, bo, cy, dee = (graphql(kernel, member(i)) for i in (1, 2, 3, 4))

    async def pay(client, order_id):
        payment = (await client.mutate(PAY, id=order_id))["payment"]["id"]
        assert (await client.mutate(SETTLE, id=payment))["order"]["status"] == "PAID"

    formed = await ann.mutate(OPEN, offer=offer["offer"]["id"])
    await pay(ann, formed["order"]["id"])
    await pay(bo, (await bo.mutate(JOIN, code=formed["group"]["shareCode"]))["order"]["id"])
    alone = await cy.mutate(OPEN, offer=offer["offer"]["id"])
    await pay(cy, alone["order"]["id"])  # nobody joins cy: her group fails at the deadline, she is refunded
    await kernel.run_due()
    clock.advance(hours=25)
    await kernel.run_due()
    await kernel.run_due()

    sms = kernel.service("notifications").channels["sms"]
    assert sorted((m.template, m.member_id) for m in sms.sent) == [("SMS_GROUP_FAILED", 3), ("SMS_GROUP_OK", 1), ("SMS_GROUP_OK", 2)]
    assert [n["data"]["reason"] for n in await mine(cy, "group_buy.failed")] == ["expired"]
    assert await mine(dee, "group_buy.succeeded") == [] and await mine(dee, "group_buy.failed") == []


async def test_a_reminder_held_by_quiet_hours_past_the_start_is_not_sent_late(kernel_factory, graphql, clock):
    # Quiet from this hour (the brand's time) for two hours: a room starting inside them is
    # not announced when they end; one starting after them is reminded as usual.
    from zoneinfo import ZoneInfo

    local = clock.now().astimezone(ZoneInfo("Asia/Shanghai"))
    quiet = f'quiet_hours: {{start: "{local:%H}:00", end: "{(local + timedelta(hours=2)):%H}:00"}}'
    blueprint = BLUEPRINT.replace("  notifications:\n", f"  notifications:\n    {quiet}\n").replace(
        '        page: "pages/live/index?id={roomId}"\n', '        page: "pages/live/index?id={roomId}"\n        stale_after: scheduledStartAt\n')
    assert "stale_after" in blueprint and "quiet_hours" in blueprint
    kernel = await kernel_factory(blueprint)
    await open_shop(kernel, members=2)
    await with_openids(kernel, 1, 2)
    admin = graphql(kernel, staff(1, "admin"))
    rooms = []
    for title, starts_in in (("soon", timedelta(minutes=40)), ("later", timedelta(hours=3))):
        start = clock.now() + starts_in
        created = await admin.mutate(CREATE_ROOM, input={"title": title, "scheduledStartAt": start.isoformat(),
                                                         "scheduledEndAt": (start + timedelta(hours=1)).isoformat()})
        rooms.append(created["room"]["id"])
    ann = graphql(kernel, member(1))
    for room in rooms:
        assert (await ann.mutate(RESERVE, room=room))["reserved"] is True
    await grant(ann, "TPL_LIVE_START", times=2)
    wechat = kernel.service("notifications").channels["wechat"]
    for _ in range(14):  # past both starts, a quarter of an hour at a time
        clock.advance(minutes=15)
        await kernel.run_due()
        await kernel.run_due()
    assert [m.data["thing1"] for m in wechat.sent] == ["later"]
    reminders = await mine(ann, "live_room.reservation_reminder")
    assert [(n["data"]["thing1"], n["status"]) for n in reminders] == [("later", "sent"), ("soon", "skipped")]
    assert (await ann.data(CONSENTS))["myNotificationConsents"] == [{"templateId": "TPL_LIVE_START", "remaining": 1}]
