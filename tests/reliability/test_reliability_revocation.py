"""Revocation, one test per role: a change an admin makes takes effect on the very next request.

Each staff role (admin, store clerk, live host) signs in with a token that is still within its
lifetime; an admin then changes their roles, stores or active status through GraphQL, and the
same token — unchanged, unexpired — must act with the new rights at once: forbidden for a role
taken away, another store's pickups out of reach, and refused outright (401, ``STAFF_INACTIVE``)
once deactivated. Members cannot be deactivated; a token naming a member (or staff) who does not
exist in this database is refused (``TOKEN_UNKNOWN_SUBJECT``). Over websockets, a deactivated
host's open subscription ends, and a demoted host's stream loses what only hosts see.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from core.gql.relay import to_global_id as G
from core.testing import GraphQLWebSocket, WebSocketClosed, member, serve_kernel, staff

DEMO = (Path(__file__).resolve().parents[2] / "blueprints" / "demo.yaml").read_text(encoding="utf-8")
STORE_1, STORE_2 = G("PickupStore", 1), G("PickupStore", 2)

INVITE = """mutation($input: InviteStaffInput!) { inviteStaff(input: $input) {
  staff { id roles storeIds active } signInCode userErrors { code field } } }"""
SET_ROLES = """mutation($input: SetStaffRolesInput!) { setStaffRoles(input: $input) {
  staff { id roles storeIds active } userErrors { code field } } }"""
DEACTIVATE = "mutation($id: ID!) { deactivateStaff(input: {staffId: $id}) { staff { active } userErrors { code field } } }"
REACTIVATE = "mutation($id: ID!) { reactivateStaff(input: {staffId: $id}) { staff { active } userErrors { code field } } }"
SIGN_IN = """mutation($c: String!) { signIn(input: {provider: "staff_code", credential: $c}) {
  token staff { id roles } userErrors { code } } }"""
MEMBERS = "{ members(first: 1) { nodes { id } } }"
STORE_PICKUPS = "query($s: ID!) { storePickups(storeId: $s) { nodes { id } } }"
ROOM_STEP = "mutation($id: ID!) { %sLiveRoom(input: {roomId: $id}) { userErrors { code } } }"


def code_of(body: dict[str, Any]) -> str:
    return body["errors"][0]["extensions"]["code"]


def refused(body: dict[str, Any], reason: str) -> bool:
    return body.get("status") == 401 and body["errors"][0]["extensions"] == {"code": "KERNEL_UNAUTHENTICATED", "reason": reason}


def fixed_token(graphql, kernel, actor):  # noqa: ANN001, ANN201
    """A client holding one token for the whole test, as a frontend does between sign-ins."""
    client = graphql(kernel)
    client._token = kernel.issue_token(actor)
    return client


async def demo(kernel_factory, graphql):  # noqa: ANN001, ANN201
    kernel = await kernel_factory(DEMO, seed_demo=True)
    return kernel, graphql(kernel, staff(1, "admin"))


async def test_an_admin_demoted_or_deactivated_loses_their_rights_on_the_next_request(kernel_factory, graphql):
    kernel, boss = await demo(kernel_factory, graphql)
    invited = await boss.mutate(INVITE, input={"name": "Second admin", "roles": ["admin"]})
    assert invited["userErrors"] == [] and invited["staff"]["active"] is True
    signed = await graphql(kernel).mutate(SIGN_IN, c=invited["signInCode"])
    assert signed["userErrors"] == [] and signed["staff"]["roles"] == ["admin"]
    second = graphql(kernel)
    second._token = signed["token"]
    assert (await second.execute(MEMBERS)).get("errors") is None

    # The first admin demotes the second to live host: the same token, unexpired, is now forbidden.
    demoted = await boss.mutate(SET_ROLES, input={"staffId": invited["staff"]["id"], "roles": ["live_host"]})
    assert demoted["userErrors"] == [] and demoted["staff"]["roles"] == ["live_host"]
    assert code_of(await second.execute(MEMBERS)) == "KERNEL_FORBIDDEN"

    # Deactivated: refused outright, not even anonymous.
    assert (await boss.mutate(DEACTIVATE, id=invited["staff"]["id"]))["staff"] == {"active": False}
    assert refused(await second.execute("{ brand { slug } }"), "STAFF_INACTIVE")
    # Reactivated: the same token works again, with the rights the database now holds.
    assert (await boss.mutate(REACTIVATE, id=invited["staff"]["id"]))["staff"] == {"active": True}
    assert (await second.data("{ staffMe { roles active } }"))["staffMe"] == {"roles": ["live_host"], "active": True}

    # The brand keeps an admin: the last one can be neither demoted nor deactivated.
    for document, variables in ((DEACTIVATE, {"id": G("Staff", 1)}),
                                (SET_ROLES, {"input": {"staffId": G("Staff", 1), "roles": ["live_host"]}})):
        payload = await boss.mutate(document, variables)
        assert payload["userErrors"] == [{"code": "MEMBERS_LAST_ADMIN", "field": "input.staffId"}] and payload["staff"] is None
    assert (await boss.execute(MEMBERS)).get("errors") is None


async def test_a_store_clerk_moved_or_deactivated_loses_the_old_store_on_the_next_request(kernel_factory, graphql):
    kernel, boss = await demo(kernel_factory, graphql)
    clerk = fixed_token(graphql, kernel, staff(2, "store_clerk", stores=(1,)))
    assert (await clerk.execute(STORE_PICKUPS, s=STORE_1)).get("errors") is None

    moved = await boss.mutate(SET_ROLES, input={"staffId": G("Staff", 2), "roles": ["store_clerk"], "storeIds": [STORE_2]})
    assert moved["userErrors"] == [] and moved["staff"]["storeIds"] == [2]
    # The token still says store 1; the database says store 2, and the database wins.
    assert code_of(await clerk.execute(STORE_PICKUPS, s=STORE_1)) == "STORE_PICKUP_NOT_YOUR_STORE"
    assert (await clerk.execute(STORE_PICKUPS, s=STORE_2)).get("errors") is None

    # Stores are references to real pickup stores; a clerk needs one.
    for stores, code in (([G("PickupStore", 99)], "MEMBERS_UNKNOWN_STORE"), ([], "MEMBERS_INVALID_STORES"),
                         ([G("Product", 1)], "KERNEL_INVALID_ID")):
        payload = await boss.mutate(SET_ROLES, input={"staffId": G("Staff", 2), "roles": ["store_clerk"], "storeIds": stores})
        assert [e["code"] for e in payload["userErrors"]] == [code]
    assert (await clerk.execute(STORE_PICKUPS, s=STORE_2)).get("errors") is None  # the refusals changed nothing

    await boss.mutate(DEACTIVATE, id=G("Staff", 2))
    assert refused(await clerk.execute(STORE_PICKUPS, s=STORE_2), "STAFF_INACTIVE")


async def test_a_live_host_demoted_or_deactivated_cannot_run_the_room_on_the_next_request(kernel_factory, graphql):
    kernel, boss = await demo(kernel_factory, graphql)
    host = fixed_token(graphql, kernel, staff(4, "live_host"))
    room = G("LiveRoom", 1)
    assert (await host.mutate(ROOM_STEP % "start", id=room))["userErrors"] == []

    await boss.mutate(SET_ROLES, input={"staffId": G("Staff", 4), "roles": ["store_clerk"], "storeIds": [STORE_1]})
    assert [e["code"] for e in (await host.mutate(ROOM_STEP % "pause", id=room))["userErrors"]] in (
        ["KERNEL_FORBIDDEN"], ["LIVE_ROOM_NOT_HOST"])

    await boss.mutate(SET_ROLES, input={"staffId": G("Staff", 4), "roles": ["live_host"]})
    assert (await host.mutate(ROOM_STEP % "pause", id=room))["userErrors"] == []
    await boss.mutate(DEACTIVATE, id=G("Staff", 4))
    assert refused(await host.execute(ROOM_STEP % "resume", id=room), "STAFF_INACTIVE")
    still = await boss.data("query($id: ID!) { liveRoom(id: $id) { status } }", id=room)
    assert still["liveRoom"]["status"] == "PAUSED"


@pytest.mark.parametrize("actor", [member(99), staff(99, "admin")], ids=["member", "staff"])
async def test_tokens_for_people_who_do_not_exist_are_refused(kernel_factory, graphql, actor):
    kernel, _ = await demo(kernel_factory, graphql)
    body = await fixed_token(graphql, kernel, actor).execute("{ brand { slug } }")
    assert refused(body, "TOKEN_UNKNOWN_SUBJECT")


ROOM_EVENTS = "subscription($id: ID!) { liveRoomEvents(roomId: $id) { kind comment { text authorMemberId } } }"
COMMENT = """mutation($id: ID!, $t: String!) { sendLiveRoomComment(input: {roomId: $id, text: $t}) { userErrors { code } } }"""


async def next_comment(stream) -> dict[str, Any]:  # noqa: ANN001
    async for data in stream:
        if data["liveRoomEvents"]["kind"] == "COMMENT":
            return data["liveRoomEvents"]["comment"]
    raise AssertionError("the stream ended without a comment")


async def test_over_websockets_a_host_s_rights_follow_the_database_and_deactivation_ends_the_stream(kernel_factory, graphql, clock):
    kernel, boss = await demo(kernel_factory, graphql)
    room = G("LiveRoom", 1)
    host_token = kernel.issue_token(staff(4, "live_host"))
    a = graphql(kernel, member(1))
    assert (await fixed_token(graphql, kernel, staff(4, "live_host")).mutate(ROOM_STEP % "start", id=room))["userErrors"] == []
    assert (await a.mutate("mutation($id: ID!) { joinLiveRoom(input: {roomId: $id}) { userErrors { code } } }", id=room))["userErrors"] == []

    async with serve_kernel(kernel) as url:
        # The token in connection_init's payload, the way graphql-ws / Apollo / urql send it.
        async with GraphQLWebSocket.connect(url, init={"Authorization": f"Bearer {host_token}"}) as socket:
            stream = socket.subscribe(ROOM_EVENTS, {"id": room})
            waiting = asyncio.create_task(next_comment(stream))
            await asyncio.sleep(0.3)
            assert (await a.mutate(COMMENT, id=room, t="first"))["userErrors"] == []
            assert (await asyncio.wait_for(waiting, 10))["authorMemberId"] == G("Member", 1)  # hosts see who spoke

            # Demoted while connected: the next event already carries a clerk's view.
            await boss.mutate(SET_ROLES, input={"staffId": G("Staff", 4), "roles": ["store_clerk"], "storeIds": [STORE_1]})
            await asyncio.sleep(0.3)
            waiting = asyncio.create_task(next_comment(stream))
            await asyncio.sleep(0.1)
            clock.advance(minutes=1)  # past the room's comment rate limit
            assert (await a.mutate(COMMENT, id=room, t="second"))["userErrors"] == []
            seen = await asyncio.wait_for(waiting, 10)
            assert seen == {"text": "second", "authorMemberId": None}

            # Deactivated while subscribed: the socket closes (4401) and the subscription ends.
            waiting = asyncio.create_task(next_comment(stream))
            await asyncio.sleep(0.1)
            await boss.mutate(DEACTIVATE, id=G("Staff", 4))
            with pytest.raises(ConnectionError):
                await asyncio.wait_for(waiting, 10)
            assert socket.closed_code == 4401 and "STAFF_INACTIVE" in socket.closed_reason

        # And the deactivated host cannot connect again with the token.
        with pytest.raises(WebSocketClosed) as closed:
            async with GraphQLWebSocket.connect(url, init={"authorization": host_token}):
                pass
        assert closed.value.code == 4401 and "STAFF_INACTIVE" in closed.value.reason
