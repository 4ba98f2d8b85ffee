"""Subscription fan-out over real websockets (core.gql.fanout): subscribers with one viewer-
independent document and the same variables share one execution per event and receive what
the unshared path sends; other variables, and viewer-dependent documents, do not share; a
host-only field still differs per viewer."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from types import SimpleNamespace

import httpx
import pytest
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import Operation

import components.live_room.graphql_stream as live_stream
from core.app import create_app
from core.auth import Actor
from core.gql.fanout import FanOut, Group, Member, _write, hub_for
from core.gql.relay import to_global_id
from core.testing import GraphQLSubscriptionError, GraphQLWebSocket, serve_app, watch_subscription

BLUEPRINT = """\
dougong: 1
brand: {slug: fan, name: Fan, currency: CNY, timezone: Asia/Shanghai}
components:
  live_room: {comment_interval: 1s}
"""
PLAIN = "subscription($room: ID!) { liveRoomEvents(roomId: $room) { kind commentCount comment { text author } room { id commentCount } stream { seq } } }"
HOST_ONLY = "subscription($room: ID!) { liveRoomEvents(roomId: $room) { kind comment { text authorMemberId } } }"


async def live_rooms(kernel, count: int = 2, members: int = 4):
    async with kernel.transaction() as tx:
        people = kernel.service("members")
        ids = [await people.create_member(tx, phone=f"1370000{i:04d}", nickname=f"fan {i}") for i in range(members)]
        host_id = await people.create_staff(tx, name="Host", roles=("live_host",))
        host = Actor("staff", host_id, frozenset({"live_host"}))
        service = kernel.service("live_room")
        now = kernel.clock.now()
        rooms = []
        for n in range(count):
            room = await service.create_room(tx, host, title=f"Room {n}", host_staff_id=host_id, scheduled_start_at=now,
                                             scheduled_end_at=now + timedelta(hours=2))
            await service.start(tx, host, room)
            for member_id in ids:
                await service.join(tx, room, member_id)
            rooms.append(room)
    return rooms, ids, host


async def comment(kernel, room: int, member_id: int, text: str) -> None:
    async with kernel.transaction() as tx:
        await kernel.service("live_room").comment(tx, room, member_id, text)


async def take(stream, n: int) -> list:
    return [await asyncio.wait_for(anext(stream), 5) for _ in range(n)]


@pytest.fixture
def counted(monkeypatch):
    """How many times the live room's payload is built: once per event per execution."""
    calls = {"n": 0}
    real = live_stream.event_node

    def event_node(data):  # noqa: ANN001, ANN202
        calls["n"] += 1
        return real(data)

    monkeypatch.setattr(live_stream, "event_node", event_node)
    return calls


async def test_one_document_shares_one_execution_and_matches_the_unshared_path(kernel_factory, counted):
    kernel = await kernel_factory(BLUEPRINT)
    (room, other), members, host = await live_rooms(kernel)
    room_id, other_id = to_global_id("LiveRoom", room), to_global_id("LiveRoom", other)
    unshared, task = await watch_subscription(kernel, PLAIN, {"room": room_id})  # strawberry's own path, in process
    async with serve_app(create_app([kernel], run_worker=False)) as base:
        tokens = [kernel.issue_token(Actor("member", members[0])), kernel.issue_token(host), None]
        async with GraphQLWebSocket.connect(base + "/graphql", tokens[0]) as a, GraphQLWebSocket.connect(base + "/graphql", tokens[1]) as b, \
                GraphQLWebSocket.connect(base + "/graphql", tokens[2]) as c:
            streams = [a.subscribe(PLAIN, {"room": room_id}), b.subscribe(PLAIN, {"room": room_id}), c.subscribe(PLAIN, {"room": room_id})]
            elsewhere = a.subscribe(PLAIN, {"room": other_id})  # other variables: another group
            firsts = [await take(s, 1) for s in streams] + [await take(elsewhere, 1)]
            assert [f[0]["liveRoomEvents"]["kind"] for f in firsts] == ["SNAPSHOT"] * 4
            hub = hub_for(kernel)
            assert len(hub.groups) == 2  # a member, the host and an anonymous viewer: one group per room
            async with httpx.AsyncClient(base_url=base) as http:
                assert 'dougong_subscription_groups{brand="fan"} 2' in (await http.get("/metrics")).text
            built, executed = counted["n"], hub.executions

            for i in range(3):
                await comment(kernel, room, members[i + 1], f"hello {i}")
            await comment(kernel, other, members[0], "elsewhere")
            seen = [[p["liveRoomEvents"] for p in await take(s, 3)] for s in streams]
            there = (await take(elsewhere, 1))[0]["liveRoomEvents"]

            assert hub.executions - executed == 4  # three comments in one room, one in the other
            # The unshared in-process subscriber builds its own 4 payloads (1 per comment in its room
            # plus none for the other room); the three websockets together only 3, not 9, and 1 elsewhere.
            assert counted["n"] - built == 3 + 3 + 1
            assert seen[0] == seen[1] == seen[2]
            assert [e["comment"]["text"] for e in seen[0]] == ["hello 0", "hello 1", "hello 2"]
            assert [e["commentCount"] for e in seen[0]] == [1, 2, 3]
            assert there["comment"]["text"] == "elsewhere" and there["room"]["id"] == other_id
            assert unshared[1:] == seen[0]  # byte for byte what strawberry's per-subscriber path answers

            # The room ends: the shared stream's last event, then every member's operation completes.
            async with kernel.transaction() as tx:
                await kernel.service("live_room").end(tx, host, room)
            for s in streams:
                rest = [p["liveRoomEvents"]["kind"] async for p in s]
                assert rest == ["STATUS"]
            await asyncio.wait_for(task, 5)
            assert unshared[-1]["kind"] == "STATUS"
            await elsewhere.aclose()
    # Every subscriber left: the groups stopped (their leaders' broadcast subscriptions too).
    await asyncio.sleep(0.05)
    assert hub.groups == {}


