"""Who sees whom: a member sees themself (phone in full); other members are null through
node(id); staff with ``members.view`` list and search members with masked phones."""

from __future__ import annotations

from core.gql.relay import to_global_id
from core.testing import member, staff

DEMO = ("dougong: 1\nbrand: {slug: tea, name: Tea, currency: CNY, timezone: Asia/Shanghai}\n"
        "auth: {dev_sign_in: true}\ncomponents:\n  members: {}\n")
NODE = """query($id: ID!) { node(id: $id) { id ... on Member { nickname phone sourceChannel sourceStoreId
  sourceGuide { id name } createdAt } ... on Staff { name roles storeIds } } }"""
LIST = """query($first: Int, $after: String, $search: String) { members(first: $first, after: $after, search: $search) {
  edges { cursor node { id nickname phone } } pageInfo { hasNextPage endCursor } } }"""
ADMIN = staff(1, "admin")
CLERK = staff(2, "store_clerk", stores=(1,))


async def test_me_and_staff_me(kernel_factory, graphql):
    kernel = await kernel_factory(DEMO, seed_demo=True)
    query = "{ me { id nickname phone createdAt } staffMe { id name roles storeIds } }"
    own = await graphql(kernel, member(2)).data(query)
    assert own["me"] == {"id": to_global_id("Member", 2), "nickname": "阿杰 Ajie", "phone": "13800000002",
                         "createdAt": "2026-01-05T02:00:00+00:00"}
    assert own["staffMe"] is None
    assert await graphql(kernel).data(query) == {"me": None, "staffMe": None}
    clerk = await graphql(kernel, CLERK).data(query)
    assert clerk == {"me": None, "staffMe": {"id": to_global_id("Staff", 2), "name": "陈导购 Clerk Chen (store 1)",
                                             "roles": ["store_clerk"], "storeIds": [1]}}


async def test_a_member_sees_their_own_registration_source(kernel_factory, graphql):
    kernel = await kernel_factory(DEMO, seed_demo=True)
    own = (await graphql(kernel, member(3)).data(NODE, id=to_global_id("Member", 3)))["node"]
    assert own["phone"] == "13800000003"
    assert (own["sourceChannel"], own["sourceStoreId"]) == ("store", 1)
    assert own["sourceGuide"] is None  # staff are staff business: members never see employees


async def test_another_member_is_null_as_if_it_did_not_exist(kernel_factory, graphql):
    kernel = await kernel_factory(DEMO, seed_demo=True)
    other = to_global_id("Member", 2)
    assert (await graphql(kernel, member(1)).data(NODE, id=other))["node"] is None
    assert (await graphql(kernel).data(NODE, id=other))["node"] is None
    assert (await graphql(kernel, member(1)).data(NODE, id=to_global_id("Member", 999)))["node"] is None
    # Staff records are hidden from members too.
    assert (await graphql(kernel, member(1)).data(NODE, id=to_global_id("Staff", 1)))["node"] is None


async def test_staff_who_may_view_members_see_them_with_masked_phones(kernel_factory, graphql):
    kernel = await kernel_factory(DEMO, seed_demo=True)
    seen = (await graphql(kernel, ADMIN).data(NODE, id=to_global_id("Member", 3)))["node"]
    assert seen["phone"] == "138****0003"
    assert seen["sourceGuide"] == {"id": to_global_id("Staff", 2), "name": "陈导购 Clerk Chen (store 1)"}
    # A clerk lacks members.view (admin only): the member is hidden from them like from others.
    assert (await graphql(kernel, CLERK).data(NODE, id=to_global_id("Member", 3)))["node"] is None
    # Staff see each other.
    assert (await graphql(kernel, CLERK).data(NODE, id=to_global_id("Staff", 4)))["node"]["roles"] == ["live_host"]


async def test_listing_members_needs_members_view(kernel_factory, graphql):
    kernel = await kernel_factory(DEMO, seed_demo=True)
    for actor, code in [(None, "KERNEL_UNAUTHENTICATED"), (member(1), "KERNEL_FORBIDDEN"),
                        (CLERK, "KERNEL_FORBIDDEN"), (staff(4, "live_host"), "KERNEL_FORBIDDEN")]:
        body = await graphql(kernel, actor).execute(LIST)
        assert body["data"] == {"members": None}, actor  # nullable: a refusal nulls the field, not the page
        assert [(e["extensions"]["code"], e["path"]) for e in body["errors"]] == [(code, ["members"])], actor
        assert "13800000001" not in str(body)


async def test_staff_page_through_and_search_members(kernel_factory, graphql):
    kernel = await kernel_factory(DEMO, seed_demo=True)
    admin = graphql(kernel, ADMIN)
    first = (await admin.data(LIST, first=2))["members"]
    assert [e["node"]["id"] for e in first["edges"]] == [to_global_id("Member", i) for i in (1, 2)]
    assert first["edges"][0]["node"]["phone"] == "138****0001"
    assert first["pageInfo"]["hasNextPage"] is True
    rest = (await admin.data(LIST, first=10, after=first["pageInfo"]["endCursor"]))["members"]
    assert [e["node"]["id"] for e in rest["edges"]] == [to_global_id("Member", i) for i in (3, 4, 5)]
    assert rest["pageInfo"]["hasNextPage"] is False

    by_nickname = (await admin.data(LIST, search="小白"))["members"]["edges"]
    assert [e["node"]["nickname"] for e in by_nickname] == ["茶小白 Tea newbie"]
    by_phone = (await admin.data(LIST, search="138 0000 0005"))["members"]["edges"]
    assert [e["node"]["id"] for e in by_phone] == [to_global_id("Member", 5)]
    # Only the whole number finds a member: a part would peel a masked phone digit by digit.
    assert (await admin.data(LIST, search="0005"))["members"]["edges"] == []
    # Wildcards a clerk types are literal characters.
    assert (await admin.data(LIST, search="%"))["members"]["edges"] == []
    assert (await admin.data(LIST, search="_"))["members"]["edges"] == []


async def test_page_size_is_capped(kernel_factory, graphql):
    kernel = await kernel_factory(DEMO, seed_demo=True)
    body = await graphql(kernel, ADMIN).execute(LIST, first=101)
    # Refused, not silently honoured or truncated.
    assert [e["extensions"]["code"] for e in body["errors"]] == ["KERNEL_INVALID_INPUT"]
