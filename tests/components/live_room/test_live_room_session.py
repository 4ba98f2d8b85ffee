"""A whole live session through GraphQL: staff schedules a room with three products, the host
starts it, 20 viewers subscribe over websockets, join, comment and like, the host presents a
product, 5 viewers buy at the live price from the room, the host ends it — the results are
exact and an order placed after the end pays the normal price."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from conftest import open_shop
from live_room_helpers import (
    BLUEPRINT,
    CNY,
    COMMENT,
    CREATE,
    EVENTS,
    JOIN,
    LIKE,
    ORDER,
    PLAIN_ORDER,
    PRESENT,
    RESULTS,
    control,
    pay,
    room_input,
)
from sqlalchemy import select

from components.catalog.models import Sku
from components.live_room.models import RoomOrder
from core.gql.relay import to_global_id
from core.testing import GraphQLWebSocket, member, serve_kernel, staff


async def until(stream, kind: str) -> dict:
    """The next event of ``kind`` on a subscription (earlier events are checked by the caller's
    final state, which every event carries)."""
    while True:
        event = (await asyncio.wait_for(stream.__anext__(), 10))["liveRoomEvents"]
        if event["kind"] == kind:
            return event

VIEWERS = 20
BUYERS = 5
PRICE, LIVE_PRICE = 10000, 8000


async def setup_room(kernel_factory, graphql, clock, *, database="sqlite"):
    kernel = await kernel_factory(BLUEPRINT, database=database)
    shop = await open_shop(kernel, members=VIEWERS + 2, stock=100, price=PRICE)
    async with kernel.transaction() as tx:
        host = await kernel.service("members").create_staff(tx, name="Host Mia", roles=("live_host",))
        other_host = await kernel.service("members").create_staff(tx, name="Host Leo", roles=("live_host",))
        extra = [await kernel.service("catalog").create_product(tx, title=f"Snack {i}", skus=[{"title": "box", "price_minor": 3000}])
                 for i in range(2)]
    async with kernel.db.read() as session:
        extra_skus = {p: (await session.scalars(select(Sku.id).where(Sku.product_id == p))).one() for p in extra}
    fields = room_input(clock, shop, prices={shop.sku_id: LIVE_PRICE}, hostId=to_global_id("Staff", host))
    fields["shelf"] += [{"productId": to_global_id("Product", p), "livePrices": [{"skuId": to_global_id("Sku", s), "price": CNY(2500)}]}
                        for p, s in extra_skus.items()]
    created = await graphql(kernel, staff(1, "admin")).mutate(CREATE, input=fields)
    assert created["userErrors"] == [], created
    return kernel, shop, created["room"], host, other_host


async def test_a_whole_session_through_graphql(kernel_factory, graphql, clock):
    kernel, shop, room, host_id, other_host_id = await setup_room(kernel_factory, graphql, clock)
    room_id = room["id"]
    assert room["status"] == "SCHEDULED" and len(room["shelf"]) == 3 and room["hostName"] == "Host Mia"
    host = graphql(kernel, staff(host_id, "live_host"))

    # Only the room's host (or a manager) may start it.
    refused = await graphql(kernel, staff(other_host_id, "live_host")).mutate(control("startLiveRoom"), room=room_id)
    assert [e["code"] for e in refused["userErrors"]] == ["LIVE_ROOM_NOT_HOST"]
    started = await host.mutate(control("startLiveRoom"), room=room_id)
    assert started["room"]["status"] == "LIVE", started

    viewers = [graphql(kernel, member(i)) for i in range(1, VIEWERS + 1)]
    async with serve_kernel(kernel) as url, contextlib.AsyncExitStack() as stack:
        sockets = [await stack.enter_async_context(GraphQLWebSocket.connect(url, kernel.issue_token(member(i))))
                   for i in range(1, VIEWERS + 1)]
        streams = [socket.subscribe(EVENTS, {"room": room_id}) for socket in sockets]
        for stream in streams:
            snapshot = await until(stream, "SNAPSHOT")
            assert snapshot["status"] == "LIVE"

        joined = await asyncio.gather(*(v.mutate(JOIN, room=room_id) for v in viewers))
        assert all(j["userErrors"] == [] for j in joined)
        assert max(j["viewerCount"] for j in joined) == VIEWERS
        comments = await asyncio.gather(*(v.mutate(COMMENT, room=room_id, text=f"hello from {i + 1}") for i, v in enumerate(viewers)))
        assert all(c["userErrors"] == [] for c in comments), comments
        taps = [(i % 5) + 1 for i in range(VIEWERS)]
        likes = await asyncio.gather(*(v.mutate(LIKE, room=room_id, taps=t) for v, t in zip(viewers, taps)))
        assert all(like["userErrors"] == [] for like in likes)
        product_id = to_global_id("Product", shop.product_id)
        presented = await host.mutate(PRESENT, room=room_id, product=product_id)
        assert presented["userErrors"] == [] and presented["room"]["presentedProduct"]["id"] == product_id

        # Every subscriber saw every viewer arrive, all 20 comments, the likes and the presented product.
        for stream in streams:
            seen = await until(stream, "PRESENTING")
            assert seen["presentedProduct"]["id"] == product_id
            assert seen["viewerCount"] == VIEWERS and seen["peakViewers"] == VIEWERS
            assert seen["commentCount"] == VIEWERS and seen["likeCount"] == sum(taps)

        buyers = viewers[:BUYERS]
        orders = await asyncio.gather(*(b.mutate(ORDER, room=room_id, sku=shop.sku, qty=1) for b in buyers))
        for order in orders:
            assert order["userErrors"] == [], order
            assert order["order"]["total"]["amountMinor"] == LIVE_PRICE
            assert order["order"]["lines"][0]["adjustments"][0]["component"] == "live_room"
            assert order["order"]["source"]["liveRoomId"] == room_id
        statuses = [await pay(b, o["order"]["id"]) for b, o in zip(buyers, orders)]
        assert statuses == ["PAID"] * BUYERS

        ended = await host.mutate(control("endLiveRoom"), room=room_id)
        assert ended["room"]["status"] == "ENDED"
        for stream in streams:
            assert (await until(stream, "STATUS"))["status"] == "ENDED"
            with pytest.raises(StopAsyncIteration):  # the server completes the stream after the end
                await asyncio.wait_for(stream.__anext__(), 10)

    results = (await host.data(RESULTS, room=room_id))["liveRoom"]["results"]
    assert results == {
        "uniqueViewers": VIEWERS, "peakViewers": VIEWERS, "comments": VIEWERS, "likes": sum(taps), "orders": BUYERS,
        "paidOrders": BUYERS, "payingMembers": BUYERS, "gmv": {"amountMinor": BUYERS * LIVE_PRICE}, "refunded": {"amountMinor": 0},
        "averageOrderValue": {"amountMinor": LIVE_PRICE}, "conversionRate": BUYERS / VIEWERS,
        "ordersAfterSession": 0, "gmvAfterSession": {"amountMinor": 0},
    }

    # After the end: the room's buy button refuses the live price it showed, and an order
    # from the room page (replay) pays the normal price — attributed, but not to the session.
    late = viewers[10]
    refused = await late.mutate(ORDER, room=room_id, sku=shop.sku, qty=1)
    assert [e["code"] for e in refused["userErrors"]] == ["LIVE_ROOM_NOT_LIVE"] and refused["order"] is None
    normal = await late.mutate(ORDER, room=room_id, sku=shop.sku, qty=1, expect=False)
    assert normal["order"]["total"]["amountMinor"] == PRICE and normal["order"]["lines"][0]["adjustments"] == []
    via_plain = await late.mutate(PLAIN_ORDER, sku=shop.sku, room=room_id)
    assert via_plain["order"]["total"]["amountMinor"] == PRICE
    await pay(late, normal["order"]["id"])
    after = (await host.data(RESULTS, room=room_id))["liveRoom"]["results"]
    assert after["orders"] == BUYERS and after["gmv"]["amountMinor"] == BUYERS * LIVE_PRICE
    assert after["ordersAfterSession"] == 2 and after["gmvAfterSession"]["amountMinor"] == PRICE
    async with kernel.db.read() as session:
        rows = (await session.scalars(select(RoomOrder))).all()
    assert sorted((r.in_session, r.live_priced) for r in rows) == [(False, False)] * 2 + [(True, True)] * BUYERS

    # Results are for the room's host and managers only.
    hidden = await graphql(kernel, member(1)).execute(RESULTS, room=room_id)
    assert hidden["errors"][0]["extensions"]["code"] == "KERNEL_FORBIDDEN"
    other = await graphql(kernel, staff(other_host_id, "live_host")).execute(RESULTS, room=room_id)
    assert other["errors"][0]["extensions"]["code"] == "KERNEL_FORBIDDEN"


async def test_refunds_and_cancellations_show_in_the_results(kernel_factory, graphql, clock):
    kernel, shop, room, host_id, _ = await setup_room(kernel_factory, graphql, clock)
    room_id = room["id"]
    host = graphql(kernel, staff(host_id, "live_host"))
    await host.mutate(control("startLiveRoom"), room=room_id)
    buyers = [graphql(kernel, member(i)) for i in (1, 2, 3)]
    for b in buyers:
        await b.mutate(JOIN, room=room_id)
    orders = [(await b.mutate(ORDER, room=room_id, sku=shop.sku, qty=2))["order"]["id"] for b in buyers]
    await pay(buyers[0], orders[0])
    await pay(buyers[1], orders[1])
    cancel = "mutation($id: ID!) { cancelOrder(input: {orderId: $id}) { userErrors { code } } }"
    assert (await buyers[2].mutate(cancel, id=orders[2]))["userErrors"] == []
    refund = """mutation($id: ID!) { refundOrder(input: {orderId: $id, lines: [{lineId: $line, quantity: 1}]}) {
      order { refunded { amountMinor } } userErrors { code } } }"""
    line = (await buyers[0].data("query($id: ID!) { order(id: $id) { lines { id } } }", id=orders[0]))["order"]["lines"][0]["id"]
    refunded = await graphql(kernel, staff(1, "admin")).mutate(refund.replace("$id: ID!", "$id: ID!, $line: ID!"), id=orders[0], line=line)
    assert refunded["userErrors"] == [] and refunded["order"]["refunded"]["amountMinor"] == LIVE_PRICE
    results = (await host.data(RESULTS, room=room_id))["liveRoom"]["results"]
    assert results == {**results, "uniqueViewers": 3, "orders": 3, "paidOrders": 2, "payingMembers": 2,
                       "gmv": {"amountMinor": 4 * LIVE_PRICE}, "refunded": {"amountMinor": LIVE_PRICE},
                       "averageOrderValue": {"amountMinor": 2 * LIVE_PRICE}, "conversionRate": round(2 / 3, 4)}