async def test_a_host_only_field_is_not_shared_and_differs_per_viewer(kernel_factory, counted):
    kernel = await kernel_factory(BLUEPRINT)
    (room, _), members, host = await live_rooms(kernel)
    room_id = to_global_id("LiveRoom", room)
    async with serve_app(create_app([kernel], run_worker=False)) as base:
        async with GraphQLWebSocket.connect(base + "/graphql", kernel.issue_token(host)) as h, \
                GraphQLWebSocket.connect(base + "/graphql", kernel.issue_token(Actor("member", members[0]))) as v:
            as_host, as_viewer = h.subscribe(HOST_ONLY, {"room": room_id}), v.subscribe(HOST_ONLY, {"room": room_id})
            await take(as_host, 1)
            await take(as_viewer, 1)
            built = counted["n"]
            await comment(kernel, room, members[2], "who am I")
            host_saw, viewer_saw = (await take(as_host, 1))[0], (await take(as_viewer, 1))[0]
            assert hub_for(kernel).groups == {}  # viewer-dependent: each runs alone
            assert counted["n"] - built == 2
            assert host_saw["liveRoomEvents"]["comment"] == {"text": "who am I", "authorMemberId": to_global_id("Member", members[2])}
            assert viewer_saw["liveRoomEvents"]["comment"] == {"text": "who am I", "authorMemberId": None}
            await as_host.aclose()
            await as_viewer.aclose()


async def test_sharing_switched_off_runs_every_subscriber_alone(kernel_factory, counted, monkeypatch):
    monkeypatch.setenv("DOUGONG_WS_SHARED_FANOUT", "0")
    kernel = await kernel_factory(BLUEPRINT)
    (room, _), members, _host = await live_rooms(kernel)
    room_id = to_global_id("LiveRoom", room)
    async with serve_app(create_app([kernel], run_worker=False)) as base:
        async with GraphQLWebSocket.connect(base + "/graphql") as a, GraphQLWebSocket.connect(base + "/graphql") as b:
            one, two = a.subscribe(PLAIN, {"room": room_id}), b.subscribe(PLAIN, {"room": room_id})
            await take(one, 1)
            await take(two, 1)
            built = counted["n"]
            await comment(kernel, room, members[1], "each their own")
            assert (await take(one, 1)) == (await take(two, 1))
            assert counted["n"] - built == 2 and hub_for(kernel) is None
            await one.aclose()
            await two.aclose()


async def test_a_subscription_to_an_ended_room_takes_the_ordinary_path(kernel_factory):
    kernel = await kernel_factory(BLUEPRINT)
    (room, _), _members, host = await live_rooms(kernel)
    async with kernel.transaction() as tx:
        await kernel.service("live_room").end(tx, host, room)
    async with serve_app(create_app([kernel], run_worker=False)) as base:
        async with GraphQLWebSocket.connect(base + "/graphql") as ws:
            seen = [p async for p in ws.subscribe(PLAIN, {"room": to_global_id("LiveRoom", room)})]
            assert [p["liveRoomEvents"]["kind"] for p in seen] == ["SNAPSHOT"]  # then complete
            assert hub_for(kernel).groups == {}
            # A bad id: the leader's first result is an error, so the subscriber hears it on its own path.
            with pytest.raises(GraphQLSubscriptionError) as refused:
                async for _ in ws.subscribe(PLAIN, {"room": "not-an-id"}):
                    pass
            assert refused.value.errors[0]["extensions"]["code"] == "KERNEL_INVALID_ID"
            assert hub_for(kernel).groups == {}


