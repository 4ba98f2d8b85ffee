"""Staff offers: checked as a whole, several SKUs each with its own group price, edits (what may
change once groups exist), ending and withdrawing; and a late payer who leads a new group pays
the leader price."""

from __future__ import annotations

from datetime import timedelta

from conftest import open_shop
from group_buy_helpers import BLUEPRINT, GROUP, JOIN, OFFER, OPEN, ORDER, counts, pay, start
from sqlalchemy import select

from components.orders.models import Order, Refund
from core.gql.relay import to_global_id
from core.testing import member, staff

CNY = lambda n: {"amountMinor": n, "currency": "CNY"}  # noqa: E731
UPDATE = """mutation($input: UpdateGroupBuyOfferInput!) { updateGroupBuyOffer(input: $input) {
  offer { status groupPrice { amountMinor } endsAt totalLimit } userErrors { code field details } } }"""
END = 'mutation($id: ID!) { endGroupBuyOffer(input: {offerId: $id}) { offer { status } userErrors { code } } }'
WITHDRAW = 'mutation($id: ID!) { withdrawGroupBuyOffer(input: {offerId: $id}) { offer { status } userErrors { code } } }'
SKUS = """query($id: ID!) { groupBuyOffer(id: $id) { status remaining skus { sku { id } groupPrice { amountMinor }
  leaderPrice { amountMinor } quantity remaining } } }"""
OPEN_SKU = """mutation($offer: ID!, $sku: ID) { openGroup(input: {offerId: $offer, skuId: $sku}) {
  group { id shareCode } order { id total { amountMinor } } userErrors { code field } } }"""
JOIN_SKU = """mutation($code: String!, $sku: ID) { joinGroup(input: {shareCode: $code, skuId: $sku}) {
  order { id total { amountMinor } } userErrors { code field } } }"""


async def another_product_sku(kernel) -> str:
    async with kernel.transaction() as tx:
        product = await kernel.service("catalog").create_product(tx, title="Puer", skus=[{"title": "357g", "price_minor": 20000}])
        sku = (await kernel.service("catalog").sku_ids(tx.session, limit=10))[-1]
        await kernel.service("inventory").set_stock(tx, sku, 10)
    assert product
    return to_global_id("Sku", sku)


def offer_input(sku, now, **extra):
    return {"skuId": sku, "groupPrice": CNY(6900), "groupSize": 3, "startsAt": (now - timedelta(hours=1)).isoformat(),
            "endsAt": (now + timedelta(days=3)).isoformat(), "totalLimit": 20, **extra}


async def test_an_offer_is_checked_as_a_whole(kernel_factory, graphql, clock):
    kernel = await kernel_factory(BLUEPRINT % "{}")
    shop = await open_shop(kernel, members=2, price=10000)
    admin = graphql(kernel, staff(1, "admin"))
    now = clock.now()
    before = await counts(kernel)
    for extra, field in (
        ({"totalLimit": 2}, "input.totalLimit"),                         # not even one group of 3
        ({"groupPrice": CNY(10001)}, "input.groupPrice"),                # above the SKU's price
        ({"leaderPrice": CNY(7000)}, "input.leaderPrice"),               # above the group price
        ({"skus": [{"skuId": shop.sku, "groupPrice": CNY(6900)}]}, "input.skus"),  # both forms at once
        ({"skuId": None, "skus": [{"skuId": shop.sku, "groupPrice": CNY(6900), "quantity": 1},
                                  {"skuId": shop.sku, "groupPrice": CNY(6000), "quantity": 1}]}, "input.skus[1].skuId"),
    ):
        body = {k: v for k, v in offer_input(shop.sku, now, **extra).items() if v is not None}
        if "skus" in extra and extra.get("skuId", shop.sku) is None:
            body.pop("groupPrice")
        refused = await admin.mutate(OFFER, input=body)
        assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [("GROUP_BUY_INVALID_OFFER", field)], (extra, refused)
    assert await counts(kernel) == before


async def test_several_skus_each_with_its_own_group_price(kernel_factory, graphql, clock):
    kernel = await kernel_factory(BLUEPRINT % "{}")
    shop = await open_shop(kernel, members=4, price=10000)
    second, stray_sku = to_global_id("Sku", shop.second_sku_id), await another_product_sku(kernel)
    admin = graphql(kernel, staff(1, "admin"))
    now = clock.now()
    created = await admin.mutate(OFFER, input={
        "skus": [{"skuId": shop.sku, "groupPrice": CNY(6900), "leaderPrice": CNY(5900), "quantity": 5},
                 {"skuId": second, "groupPrice": CNY(4900), "quantity": 2}],
        "groupSize": 3, "startsAt": (now - timedelta(hours=1)).isoformat(), "endsAt": (now + timedelta(days=1)).isoformat(),
        "totalLimit": 10})
    assert created["userErrors"] == [], created
    offer = created["offer"]["id"]
    shown = (await graphql(kernel).data(SKUS, id=offer))["groupBuyOffer"]
    assert shown["remaining"] == 7 and [(s["sku"]["id"], s["groupPrice"]["amountMinor"], s["quantity"]) for s in shown["skus"]] == [
        (shop.sku, 6900, 5), (second, 4900, 2)]
    # The leader opens on the second SKU (no leader price there: the group price); a friend joins on the first.
    opened = await graphql(kernel, member(1)).mutate(OPEN_SKU, offer=offer, sku=second)
    assert opened["order"]["total"]["amountMinor"] == 4900
    await pay(graphql(kernel, member(1)), opened["order"]["id"])
    joined = await graphql(kernel, member(2)).mutate(JOIN_SKU, code=opened["group"]["shareCode"], sku=shop.sku)
    assert joined["order"]["total"]["amountMinor"] == 6900 and joined["userErrors"] == []
    # A SKU outside the offer is refused, naming the field.
    stray = await graphql(kernel, member(3)).mutate(OPEN_SKU, offer=offer, sku=stray_sku)
    assert [(e["code"], e["field"]) for e in stray["userErrors"]] == [("GROUP_BUY_SKU_NOT_IN_OFFER", "input.offerId")]
    shown = (await graphql(kernel).data(SKUS, id=offer))["groupBuyOffer"]
    assert [s["remaining"] for s in shown["skus"]] == [4, 1]   # each SKU's own quantity


