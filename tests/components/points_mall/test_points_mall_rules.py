"""Replays, refunds and their policy, frozen and on-completion grants, pickup, typed errors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import hire
from points_mall_helpers import (
    ADJUST,
    LEDGER,
    PICKUP_STAND_IN,
    REDEEM,
    REFUND,
    admin_of,
    buy,
    check_invariant,
    counts,
    grant,
    make_item,
    pay,
    start,
)
from sqlalchemy import select

from components.orders.models import Order
from components.points_mall.models import Entry, Lot, Redemption
from core.gql.relay import decode_id, to_global_id
from core.models import EventRow
from core.testing import member
from core.transaction import Event

ORDER_LINES = "query($id: ID!) { order(id: $id) { status deliveryType storeId lines { id quantity } } }"


async def event_of(kernel, name: str) -> Event:
    async with kernel.db.read() as session:
        row = (await session.scalars(select(EventRow).where(EventRow.name == name).order_by(EventRow.id.desc()))).first()
    return Event(row.id, row.name, row.payload, row.created_at)


async def test_replays_of_a_redemption_an_earn_and_an_adjustment_change_nothing(kernel_factory, graphql):
    kernel, shop = await start(kernel_factory)
    me, admin = graphql(kernel, member(1)), admin_of(graphql, kernel)
    m1 = to_global_id("Member", 1)
    first = await admin.mutate(ADJUST, m=m1, d=500, note="apology", key="adj-1")
    before = await counts(kernel)
    again = await admin.mutate(ADJUST, m=m1, d=500, note="apology", key="adj-1")
    assert first["balance"] == again["balance"] == 500 and await counts(kernel) == before
    other_admin = graphql(kernel, await hire(kernel, "admin"))  # another clerk replaying the same key: still once
    assert (await other_admin.mutate(ADJUST, m=m1, d=500, note="apology", key="adj-1"))["balance"] == 500
    assert await counts(kernel) == before

    item = await make_item(admin, skuId=shop.sku, pointsPrice=100, perMemberLimit=5)
    one = await me.mutate(REDEEM, item=item, key="r-1")
    before = await counts(kernel)
    two = await me.mutate(REDEEM, item=item, key="r-1")
    assert one == two and one["balance"] == 400 and await counts(kernel) == before

    order = await buy(me, shop)  # earns 100
    before = await counts(kernel)
    paid = await event_of(kernel, "order.paid")
    service = kernel.service("points_mall")
    await service.on_order_event(kernel, paid)  # the outbox delivers at least once
    await service.on_order_event(kernel, paid)
    assert await counts(kernel) == before and await check_invariant(kernel, 1) == 500

    await admin.mutate(REFUND, id=order)
    before = await counts(kernel)
    await service.on_order_refunded(kernel, await event_of(kernel, "order.refunded"))
    assert await counts(kernel) == before and await check_invariant(kernel, 1) == 400


@pytest.mark.parametrize("policy", ["deduct_available", "allow_negative"])
async def test_refund_after_the_points_were_spent_follows_the_policy_and_records_it(kernel_factory, graphql, policy):
    kernel, shop = await start(kernel_factory, shortfall=policy)
    me, admin = graphql(kernel, member(1)), admin_of(graphql, kernel)
    order = await buy(me, shop)                         # earns 100
    await me.mutate(REDEEM, item=await make_item(admin, pointsPrice=70))  # spends 70
    await admin.mutate(REFUND, id=order)
    ledger = [e["node"] for e in (await me.data(LEDGER))["myPointsLedger"]["edges"]]
    reversal = ledger[0]
    assert reversal["reason"] == "order_earn_reversed" and reversal["reference"] == f"order:{decode_id(order, 'Order')}"
    if policy == "deduct_available":
        # Took the 30 left; the 70 already spent are recorded on the entry and announced.
        assert reversal["delta"] == -30 and reversal["shortfall"] == 70 and "shortfall: 70" in reversal["note"]
        assert await check_invariant(kernel, 1) == 0
        assert (await event_of(kernel, "points_mall.shortfall")).payload["missing"] == 70
    else:
        assert reversal["delta"] == -100 and reversal["shortfall"] == 0 and "70 points owed" in reversal["note"]
        assert await check_invariant(kernel, 1) == -70  # the debt is a negative lot: sums still agree
        await grant(admin, 1, 100)                       # new points pay the debt first
        assert await check_invariant(kernel, 1) == 30
        async with kernel.db.read() as session:
            assert sorted(l.remaining for l in (await session.scalars(select(Lot))).all()) == [0, 0, 30]  # earned, debt (paid), new


async def test_partial_refunds_reverse_in_proportion_and_add_up_exactly(kernel_factory, graphql):
    kernel, shop = await start(kernel_factory, price=3333)  # 3 × 33.33 = 99.99 → 99 points
    me, admin = graphql(kernel, member(1)), admin_of(graphql, kernel)
    order = await buy(me, shop, 3)
    assert await check_invariant(kernel, 1) == 99
    line = (await me.data(ORDER_LINES, id=order))["order"]["lines"][0]["id"]
    await admin.mutate(REFUND, id=order, lines=[{"lineId": line, "quantity": 1}])  # 33.33 of 99.99 → 33
    assert await check_invariant(kernel, 1) == 66
    await admin.mutate(REFUND, id=order, lines=[{"lineId": line, "quantity": 2}])  # the rest: all 99 reversed
    assert await check_invariant(kernel, 1) == 0


async def test_frozen_points_are_granted_later_net_of_refunds(kernel_factory, graphql, clock):
    kernel, shop = await start(kernel_factory, freeze=7)
    me, admin = graphql(kernel, member(1)), admin_of(graphql, kernel)
    kept = await buy(me, shop, 2)
    gone = await buy(me, shop, 1)
    assert await check_invariant(kernel, 1) == 0  # frozen
    line = (await me.data(ORDER_LINES, id=kept))["order"]["lines"][0]["id"]
    await admin.mutate(REFUND, id=kept, lines=[{"lineId": line, "quantity": 1}])
    await admin.mutate(REFUND, id=gone)
    clock.advance(days=7, seconds=1)
    await kernel.run_due()
    assert await check_invariant(kernel, 1) == 100  # 200 earned, 100 reversed; the refunded order earned nothing
    reasons = [e["node"]["reason"] for e in (await me.data(LEDGER))["myPointsLedger"]["edges"]]
    assert reasons == ["order_earn_reversed", "order_earn"]


async def test_points_on_completion_and_activity_orders(kernel_factory, graphql):
    kernel, shop = await start(kernel_factory, grant_on="completed", extra="    activity_orders_earn: false\n")
    me, admin = graphql(kernel, member(1)), admin_of(graphql, kernel)
    order = await buy(me, shop)
    assert await check_invariant(kernel, 1) == 0
    await admin.mutate('mutation($id: ID!) { fulfilOrder(input: {orderId: $id}) { userErrors { code } } }', id=order)
    await me.mutate('mutation($id: ID!) { completeOrder(input: {orderId: $id}) { userErrors { code } } }', id=order)
    assert await check_invariant(kernel, 1) == 100
    orders = kernel.service("orders")
    async with kernel.transaction() as tx:   # an auction order, as bidding_sale would create it
        auction = await orders.create_order(tx, member_id=1, lines=[(shop.sku_id, 1)], kind="auction")
        await orders.mark_paid(tx, auction, provider="sandbox", provider_ref="x-1", amount_minor=10000)
        await orders.fulfil(tx, auction)
        await orders.complete(tx, auction)
    assert await check_invariant(kernel, 1) == 100


async def test_refunded_points_orders_give_points_and_stock_back_unit_by_unit(kernel_factory, graphql):
    kernel, shop = await start(kernel_factory)
    me, admin = graphql(kernel, member(1)), admin_of(graphql, kernel)
    await grant(admin, 1, 1000)
    only = await make_item(admin, skuId=shop.sku, pointsPrice=100, stock=10, perMemberLimit=3)
    mixed = await make_item(admin, skuId=shop.sku, pointsPrice=50, cashPrice={"amountMinor": 2000, "currency": "CNY"})
    three = (await me.mutate(REDEEM, item=only, n=3))["redemption"]
    cash = (await me.mutate(REDEEM, item=mixed))["redemption"]
    await pay(me, cash["order"]["id"])                     # the 20.00 cash earns 20
    assert await check_invariant(kernel, 1) == 1000 - 300 - 50 + 20
    line = (await me.data(ORDER_LINES, id=three["order"]["id"]))["order"]["lines"][0]["id"]
    await admin.mutate(REFUND, id=three["order"]["id"], lines=[{"lineId": line, "quantity": 1}])
    assert await check_invariant(kernel, 1) == 770
    assert (await me.mutate(REDEEM, item=only))["userErrors"] == []  # the returned unit frees the limit again
    await admin.mutate(REFUND, id=cash["order"]["id"])    # 50 points back, the 20 earned reversed
    assert await check_invariant(kernel, 1) == 670 + 50 - 20
    async with kernel.db.read() as session:
        rows = {r.id: r for r in (await session.scalars(select(Redemption))).all()}
    statuses = sorted((r.status, r.returned_quantity) for r in rows.values())
    assert statuses == [("active", 0), ("active", 1), ("returned", 1)]
    stock = await me.data("query($id: ID!) { pointsMallItem(id: $id) { stockLeft } }", id=only)
    assert stock["pointsMallItem"]["stockLeft"] == 10 - 3 + 1 - 1


async def test_redemption_for_pickup_at_a_store_when_store_pickup_is_on(kernel_factory, graphql, make_component):
    # store_pickup is built elsewhere; a stand-in of the same name joins checkout as it does:
    # it reads the `pickup` input, takes charge of delivery and names the store (and, with
    # per-store stock, the store's own inventory location).
    stand_in = make_component("store_pickup", depends={"orders": ""}, hooks=PICKUP_STAND_IN, settings_schema={
        "type": "object", "properties": {"stock": {"enum": ["central", "per_store"], "default": "central"}}})
    text = """\
