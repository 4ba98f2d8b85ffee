"""Refusals with typed errors, each changing nothing: muted, comments off, over the rate limit,
too long, not joined, likes too fast, live price when the room is not live, a non-host running
the room, illegal transitions, bad shelves and bad ids."""

from __future__ import annotations

from datetime import timedelta

from conftest import open_shop
from live_room_helpers import (
    BLUEPRINT,
    CNY,
    COMMENT,
    CREATE,
    JOIN,
    LIKE,
    MUTE,
    MUTE_ALL,
    ORDER,
    PRESENT,
    SHELF,
    UPDATE,
    control,
    room_input,
)
from sqlalchemy import func, select

from components.live_room.models import Comment, Room, ShelfItem
from components.orders.models import Order
from core.gql.relay import to_global_id
from core.testing import member, staff

PRICE, LIVE_PRICE = 10000, 7000


async def live_room(kernel_factory, graphql, clock, *, start=True):
    kernel = await kernel_factory(BLUEPRINT)
    shop = await open_shop(kernel, members=4, stock=20, price=PRICE)
    async with kernel.transaction() as tx:
        host = await kernel.service("members").create_staff(tx, name="Host", roles=("live_host",))
    host_client = graphql(kernel, staff(host, "live_host"))
    created = await host_client.mutate(CREATE, input=room_input(clock, shop, prices={shop.sku_id: LIVE_PRICE}))
    assert created["userErrors"] == [], created
    room = created["room"]["id"]
    if start:
        assert (await host_client.mutate(control("startLiveRoom"), room=room))["userErrors"] == []
    return kernel, shop, room, host, host_client


def codes(payload):
    return [e["code"] for e in payload["userErrors"]]


async def comments(kernel):
    async with kernel.db.read() as session:
        return (await session.scalar(select(func.count()).select_from(Comment)),
                await session.scalar(select(Room.comment_count)))


async def test_comment_refusals_change_nothing(kernel_factory, graphql, clock):
    kernel, shop, room, host, host_client = await live_room(kernel_factory, graphql, clock)
    alice, bob = graphql(kernel, member(1)), graphql(kernel, member(2))
    assert codes(await alice.mutate(COMMENT, room=room, text="hi")) == ["LIVE_ROOM_NOT_JOINED"]
    for viewer in (alice, bob):
        assert codes(await viewer.mutate(JOIN, room=room)) == []

    assert codes(await alice.mutate(COMMENT, room=room, text="first")) == []
    too_fast = await alice.mutate(COMMENT, room=room, text="second")
    assert codes(too_fast) == ["LIVE_ROOM_COMMENT_TOO_FAST"] and too_fast["userErrors"][0]["details"]["retryAfterSeconds"] == 3
    clock.advance(seconds=3)
    long = await alice.mutate(COMMENT, room=room, text="x" * 41)
    assert codes(long) == ["LIVE_ROOM_COMMENT_TOO_LONG"] and long["userErrors"][0]["details"]["maxLength"] == 40
    assert codes(await alice.mutate(COMMENT, room=room, text="   ")) == ["LIVE_ROOM_COMMENT_INVALID"]
    assert codes(await alice.mutate(COMMENT, room=room, text="x" * 40)) == []  # the limit itself is allowed
    assert await comments(kernel) == (2, 2)

    # Muting one viewer; muting the room; switching comments off.
    bob_id = to_global_id("Member", 2)
    assert codes(await alice.mutate(MUTE, room=room, member=bob_id, minutes=10)) == ["KERNEL_FORBIDDEN"]
    assert codes(await host_client.mutate(MUTE, room=room, member=bob_id, minutes=10)) == []
    muted = await bob.mutate(COMMENT, room=room, text="let me talk")
    assert codes(muted) == ["LIVE_ROOM_MUTED"] and muted["userErrors"][0]["details"] == {"roomWide": False}
    clock.advance(minutes=11)
    assert codes(await bob.mutate(COMMENT, room=room, text="back")) == []
    assert codes(await host_client.mutate(MUTE, room=room, member=bob_id)) == []  # the rest of the session
    clock.advance(days=1)
    assert codes(await bob.mutate(COMMENT, room=room, text="still?")) == ["LIVE_ROOM_MUTED"]
    assert codes(await host_client.mutate(MUTE, room=room, member=bob_id, unmute=True)) == []
    assert codes(await host_client.mutate(MUTE, room=room, member=bob_id, minutes=0)) == ["KERNEL_INVALID_INPUT"]
    assert codes(await host_client.mutate(MUTE, room=room, member=to_global_id("Member", 4))) == ["LIVE_ROOM_NOT_JOINED"]

    assert (await host_client.mutate(MUTE_ALL, room=room, muted=True))["room"]["mutedAll"] is True
    room_wide = await alice.mutate(COMMENT, room=room, text="hello?")
    assert codes(room_wide) == ["LIVE_ROOM_MUTED"] and room_wide["userErrors"][0]["details"] == {"roomWide": True}
    await host_client.mutate(MUTE_ALL, room=room, muted=False)

    off = await host_client.mutate(UPDATE, input={"roomId": room, "commentsEnabled": False})
    assert off["userErrors"] == [] and off["room"]["commentsEnabled"] is False
    assert codes(await alice.mutate(COMMENT, room=room, text="anyone")) == ["LIVE_ROOM_COMMENTS_OFF"]
    assert await comments(kernel) == (3, 3)

    # Paused: no comments, no likes.
    await host_client.mutate(UPDATE, input={"roomId": room, "commentsEnabled": True})
    clock.advance(seconds=5)
    assert codes(await host_client.mutate(control("endLiveRoom"), room=room)) == []
    assert codes(await alice.mutate(COMMENT, room=room, text="over?")) == ["LIVE_ROOM_NOT_LIVE"]
    assert codes(await alice.mutate(LIKE, room=room, taps=1)) == ["LIVE_ROOM_NOT_LIVE"]
    assert codes(await graphql(kernel, member(3)).mutate(JOIN, room=room)) == ["LIVE_ROOM_CLOSED"]
    assert await comments(kernel) == (3, 3)


