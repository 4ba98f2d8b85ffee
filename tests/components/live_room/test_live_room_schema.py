"""The live room's schema as a frontend reads it: a refused `results` nulls only itself, stores are
PickupStore global ids (the number kept as a deprecated alias), comments are nodes, and an
order links back to the room it was placed from."""

from __future__ import annotations

import asyncio

from conftest import open_shop
from live_room_helpers import BLUEPRINT, COMMENT, CREATE, JOIN, ORDER, PLAIN_ORDER, control, room_input

from core.gql.relay import from_global_id, to_global_id
from core.testing import member, staff

ROOM_RESULTS = """query($room: ID!) { liveRoom(id: $room) { id title results { likes orders } } }"""
ROOM_PAGE = """query($room: ID!) { liveRoom(id: $room) { title shelf { onShelf product { title } } recentComments { id } hostName
  results { likes } } }"""
STORES = """query($room: ID!) { liveRoom(id: $room) { pickupStoreId storeId } }"""
RESERVE = """mutation($input: ReserveLiveRoomInput!) { reserveLiveRoom(input: $input) { reserved userErrors { code field } } }"""
BOARD = """query($room: ID!) { liveRoomReservationBoard(roomId: $room) { total stores { pickupStoreId storeId reservations } } }"""
NODE = """query($id: ID!) { node(id: $id) { id ... on LiveRoomComment { text author createdAt } } }"""
ORDER_ROOM = """query($id: ID!) { order(id: $id) { id liveRoom { id title } } }"""
STORE = lambda n: to_global_id("PickupStore", n)  # noqa: E731


async def _room(kernel_factory, graphql, clock, **extra):
    kernel = await kernel_factory(BLUEPRINT)
    shop = await open_shop(kernel, members=3)
    admin = graphql(kernel, staff(1, "admin"))
    created = await admin.mutate(CREATE, input=room_input(clock, shop, **extra))
    return kernel, shop, admin, created


async def test_a_member_reading_results_gets_the_room_with_results_null_and_one_error_at_its_path(kernel_factory, graphql, clock):
    kernel, _shop, admin, created = await _room(kernel_factory, graphql, clock)
    room = created["room"]["id"]
    for actor, code in ((member(1), "KERNEL_FORBIDDEN"), (None, "KERNEL_UNAUTHENTICATED")):
        body = await graphql(kernel, actor).execute(ROOM_RESULTS, room=room)
        assert body["data"] == {"liveRoom": {"id": room, "title": "Tasting night", "results": None}}
        assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [(["liveRoom", "results"], code)]
    # The host still reads them.
    assert (await admin.data(ROOM_RESULTS, room=room))["liveRoom"]["results"] == {"likes": 0, "orders": 0}
    # A whole room page, results asked last after fields that read the database: the refusal
    # still nulls only `results` (the fast query path used to hang here; see graphql_types.allowed).
    page = await asyncio.wait_for(graphql(kernel, member(1)).execute(ROOM_PAGE, room=room), 20)
    assert page["data"]["liveRoom"]["shelf"][0]["product"]["title"] == "Longjing" and page["data"]["liveRoom"]["results"] is None
    assert [(e["path"], e["extensions"]["code"]) for e in page["errors"]] == [(["liveRoom", "results"], "KERNEL_FORBIDDEN")]


async def test_a_room_store_is_a_pickup_store_global_id_and_the_number_still_works(kernel_factory, graphql, clock):
    kernel, shop, admin, created = await _room(kernel_factory, graphql, clock, pickupStoreId=STORE(3))
    assert created["userErrors"] == []
    assert await admin.data(STORES, room=created["room"]["id"]) == {"liveRoom": {"pickupStoreId": STORE(3), "storeId": 3}}
    old = await admin.mutate(CREATE, input=room_input(clock, shop, storeId=4))
    assert await admin.data(STORES, room=old["room"]["id"]) == {"liveRoom": {"pickupStoreId": STORE(4), "storeId": 4}}
    # Both forms at once, a wrong type of id and garbage are typed refusals that write nothing.
    both = await admin.mutate(CREATE, input=room_input(clock, shop, pickupStoreId=STORE(3), storeId=3))
    assert [(e["code"], e["field"]) for e in both["userErrors"]] == [("KERNEL_INVALID_INPUT", "input.storeId")] and both["room"] is None
    for bad in (to_global_id("LiveRoom", 1), "not-an-id"):
        refused = await admin.mutate(CREATE, input=room_input(clock, shop, pickupStoreId=bad))
        assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [("KERNEL_INVALID_ID", "input.pickupStoreId")]
    rooms = await admin.data("{ liveRooms(first: 10) { nodes { id } } }")
    assert len(rooms["liveRooms"]["nodes"]) == 2


