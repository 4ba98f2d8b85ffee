"""The room's timers: a room never started expires at its scheduled end; a room its host forgot
is ended a grace period after its scheduled end — both across a restart, exactly once; silent
viewers are swept out of the viewer count and a heartbeat brings them back."""

from __future__ import annotations

from conftest import open_shop
from live_room_helpers import BLUEPRINT, BLUEPRINT_SWEEPING, CREATE, HEARTBEAT, JOIN, LEAVE, control, room_input
from sqlalchemy import select

from components.live_room.models import Room, Viewer
from core.models import TimerRow
from core.testing import member, staff

ROOM = "query($id: ID!) { liveRoom(id: $id) { status viewerCount peakViewers endedAt } }"


async def boot(kernel_factory, graphql, clock, url, blueprint=BLUEPRINT):
    kernel = await kernel_factory(blueprint, database=url)
    shop = await open_shop(kernel, members=4, stock=5)
    async with kernel.transaction() as tx:
        host = await kernel.service("members").create_staff(tx, name="Host", roles=("live_host",))
    return kernel, shop, graphql(kernel, staff(host, "live_host"))


async def test_rooms_expire_or_end_by_timer_across_a_restart(kernel_factory, graphql, clock, tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'live.sqlite'}"
    kernel, shop, host = await boot(kernel_factory, graphql, clock, url)
    never = (await host.mutate(CREATE, input=room_input(clock, shop, starts_in=30, hours=1)))["room"]["id"]
    forgot = (await host.mutate(CREATE, input=room_input(clock, shop, starts_in=0, hours=1)))["room"]["id"]
    assert (await host.mutate(control("startLiveRoom"), room=forgot))["room"]["status"] == "LIVE"
    await kernel.stop()

    kernel = await kernel_factory(BLUEPRINT, database=url)
    viewer = graphql(kernel, member(1))
    clock.advance(minutes=89)
    assert await kernel.run_due() == 0
    clock.advance(minutes=2)  # past the first room's end (30 min + 1 h)
    assert await kernel.run_due() == 1
    assert (await viewer.data(ROOM, id=never))["liveRoom"]["status"] == "EXPIRED"
    assert (await viewer.data(ROOM, id=forgot))["liveRoom"]["status"] == "LIVE"  # the grace period (1 h) runs
    clock.advance(minutes=60)
    assert await kernel.run_due() == 1
    ended = (await viewer.data(ROOM, id=forgot))["liveRoom"]
    assert ended["status"] == "ENDED" and ended["endedAt"] is not None
    clock.advance(days=1)
    assert await kernel.run_due() == 0  # exactly once
    async with kernel.db.read() as session:
        states = sorted((await session.scalars(select(TimerRow.state).where(TimerRow.job == "live_room.overdue"))).all())
    assert states == ["done", "done"]
    # The host can no longer start the expired room.
    host = graphql(kernel, staff(2, "live_host"))
    assert [e["code"] for e in (await host.mutate(control("startLiveRoom"), room=never))["userErrors"]] == ["LIVE_ROOM_ILLEGAL_STATE"]


async def test_an_ended_room_cancels_its_timer(kernel_factory, graphql, clock):
    kernel, shop, host = await boot(kernel_factory, graphql, clock, "sqlite")
    room = (await host.mutate(CREATE, input=room_input(clock, shop, hours=1)))["room"]["id"]
    await host.mutate(control("startLiveRoom"), room=room)
    await host.mutate(control("endLiveRoom"), room=room)
    clock.advance(hours=5)
    assert await kernel.run_due() == 0
    cancelled = (await host.mutate(CREATE, input=room_input(clock, shop, starts_in=10, hours=1)))["room"]["id"]
    assert (await host.mutate(control("cancelLiveRoom"), room=cancelled))["room"]["status"] == "CANCELLED"
    clock.advance(hours=5)
    assert await kernel.run_due() == 0
    assert (await graphql(kernel).data(ROOM, id=cancelled))["liveRoom"]["status"] == "CANCELLED"


async def test_silent_viewers_are_swept_and_heartbeats_keep_them(kernel_factory, graphql, clock):
    kernel, shop, host = await boot(kernel_factory, graphql, clock, "sqlite", BLUEPRINT_SWEEPING % "30s")
    room = (await host.mutate(CREATE, input=room_input(clock, shop, hours=3)))["room"]["id"]
    await host.mutate(control("startLiveRoom"), room=room)
    alice, bob, carol = (graphql(kernel, member(i)) for i in (1, 2, 3))
    for viewer in (alice, bob, carol):
        await viewer.mutate(JOIN, room=room)
    assert (await alice.data(ROOM, id=room))["liveRoom"]["viewerCount"] == 3
    assert (await carol.mutate(LEAVE, room=room))["viewerCount"] == 2
    assert (await carol.mutate(LEAVE, room=room))["viewerCount"] == 2  # leaving twice counts once
    clock.advance(seconds=45)
    await alice.mutate(HEARTBEAT, room=room)
    clock.advance(seconds=45)  # bob silent 90 s, alice 45 s: only bob is swept
    assert await kernel.run_due() == 1  # the recurring sweep
    state = (await alice.data(ROOM, id=room))["liveRoom"]
    assert state["viewerCount"] == 1 and state["peakViewers"] == 3
    assert (await bob.mutate(HEARTBEAT, room=room))["viewerCount"] == 2  # bob is back
    assert (await bob.mutate(JOIN, room=room))["viewerCount"] == 2  # rejoining does not double count
    never_joined = await graphql(kernel, member(4)).mutate(HEARTBEAT, room=room)
    assert [e["code"] for e in never_joined["userErrors"]] == ["LIVE_ROOM_NOT_JOINED"]
    async with kernel.db.read() as session:
        watching = sorted((await session.scalars(select(Viewer.member_id).where(Viewer.watching.is_(True)))).all())
        assert await session.scalar(select(Room.viewer_count)) == len(watching)
