"""The schema a frontend reads (issue 18): check-in names and their deprecated aliases, the typed
redemption status, the pickup store as a global id, the item picture, the order's redemption, and
member-only root fields that null out instead of blanking the page."""

from __future__ import annotations

from points_mall_helpers import PICKUP_STAND_IN, REFUND, admin_of, counts, grant, make_item, start

from core.gql.relay import to_global_id
from core.testing import member

CHECK_IN = "mutation { checkInDaily { balance checkInStreak signInStreak entry { delta reason } userErrors { code } } }"
SIGN_IN = "mutation { signInDaily { balance checkInStreak userErrors { code } } }"
POINTS = "{ myPoints { balance checkedInToday checkInStreak signedInToday signInStreak } }"
REDEEM_AT = """mutation($item: ID!, $pickup: ID, $store: ID) {
  redeemPointsItem(input: {itemId: $item, deliveryType: PICKUP, pickupStoreId: $pickup, storeId: $store}) {
    redemption { id pickupStoreId storeId redemptionStatus status order { id } }
    userErrors { code field } } }"""
REDEEM = """mutation($item: ID!) { redeemPointsItem(input: {itemId: $item}) {
  redemption { id redemptionStatus status order { id } } userErrors { code field } } }"""
PICTURE = "query($id: ID!) { pointsMallItem(id: $id) { image } }"
UPDATE = """mutation($id: ID!, $url: String) { updatePointsMallItem(input: {itemId: $id, image: $url}) {
  item { image } userErrors { code field } } }"""
ORDER_REDEMPTION = "query($id: ID!) { order(id: $id) { pointsRedemption { id redemptionStatus } } }"


async def test_check_in_under_the_new_name_and_the_old_one_is_one_check_in(kernel_factory, graphql):
    kernel, _ = await start(kernel_factory)
    me = graphql(kernel, member(1))
    first = await me.mutate(CHECK_IN)
    assert first["userErrors"] == [] and first["entry"] == {"delta": 5, "reason": "sign_in"}
    assert first["checkInStreak"] == first["signInStreak"] == 1 and first["balance"] == 5
    assert (await me.data(POINTS))["myPoints"] == {
        "balance": 5, "checkedInToday": True, "checkInStreak": 1, "signedInToday": True, "signInStreak": 1}
    again = await me.mutate(SIGN_IN)  # the deprecated alias reaches the same rule
    assert again == {"balance": None, "checkInStreak": None, "userErrors": [{"code": "POINTS_MALL_ALREADY_SIGNED_IN"}]}
    other = graphql(kernel, member(2))
    assert (await other.mutate(SIGN_IN))["checkInStreak"] == 1  # the old name still works on its own
    kernel.clock.advance(days=1)
    assert (await other.mutate(CHECK_IN))["checkInStreak"] == 2


async def test_member_only_root_fields_null_out_with_an_error_and_the_rest_of_the_page_renders(kernel_factory, graphql):
    kernel, shop = await start(kernel_factory)
    await make_item(admin_of(graphql, kernel), skuId=shop.sku)
    page = await graphql(kernel).execute(
        "{ myPoints { balance } myPointsLedger { edges { cursor } } myPointsRedemptions(last: 5) { edges { cursor } }"
        " pointsMallItems(last: 1) { edges { node { title } } } }"
    )
    assert page["data"]["myPoints"] is None and page["data"]["myPointsLedger"] is None and page["data"]["myPointsRedemptions"] is None
    assert page["data"]["pointsMallItems"]["edges"] == [{"node": {"title": "gift"}}]
    assert sorted(e["path"][0] for e in page["errors"]) == ["myPoints", "myPointsLedger", "myPointsRedemptions"]
    clerk = await graphql(kernel, member(1)).execute('{ memberPoints(memberId: "%s") { balance } }' % to_global_id("Member", 2))
    assert clerk["data"] == {"memberPoints": None} and clerk["errors"][0]["path"] == ["memberPoints"]


