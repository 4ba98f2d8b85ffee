"""Racing viewers on SQLite and PostgreSQL: joins, leaves and a sweep never lose or double a
viewer; one member's burst of comments passes the rate limit once; orders racing the host's
"end" are either in the session at the live price or refused — never live-priced after it."""

from __future__ import annotations

import asyncio

import pytest
from conftest import open_shop
from live_room_helpers import BLUEPRINT, COMMENT, CREATE, JOIN, LEAVE, LIKE, ORDER, control, room_input
from sqlalchemy import func, select

from components.live_room.models import Comment, Room, RoomOrder, Viewer
from components.orders.models import Order
from core.testing import member, staff

BOTH = pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
LIVE_PRICE = 6000


async def running_room(kernel_factory, graphql, clock, database, members):
    kernel = await kernel_factory(BLUEPRINT, database=database)
    shop = await open_shop(kernel, members=members, stock=500, price=10000)
    async with kernel.transaction() as tx:
        host = await kernel.service("members").create_staff(tx, name="Host", roles=("live_host",))
    host_client = graphql(kernel, staff(host, "live_host"))
    room = (await host_client.mutate(CREATE, input=room_input(clock, shop, prices={shop.sku_id: LIVE_PRICE})))["room"]["id"]
    await host_client.mutate(control("startLiveRoom"), room=room)
    return kernel, shop, room, host_client


async def counts(kernel):
    async with kernel.db.read() as session:
        room = (await session.scalars(select(Room))).one()
        watching = await session.scalar(select(func.count()).select_from(Viewer).where(Viewer.watching.is_(True)))
        unique = await session.scalar(select(func.count()).select_from(Viewer))
    return room, watching, unique


@BOTH
async def test_racing_viewers_are_counted_exactly(kernel_factory, graphql, clock, database):
    kernel, shop, room, _ = await running_room(kernel_factory, graphql, clock, database, members=40)
    viewers = [graphql(kernel, member(i)) for i in range(1, 41)]
    # Everyone joins at once, half of them from two devices at the same instant.
    joins = [v.mutate(JOIN, room=room) for v in viewers] + [v.mutate(JOIN, room=room) for v in viewers[:20]]
    results = await asyncio.gather(*joins)
    assert all(r["userErrors"] == [] for r in results), [r for r in results if r["userErrors"]]
    row, watching, unique = await counts(kernel)
    assert (row.viewer_count, row.peak_viewers, watching, unique) == (40, 40, 40, 40)
    # Half leave (twice each) while the other half like at once.
    await asyncio.gather(*[v.mutate(LEAVE, room=room) for v in viewers[:20] * 2], *[v.mutate(LIKE, room=room, taps=3) for v in viewers[20:]])
    row, watching, unique = await counts(kernel)
    assert (row.viewer_count, row.peak_viewers, watching, unique, row.like_count) == (20, 40, 20, 40, 60)


@BOTH
async def test_a_burst_of_comments_from_one_member_passes_once(kernel_factory, graphql, clock, database):
    kernel, shop, room, _ = await running_room(kernel_factory, graphql, clock, database, members=2)
    alice = graphql(kernel, member(1))
    await alice.mutate(JOIN, room=room)
    burst = await asyncio.gather(*(alice.mutate(COMMENT, room=room, text=f"spam {i}") for i in range(15)))
    accepted = [b for b in burst if b["userErrors"] == []]
    refused = {e["code"] for b in burst for e in b["userErrors"]}
    assert len(accepted) == 1 and refused == {"LIVE_ROOM_COMMENT_TOO_FAST"}
    async with kernel.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Comment)) == 1
        assert await session.scalar(select(Room.comment_count)) == 1


@BOTH
async def test_orders_racing_the_end_never_get_the_live_price_after_it(kernel_factory, graphql, clock, database):
    kernel, shop, room, host = await running_room(kernel_factory, graphql, clock, database, members=30)
    buyers = [graphql(kernel, member(i)) for i in range(1, 31)]
    orders = [b.mutate(ORDER, room=room, sku=shop.sku, qty=1) for b in buyers]
    results = await asyncio.gather(*orders[:15], host.mutate(control("endLiveRoom"), room=room), *orders[15:])
    ended = results.pop(15)
    assert ended["userErrors"] == [] and ended["room"]["status"] == "ENDED"
    placed = [r for r in results if r["order"]]
    refused = [r for r in results if not r["order"]]
    assert all([e["code"] for e in r["userErrors"]] == ["LIVE_ROOM_NOT_LIVE"] for r in refused)
    assert all(r["order"]["total"]["amountMinor"] == LIVE_PRICE for r in placed)
    async with kernel.db.read() as session:
        rows = (await session.scalars(select(RoomOrder))).all()
        created = (await session.scalars(select(Order.id))).all()
    assert len(rows) == len(placed) == len(created) and len(placed) + len(refused) == 30
    assert all(r.in_session and r.live_priced for r in rows)
    assert await shop.available() == 500 - len(placed)


@BOTH
async def test_viewers_racing_the_host_get_answers_never_deadlocks(kernel_factory, graphql, clock, database):
    """Comments, likes, leaves and mutes racing the host's "end": every request gets a payload
    (done, or a typed refusal) — on PostgreSQL no pair of transactions takes the room and a
    viewer's row in opposite orders, so none is aborted as a deadlock."""
    from live_room_helpers import MUTE

    from core.gql.relay import to_global_id

    kernel, shop, room, host = await running_room(kernel_factory, graphql, clock, database, members=20)
    viewers = [graphql(kernel, member(i)) for i in range(1, 21)]
    await asyncio.gather(*(v.mutate(JOIN, room=room) for v in viewers))
    for _ in range(3):
        work = [v.execute(COMMENT, room=room, text="now!") for v in viewers[:8]]
        work += [v.execute(LIKE, room=room, taps=2) for v in viewers[8:14]]
        work += [host.execute(MUTE, room=room, member=to_global_id("Member", i), minutes=5) for i in range(14, 18)]
        work += [v.execute(LEAVE, room=room) for v in viewers[18:]]
        bodies = await asyncio.gather(*work)
        assert all(not b.get("errors") for b in bodies), [b["errors"] for b in bodies if b.get("errors")]
        clock.advance(seconds=5)
    bodies = await asyncio.gather(host.execute(control("endLiveRoom"), room=room),
                                  *(v.execute(COMMENT, room=room, text="bye") for v in viewers[:10]),
                                  *(v.execute(LEAVE, room=room) for v in viewers[10:]))
    assert all(not b.get("errors") for b in bodies), [b["errors"] for b in bodies if b.get("errors")]
    assert bodies[0]["data"]["endLiveRoom"]["room"]["status"] == "ENDED"
    room_row, _watching, unique = await counts(kernel)
    assert (room_row.status, room_row.viewer_count, unique) == ("ended", 0, 20)
    async with kernel.db.read() as session:
        said = await session.scalar(select(func.count()).select_from(Comment))
    assert said == room_row.comment_count >= 24  # 8 × 3 rounds, plus those that beat the end
