"""The schema a frontend reads (issue 18): member-only and staff-only root fields null out with an
error at their path instead of blanking the page, and connections page from the end too."""

from __future__ import annotations

from distribution_helpers import admin, promote, start

from core.testing import member

MEMBER_PAGE = """{ myCustomers { nodes { memberId } } myCommissions { nodes { id } } myCommissionLedger { nodes { id } }
  myWithdrawals { nodes { id } } promoterLeaderboard { rank } }"""
STAFF_PAGE = "{ promoters { nodes { id } } promoterWithdrawals { nodes { id } } commissionRules { nodes { id } } distributionReport { activePromoters } }"
PROMOTERS = """query($l: Int, $b: String) { promoters(last: $l, before: $b) { edges { cursor node { memberId } }
  pageInfo { hasPreviousPage hasNextPage } } }"""


async def test_refusals_null_one_field_each_and_promoters_page_from_the_end(kernel_factory, graphql):
    kernel, _ = await start(kernel_factory)
    visitor = await graphql(kernel).execute(MEMBER_PAGE)
    assert visitor["data"] == {name: None for name in
                               ("myCustomers", "myCommissions", "myCommissionLedger", "myWithdrawals", "promoterLeaderboard")}
    assert {e["path"][0] for e in visitor["errors"]} == set(visitor["data"])
    assert {e["extensions"]["code"] for e in visitor["errors"]} == {"KERNEL_UNAUTHENTICATED"}
    as_member = await graphql(kernel, member(1)).execute(STAFF_PAGE)
    assert as_member["data"] == {"promoters": None, "promoterWithdrawals": None, "commissionRules": None, "distributionReport": None}
    assert {e["extensions"]["code"] for e in as_member["errors"]} == {"KERNEL_FORBIDDEN"}

    await promote(kernel, 1, 2, 3)
    staff = admin(graphql, kernel)
    newest_first = [n["memberId"] for n in (await staff.data("{ promoters { nodes { memberId } } }"))["promoters"]["nodes"]]
    assert len(newest_first) == 3
    tail = (await staff.data(PROMOTERS, l=2))["promoters"]
    assert [e["node"]["memberId"] for e in tail["edges"]] == newest_first[1:]
    assert tail["pageInfo"] == {"hasPreviousPage": True, "hasNextPage": False}
    head = (await staff.data(PROMOTERS, l=2, b=tail["edges"][0]["cursor"]))["promoters"]
    assert [e["node"]["memberId"] for e in head["edges"]] == newest_first[:1]
