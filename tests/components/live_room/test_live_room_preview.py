"""previewCheckout says what placeOrder will refuse for live-room lines — the member's purchase
limit (限购) and the live-only stock (直播专享库存) — and writes nothing while saying it."""

from __future__ import annotations

from conftest import open_shop
from live_room_helpers import CREATE, JOIN, ORDER, control, room_input
from sqlalchemy import select
from test_live_room_depth import JOINED_ONLY, LIVE, PRICE, SET_QUOTA

from components.live_room.models import Purchase, ShelfItem
from core.gql.relay import to_global_id
from core.testing import member, staff

PREVIEW = """query($room: ID!, $sku: ID!, $qty: Int!) {
  previewCheckout(input: {lines: [{skuId: $sku, quantity: $qty, liveRoomId: $room}]}) {
    preview { total { amountMinor } } userErrors { code field details } } }"""


async def _live_stock(kernel) -> int | None:
    async with kernel.db.read() as session:
        return await session.scalar(select(ShelfItem.live_stock))


async def test_preview_reports_the_limit_and_sold_out_live_stock_without_writing(kernel_factory, graphql, clock):
    kernel = await kernel_factory(JOINED_ONLY)
    shop = await open_shop(kernel, members=3, stock=100, price=PRICE)
    admin = graphql(kernel, staff(1, "admin"))
    room = (await admin.mutate(CREATE, input=room_input(clock, shop, prices={shop.sku_id: LIVE})))["room"]["id"]
    product = to_global_id("Product", shop.product_id)
    assert (await admin.mutate(SET_QUOTA, room=room, item={"productId": product, "liveStock": 3,
                                                           "perMemberLimit": 2}))["userErrors"] == []
    await admin.mutate(control("startLiveRoom"), room=room)
    first, second = graphql(kernel, member(1)), graphql(kernel, member(2))
    for buyer in (first, second):
        assert (await buyer.mutate(JOIN, room=room))["userErrors"] == []

    # Within the limit and the stock: the preview shows the live price.
    fine = (await first.data(PREVIEW, room=room, sku=shop.sku, qty=2))["previewCheckout"]
    assert fine["userErrors"] == [] and fine["preview"]["total"]["amountMinor"] == 2 * LIVE
    # Over the member's limit: the preview says so, with what the member already holds.
    over = (await first.data(PREVIEW, room=room, sku=shop.sku, qty=3))["previewCheckout"]
    assert over["preview"] is None
    assert over["userErrors"] == [{"code": "LIVE_ROOM_LIMIT_REACHED", "field": "input.lines[0].quantity",
                                   "details": {"limit": 2, "bought": 0}}]
    assert await shop.count(Purchase) == 0 and await _live_stock(kernel) == 3  # the preview wrote nothing

    # The first member buys two; the limit now counts them, and one unit is left at the live price.
    assert (await first.mutate(ORDER, room=room, sku=shop.sku, qty=2))["userErrors"] == []
    again = (await first.data(PREVIEW, room=room, sku=shop.sku, qty=1))["previewCheckout"]
    assert [(e["code"], e["details"]) for e in again["userErrors"]] == [("LIVE_ROOM_LIMIT_REACHED", {"limit": 2, "bought": 2})]
    short = (await second.data(PREVIEW, room=room, sku=shop.sku, qty=2))["previewCheckout"]
    assert short["userErrors"] == [{"code": "LIVE_ROOM_LIVE_STOCK_SOLD_OUT", "field": "input.lines[0].quantity",
                                    "details": {"left": 1}}]
    assert (await second.data(PREVIEW, room=room, sku=shop.sku, qty=1))["previewCheckout"]["userErrors"] == []
    assert await shop.count(Purchase) == 1 and await _live_stock(kernel) == 1
    # placeOrder answers as the preview did.
    placed = await second.mutate(ORDER, room=room, sku=shop.sku, qty=2)
    assert [e["code"] for e in placed["userErrors"]] == ["LIVE_ROOM_LIVE_STOCK_SOLD_OUT"]
