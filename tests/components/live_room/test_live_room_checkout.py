"""Live rooms in the one checkout: a line names its room (liveRoomId), the live price applies
to that line only, the preview writes nothing, and the attribution row comes with the order."""

from __future__ import annotations

from sqlalchemy import func, select
from test_live_room_refusals import LIVE_PRICE, PRICE, codes, live_room

from components.live_room.models import RoomOrder
from components.orders.models import Order
from core.gql.relay import to_global_id
from core.testing import member

LINE_FIELDS = "title quantity unitPrice { amountMinor } total { amountMinor } adjustments { component stage label }"
PREVIEW = f"""query($input: CheckoutInput!) {{ previewCheckout(input: $input) {{
  preview {{ lines {{ {LINE_FIELDS} }} total {{ amountMinor }} }} userErrors {{ code field }} }} }}"""
PLACE = """mutation($input: PlaceOrderInput!) { placeOrder(input: $input) {
  order { id total { amountMinor } source { liveRoomId sharerMemberId } lines { unitPrice { amountMinor } } }
  userErrors { code field } } }"""


async def rows(kernel):
    async with kernel.db.read() as session:
        return (await session.scalar(select(func.count()).select_from(Order)),
                (await session.scalars(select(RoomOrder))).all())


async def test_a_room_line_beside_a_plain_line_of_the_same_sku(kernel_factory, graphql, clock):
    kernel, shop, room, _host, _host_client = await live_room(kernel_factory, graphql, clock)
    alice = graphql(kernel, member(1))
    checkout = {"lines": [{"skuId": shop.sku, "quantity": 2, "liveRoomId": room}, {"skuId": shop.sku, "quantity": 1}]}

    preview = await alice.data(PREVIEW, input=checkout)
    lines = preview["previewCheckout"]["preview"]["lines"]
    assert [line["unitPrice"]["amountMinor"] for line in lines] == [LIVE_PRICE, PRICE]
    assert lines[0]["adjustments"] == [{"component": "live_room", "stage": "activity", "label": "直播价 live price"}]
    assert lines[1]["adjustments"] == []
    total = preview["previewCheckout"]["preview"]["total"]["amountMinor"]
    assert total == 2 * LIVE_PRICE + PRICE
    assert await rows(kernel) == (0, [])  # the preview wrote nothing, not even the attribution

    placed = await alice.mutate(PLACE, input={"checkout": checkout, "expectedTotal": total})
    assert placed["userErrors"] == [], placed
    order = placed["order"]
    assert order["total"]["amountMinor"] == total and order["source"]["liveRoomId"] == room
    assert [line["unitPrice"]["amountMinor"] for line in order["lines"]] == [LIVE_PRICE, PRICE]
    count, attributed = await rows(kernel)
    assert count == 1 and len(attributed) == 1
    row = attributed[0]
    assert (row.member_id, row.in_session, row.live_priced, row.status, row.total_minor) == (
        1, True, True, "pending_payment", total)


async def test_lines_in_two_rooms_or_an_unknown_room_are_refused_and_nothing_is_written(kernel_factory, graphql, clock):
    kernel, shop, room, _host, _host_client = await live_room(kernel_factory, graphql, clock)
    alice = graphql(kernel, member(1))
    other = to_global_id("LiveRoom", 999)
    two = {"lines": [{"skuId": shop.sku, "quantity": 1, "liveRoomId": room},
                     {"skuId": shop.sku, "quantity": 1, "liveRoomId": other}]}
    assert codes((await alice.data(PREVIEW, input=two))["previewCheckout"]) == ["LIVE_ROOM_ONE_ROOM_PER_ORDER"]
    refused = await alice.mutate(PLACE, input={"checkout": two})
    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [
        ("LIVE_ROOM_ONE_ROOM_PER_ORDER", "input.lines[1].liveRoomId")]
    # The source's room and a line's room must agree too.
    mixed = {"lines": [{"skuId": shop.sku, "quantity": 1, "liveRoomId": other}], "source": {"liveRoomId": room}}
    assert codes(await alice.mutate(PLACE, input={"checkout": mixed})) == ["LIVE_ROOM_ONE_ROOM_PER_ORDER"]
    unknown = await alice.mutate(PLACE, input={"checkout": {"lines": [{"skuId": shop.sku, "quantity": 1, "liveRoomId": other}]}})
    assert [(e["code"], e["field"]) for e in unknown["userErrors"]] == [("KERNEL_NOT_FOUND", "input.lines[0].liveRoomId")]
    garbage = await alice.mutate(PLACE, input={"checkout": {"lines": [{"skuId": shop.sku, "quantity": 1, "liveRoomId": "nope"}]}})
    assert [(e["code"], e["field"]) for e in garbage["userErrors"]] == [("KERNEL_INVALID_ID", "input.lines[0].liveRoomId")]
    assert await rows(kernel) == (0, [])
    assert await shop.available() == 20


async def test_a_room_line_in_the_cart_pays_the_normal_price_once_the_room_ended(kernel_factory, graphql, clock):
    kernel, shop, room, _host, host_client = await live_room(kernel_factory, graphql, clock)
    from live_room_helpers import control

    alice = graphql(kernel, member(1))
    added = await alice.mutate("""mutation($line: CheckoutLineInput!) { addCartLine(input: {line: $line}) {
        cart { lines { inputs } } userErrors { code } } }""", line={"skuId": shop.sku, "quantity": 1, "liveRoomId": room})
    assert added["userErrors"] == [] and added["cart"]["lines"][0]["inputs"] == {"liveRoomId": room}
    live = await alice.data(PREVIEW, input={})
    assert live["previewCheckout"]["preview"]["total"]["amountMinor"] == LIVE_PRICE
    assert (await host_client.mutate(control("endLiveRoom"), room=room))["userErrors"] == []
    ended = await alice.data(PREVIEW, input={})
    assert ended["previewCheckout"]["preview"]["total"]["amountMinor"] == PRICE  # the preview shows the change
    # Placing with the total seen while live refuses, saying what changed: never a silent difference.
    stale = await alice.mutate(PLACE, input={"checkout": {}, "expectedTotal": LIVE_PRICE})
    assert codes(stale) == ["ORDERS_PRICE_CHANGED"] and await rows(kernel) == (0, [])
    placed = await alice.mutate(PLACE, input={"checkout": {}, "expectedTotal": PRICE})
    assert placed["userErrors"] == [] and placed["order"]["total"]["amountMinor"] == PRICE
    _count, attributed = await rows(kernel)
    assert [(r.in_session, r.live_priced) for r in attributed] == [(False, False)]  # attributed, after the session
