"""The room's stream across two `dougong serve` processes through Redis: a viewer subscribed on
process A sees a comment sent to process B — and, without Redis, only the process that took
the comment hears it (in-process is the default)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from live_room_helpers import COMMENT, EVENTS, JOIN

from core.auth import Actor
from core.gql.relay import to_global_id
from core.kernel import Kernel
from core.testing import GraphQLWebSocket, serve_process

BLUEPRINT = """\
dougong: 1
brand: {slug: liveredis, name: Live across processes, currency: CNY, timezone: Asia/Shanghai}
storage: {database: "sqlite:///%s"}
components:
  live_room: {comment_interval: 1s}
"""


async def seed(blueprint):
    kernel = Kernel.from_file(blueprint, redis_url="")
    await kernel.start()
    async with kernel.transaction() as tx:
        for i in range(2):
            await kernel.service("members").create_member(tx, phone=f"1370000{i:04d}", nickname=f"viewer {i + 1}")
        host = await kernel.service("members").create_staff(tx, name="Host", roles=("live_host",))
        now = kernel.clock.now()
        service = kernel.service("live_room")
        room = await service.create_room(tx, Actor("staff", host, frozenset({"live_host"})), title="Across", host_staff_id=host,
                                         scheduled_start_at=now, scheduled_end_at=now + timedelta(hours=2))
        await service.start(tx, Actor("staff", host, frozenset({"live_host"})), room)
    tokens = [kernel.issue_token(Actor("member", i)) for i in (1, 2)]
    await kernel.stop()
    return to_global_id("LiveRoom", room), tokens


async def post(base, token, query, **variables):
    async with httpx.AsyncClient(base_url=base, headers={"authorization": f"Bearer {token}"}) as http:
        body = (await http.post("/graphql", json={"query": query, "variables": variables})).json()
    payload = next(iter(body["data"].values()))
    assert payload["userErrors"] == [], payload
    return payload


async def first_comment(updates, timeout):
    while True:
        event = (await asyncio.wait_for(updates.__anext__(), timeout))["liveRoomEvents"]
        if event["kind"] == "COMMENT":
            return event


@pytest.mark.parametrize("with_redis", [True, False], ids=["redis", "in-process"])
async def test_a_comment_sent_to_one_process_reaches_a_viewer_on_another(with_redis, request, tmp_path):
    env = {"REDIS_URL": request.getfixturevalue("redis_url")} if with_redis else {"REDIS_URL": ""}
    blueprint = tmp_path / "live.yaml"
    blueprint.write_text(BLUEPRINT % (tmp_path / "live.sqlite"))
    room, (alice, bob) = await seed(blueprint)
    async with serve_process(blueprint, env=env, log=tmp_path / "a.log") as a:
        async with serve_process(blueprint, env=env, log=tmp_path / "b.log") as b:
            async with GraphQLWebSocket.connect(a + "/graphql", alice) as on_a, GraphQLWebSocket.connect(b + "/graphql", bob) as on_b:
                from_a = on_a.subscribe(EVENTS, {"room": room})
                from_b = on_b.subscribe(EVENTS, {"room": room})
                for updates in (from_a, from_b):
                    assert (await asyncio.wait_for(updates.__anext__(), 10))["liveRoomEvents"]["kind"] == "SNAPSHOT"
                await post(b, bob, JOIN, room=room)
                await post(b, bob, COMMENT, room=room, text="hello from process B")
                # B's own subscriber always hears it.
                assert (await first_comment(from_b, 10))["comment"] == {"author": "viewer 2", "text": "hello from process B"}
                if with_redis:
                    seen = await first_comment(from_a, 10)
                    assert seen["comment"]["text"] == "hello from process B" and seen["commentCount"] == 1
                else:
                    with pytest.raises(asyncio.TimeoutError):
                        await first_comment(from_a, 1.5)
                await from_a.aclose()
                await from_b.aclose()
