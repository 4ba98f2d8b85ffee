"""Group-buy's schema as a frontend reads it: a public list of running offers paged both ways,
`stockLeft` beside the deprecated `remaining`, durations in seconds out and "24h" in, an order's
group, and refusals that null one field instead of the page."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from group_buy_helpers import OFFER, OPEN, start

from core.gql.relay import to_global_id
from core.testing import member, staff

OFFERS = """query($first: Int, $last: Int, $before: String, $filter: GroupBuyOfferFilter) {
  groupBuyOffers(first: $first, last: $last, before: $before, filter: $filter) {
    nodes { id durationSeconds } pageInfo { hasNextPage hasPreviousPage startCursor } } }"""
LEFT = """query($id: ID!) { groupBuyOffer(id: $id) { stockLeft remaining skus { stockLeft remaining quantity } } }"""
ORDER_GROUP = """query($id: ID!) { order(id: $id) { id groupBuyGroup { id status } } }"""
CNY = lambda n: {"amountMinor": n, "currency": "CNY"}  # noqa: E731


async def test_running_offers_are_a_public_connection_filtered_and_paged_both_ways(kernel_factory, graphql, clock):
    setup = await start(kernel_factory, graphql, clock)
    kernel, shop = setup.kernel, setup.shop
    now = clock.now()
    later = await graphql(kernel, staff(1, "admin")).mutate(OFFER, input={
        "skuId": to_global_id("Sku", shop.second_sku_id), "groupPrice": CNY(6900), "groupSize": 2, "totalLimit": 5, "duration": "90m",
        "startsAt": (now + timedelta(days=1)).isoformat(), "endsAt": (now + timedelta(days=2)).isoformat()})
    assert later["userErrors"] == []
    anyone = graphql(kernel)
    running = (await anyone.data(OFFERS))["groupBuyOffers"]
    assert running["nodes"] == [{"id": setup.offer, "durationSeconds": 24 * 3600}]  # "24h" in, seconds out
    upcoming = (await anyone.data(OFFERS, filter={"window": "UPCOMING"}))["groupBuyOffers"]
    assert upcoming["nodes"] == [{"id": later["offer"]["id"], "durationSeconds": 90 * 60}]
    by_sku = await anyone.data(OFFERS, filter={"skuId": shop.sku})
    by_product = await anyone.data(OFFERS, filter={"productId": to_global_id("Product", shop.product_id)})
    assert by_sku == by_product == {"groupBuyOffers": running}
    other = await anyone.data(OFFERS, filter={"skuId": to_global_id("Sku", shop.second_sku_id)})
    assert other["groupBuyOffers"]["nodes"] == []  # the second SKU's offer has not started
    # Backwards: the last page, then nothing before it.
    last = (await anyone.data(OFFERS, last=1))["groupBuyOffers"]
    assert last["nodes"] == running["nodes"] and last["pageInfo"]["hasPreviousPage"] is False
    # A wrong type of id in the filter is a typed error, not a 500.
    body = await anyone.execute(OFFERS, filter={"productId": shop.sku})
    assert body["data"] is None and [e["extensions"]["code"] for e in body["errors"]] == ["KERNEL_INVALID_ID"]


async def test_stock_left_counts_units_and_an_order_links_to_its_group(kernel_factory, graphql, clock):
    setup = await start(kernel_factory, graphql, clock, total=10, perMemberLimit=2)
    kernel = setup.kernel
    anyone = graphql(kernel)
    assert (await anyone.data(LEFT, id=setup.offer))["groupBuyOffer"] == {
        "stockLeft": 10, "remaining": 10, "skus": [{"stockLeft": 10, "remaining": 10, "quantity": 10}]}
    leader = graphql(kernel, member(1))
    opened = await leader.mutate(OPEN, offer=setup.offer, quantity=2)
    assert opened["userErrors"] == []
    # Units held by the unpaid order are not left to sell; seats are the group's own count.
    assert (await anyone.data(LEFT, id=setup.offer))["groupBuyOffer"]["stockLeft"] == 8
    assert opened["group"]["seatsLeft"] == 3
    linked = (await leader.data(ORDER_GROUP, id=opened["order"]["id"]))["order"]["groupBuyGroup"]
    assert linked == {"id": opened["group"]["id"], "status": "FORMING"}
    plain = await leader.mutate("""mutation($sku: ID!) { createOrder(input: {lines: [{skuId: $sku, quantity: 1}]}) { order { id } } }""",
                                sku=setup.shop.sku)
    assert (await leader.data(ORDER_GROUP, id=plain["order"]["id"]))["order"]["groupBuyGroup"] is None


async def test_refusals_null_only_the_refused_field(kernel_factory, graphql, clock):
    setup = await start(kernel_factory, graphql, clock)
    body = await asyncio.wait_for(graphql(setup.kernel).execute(
        """query($id: ID!) { groupBuyOffer(id: $id) { id skus { stockLeft } referrals { joins } } myGroupBuys { nodes { id } } }""",
        id=setup.offer), 20)
    assert body["data"] == {"myGroupBuys": None, "groupBuyOffer": {"id": setup.offer, "skus": [{"stockLeft": 20}], "referrals": None}}
    assert sorted((tuple(e["path"]), e["extensions"]["code"]) for e in body["errors"]) == [
        (("groupBuyOffer", "referrals"), "KERNEL_UNAUTHENTICATED"), (("myGroupBuys",), "KERNEL_UNAUTHENTICATED")]
    mine = await graphql(setup.kernel, member(1)).execute("{ myGroupBuys(last: 5) { nodes { id } } groupBuyReferrals(memberId: \"%s\") { joins } }"
                                                         % to_global_id("Member", 2))
    assert mine["data"] == {"myGroupBuys": {"nodes": []}, "groupBuyReferrals": None}
    assert [(e["path"], e["extensions"]["code"]) for e in mine["errors"]] == [(["groupBuyReferrals"], "KERNEL_FORBIDDEN")]
