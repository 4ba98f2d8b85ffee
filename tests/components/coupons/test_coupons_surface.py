"""The schema a frontend reads (issue 18): couponsLeft beside the deprecated remaining, typed
sources and unusable reasons beside their old strings, paging both ways, and the member-only
wallet that nulls out with an error instead of blanking the page."""

from __future__ import annotations

from coupons_helpers import CNY, PUSH, admin_of, claim, gid, make_template, start

from core.testing import member

TEMPLATE = "query($id: ID!) { couponTemplate(id: $id) { couponsLeft remaining issued } }"
WALLET = """query($first: Int, $after: String, $last: Int, $before: String) {
  myCoupons(first: $first, after: $after, last: $last, before: $before) {
    edges { cursor node { issuedVia source template { title } } } pageInfo { hasNextPage hasPreviousPage } } }"""
PREVIEW = """query($input: CheckoutInput!) { previewCheckout(input: $input) {
  preview { coupons { usable unusableReason reason } } userErrors { code } } }"""


async def test_coupons_left_typed_source_and_reason_agree_with_their_deprecated_strings(kernel_factory, graphql):
    kernel, shop = await start(kernel_factory)
    admin, me = admin_of(graphql, kernel), graphql(kernel, member(1))
    limited = await make_template(admin, title="three", totalQuantity=3, threshold=CNY(10**7))
    pushed = await make_template(admin, title="pushed", channel="PUSH")
    unlimited = await make_template(admin, title="open")
    await claim(me, limited)
    assert (await admin.mutate(PUSH, t=pushed, m=[gid("Member", 1)]))["issued"] == 1
    await claim(me, unlimited)
    assert (await me.data(TEMPLATE, id=limited))["couponTemplate"] == {"couponsLeft": 2, "remaining": 2, "issued": 1}
    assert (await me.data(TEMPLATE, id=unlimited))["couponTemplate"]["couponsLeft"] is None

    newest = (await me.data(WALLET, first=2))["myCoupons"]
    assert [e["node"]["issuedVia"] for e in newest["edges"]] == ["CLAIM", "PUSH"]
    assert [e["node"]["source"] for e in newest["edges"]] == ["claim", "push"]
    assert newest["pageInfo"] == {"hasNextPage": True, "hasPreviousPage": False}
    oldest = (await me.data(WALLET, last=1))["myCoupons"]
    assert [e["node"]["template"]["title"] for e in oldest["edges"]] == ["three"]
    before = (await me.data(WALLET, last=5, before=oldest["edges"][0]["cursor"]))["myCoupons"]
    assert [e["node"]["template"]["title"] for e in before["edges"]] == ["open", "pushed"]

    preview = (await me.mutate(PREVIEW, input={"lines": [{"skuId": shop.sku, "quantity": 1}]}))["preview"]["coupons"]
    refused = [c for c in preview if not c["usable"]]
    assert refused == [{"usable": False, "unusableReason": "BELOW_THRESHOLD", "reason": "BELOW_THRESHOLD"}]
    assert all(c["unusableReason"] is None and c["reason"] is None for c in preview if c["usable"])


async def test_the_wallet_nulls_out_for_a_visitor_and_the_claim_centre_still_renders(kernel_factory, graphql):
    kernel, _ = await start(kernel_factory)
    await make_template(admin_of(graphql, kernel), title="visible")
    page = await graphql(kernel).execute("{ myCoupons { nodes { id } } couponTemplates(last: 1) { nodes { title couponsLeft } } }")
    assert page["data"] == {"myCoupons": None, "couponTemplates": {"nodes": [{"title": "visible", "couponsLeft": None}]}}
    assert [e["path"] for e in page["errors"]] == [["myCoupons"]]
    assert page["errors"][0]["extensions"]["code"] == "KERNEL_UNAUTHENTICATED"
