"""Helpers for live_room tests: the blueprint and the documents a mini-program's live page sends."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

BLUEPRINT_SWEEPING = """\
dougong: 1
brand: {slug: live, name: Live, currency: CNY, timezone: Asia/Shanghai}
auth: {dev_sign_in: true}
components:
  live_room: {comment_interval: 3s, comment_max_length: 40, like_interval: 1s, heartbeat_timeout: 60s, overdue_grace: 1h,
              sweep_every: %s, live_price_for: anyone}
"""
# (`anyone`: these tests check the live price's other rules apart from who joined the room;
# test_live_room_depth checks the default, `joined`.)

# Tests count the timers run_due runs: the recurring sweep stays out of the way unless asked for.
BLUEPRINT = BLUEPRINT_SWEEPING % "1w"

ROOM_FIELDS = """id title status hostName viewerCount peakViewers likeCount commentCount mutedAll commentsEnabled
  presentedProduct { id title } shelf { onShelf isPresented product { id } livePrices { livePrice { amountMinor } sku { id } } }"""
CREATE = f"""mutation($input: CreateLiveRoomInput!) {{ createLiveRoom(input: $input) {{
  room {{ {ROOM_FIELDS} }} userErrors {{ code field message details }} }} }}"""
CONTROL = """mutation($room: ID!) {{ {name}(input: {{roomId: $room}}) {{ room {{ status }} userErrors {{ code field message details }} }} }}"""
PRESENT = """mutation($room: ID!, $product: ID) { presentLiveRoomProduct(input: {roomId: $room, productId: $product}) {
  room { presentedProduct { id } } userErrors { code field } } }"""
SHELF = """mutation($room: ID!, $item: LiveRoomShelfItemInput!) { setLiveRoomShelfItem(input: {roomId: $room, item: $item}) {
  room { shelf { onShelf product { id } } } userErrors { code field message } } }"""
JOIN = """mutation($room: ID!, $sharer: ID) { joinLiveRoom(input: {roomId: $room, sharerMemberId: $sharer}) {
  viewerCount userErrors { code field message } } }"""
LEAVE = """mutation($room: ID!) { leaveLiveRoom(input: {roomId: $room}) { viewerCount userErrors { code } } }"""
HEARTBEAT = """mutation($room: ID!) { heartbeatLiveRoom(input: {roomId: $room}) { viewerCount userErrors { code } } }"""
COMMENT = """mutation($room: ID!, $text: String!) { sendLiveRoomComment(input: {roomId: $room, text: $text}) {
  comment { id author text } userErrors { code field message details } } }"""
LIKE = """mutation($room: ID!, $taps: Int!) { likeLiveRoom(input: {roomId: $room, taps: $taps}) { likeCount userErrors { code details } } }"""
MUTE = """mutation($room: ID!, $member: ID!, $minutes: Int, $unmute: Boolean) {
  muteLiveRoomViewer(input: {roomId: $room, memberId: $member, minutes: $minutes, unmute: $unmute}) { userErrors { code field } } }"""
MUTE_ALL = """mutation($room: ID!, $muted: Boolean!) { muteLiveRoom(input: {roomId: $room, muted: $muted}) { room { mutedAll } userErrors { code } } }"""
UPDATE = """mutation($input: UpdateLiveRoomInput!) { updateLiveRoom(input: $input) { room { commentsEnabled } userErrors { code field } } }"""
ORDER = """mutation($room: ID!, $sku: ID!, $qty: Int!, $expect: Boolean, $sharer: ID, $key: String) {
  createLiveRoomOrder(input: {roomId: $room, lines: [{skuId: $sku, quantity: $qty}], expectLivePrice: $expect,
                              sharerMemberId: $sharer, idempotencyKey: $key}) {
  order { id total { amountMinor } source { liveRoomId sharerMemberId }
          lines { unitPrice { amountMinor } adjustments { component stage label } } } userErrors { code field message } } }"""
PLAIN_ORDER = """mutation($sku: ID!, $room: ID) { createOrder(input: {lines: [{skuId: $sku, quantity: 1}], source: {liveRoomId: $room}}) {
  order { id total { amountMinor } } userErrors { code field } } }"""
PAY = """mutation($order: ID!) { payOrder(input: {orderId: $order}) { payment { id } userErrors { code } } }"""
SETTLE = """mutation($payment: ID!) { sandboxSettlePayment(input: {paymentId: $payment}) { order { status } userErrors { code } } }"""
RESULTS = """query($room: ID!) { liveRoom(id: $room) { status results { uniqueViewers peakViewers comments likes orders paidOrders
  payingMembers gmv { amountMinor } refunded { amountMinor } averageOrderValue { amountMinor } conversionRate
  ordersAfterSession gmvAfterSession { amountMinor } } } }"""
EVENTS = """subscription($room: ID!) { liveRoomEvents(roomId: $room) { kind status viewerCount peakViewers likeCount commentCount
  comment { author text } presentedProduct { id } } }"""

CNY = lambda n: {"amountMinor": n, "currency": "CNY"}  # noqa: E731


def control(name: str) -> str:
    return CONTROL.format(name=name)


def room_input(clock: Any, shop: Any, *, prices: dict[int, int] | None = None, starts_in: int = 0, hours: int = 2, **extra: Any) -> dict:
    """A room starting ``starts_in`` minutes from now with the shop's product on its shelf."""
    from core.gql.relay import to_global_id

    now = clock.now()
    live_prices = [{"skuId": to_global_id("Sku", sku), "price": CNY(price)} for sku, price in (prices or {}).items()]
    return {"title": "Tasting night", "scheduledStartAt": (now + timedelta(minutes=starts_in)).isoformat(),
            "scheduledEndAt": (now + timedelta(minutes=starts_in, hours=hours)).isoformat(),
            "playUrl": "https://live.example.com/a.flv", "pushUrl": "rtmp://push.example.com/live/a",
            "shelf": [{"productId": to_global_id("Product", shop.product_id), "livePrices": live_prices}], **extra}


async def pay(client: Any, order_id: str) -> str:
    payment = await client.mutate(PAY, order=order_id)
    assert payment["userErrors"] == [], payment
    settled = await client.mutate(SETTLE, payment=payment["payment"]["id"])
    assert settled["userErrors"] == [], settled
    return settled["order"]["status"]
