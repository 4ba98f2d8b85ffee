"""Live prices cleared with an empty list, kept from the public before the session and from
members who never joined; viewer counts at zero for rooms that never ran; results split before
/ during / after; reservations (预约), the warm-up board and the reminder."""

from __future__ import annotations

import asyncio

import pytest
from conftest import open_shop
from live_room_helpers import BLUEPRINT, CREATE, JOIN, ORDER, PLAIN_ORDER, SHELF, control, pay, room_input
from sqlalchemy import select

from core.gql.relay import to_global_id
from core.models import EventRow
from core.testing import member, staff

PRICE, LIVE = 10000, 7000
SHELF_PRICES = """query($room: ID!) { liveRoom(id: $room) { status viewerCount shelf { livePrices { livePrice { amountMinor } } } } }"""
SPLIT = """query($room: ID!) { liveRoom(id: $room) { results { orders ordersBeforeSession gmvBeforeSession { amountMinor }
  ordersAfterSession } } }"""
RESERVE = """mutation($room: ID!, $store: Int, $guide: ID) { reserveLiveRoom(input: {roomId: $room, storeId: $store, guideId: $guide}) {
  reserved reservationCount userErrors { code field details } } }"""
UNRESERVE = """mutation($room: ID!) { cancelLiveRoomReservation(input: {roomId: $room}) { reserved reservationCount
  userErrors { code field } } }"""
BOARD = """query($room: ID!) { liveRoomReservationBoard(roomId: $room) { total stores { storeId reservations } } }"""


JOINED_ONLY = BLUEPRINT.replace(", live_price_for: anyone", "")  # the default: live prices for joined viewers


async def open_room(kernel_factory, graphql, clock, *, starts_in=0, members=6):
    kernel = await kernel_factory(JOINED_ONLY)
    shop = await open_shop(kernel, members=members, stock=100, price=PRICE)
    admin = graphql(kernel, staff(1, "admin"))
    created = await admin.mutate(CREATE, input=room_input(clock, shop, prices={shop.sku_id: LIVE}, starts_in=starts_in))
    assert created["userErrors"] == [], created
    return kernel, shop, admin, created["room"]["id"]


def live_prices(room: dict) -> list[int]:
    return [p["livePrice"]["amountMinor"] for item in room["shelf"] for p in item["livePrices"]]


async def test_live_prices_are_for_joined_viewers_while_live_and_an_empty_list_clears_them(kernel_factory, graphql, clock):
    kernel, shop, admin, room = await open_room(kernel_factory, graphql, clock)
    viewer, stranger = graphql(kernel, member(1)), graphql(kernel, member(2))
    # Before the session the public sees no live price; the host does.
    assert live_prices((await viewer.data(SHELF_PRICES, room=room))["liveRoom"]) == []
    assert live_prices((await admin.data(SHELF_PRICES, room=room))["liveRoom"]) == [LIVE]
    await admin.mutate(control("startLiveRoom"), room=room)
    assert live_prices((await viewer.data(SHELF_PRICES, room=room))["liveRoom"]) == [LIVE]

    assert (await viewer.mutate(JOIN, room=room))["userErrors"] == []
    bought = await viewer.mutate(ORDER, room=room, sku=shop.sku, qty=1, expect=True)
    assert bought["order"]["total"]["amountMinor"] == LIVE
    # A member who never joined the room pays the normal price, or is told why when they expected the live one.
    assert (await stranger.mutate(PLAIN_ORDER, sku=shop.sku, room=room))["order"]["total"]["amountMinor"] == PRICE
    refused = await stranger.mutate(ORDER, room=room, sku=shop.sku, qty=1, expect=True)
    assert [e["code"] for e in refused["userErrors"]] == ["LIVE_ROOM_NOT_JOINED"] and refused["order"] is None

    cleared = await admin.mutate(SHELF, room=room, item={"productId": to_global_id("Product", shop.product_id), "livePrices": []})
    assert cleared["userErrors"] == []
    assert live_prices((await admin.data(SHELF_PRICES, room=room))["liveRoom"]) == []
    assert (await viewer.mutate(ORDER, room=room, sku=shop.sku, qty=1))["order"]["total"]["amountMinor"] == PRICE


async def test_viewers_stop_counting_when_a_room_is_cancelled_or_expires(kernel_factory, graphql, clock):
    kernel, shop, admin, room = await open_room(kernel_factory, graphql, clock, starts_in=30)
    for i in (1, 2, 3):
        assert (await graphql(kernel, member(i)).mutate(JOIN, room=room))["viewerCount"] == i
    await admin.mutate(control("cancelLiveRoom"), room=room)
    room_now = (await admin.data(SHELF_PRICES, room=room))["liveRoom"]
    assert (room_now["status"], room_now["viewerCount"]) == ("CANCELLED", 0)

    other = (await admin.mutate(CREATE, input=room_input(clock, shop, starts_in=30)))["room"]["id"]
    await graphql(kernel, member(4)).mutate(JOIN, room=other)
    clock.advance(hours=3)
    await kernel.run_due()
    room_now = (await admin.data(SHELF_PRICES, room=other))["liveRoom"]
    assert (room_now["status"], room_now["viewerCount"]) == ("EXPIRED", 0)