async def test_pickup_store_as_a_global_id_the_old_number_and_both_refused(kernel_factory, graphql, make_component):
    stand_in = make_component("store_pickup", depends={"orders": ""}, hooks=PICKUP_STAND_IN)
    text = "dougong: 1\nbrand: {slug: pm, name: PM, currency: CNY, timezone: Asia/Shanghai}\ncomponents:\n  points_mall: {}\n  store_pickup: {}\n"
    kernel = await kernel_factory(text, installed=[stand_in])
    from conftest import open_shop

    shop = await open_shop(kernel, members=2, stock=10)
    me, admin = graphql(kernel, member(1)), admin_of(graphql, kernel)
    await grant(admin, 1, 1000)
    item = await make_item(admin, skuId=shop.sku, pointsPrice=100, perMemberLimit=5)
    store = to_global_id("PickupStore", 3)
    new = await me.mutate(REDEEM_AT, item=item, pickup=store)
    assert new["userErrors"] == [] and new["redemption"]["pickupStoreId"] == store and new["redemption"]["storeId"] == 3
    assert new["redemption"]["redemptionStatus"] == "ACTIVE" and new["redemption"]["status"] == "active"
    old = await me.mutate(REDEEM_AT, item=item, store="3")
    assert old["userErrors"] == [] and old["redemption"]["pickupStoreId"] == store
    before = await counts(kernel)
    both = await me.mutate(REDEEM_AT, item=item, pickup=store, store="3")
    assert both == {"redemption": None, "userErrors": [{"code": "KERNEL_INVALID_INPUT", "field": "input.storeId"}]}
    wrong = await me.mutate(REDEEM_AT, item=item, pickup=to_global_id("Member", 3))
    assert wrong["userErrors"] == [{"code": "KERNEL_INVALID_ID", "field": "input.pickupStoreId"}]
    assert await counts(kernel) == before


async def test_item_picture_own_else_the_catalogs_and_a_bad_url_is_refused(kernel_factory, graphql):
    kernel, shop = await start(kernel_factory)
    admin = admin_of(graphql, kernel)
    own = await make_item(admin, skuId=shop.sku, image="https://img.example.com/cup.png")
    plain = await make_item(admin, skuId=shop.sku, title="tea")
    reward = await make_item(admin, title="tea class")
    assert (await admin.data(PICTURE, id=own))["pointsMallItem"]["image"] == "https://img.example.com/cup.png"
    assert (await admin.data(PICTURE, id=plain))["pointsMallItem"]["image"] is None  # the product has no image yet
    async with kernel.transaction() as tx:
        await kernel.service("catalog").update_product(tx, shop.product_id, {"images": ["/img/longjing.jpg", "/img/b.jpg"]})
    assert (await admin.data(PICTURE, id=plain))["pointsMallItem"]["image"] == "/img/longjing.jpg"
    assert (await admin.data(PICTURE, id=reward))["pointsMallItem"]["image"] is None
    assert (await admin.mutate(UPDATE, id=own, url=""))["item"]["image"] == "/img/longjing.jpg"  # "" falls back
    assert (await admin.mutate(UPDATE, id=reward, url="/img/class.png"))["item"]["image"] == "/img/class.png"
    before = await counts(kernel)
    for bad in ("ftp://x/y.png", "//cdn/x.png", " https://x", "https://x/" + "a" * 1000):
        refused = await admin.mutate(UPDATE, id=reward, url=bad)
        assert refused == {"item": None, "userErrors": [{"code": "POINTS_MALL_INVALID_ITEM", "field": "input.image"}]}, bad
    created = await admin.mutate(
        "mutation { createPointsMallItem(input: {title: \"x\", pointsPrice: 1, stock: 1, image: \"data:1\"}) { userErrors { field } } }")
    assert created["userErrors"] == [{"field": "input.image"}]
    assert await counts(kernel) == before
    assert (await admin.data(PICTURE, id=reward))["pointsMallItem"]["image"] == "/img/class.png"


async def test_an_order_links_its_redemption_and_the_status_turns_returned_on_refund(kernel_factory, graphql):
    kernel, shop = await start(kernel_factory)
    me, admin = graphql(kernel, member(1)), admin_of(graphql, kernel)
    await grant(admin, 1, 1000)
    item = await make_item(admin, skuId=shop.sku, pointsPrice=100)
    redemption = (await me.mutate(REDEEM, item=item))["redemption"]
    order = redemption["order"]["id"]
    linked = (await me.data(ORDER_REDEMPTION, id=order))["order"]["pointsRedemption"]
    assert linked == {"id": redemption["id"], "redemptionStatus": "ACTIVE"}
    await admin.mutate(REFUND, id=order)
    assert (await me.data(ORDER_REDEMPTION, id=order))["order"]["pointsRedemption"]["redemptionStatus"] == "RETURNED"
    plain = await me.mutate("mutation($s: ID!) { createOrder(input: {lines: [{skuId: $s, quantity: 1}]}) { order { id } } }", s=shop.sku)
    assert (await me.data(ORDER_REDEMPTION, id=plain["order"]["id"]))["order"]["pointsRedemption"] is None
