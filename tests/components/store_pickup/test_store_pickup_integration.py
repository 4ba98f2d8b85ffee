"""store_pickup with points_mall and group_buy in one blueprint, through GraphQL."""

from __future__ import annotations

from datetime import timedelta

from store_pickup_helpers import CONFIRM, MY, PREVIEW, boot, pay

from core.testing import member, staff

CHOOSE = """mutation($input: ChoosePickupStoreInput!) { choosePickupStore(input: $input) {
  order { id deliveryType storeId } pickup { state code } userErrors { code field } } }"""


async def test_points_redemption_picked_up_at_a_store(kernel_factory, graphql):
    ps = await boot(kernel_factory, extra_components="  points_mall: {}\n")
    admin = graphql(ps.kernel, staff(1, "admin"))
    item = await admin.mutate("""mutation($sku: ID!) { createPointsMallItem(input: {title: "Tea for points", pointsPrice: 500,
        stock: 5, skuId: $sku}) { item { id } userErrors { code } } }""", sku=ps.shop.sku)
    assert item["userErrors"] == []
    granted = await admin.mutate("""mutation($m: ID!) { adjustPoints(input: {memberId: $m, delta: 800, note: "welcome"}) {
        balance userErrors { code } } }""", m=_member_id(1))
    assert granted["balance"] == 800
    alice = graphql(ps.kernel, member(1))
    redeemed = await alice.mutate("""mutation($item: ID!, $store: ID!) { redeemPointsItem(input: {itemId: $item,
        deliveryType: PICKUP, storeId: $store}) { balance userErrors { code field } } }""", item=item["item"]["id"], store=ps.store_ids[1])
    assert redeemed == {"balance": 300, "userErrors": []}
    # Points-only: the order is paid at once, so the pickup code is there straight away.
    mine = (await alice.data(MY))["myPickups"]["nodes"][0]
    assert mine["state"] == "AWAITING_PICKUP" and mine["store"]["name"] == "Lujiazui" and mine["order"]["status"] == "PAID"
    here = ps.stores[1]
    clerk = graphql(ps.kernel, staff(ps.clerks[here], "store_clerk", stores=(here,)))
    done = await clerk.mutate(CONFIRM, input={"storeId": ps.store_ids[1], "code": mine["code"]})
    assert done["userErrors"] == [] and done["order"]["status"] == "COMPLETED"

    # A redemption for pickup at a closed store is refused whole: points and item stock stay.
    await admin.mutate('mutation($s: ID!) { updatePickupStore(input: {storeId: $s, status: SUSPENDED}) { userErrors { code } } }',
                       s=ps.store_ids[0])
    await admin.mutate('mutation($m: ID!) { adjustPoints(input: {memberId: $m, delta: 500, note: "again"}) { balance } }', m=_member_id(2))
    refused = await graphql(ps.kernel, member(2)).mutate("""mutation($item: ID!, $store: ID!) { redeemPointsItem(input: {itemId: $item,
        deliveryType: PICKUP, storeId: $store}) { balance userErrors { code field } } }""", item=item["item"]["id"], store=ps.store_ids[0])
    assert refused == {"balance": None, "userErrors": [{"code": "STORE_PICKUP_STORE_CLOSED", "field": "input.storeId"}]}
    assert (await graphql(ps.kernel, member(2)).data("{ myPoints { balance } }"))["myPoints"]["balance"] == 500


async def test_group_buy_order_is_held_until_its_group_succeeded(kernel_factory, graphql, clock):
    ps = await boot(kernel_factory, extra_components="  group_buy: {}\n")
    admin = graphql(ps.kernel, staff(1, "admin"))
    now = clock.now()
    offer = await admin.mutate("""mutation($input: CreateGroupBuyOfferInput!) { createGroupBuyOffer(input: $input) {
        offer { id } userErrors { code } } }""", input={
        "skuId": ps.shop.sku, "groupPrice": {"amountMinor": 6900, "currency": "CNY"}, "groupSize": 2,
        "startsAt": (now - timedelta(hours=1)).isoformat(), "endsAt": (now + timedelta(days=3)).isoformat(), "totalLimit": 10})
    assert offer["userErrors"] == []
    a, b = graphql(ps.kernel, member(1)), graphql(ps.kernel, member(2))
    opened = await a.mutate('mutation($o: ID!) { openGroup(input: {offerId: $o}) { group { shareCode } order { id } userErrors { code } } }',
                            o=offer["offer"]["id"])
    chosen = await a.mutate(CHOOSE, input={"orderId": opened["order"]["id"], "storeId": ps.store_ids[0]})
    assert chosen["userErrors"] == [] and chosen["order"]["deliveryType"] == "PICKUP" and chosen["pickup"]["state"] == "PENDING_PAYMENT"
    await pay(a, opened["order"]["id"])
    code = (await a.data(MY))["myPickups"]["nodes"][0]["code"]
    here = ps.stores[0]
    clerk = graphql(ps.kernel, staff(ps.clerks[here], "store_clerk", stores=(here,)))
    for doc in (PREVIEW, CONFIRM):
        held = await clerk.mutate(doc, input={"storeId": ps.store_ids[0], "code": code})
        assert held["userErrors"][0]["code"] == "STORE_PICKUP_GROUP_NOT_FORMED"
    assert (await a.data('query($id: ID!) { order(id: $id) { status } }', id=opened["order"]["id"]))["order"]["status"] == "PAID"

    joined = await b.mutate('mutation($c: String!) { joinGroup(input: {shareCode: $c}) { order { id } userErrors { code } } }',
                            c=opened["group"]["shareCode"])
    await pay(b, joined["order"]["id"])  # the second seat: the group succeeds
    done = await clerk.mutate(CONFIRM, input={"storeId": ps.store_ids[0], "code": code})
    assert done["userErrors"] == [] and done["order"]["status"] == "COMPLETED"
    # A paid order can no longer move to a store.
    late = await b.mutate(CHOOSE, input={"orderId": joined["order"]["id"], "storeId": ps.store_ids[0]})
    assert late["userErrors"] == [{"code": "STORE_PICKUP_ORDER_NOT_PENDING", "field": "input.orderId"}]


def _member_id(pk: int) -> str:
    from core.gql.relay import to_global_id

    return to_global_id("Member", pk)