async def test_results_count_orders_before_during_and_after_the_session_apart(kernel_factory, graphql, clock):
    kernel, shop, admin, room = await open_room(kernel_factory, graphql, clock, starts_in=30)
    buyer = graphql(kernel, member(1))
    await buyer.mutate(JOIN, room=room)
    early = (await buyer.mutate(PLAIN_ORDER, sku=shop.sku, room=room))["order"]["id"]   # on the warm-up page
    await pay(buyer, early)
    clock.advance(minutes=30)
    await admin.mutate(control("startLiveRoom"), room=room)
    await pay(buyer, (await buyer.mutate(ORDER, room=room, sku=shop.sku, qty=1))["order"]["id"])
    await admin.mutate(control("endLiveRoom"), room=room)
    await buyer.mutate(PLAIN_ORDER, sku=shop.sku, room=room)                            # from the replay
    split = (await admin.data(SPLIT, room=room))["liveRoom"]["results"]
    assert split == {"orders": 1, "ordersBeforeSession": 1, "gmvBeforeSession": {"amountMinor": PRICE},
                     "ordersAfterSession": 1}


async def test_reservations_fill_the_warm_up_board_and_remind_once_before_the_start(kernel_factory, graphql, clock):
    kernel, shop, admin, room = await open_room(kernel_factory, graphql, clock, starts_in=120)
    members = [graphql(kernel, member(i)) for i in range(1, 6)]
    for client, store in zip(members, (7, 7, 7, 9, None)):
        reserved = await client.mutate(RESERVE, room=room, store=store)
        assert reserved["userErrors"] == [] and reserved["reserved"] is True
    again = await members[0].mutate(RESERVE, room=room, store=9)  # a second tap: one reservation, the first store keeps it
    assert again["reservationCount"] == 5
    cancelled = await members[1].mutate(UNRESERVE, room=room)
    assert (cancelled["reserved"], cancelled["reservationCount"]) == (False, 4)
    assert [e["code"] for e in (await members[1].mutate(UNRESERVE, room=room))["userErrors"]] == ["LIVE_ROOM_NOT_RESERVED"]

    board = (await graphql(kernel, staff(1, "admin")).data(BOARD, room=room))["liveRoomReservationBoard"]
    assert board == {"total": 4, "stores": [{"storeId": 7, "reservations": 2}, {"storeId": 9, "reservations": 1},
                                            {"storeId": None, "reservations": 1}]}
    denied = await members[0].execute(BOARD, room=room)
    assert denied.get("errors"), denied  # members do not see the board

    assert await kernel.run_due() == 0          # the reminder waits until 15 minutes before the start
    clock.advance(minutes=106)
    assert await kernel.run_due() == 1
    assert await kernel.run_due() == 0          # once
    async with kernel.db.read() as session:
        rows = (await session.scalars(select(EventRow).where(EventRow.name == "live_room.reservation_reminder"))).all()
    assert sorted(row.payload["memberId"] for row in rows) == [1, 3, 4, 5]

    await admin.mutate(control("startLiveRoom"), room=room)
    refused = await members[1].mutate(RESERVE, room=room)
    assert [(e["code"], e["details"]) for e in refused["userErrors"]] == [("LIVE_ROOM_NOT_RESERVABLE", {"status": "live"})]


SET_QUOTA = """mutation($room: ID!, $item: LiveRoomShelfItemInput!) { setLiveRoomShelfItem(input: {roomId: $room, item: $item}) {
  room { shelf { liveStock perMemberLimit } } userErrors { code field } } }"""
CANCEL_ORDER = """mutation($id: ID!) { cancelOrder(input: {orderId: $id}) { order { status } userErrors { code } } }"""


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_live_only_stock_and_the_per_member_limit_hold_under_racing_orders(kernel_factory, graphql, clock, database):
    kernel = await kernel_factory(JOINED_ONLY, database=database)
    shop = await open_shop(kernel, members=13, stock=100, price=PRICE)
    admin = graphql(kernel, staff(1, "admin"))
    room = (await admin.mutate(CREATE, input=room_input(clock, shop, prices={shop.sku_id: LIVE})))["room"]["id"]
    quota = await admin.mutate(SET_QUOTA, room=room, item={"productId": to_global_id("Product", shop.product_id),
                                                          "liveStock": 5, "perMemberLimit": 2})
    assert quota["userErrors"] == [] and quota["room"]["shelf"] == [{"liveStock": 5, "perMemberLimit": 2}]
    await admin.mutate(control("startLiveRoom"), room=room)
    buyers = [graphql(kernel, member(i)) for i in range(1, 13)]
    for buyer in buyers:
        await buyer.mutate(JOIN, room=room)

    # One member taps "buy" six times at once: the limit lets two through.
    greedy = await asyncio.gather(*(buyers[0].mutate(ORDER, room=room, sku=shop.sku, qty=1) for _ in range(6)))
    assert sorted(e["code"] for g in greedy for e in g["userErrors"]) == ["LIVE_ROOM_LIMIT_REACHED"] * 4
    # Eleven others race for the three units left at the live price.
    rush = await asyncio.gather(*(b.mutate(ORDER, room=room, sku=shop.sku, qty=1) for b in buyers[1:]))
    won = [r for r in rush if not r["userErrors"]]
    assert len(won) == 3 and all(r["order"]["total"]["amountMinor"] == LIVE for r in won)
    assert {e["code"] for r in rush for e in r["userErrors"]} == {"LIVE_ROOM_LIVE_STOCK_SOLD_OUT"}
    left = await admin.mutate(SET_QUOTA, room=room, item={"productId": to_global_id("Product", shop.product_id)})
    assert left["room"]["shelf"] == [{"liveStock": 0, "perMemberLimit": 2}]  # left out: unchanged
    # A cancelled order gives its unit back to the live stock (and to the member's limit).
    kept = next(g for g in greedy if not g["userErrors"])
    assert (await buyers[0].mutate(CANCEL_ORDER, id=kept["order"]["id"]))["order"]["status"] == "CANCELLED"
    assert (await buyers[0].mutate(ORDER, room=room, sku=shop.sku, qty=1))["order"]["total"]["amountMinor"] == LIVE
