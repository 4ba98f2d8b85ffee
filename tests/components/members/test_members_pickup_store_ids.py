"""Store references in members are PickupStore global ids: Member.sourcePickupStoreId,
Staff.pickupStoreIds and the staff inputs' pickupStoreIds (storeIds still accepted, never both);
the staff-only lists are nullable, so a refusal nulls the field and not the page."""

from __future__ import annotations

from core.gql.relay import to_global_id
from core.testing import member, staff
from tests.components.store_pickup.store_pickup_helpers import boot

INVITE = """mutation($input: InviteStaffInput!) { inviteStaff(input: $input) {
  staff { id storeIds pickupStoreIds } userErrors { code field } } }"""
SET_ROLES = """mutation($input: SetStaffRolesInput!) { setStaffRoles(input: $input) {
  staff { id storeIds pickupStoreIds } userErrors { code field } } }"""
STAFF_PAGE = """query($last: Int, $before: String) { staffMembers(last: $last, before: $before) {
  edges { cursor node { id } } pageInfo { hasPreviousPage hasNextPage } } }"""


async def test_pickup_store_ids_in_and_out(kernel_factory, graphql):
    p = await boot(kernel_factory)
    admin = graphql(p.kernel, staff(1, "admin"))
    one, two = p.store_ids

    invited = await admin.mutate(INVITE, input={"name": "新店员", "roles": ["store_clerk"], "pickupStoreIds": [two, one]})
    assert invited["userErrors"] == []
    assert invited["staff"]["pickupStoreIds"] == [one, two] and invited["staff"]["storeIds"] == p.stores
    new = invited["staff"]["id"]
    moved = await admin.mutate(SET_ROLES, input={"staffId": new, "roles": ["store_clerk"], "storeIds": [two]})  # the older name
    assert (moved["userErrors"], moved["staff"]["pickupStoreIds"]) == ([], [two])

    refused = [
        (SET_ROLES, {"staffId": new, "roles": ["store_clerk"], "pickupStoreIds": [one], "storeIds": [one]},
         "KERNEL_INVALID_INPUT", "input.pickupStoreIds"),
        (SET_ROLES, {"staffId": new, "roles": ["store_clerk"], "pickupStoreIds": [to_global_id("PickupStore", 99)]},
         "MEMBERS_UNKNOWN_STORE", "input.pickupStoreIds"),
        (SET_ROLES, {"staffId": new, "roles": ["store_clerk"], "pickupStoreIds": [p.shop.sku]}, "KERNEL_INVALID_ID", "input.pickupStoreIds"),
        (SET_ROLES, {"staffId": new, "roles": ["store_clerk"], "pickupStoreIds": []}, "MEMBERS_INVALID_STORES", "input.pickupStoreIds"),
        (SET_ROLES, {"staffId": new, "roles": ["store_clerk"], "storeIds": []}, "MEMBERS_INVALID_STORES", "input.storeIds"),
        (INVITE, {"name": "x", "roles": ["store_clerk"], "pickupStoreIds": [one], "storeIds": [one]}, "KERNEL_INVALID_INPUT", "input.pickupStoreIds"),
    ]
    for query, payload, code, field in refused:
        assert (await admin.mutate(query, input=payload))["userErrors"] == [{"code": code, "field": field}], payload
    clerk = await admin.data("query($id: ID!) { node(id: $id) { ... on Staff { pickupStoreIds } } }", id=new)
    assert clerk["node"]["pickupStoreIds"] == [two]  # the refusals changed nothing

    async with p.kernel.transaction() as tx:
        walk_in = await p.kernel.service("members").create_member(tx, phone="13911112222", source_channel="store", source_store_id=p.stores[1])
    source = "query($id: ID!) { node(id: $id) { ... on Member { sourceStoreId sourcePickupStoreId } } }"
    seen = await graphql(p.kernel, member(walk_in)).data(source, id=to_global_id("Member", walk_in))
    assert seen["node"] == {"sourceStoreId": p.stores[1], "sourcePickupStoreId": two}
    assert (await graphql(p.kernel, member(1)).data("{ me { sourcePickupStoreId } }"))["me"] == {"sourcePickupStoreId": None}

    everyone = await admin.data("{ staffMembers(first: 100) { edges { cursor node { id } } } }")
    edges = everyone["staffMembers"]["edges"]
    tail = await admin.data(STAFF_PAGE, last=2)
    assert [e["node"]["id"] for e in tail["staffMembers"]["edges"]] == [e["node"]["id"] for e in edges[-2:]]
    assert tail["staffMembers"]["pageInfo"] == {"hasPreviousPage": True, "hasNextPage": False}
    before = await admin.data(STAFF_PAGE, last=1, before=edges[1]["cursor"])
    assert [e["node"]["id"] for e in before["staffMembers"]["edges"]] == [edges[0]["node"]["id"]]

    refused_page = await graphql(p.kernel, member(1)).execute('{ staffMembers { edges { cursor } } guideShareCode(staffId: "x") me { id } }')
    assert refused_page["data"] == {"staffMembers": None, "guideShareCode": None, "me": {"id": to_global_id("Member", 1)}}
    assert sorted(e["path"][0] for e in refused_page["errors"]) == ["guideShareCode", "staffMembers"]
