"""liveRoomEvents carries the room node (its global id, counters, status) on every event and the
shelf on SHELF events, and completes when the room ends or is cancelled, and at once when the
room is already over."""

from __future__ import annotations

import asyncio

from conftest import open_shop
from live_room_helpers import BLUEPRINT, CREATE, JOIN, LIKE, SHELF, control, room_input

from components.live_room.models import Room
from components.live_room.states import room_message
from core.gql.relay import decode_id, to_global_id
from core.testing import member, staff, watch_subscription

STREAM = """subscription($room: ID!) { liveRoomEvents(roomId: $room) { kind roomId
  room { id status viewerCount likeCount commentCount title playUrl presentedProduct { id } }
  shelf { onShelf product { id } } } }"""


async def watch(kernel, room) -> tuple[list[dict], asyncio.Task]:
    return await watch_subscription(kernel, STREAM, {"room": room}, member(1))


async def setup(kernel_factory, graphql, clock):
    kernel = await kernel_factory(BLUEPRINT)
    shop = await open_shop(kernel, members=3, stock=10, price=10000)
    admin = graphql(kernel, staff(1, "admin"))
    created = await admin.mutate(CREATE, input=room_input(clock, shop))
    assert created["userErrors"] == [], created
    return kernel, shop, admin, created["room"]["id"]


async def test_payloads_carry_the_room_node_and_the_shelf_and_the_stream_ends_with_the_room(kernel_factory, graphql, clock):
    kernel, shop, admin, room = await setup(kernel_factory, graphql, clock)
    assert (await admin.mutate(control("startLiveRoom"), room=room))["userErrors"] == []
    seen, task = await watch(kernel, room)
    viewer = graphql(kernel, member(1))
    assert (await viewer.mutate(JOIN, room=room))["userErrors"] == []
    assert (await viewer.mutate(LIKE, room=room, taps=3))["userErrors"] == []
    product = to_global_id("Product", shop.product_id)
    assert (await admin.mutate(SHELF, room=room, item={"productId": product, "onShelf": False}))["userErrors"] == []
    assert (await admin.mutate(control("endLiveRoom"), room=room))["userErrors"] == []
    await asyncio.wait_for(task, 2)  # ENDED is terminal: the stream completed by itself

    assert {e["room"]["id"] for e in seen} == {room} and {e["roomId"] for e in seen} == {room}
    kinds = [e["kind"] for e in seen]
    assert kinds[0] == "SNAPSHOT" and kinds[-1] == "STATUS" and "SHELF" in kinds, kinds
    assert seen[0]["room"]["status"] == "LIVE" and seen[0]["room"]["title"] == "Tasting night"
    assert seen[0]["room"]["playUrl"] == "https://live.example.com/a.flv"
    assert seen[0]["shelf"] == [{"onShelf": True, "product": {"id": product}}]
    likes = next(e for e in seen if e["kind"] == "LIKES")
    assert likes["room"]["likeCount"] == 3 and likes["shelf"] is None  # a like costs no shelf read
    assert max(e["room"]["viewerCount"] for e in seen) == 1
    shelf = next(e for e in seen if e["kind"] == "SHELF")
    assert shelf["shelf"] == []  # a viewer sees only what is on the shelf: the product was taken off
    assert seen[-1]["room"]["status"] == "ENDED" and seen[-1]["room"]["playUrl"] is None
    queried = await viewer.data(
        "query($id: ID!) { liveRoom(id: $id) { id status viewerCount likeCount commentCount title playUrl presentedProduct { id } } }", id=room
    )
    assert queried["liveRoom"] == seen[-1]["room"]  # the payload's node is the node the query answers

    again, task = await watch(kernel, room)  # subscribing to an ended room: its state, then done
    await asyncio.wait_for(task, 2)
    assert [(e["kind"], e["room"]["id"], e["room"]["status"]) for e in again] == [("SNAPSHOT", room, "ENDED")]


async def test_cancelling_a_scheduled_room_completes_its_stream(kernel_factory, graphql, clock):
    kernel, shop, admin, room = await setup(kernel_factory, graphql, clock)
    seen, task = await watch(kernel, room)
    assert (await admin.mutate(control("cancelLiveRoom"), room=room))["userErrors"] == []
    await asyncio.wait_for(task, 2)
    assert [(e["kind"], e["room"]["id"], e["room"]["status"]) for e in seen] == [("SNAPSHOT", room, "SCHEDULED"), ("STATUS", room, "CANCELLED")]


async def test_the_push_url_is_never_on_the_channel_and_only_the_host_side_reads_it(kernel_factory, graphql, clock):
    kernel, shop, admin, room = await setup(kernel_factory, graphql, clock)
    document = "subscription($room: ID!) { liveRoomEvents(roomId: $room) { room { id pushUrl } } }"
    assert (await admin.mutate(control("cancelLiveRoom"), room=room))["userErrors"] == []
    for actor, expected in ((staff(1, "admin"), "rtmp://push.example.com/live/a"), (member(1), None)):
        seen, task = await watch_subscription(kernel, document, {"room": room}, actor)
        await asyncio.wait_for(task, 2)
        assert seen == [{"room": {"id": room, "pushUrl": expected}}]
    async with kernel.db.read() as session:  # what every publish sends: the room, but not its secret
        message = room_message(await session.get(Room, decode_id(room, "LiveRoom")), "status")
    assert "pushUrl" not in message and "rtmp://" not in repr(message)