async def test_like_refusals(kernel_factory, graphql, clock):
    kernel, shop, room, host, host_client = await live_room(kernel_factory, graphql, clock)
    alice = graphql(kernel, member(1))
    assert codes(await alice.mutate(LIKE, room=room, taps=1)) == ["LIVE_ROOM_NOT_JOINED"]
    await alice.mutate(JOIN, room=room)
    for taps in (0, -1, 31, 10**6):
        assert codes(await alice.mutate(LIKE, room=room, taps=taps)) == ["LIVE_ROOM_INVALID_LIKE"]
    assert (await alice.mutate(LIKE, room=room, taps=30))["likeCount"] == 30
    assert codes(await alice.mutate(LIKE, room=room, taps=5)) == ["LIVE_ROOM_LIKE_TOO_FAST"]
    clock.advance(seconds=1)
    assert (await alice.mutate(LIKE, room=room, taps=5))["likeCount"] == 35
    await host_client.mutate(UPDATE, input={"roomId": room, "likesEnabled": False})
    clock.advance(seconds=1)
    assert codes(await alice.mutate(LIKE, room=room, taps=5)) == ["LIVE_ROOM_LIKES_OFF"]


async def test_live_price_only_while_live(kernel_factory, graphql, clock):
    kernel, shop, room, host, host_client = await live_room(kernel_factory, graphql, clock, start=False)
    alice = graphql(kernel, member(1))

    async def orders():
        async with kernel.db.read() as session:
            return await session.scalar(select(func.count()).select_from(Order))

    refused = await alice.mutate(ORDER, room=room, sku=shop.sku, qty=1)
    assert codes(refused) == ["LIVE_ROOM_NOT_LIVE"] and await orders() == 0 and await shop.available() == 20
    await host_client.mutate(control("startLiveRoom"), room=room)
    live = await alice.mutate(ORDER, room=room, sku=shop.sku, qty=2)
    assert live["order"]["total"]["amountMinor"] == 2 * LIVE_PRICE
    # A SKU without a live price pays its price, and is not refused.
    other = await alice.mutate(ORDER, room=room, sku=to_global_id("Sku", shop.second_sku_id), qty=1)
    assert other["userErrors"] == [] and other["order"]["total"]["amountMinor"] == 2 * PRICE
    await host_client.mutate(control("pauseLiveRoom"), room=room)
    assert codes(await alice.mutate(ORDER, room=room, sku=shop.sku, qty=1)) == ["LIVE_ROOM_NOT_LIVE"]
    await host_client.mutate(control("resumeLiveRoom"), room=room)
    # Off the shelf, the live price is gone too.
    off = await host_client.mutate(SHELF, room=room, item={"productId": to_global_id("Product", shop.product_id), "onShelf": False})
    assert off["userErrors"] == [] and off["room"]["shelf"][0]["onShelf"] is False
    assert (await alice.mutate(ORDER, room=room, sku=shop.sku, qty=1))["order"]["total"]["amountMinor"] == PRICE
    assert await orders() == 3 and await shop.available() == 17  # 2 + 1 of this SKU; one of the other
    # A room id that is no room: a typed error, nothing written.
    bad = await alice.mutate(ORDER, room=to_global_id("LiveRoom", 999), sku=shop.sku, qty=1)
    assert codes(bad) == ["KERNEL_NOT_FOUND"] and await orders() == 3
    garbage = await alice.mutate(ORDER, room="not-an-id", sku=shop.sku, qty=1)
    assert codes(garbage) == ["KERNEL_INVALID_ID"] and garbage["userErrors"][0]["field"] == "input.roomId"