class _Socket:
    def __init__(self, *, blocked: bool = False) -> None:
        self.sent: list[dict] = []
        self.gate = asyncio.Event()
        if not blocked:
            self.gate.set()

    async def send_text(self, text: str) -> None:
        await self.gate.wait()  # a client that does not read: the write waits for buffer space
        self.sent.append(json.loads(text))


class _Handler:
    def __init__(self, socket: _Socket) -> None:
        self.websocket = SimpleNamespace(ws=socket)
        self.operations: dict = {}

    def forget_id(self, operation_id: str) -> None:
        del self.operations[operation_id]

    async def send_message(self, message: dict) -> None:
        await self.websocket.ws.send_text(json.dumps(message))


async def test_a_slow_socket_blocks_nobody_and_its_operation_ends_with_a_stated_error():
    hub = FanOut(kernel=None, queue_limit=4)
    group = Group(hub, ("q", None, "{}"), "q", None, None)
    hub.groups[group.key] = group
    writers, sockets, members = [], [], []
    for name, blocked in (("fast", False), ("slow", True), ("also fast", False)):
        socket, handler = _Socket(blocked=blocked), None
        handler = _Handler(socket)
        operation = Operation(handler, name, "q", None, None)
        handler.operations[name] = operation
        member = Member(name, hub.queue_limit)
        group.join(member)
        writers.append(asyncio.create_task(_write(handler, operation, member)))
        sockets.append(socket)
        members.append(member)

    for n in range(10):
        group.deliver(json.dumps({"data": {"n": n}}))
        await asyncio.sleep(0)
    await asyncio.sleep(0.01)
    fast, slow, also_fast = sockets
    for socket, name in ((fast, "fast"), (also_fast, "also fast")):
        assert socket.sent == [{"id": name, "type": "next", "payload": {"data": {"n": n}}} for n in range(10)]
    assert slow.sent == []  # its first frame still waits on the socket
    assert list(group.members) == [members[0], members[2]]  # dropped once 4 frames waited behind it
    assert group.executions == 10 and not writers[1].done()

    slow.gate.set()  # the client reads again: what was in flight, then the error, then nothing
    await asyncio.wait_for(writers[1], 1)
    assert slow.sent[0] == {"id": "slow", "type": "next", "payload": {"data": {"n": 0}}}
    assert [m["type"] for m in slow.sent] == ["next", "error"]
    assert slow.sent[1]["payload"][0]["extensions"]["code"] == "KERNEL_SUBSCRIPTION_BEHIND"

    group.deliver(json.dumps({"data": {"n": 10}}))
    await asyncio.sleep(0.01)
    assert fast.sent[-1]["payload"] == {"data": {"n": 10}} and len(slow.sent) == 2
    for writer in writers:
        writer.cancel()


async def test_two_servers_sharing_through_redis_both_deliver(redis_url, tmp_path):
    """Two servers (two kernels, each with its own Redis connections and its own groups, as two
    worker processes have) on one database: a comment written through either reaches every
    subscriber of both. The bench runs the same across two real worker processes."""
    from core.kernel import Kernel

    blueprint = tmp_path / "fan.yaml"
    blueprint.write_text(BLUEPRINT)
    database = f"sqlite+aiosqlite:///{tmp_path / 'fan.sqlite'}"
    one = Kernel.from_file(blueprint, redis_url=redis_url, database_url=database)
    await one.start()
    two = Kernel.from_file(blueprint, redis_url=redis_url, database_url=database)
    await two.start()
    try:
        (room, _), members, _host = await live_rooms(one)
        room_id = to_global_id("LiveRoom", room)
        async with serve_app(create_app([one], run_worker=False)) as a, serve_app(create_app([two], run_worker=False)) as b:
            async with GraphQLWebSocket.connect(a + "/graphql") as a1, GraphQLWebSocket.connect(a + "/graphql") as a2, \
                    GraphQLWebSocket.connect(b + "/graphql") as b1, GraphQLWebSocket.connect(b + "/graphql") as b2:
                streams = [ws.subscribe(PLAIN, {"room": room_id}) for ws in (a1, a2, b1, b2)]
                for s in streams:
                    assert (await take(s, 1))[0]["liveRoomEvents"]["kind"] == "SNAPSHOT"
                await comment(two, room, members[0], "through two")
                await comment(one, room, members[1], "through one")
                seen = [[p["liveRoomEvents"]["comment"]["text"] for p in await take(s, 2)] for s in streams]
                assert sorted(seen[0]) == ["through one", "through two"] and all(x == seen[0] for x in seen)
                assert [len(k._fanout.groups) for k in (one, two)] == [1, 1]  # each server: one group, one execution
                assert one._fanout.executions == two._fanout.executions == 2
                for s in streams:
                    await s.aclose()
    finally:
        await two.stop()
        await one.stop()