async def test_what_staff_may_edit_before_and_after_the_first_group(kernel_factory, graphql, clock):
    s = await start(kernel_factory, graphql, clock, size=2, total=10, perMemberLimit=3)
    admin = graphql(s.kernel, staff(1, "admin"))
    changed = await admin.mutate(UPDATE, input={"offerId": s.offer, "groupPrice": CNY(5900)})
    assert changed["userErrors"] == [] and changed["offer"]["groupPrice"]["amountMinor"] == 5900  # no group yet: anything
    opened = await graphql(s.kernel, member(1)).mutate(OPEN, offer=s.offer, quantity=3)
    assert opened["order"]["total"]["amountMinor"] == 3 * 5900
    before = await counts(s.kernel)
    locked = await admin.mutate(UPDATE, input={"offerId": s.offer, "groupPrice": CNY(4900), "totalLimit": 12})
    assert [(e["code"], e["field"], e["details"]) for e in locked["userErrors"]] == [
        ("GROUP_BUY_OFFER_LOCKED", "input.groupPrice", {"locked": ["groupPrice"]})]
    below = await admin.mutate(UPDATE, input={"offerId": s.offer, "totalLimit": 2})   # 3 units are held
    assert below["userErrors"][0]["code"] == "INVENTORY_BELOW_RESERVED"
    past = await admin.mutate(UPDATE, input={"offerId": s.offer, "endsAt": (clock.now() - timedelta(minutes=1)).isoformat()})
    assert past["userErrors"][0]["code"] == "GROUP_BUY_INVALID_OFFER"
    assert await counts(s.kernel) == before
    later = (clock.now() + timedelta(days=5)).isoformat()
    ok = await admin.mutate(UPDATE, input={"offerId": s.offer, "endsAt": later, "totalLimit": 4})
    assert ok["userErrors"] == [] and ok["offer"]["totalLimit"] == 4


async def test_ending_stops_new_groups_and_withdrawing_refunds_forming_ones(kernel_factory, graphql, clock):
    s = await start(kernel_factory, graphql, clock, size=3)
    admin, leader, friend = graphql(s.kernel, staff(1, "admin")), graphql(s.kernel, member(1)), graphql(s.kernel, member(2))
    opened = await leader.mutate(OPEN, offer=s.offer)
    await pay(leader, opened["order"]["id"])
    joined = await friend.mutate(JOIN, code=opened["group"]["shareCode"])   # joined, not paid yet
    assert (await admin.mutate(END, id=s.offer)) == {"offer": {"status": "ENDED"}, "userErrors": []}
    refused = await graphql(s.kernel, member(3)).mutate(OPEN, offer=s.offer)
    assert refused["userErrors"][0]["code"] == "GROUP_BUY_OFFER_NOT_ACTIVE"
    assert (await admin.mutate(END, id=s.offer))["userErrors"][0]["code"] == "GROUP_BUY_OFFER_NOT_ACTIVE"
    group = (await graphql(s.kernel).data(GROUP, id=opened["group"]["id"]))["groupBuyGroup"]
    assert group["status"] == "FORMING"                                   # an ended offer's groups go on

    assert (await admin.mutate(WITHDRAW, id=s.offer)) == {"offer": {"status": "WITHDRAWN"}, "userErrors": []}
    group = (await graphql(s.kernel).data(GROUP, id=opened["group"]["id"]))["groupBuyGroup"]
    assert group["status"] == "FAILED"
    leader_order = (await leader.data(ORDER, id=opened["order"]["id"]))["order"]
    assert leader_order == {"status": "REFUNDED", "refunded": {"amountMinor": 6900}}
    assert (await friend.data(ORDER, id=joined["order"]["id"]))["order"]["status"] == "CANCELLED"
    assert (await admin.mutate(WITHDRAW, id=s.offer))["userErrors"][0]["code"] == "GROUP_BUY_OFFER_NOT_ACTIVE"


async def test_a_late_payer_who_leads_a_new_group_pays_the_leader_price(kernel_factory, graphql, clock):
    s = await start(kernel_factory, graphql, clock, settings="{late_payment: open_new_group, hold_seats_for_unpaid_joins: false}",
                    size=2, leaderPrice=CNY(5900))
    leader, first, late = (graphql(s.kernel, member(i)) for i in (1, 2, 3))
    opened = await leader.mutate(OPEN, offer=s.offer)
    assert opened["order"]["total"]["amountMinor"] == 5900
    await pay(leader, opened["order"]["id"])
    a = await first.mutate(JOIN, code=opened["group"]["shareCode"])
    b = await late.mutate(JOIN, code=opened["group"]["shareCode"])
    await pay(first, a["order"]["id"])                                   # the group is full
    await pay(late, b["order"]["id"])                                    # too late: leads a new group
    order = (await late.data(ORDER, id=b["order"]["id"]))["order"]
    assert order == {"status": "PAID", "refunded": {"amountMinor": 6900 - 5900}}  # the difference came back
    async with s.kernel.db.read() as session:
        refund = await session.scalar(select(Refund).join(Order, Order.id == Refund.order_id).where(Order.member_id == 3))
    assert refund.amount_minor == 1000 and refund.lines[0]["quantity"] == 0   # money only: the unit stays sold