dougong: 1
brand: {slug: pm, name: PM, currency: CNY, timezone: Asia/Shanghai}
components:
  points_mall: {}
  store_pickup: {stock: per_store}
"""
    kernel = await kernel_factory(text, installed=[stand_in])
    from conftest import open_shop

    shop = await open_shop(kernel, members=2, stock=10)
    async with kernel.transaction() as tx:
        await kernel.service("inventory").set_stock(tx, shop.sku_id, 4, location_id=3)  # the store's own shelf
    me, admin = graphql(kernel, member(1)), admin_of(graphql, kernel)
    await grant(admin, 1, 1000)
    item = await make_item(admin, skuId=shop.sku, pointsPrice=100, perMemberLimit=5)
    missing = await me.mutate(REDEEM, item=item, delivery="PICKUP")
    assert missing["userErrors"][0]["code"] == "POINTS_MALL_STORE_REQUIRED"
    by_number = await me.mutate(REDEEM, item=item, delivery="PICKUP", store="3")
    order = by_number["redemption"]["order"]
    assert by_number["userErrors"] == [] and order["deliveryType"] == "PICKUP" and order["storeId"] == 3
    assert order["status"] == "PAID" and by_number["redemption"]["storeId"] == 3
    by_id = await me.mutate(REDEEM, item=item, delivery="PICKUP", store=to_global_id("PickupStore", 3))
    assert by_id["redemption"]["order"]["storeId"] == 3
    async with kernel.db.read() as session:
        locations = (await session.scalars(select(Order.location_id).where(Order.delivery_type == "pickup"))).all()
    assert locations == [3, 3]  # per-store stock: reserved from the store's shelf
    reward = await make_item(admin, title="tea class", pointsPrice=10)
    assert (await me.mutate(REDEEM, item=reward, delivery="PICKUP", store="3"))["userErrors"][0]["code"] == \
        "POINTS_MALL_PICKUP_UNAVAILABLE"


async def test_pickup_is_refused_without_store_pickup(kernel_factory, graphql):
    kernel, shop = await start(kernel_factory)
    me, admin = graphql(kernel, member(1)), admin_of(graphql, kernel)
    await grant(admin, 1, 1000)
    item = await make_item(admin, skuId=shop.sku, pointsPrice=100)
    before = await counts(kernel)
    refused = await me.mutate(REDEEM, item=item, delivery="PICKUP", store="3")
    assert refused["userErrors"][0]["code"] == "POINTS_MALL_PICKUP_UNAVAILABLE"
    assert await counts(kernel) == before


async def test_bad_input_gets_typed_errors_and_changes_nothing(kernel_factory, graphql, clock):
    kernel, shop = await start(kernel_factory)
    me, admin = graphql(kernel, member(1)), admin_of(graphql, kernel)
    m1 = to_global_id("Member", 1)
    await grant(admin, 1, 1000)
    vip = await make_item(admin, minTier=2)
    later = await make_item(admin, startsAt=(clock.now() + timedelta(days=1)).isoformat())
    over = await make_item(admin, endsAt=(clock.now() + timedelta(hours=1)).isoformat())
    limited = await make_item(admin, perMemberLimit=1)
    expensive = await make_item(admin, pointsPrice=5000)
    empty = await make_item(admin, stock=0)
    assert (await me.mutate(REDEEM, item=limited))["userErrors"] == []
    clock.advance(hours=1)
    before = await counts(kernel)
    cases = [
        (dict(item=vip), "POINTS_MALL_TIER_NOT_ALLOWED", "input.itemId"),
        (dict(item=later), "POINTS_MALL_OUTSIDE_WINDOW", "input.itemId"),
        (dict(item=over), "POINTS_MALL_OUTSIDE_WINDOW", "input.itemId"),
        (dict(item=limited), "POINTS_MALL_LIMIT_REACHED", "input.quantity"),
        (dict(item=expensive), "POINTS_MALL_NOT_ENOUGH_POINTS", "input"),
        (dict(item=empty), "POINTS_MALL_SOLD_OUT", "input.itemId"),
        (dict(item=expensive, n=0), "POINTS_MALL_INVALID_QUANTITY", "input.quantity"),
        (dict(item=expensive, n=-5), "POINTS_MALL_INVALID_QUANTITY", "input.quantity"),
        (dict(item=expensive, n=101), "POINTS_MALL_INVALID_QUANTITY", "input.quantity"),
        (dict(item=to_global_id("PointsMallItem", 999)), "KERNEL_NOT_FOUND", "input.itemId"),
        (dict(item=m1), "KERNEL_INVALID_ID", "input.itemId"),
    ]
    for variables, code, field in cases:
        errors = (await me.mutate(REDEEM, **variables))["userErrors"]
        assert [(e["code"], e["field"]) for e in errors] == [(code, field)], (variables, errors)
    limit = (await me.mutate(REDEEM, item=limited))["userErrors"][0]["details"]
    assert limit == {"limit": 1, "redeemed": 1}
    for delta, note, code in [(0, "x", "POINTS_MALL_INVALID_QUANTITY"), (5, " ", "POINTS_MALL_REASON_REQUIRED"),
                              (-5000, "too much", "POINTS_MALL_NOT_ENOUGH_POINTS")]:
        assert (await admin.mutate(ADJUST, m=m1, d=delta, note=note))["userErrors"][0]["code"] == code
    assert (await me.mutate(ADJUST, m=m1, d=5, note="me"))["userErrors"][0]["code"] == "KERNEL_FORBIDDEN"
    for fields, field in [({"pointsPrice": 0}, "input.pointsPrice"), ({"stock": -1}, "input.stock"),
                          ({"perMemberLimit": 0}, "input.perMemberLimit"),
                          ({"cashPrice": {"amountMinor": 100, "currency": "CNY"}}, "input.cashPrice"),
                          ({"startsAt": "2026-02-01T00:00:00+00:00", "endsAt": "2026-01-01T00:00:00+00:00"}, "input.endsAt")]:
        payload = await admin.mutate("""mutation($input: CreatePointsMallItemInput!) { createPointsMallItem(input: $input) {
            userErrors { code field } } }""", input={"title": "bad", "pointsPrice": 10, "stock": 1, **fields})
        assert payload["userErrors"] == [{"code": "POINTS_MALL_INVALID_ITEM", "field": field}]
    signed = await me.mutate("mutation { signInDaily { userErrors { code } } }")
    assert signed["userErrors"] == []
    before["entries"] += 1
    before["lots"] += 1
    before["balance"] += 5
    assert await counts(kernel) == before


async def test_staff_manage_items_and_tiers(kernel_factory, graphql):
    kernel, shop = await start(kernel_factory)
    me, admin = graphql(kernel, member(1)), admin_of(graphql, kernel)
    await grant(admin, 1, 1000)
    item = await make_item(admin, minTier=2, stock=1)
    assert (await me.mutate(REDEEM, item=item))["userErrors"][0]["code"] == "POINTS_MALL_TIER_NOT_ALLOWED"
    tier = await admin.mutate("""mutation($m: ID!) { setMemberTier(input: {memberId: $m, tier: 2}) {
        points { tier balance } userErrors { code } } }""", m=to_global_id("Member", 1))
    assert tier["points"] == {"tier": 2, "balance": 1000}
    assert (await me.mutate(REDEEM, item=item))["userErrors"] == []
    assert (await me.mutate(REDEEM, item=item))["userErrors"][0]["code"] == "POINTS_MALL_LIMIT_REACHED"
    update = """mutation($input: UpdatePointsMallItemInput!) { updatePointsMallItem(input: $input) {
        item { stockLeft perMemberLimit active } userErrors { code field } } }"""
    changed = await admin.mutate(update, input={"itemId": item, "stock": 5, "perMemberLimit": 2})
    assert changed["item"] == {"stockLeft": 5, "perMemberLimit": 2, "active": True}
    assert (await me.mutate(REDEEM, item=item))["userErrors"] == []
    assert (await admin.mutate(update, input={"itemId": item, "pointsPrice": -1}))["userErrors"][0]["code"] == \
        "POINTS_MALL_INVALID_ITEM"
    assert (await me.mutate(update, input={"itemId": item, "stock": 99}))["userErrors"][0]["code"] == "KERNEL_FORBIDDEN"
    await admin.mutate(update, input={"itemId": item, "active": False})
    listed = await me.data("{ pointsMallItems { edges { node { id } } } }")
    assert item not in [e["node"]["id"] for e in listed["pointsMallItems"]["edges"]]
    assert (await me.mutate(REDEEM, item=item))["userErrors"][0]["code"] == "KERNEL_NOT_FOUND"
    everything = await admin.data("{ pointsMallItems(all: true) { edges { node { id active } } } }")
    assert {"id": item, "active": False} in [e["node"] for e in everything["pointsMallItems"]["edges"]]
    staff_view = await admin.data("""query($m: ID!) { memberPoints(memberId: $m) { balance tier
        ledger(first: 2) { edges { node { reason } } } } }""", m=to_global_id("Member", 1))
    assert staff_view["memberPoints"]["ledger"]["edges"][0]["node"]["reason"] == "redeem"


async def test_members_see_only_their_own_points(kernel_factory, graphql):
    kernel, shop = await start(kernel_factory)
    me, other, admin = graphql(kernel, member(1)), graphql(kernel, member(2)), admin_of(graphql, kernel)
    await grant(admin, 1, 100)
    redeemed = await me.mutate(REDEEM, item=await make_item(admin, pointsPrice=10))
    async with kernel.db.read() as session:
        entry = (await session.scalars(select(Entry).where(Entry.member_id == 1))).first()
    node = "query($id: ID!) { node(id: $id) { id } }"
    assert (await other.data(node, id=to_global_id("PointsLedgerEntry", entry.id)))["node"] is None
    assert (await other.data(node, id=redeemed["redemption"]["id"]))["node"] is None
    assert (await me.data(node, id=redeemed["redemption"]["id"]))["node"] is not None
    forbidden = await other.execute("query($m: ID!) { memberPoints(memberId: $m) { balance } }", m=to_global_id("Member", 1))
    assert forbidden.get("errors")