async def test_reservations_credit_a_pickup_store_id_and_the_board_answers_both_forms(kernel_factory, graphql, clock):
    kernel, _shop, admin, created = await _room(kernel_factory, graphql, clock, starts_in=60)
    room = created["room"]["id"]
    first = await graphql(kernel, member(1)).mutate(RESERVE, input={"roomId": room, "pickupStoreId": STORE(7)})
    second = await graphql(kernel, member(2)).mutate(RESERVE, input={"roomId": room, "storeId": 7})
    assert first == second == {"reserved": True, "userErrors": []}
    both = await graphql(kernel, member(3)).mutate(RESERVE, input={"roomId": room, "pickupStoreId": STORE(7), "storeId": 7})
    assert both == {"reserved": None, "userErrors": [{"code": "KERNEL_INVALID_INPUT", "field": "input.storeId"}]}
    board = await admin.data(BOARD, room=room)
    assert board["liveRoomReservationBoard"] == {"total": 2, "stores": [{"pickupStoreId": STORE(7), "storeId": 7, "reservations": 2}]}
    # A member asking for the staff board gets null at that field with a typed error, not a blank page.
    body = await graphql(kernel, member(1)).execute(BOARD, room=room)
    assert body["data"] == {"liveRoomReservationBoard": None}
    assert [e["extensions"]["code"] for e in body["errors"]] == ["KERNEL_FORBIDDEN"]


async def test_a_comment_is_a_node_with_a_global_id(kernel_factory, graphql, clock):
    kernel, _shop, admin, created = await _room(kernel_factory, graphql, clock)
    room = created["room"]["id"]
    await admin.mutate(control("startLiveRoom"), room=room)
    viewer = graphql(kernel, member(1))
    await viewer.mutate(JOIN, room=room)
    said = (await viewer.mutate(COMMENT, room=room, text="好茶"))["comment"]
    assert from_global_id(said["id"])[0] == "LiveRoomComment"
    node = (await graphql(kernel).data(NODE, id=said["id"]))["node"]
    assert node["id"] == said["id"] and node["text"] == "好茶" and node["author"] == said["author"]
    listed = await graphql(kernel).data("""query($room: ID!) { liveRoom(id: $room) { recentComments { id } } }""", room=room)
    assert listed["liveRoom"]["recentComments"] == [{"id": said["id"]}]


async def test_an_order_links_to_the_room_it_was_placed_from(kernel_factory, graphql, clock):
    kernel, shop, admin, created = await _room(kernel_factory, graphql, clock)
    room = created["room"]["id"]
    await admin.mutate(control("startLiveRoom"), room=room)
    buyer = graphql(kernel, member(1))
    await buyer.mutate(JOIN, room=room)
    from_room = (await buyer.mutate(ORDER, room=room, sku=shop.sku, qty=1, expect=False))["order"]["id"]
    plain = (await buyer.mutate(PLAIN_ORDER, sku=shop.sku, room=None))["order"]["id"]
    assert (await buyer.data(ORDER_ROOM, id=from_room))["order"]["liveRoom"] == {"id": room, "title": "Tasting night"}
    assert (await buyer.data(ORDER_ROOM, id=plain))["order"]["liveRoom"] is None
    # The deprecated store number and the new id together are refused before anything is ordered.
    both = await buyer.execute(
        """mutation($room: ID!, $sku: ID!) { createLiveRoomOrder(input: {roomId: $room, lines: [{skuId: $sku, quantity: 1}],
           pickupStoreId: "%s", storeId: 1}) { order { id } userErrors { code field } } }""" % STORE(1),
        room=room, sku=shop.sku,
    )
    assert both["data"]["createLiveRoomOrder"] == {"order": None, "userErrors": [{"code": "KERNEL_INVALID_INPUT", "field": "input.storeId"}]}
