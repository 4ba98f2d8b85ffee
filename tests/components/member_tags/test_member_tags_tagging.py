"""Staff tags members, typed errors change nothing, members and other staff see nothing,
channel tags follow registration; races on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
from conftest import hire, open_shop
from member_tags_helpers import BLUEPRINT, CREATE, DELETE, PROFILE, PROFILES, TAG, TAGS, UNTAG, admin, gid, paid_event

from core.testing import member

BOTH = pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)


async def test_staff_tag_members_and_list_them_by_tag(kernel_factory, graphql):
    kernel = await kernel_factory(BLUEPRINT)
    await open_shop(kernel, members=5)
    staff = graphql(kernel, admin())
    made = await staff.mutate(CREATE, name=" 茶友会 Tea club ")
    assert made["userErrors"] == [] and made["tag"]["name"] == "茶友会 Tea club" and made["tag"]["kind"] == "MANUAL"
    tag = made["tag"]["id"]
    tagged = await staff.mutate(TAG, tag=tag, members=[gid("Member", m) for m in (4, 2, 5, 2)])
    assert (tagged["changed"], tagged["tag"]["memberCount"], tagged["userErrors"]) == (3, 3, [])
    again = await staff.mutate(TAG, tag=tag, members=[gid("Member", 2), gid("Member", 1)])
    assert (again["changed"], again["tag"]["memberCount"]) == (1, 4)  # only member 1 is new

    page = (await staff.data(PROFILES, filter={"tagId": tag}, first=2))["memberProfiles"]
    assert [n["member"]["id"] for n in page["nodes"]] == [gid("Member", 1), gid("Member", 2)]
    rest = (await staff.data(PROFILES, filter={"tagId": tag}, first=2, after=page["pageInfo"]["endCursor"]))["memberProfiles"]
    assert [n["member"]["id"] for n in rest["nodes"]] == [gid("Member", 4), gid("Member", 5)]
    assert rest["pageInfo"]["hasNextPage"] is False
    backwards = "query($t: ID!, $b: String) { memberProfiles(filter: {tagId: $t}, last: 3, before: $b) { nodes { member { id } } } }"
    tail = (await staff.data(backwards, t=tag, b=rest["pageInfo"]["endCursor"]))["memberProfiles"]["nodes"]
    assert [n["member"]["id"] for n in tail] == [gid("Member", m) for m in (1, 2, 4)]
    # The staff-only lists null out for a member, each with its error; the page itself survives.
    refused = await graphql(kernel, member(1)).execute("{ memberProfiles { nodes { id } } memberTags(last: 1) { nodes { id } } }")
    assert refused["data"] == {"memberProfiles": None, "memberTags": None}
    assert sorted(e["path"][0] for e in refused["errors"]) == ["memberProfiles", "memberTags"]
    profile = (await staff.data(PROFILE, id=gid("Member", 4)))["memberProfile"]
    assert profile["tags"] == [{"name": "茶友会 Tea club", "kind": "MANUAL"}] and profile["stage"] == "PROSPECT"

    removed = await staff.mutate(UNTAG, tag=tag, members=[gid("Member", 4), gid("Member", 3)])
    assert (removed["changed"], removed["tag"]["memberCount"]) == (1, 3)
    gone = await staff.mutate(DELETE, tag=tag)
    assert gone == {"deletedTagId": tag, "userErrors": []}
    assert (await staff.data(PROFILE, id=gid("Member", 2)))["memberProfile"]["tags"] == []


async def test_bad_input_gets_a_typed_error_and_changes_nothing(kernel_factory, graphql, clock):
    kernel = await kernel_factory(BLUEPRINT)
    await open_shop(kernel, members=3)
    staff = graphql(kernel, admin())
    tag = (await staff.mutate(CREATE, name="vip"))["tag"]["id"]
    service = kernel.service("member_tags")
    for n in range(4):  # member 1 earns the rule tag
        await service.on_order_paid(kernel, paid_event(1, 70 + n, 100, clock.now()))
    rule_tag = next(t["id"] for t in (await staff.data(TAGS, kind="RULE"))["memberTags"]["nodes"] if t["name"].startswith("活跃"))

    async def code(query: str, **variables) -> tuple[str, str | None]:
        errors = (await staff.mutate(query, **variables))["userErrors"]
        assert len(errors) == 1, errors
        return errors[0]["code"], errors[0]["field"]

    assert await code(CREATE, name="vip") == ("MEMBER_TAGS_NAME_TAKEN", "input.name")
    assert await code(CREATE, name="   ") == ("MEMBER_TAGS_INVALID_NAME", "input.name")
    assert await code(CREATE, name="x" * 41) == ("MEMBER_TAGS_INVALID_NAME", "input.name")
    assert await code(TAG, tag=gid("MemberTag", 999), members=[gid("Member", 1)]) == ("MEMBER_TAGS_UNKNOWN_TAG", "input.tagId")
    assert await code(TAG, tag=gid("Member", 1), members=[gid("Member", 1)]) == ("KERNEL_INVALID_ID", "input.tagId")
    assert await code(TAG, tag=tag, members=[gid("Member", 1), gid("Member", 99)]) == ("MEMBER_TAGS_UNKNOWN_MEMBER", "input.memberIds[1]")
    assert await code(TAG, tag=tag, members=[gid("Member", 1), "nonsense"]) == ("KERNEL_INVALID_ID", "input.memberIds[1]")
    assert await code(TAG, tag=tag, members=[]) == ("MEMBER_TAGS_TOO_MANY_MEMBERS", "input.memberIds")
    assert (await code(TAG, tag=tag, members=[gid("Member", m) for m in range(1, 502)]))[0] == "MEMBER_TAGS_TOO_MANY_MEMBERS"
    assert await code(TAG, tag=rule_tag, members=[gid("Member", 2)]) == ("MEMBER_TAGS_NOT_MANUAL", "input.tagId")
    assert await code(UNTAG, tag=rule_tag, members=[gid("Member", 1)]) == ("MEMBER_TAGS_NOT_MANUAL", "input.tagId")
    assert await code(DELETE, tag=rule_tag) == ("MEMBER_TAGS_NOT_MANUAL", "input.tagId")
    counts = {t["name"]: t["memberCount"] for t in (await staff.data(TAGS))["memberTags"]["nodes"]}
    assert counts == {"vip": 0, "活跃复购 active repeat": 1, "big spender": 0}  # nothing above tagged or untagged anyone
    bad_filter = await staff.execute(PROFILES, filter={"tagId": "nonsense"})
    assert bad_filter["errors"][0]["extensions"]["code"] == "KERNEL_INVALID_ID"


async def test_members_and_other_staff_see_nothing(kernel_factory, graphql):
    kernel = await kernel_factory(BLUEPRINT)
    await open_shop(kernel, members=2)
    clerk = await hire(kernel, "store_clerk", stores=(1,))
    tag = (await graphql(kernel, admin()).mutate(CREATE, name="vip"))["tag"]["id"]
    for actor in (member(1), clerk, None):
        client = graphql(kernel, actor)
        for query, variables in ((PROFILE, {"id": gid("Member", 1)}), (PROFILES, {}), (TAGS, {})):
            body = await client.execute(query, variables)
            assert body["errors"][0]["extensions"]["code"] in ("KERNEL_FORBIDDEN", "KERNEL_UNAUTHENTICATED"), body
        refused = await client.mutate(TAG, tag=tag, members=[gid("Member", 1)])
        assert refused["userErrors"][0]["code"] in ("KERNEL_FORBIDDEN", "KERNEL_UNAUTHENTICATED")
        nodes = await client.data("query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
                                  ids=[gid("MemberProfile", 1), gid("MemberTag", 1)])
        assert nodes == {"nodes": [None, None]}  # exactly like ids that do not exist


async def test_channel_tags_name_the_channel_guide_and_store(kernel_factory, graphql):
    kernel = await kernel_factory(BLUEPRINT)
    async with kernel.transaction() as tx:
        members = kernel.service("members")
        await members.create_staff(tx, name="admin", roles=("admin",))  # staff 1, who reads the tags below
        guide = await members.create_staff(tx, name="周导购", roles=("guide",))
        await members.create_member(tx, phone="13900000001", source_channel="guide_share", source_guide_id=guide, source_store_id=7)
        await members.create_member(tx, phone="13900000002", source_channel="guide_share")
    staff = graphql(kernel, admin())
    first = (await staff.data(PROFILE, id=gid("Member", 1)))["memberProfile"]["tags"]
    assert first == [{"name": "导购 周导购", "kind": "CHANNEL"}, {"name": "渠道 guide_share", "kind": "CHANNEL"},
                     {"name": "门店 #7", "kind": "CHANNEL"}]
    counts = {t["name"]: t["memberCount"] for t in (await staff.data(TAGS, kind="CHANNEL"))["memberTags"]["nodes"]}
    assert counts == {"渠道 guide_share": 2, "导购 周导购": 1, "门店 #7": 1}


@BOTH
async def test_concurrent_events_and_staff_calls_lose_nothing(kernel_factory, graphql, clock, database):
    kernel = await kernel_factory(BLUEPRINT, database=database)
    await open_shop(kernel, members=3)
    service, staff = kernel.service("member_tags"), graphql(kernel, admin())
    amounts = [100 * (n + 1) for n in range(20)]
    # The outbox of several workers delivers twenty payments of one member at once.
    await asyncio.gather(*(service.on_order_paid(kernel, paid_event(2, 800 + n, a, clock.now())) for n, a in enumerate(amounts)))
    p = (await staff.data(PROFILE, id=gid("Member", 2)))["memberProfile"]
    assert (p["ordersCount"], p["paid"]["amountMinor"], p["stage"]) == (20, sum(amounts), "REPEAT")

    created = await asyncio.gather(*(staff.mutate(CREATE, name="rush") for _ in range(20)))
    assert sum(1 for c in created if c["tag"]) == 1
    assert {c["userErrors"][0]["code"] for c in created if not c["tag"]} == {"MEMBER_TAGS_NAME_TAKEN"}
    tag = next(c["tag"]["id"] for c in created if c["tag"])
    tagged = await asyncio.gather(*(staff.mutate(TAG, tag=tag, members=[gid("Member", m) for m in (1, 2, 3)]) for _ in range(20)))
    assert all(t["userErrors"] == [] for t in tagged)
    assert sum(t["changed"] for t in tagged) == 3  # each member gained it once, whoever won
    assert tagged[-1]["tag"]["memberCount"] == 3