async def test_who_runs_a_room_and_illegal_transitions(kernel_factory, graphql, clock):
    kernel, shop, room, host, host_client = await live_room(kernel_factory, graphql, clock, start=False)
    async with kernel.transaction() as tx:
        stranger = await kernel.service("members").create_staff(tx, name="Other host", roles=("live_host",))
        clerk_id = await kernel.service("members").create_staff(tx, name="Clerk", roles=("store_clerk",), store_ids=(1,))
    assert codes(await graphql(kernel, staff(stranger, "live_host")).mutate(control("startLiveRoom"), room=room)) == ["LIVE_ROOM_NOT_HOST"]
    assert codes(await graphql(kernel, member(1)).mutate(control("startLiveRoom"), room=room)) == ["KERNEL_FORBIDDEN"]
    assert codes(await graphql(kernel).mutate(control("startLiveRoom"), room=room)) == ["KERNEL_UNAUTHENTICATED"]
    clerk = graphql(kernel, staff(clerk_id, "store_clerk", stores=(1,)))
    assert codes(await clerk.mutate(control("startLiveRoom"), room=room)) == ["LIVE_ROOM_NOT_HOST"]
    assert codes(await host_client.mutate(control("endLiveRoom"), room=room)) == ["LIVE_ROOM_ILLEGAL_STATE"]
    assert codes(await host_client.mutate(control("resumeLiveRoom"), room=room)) == ["LIVE_ROOM_ILLEGAL_STATE"]
    assert codes(await host_client.mutate(PRESENT, room=room, product=to_global_id("Product", shop.product_id))) == ["LIVE_ROOM_NOT_LIVE"]
    # A manager may run anyone's room.
    assert codes(await graphql(kernel, staff(1, "admin")).mutate(control("startLiveRoom"), room=room)) == []
    assert codes(await host_client.mutate(control("startLiveRoom"), room=room)) == ["LIVE_ROOM_ILLEGAL_STATE"]
    assert codes(await host_client.mutate(PRESENT, room=room, product=to_global_id("Product", 999))) == ["LIVE_ROOM_NOT_ON_SHELF"]
    assert codes(await host_client.mutate(control("cancelLiveRoom"), room=room)) == ["LIVE_ROOM_ILLEGAL_STATE"]
    async with kernel.db.read() as session:
        assert await session.scalar(select(Room.status)) == "live"


async def test_bad_rooms_are_refused_and_create_nothing(kernel_factory, graphql, clock):
    kernel = await kernel_factory(BLUEPRINT)
    shop = await open_shop(kernel, members=1, stock=5, price=PRICE)
    admin = graphql(kernel, staff(1, "admin"))
    now = clock.now()
    product = to_global_id("Product", shop.product_id)
    bad = {
        "input.title": {"title": " "},
        "input.scheduledEndAt": {"scheduledEndAt": (now - timedelta(hours=1)).isoformat()},
        "input.hostId": {"hostId": to_global_id("Staff", 999)},
        "input.playUrl": {"playUrl": "javascript:alert(1)"},
        "input.shelf[0].livePrices[0].price": {"shelf": [{"productId": product, "livePrices": [
            {"skuId": shop.sku, "price": CNY(PRICE + 1)}]}]},
        "input.shelf[0].livePrices[0].skuId": {"shelf": [{"productId": product, "livePrices": [
            {"skuId": to_global_id("Sku", 999), "price": CNY(100)}]}]},
        "input.shelf[0].productId": {"shelf": [{"productId": to_global_id("Product", 999)}]},
    }
    for field, change in bad.items():
        payload = await admin.mutate(CREATE, input={**room_input(clock, shop), **change})
        assert payload["room"] is None and [e["field"] for e in payload["userErrors"]] == [field], (field, payload)
    wrong_currency = await admin.mutate(CREATE, input={**room_input(clock, shop), "shelf": [{"productId": product, "livePrices": [
        {"skuId": shop.sku, "price": {"amountMinor": 100, "currency": "USD"}}]}]})
    assert codes(wrong_currency) == ["KERNEL_INVALID_INPUT"]
    # A host schedules only their own rooms; a member none.
    async with kernel.transaction() as tx:
        host = await kernel.service("members").create_staff(tx, name="Host", roles=("live_host",))
    others = await graphql(kernel, staff(host, "live_host")).mutate(CREATE, input={**room_input(clock, shop), "hostId": to_global_id("Staff", 1)})
    assert codes(others) == ["KERNEL_FORBIDDEN"]
    assert codes(await graphql(kernel, member(1)).mutate(CREATE, input=room_input(clock, shop))) == ["KERNEL_FORBIDDEN"]
    async with kernel.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Room)) == 0
        assert await session.scalar(select(func.count()).select_from(ShelfItem)) == 0
