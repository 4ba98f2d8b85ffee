"""Redemptions through the one checkout: a line naming pointsMallItemId, previewed without
writing, placed with the redemption written before the zero-total order is paid."""

from __future__ import annotations

import importlib
from datetime import timedelta

from points_mall_helpers import admin_of, check_invariant, counts, grant, make_item

from core.gql.relay import to_global_id
from core.testing import member

PREVIEW = """query($input: CheckoutInput!) { previewCheckout(input: $input) {
  preview { total { amountMinor } lines { total { amountMinor } activity { component ref }
            adjustments { component stage label amount { amountMinor } } } }
  userErrors { code field details } } }"""
PLACE = """mutation($input: PlaceOrderInput!) { placeOrder(input: $input) {
  order { id status kind total { amountMinor } } userErrors { code field } } }"""

# A component that depends on points_mall and, in the paying transaction, looks for the
# redemption of the order being paid: what any in-transaction handler may now assume.
PROBE = """
from sqlalchemy import select
from core.hookspecs import hookimpl
from components.points_mall.models import Redemption

SEEN = []


async def on_paid(tx, event):
    row = await tx.session.scalar(select(Redemption).where(Redemption.order_id == event.payload["orderId"]))
    SEEN.append(None if row is None else row.points)


@hookimpl
def dougong_event_handlers(registrar):
    registrar.on("order.paid", on_paid, in_transaction=True)
"""

BLUEPRINT = """\
dougong: 1
brand: {slug: pm, name: PM, currency: CNY, timezone: Asia/Shanghai}
components:
  points_mall: {}
  paid_probe: {}
"""


async def start(kernel_factory, make_component):
    from conftest import open_shop

    probe = make_component("paid_probe", hooks=PROBE, depends={"points_mall": "", "orders": ""})
    kernel = await kernel_factory(BLUEPRINT, installed=[probe])
    shop = await open_shop(kernel, members=2, stock=10, price=5000)
    return kernel, shop, importlib.import_module(f"{probe.module}.hooks").SEEN


async def test_a_redemption_line_is_previewed_then_placed_and_paid_with_its_redemption(kernel_factory, graphql, make_component):
    kernel, shop, seen = await start(kernel_factory, make_component)
    me, admin = graphql(kernel, member(1)), admin_of(graphql, kernel)
    await grant(admin, 1, 1000)
    item = await make_item(admin, skuId=shop.sku, pointsPrice=300, perMemberLimit=2)
    checkout = {"lines": [{"skuId": shop.sku, "quantity": 2, "pointsMallItemId": item}]}
    before = await counts(kernel)

    preview = (await me.data(PREVIEW, input=checkout))["previewCheckout"]
    assert preview["userErrors"] == []
    line = preview["preview"]["lines"][0]
    assert line["activity"]["component"] == "points_mall" and line["total"]["amountMinor"] == 0
    assert [(a["component"], a["stage"], a["amount"]["amountMinor"]) for a in line["adjustments"]] == [
        ("points_mall", "points", -2 * 5000)]
    assert "600 points" in line["adjustments"][0]["label"]
    assert await counts(kernel) == before  # nothing taken, nothing held

    placed = await me.mutate(PLACE, input={"checkout": checkout, "expectedTotal": 0})
    assert placed["userErrors"] == [], placed
    assert (placed["order"]["status"], placed["order"]["kind"]) == ("PAID", "points")
    assert seen == [600]  # order.paid (in its transaction) found the redemption already written
    after = await counts(kernel)
    assert (after["redemptions"], after["orders"], after["stock"]) == (before["redemptions"] + 1, before["orders"] + 1,
                                                                       before["stock"] - 2)
    assert await check_invariant(kernel, 1) == 400
    again = await me.mutate(PLACE, input={"checkout": {"lines": [{"skuId": shop.sku, "quantity": 1, "pointsMallItemId": item}]}})
    assert [(e["code"], e["field"]) for e in again["userErrors"]] == [
        ("POINTS_MALL_LIMIT_REACHED", "input.lines[0].quantity")]


async def test_refusals_in_checkout_name_the_line_and_change_nothing(kernel_factory, graphql, make_component):
    kernel, shop, seen = await start(kernel_factory, make_component)
    me, admin = graphql(kernel, member(1)), admin_of(graphql, kernel)
    await grant(admin, 1, 100)
    item = await make_item(admin, skuId=shop.sku, pointsPrice=300)
    reward = await make_item(admin, title="a class", pointsPrice=10)
    before = await counts(kernel)
    cases = [
        ([{"skuId": shop.sku, "quantity": 1, "pointsMallItemId": item}],
         ("POINTS_MALL_NOT_ENOUGH_POINTS", "input.lines[0]")),
        ([{"skuId": shop.sku, "quantity": 1, "pointsMallItemId": item}, {"skuId": shop.sku, "quantity": 1}],
         ("ORDERS_NEEDS_OWN_ORDER", "input.lines[0].pointsMallItemId")),
        ([{"skuId": to_global_id("Sku", shop.second_sku_id), "quantity": 1, "pointsMallItemId": item}],
         ("KERNEL_INVALID_INPUT", "input.lines[0].skuId")),
        ([{"skuId": shop.sku, "quantity": 1, "pointsMallItemId": reward}],
         ("KERNEL_NOT_FOUND", "input.lines[0].pointsMallItemId")),
        ([{"skuId": shop.sku, "quantity": 1, "pointsMallItemId": shop.sku}],
         ("KERNEL_INVALID_ID", "input.lines[0].pointsMallItemId")),
    ]
    for lines, expected in cases:
        previewed = (await me.data(PREVIEW, input={"lines": lines}))["previewCheckout"]["userErrors"]
        placed = (await me.mutate(PLACE, input={"checkout": {"lines": lines}}))["userErrors"]
        assert [(e["code"], e["field"]) for e in previewed] == [expected], (lines, previewed)
        assert [(e["code"], e["field"]) for e in placed] == [expected], (lines, placed)
    assert await counts(kernel) == before and seen == []


REDEEM_AT = """mutation($item: ID!, $store: ID, $slot: ID) {
  redeemPointsItem(input: {itemId: $item, deliveryType: PICKUP, storeId: $store, slotId: $slot}) {
    redemption { storeId order { status deliveryType storeId } } userErrors { code field } } }"""


async def test_pickup_redemptions_keep_store_pickups_slot_and_store_rules(kernel_factory, graphql):
    from conftest import open_shop

    import components.store_pickup as store_pickup_package
    from registry.discovery import InstalledComponent

    installed = [InstalledComponent(store_pickup_package.manifest, "components.store_pickup", None)]
    kernel = await kernel_factory("""\
dougong: 1
brand: {slug: pm, name: PM, currency: CNY, timezone: Asia/Shanghai}
components:
  points_mall: {}
  store_pickup: {slots: required, stock: per_store}
""", installed=installed)
    shop = await open_shop(kernel, members=2, stock=10)
    pickup = kernel.service("store_pickup")
    start = kernel.clock.now().replace(minute=0, second=0, microsecond=0) + timedelta(hours=2)
    async with kernel.transaction() as tx:
        store = await pickup.create_store(tx, name="Jing'an", latitude=31.2235, longitude=121.4453,
                                          hours={d: ["09:00-21:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})
        [slot] = await pickup.create_slots(tx, store_id=store, starts_at=start, ends_at=start + timedelta(hours=1),
                                           minutes=60, capacity=1)
        await kernel.service("inventory").set_stock(tx, shop.sku_id, 3, location_id=store)  # the store's own shelf
    me, admin = graphql(kernel, member(1)), admin_of(graphql, kernel)
    await grant(admin, 1, 1000)
    item = await make_item(admin, skuId=shop.sku, pointsPrice=100, perMemberLimit=5)
    store_id, slot_id = to_global_id("PickupStore", store), to_global_id("PickupSlot", slot)
    before = await counts(kernel)

    def refusal(payload):
        return [(e["code"], e["field"]) for e in payload["userErrors"]]

    # The slot rule holds for redemptions as for any pickup order, named with this mutation's fields.
    assert refusal(await me.mutate(REDEEM_AT, item=item, store=store_id)) == [("STORE_PICKUP_SLOT_REQUIRED", "input.slotId")]
    assert refusal(await me.mutate(REDEEM_AT, item=item, store=to_global_id("PickupStore", 99), slot=slot_id)) == [
        ("STORE_PICKUP_UNKNOWN_STORE", "input.storeId")]
    assert await counts(kernel) == before
    done = await me.mutate(REDEEM_AT, item=item, store=store_id, slot=slot_id)
    assert done["userErrors"] == [], done
    order = done["redemption"]["order"]
    assert (order["status"], order["deliveryType"], order["storeId"]) == ("PAID", "PICKUP", store)
    assert done["redemption"]["storeId"] == store
    assert refusal(await me.mutate(REDEEM_AT, item=item, store=store_id, slot=slot_id)) == [("STORE_PICKUP_SLOT_FULL", "input.slotId")]
    after = await counts(kernel)
    assert (after["redemptions"], after["balance"]) == (before["redemptions"] + 1, before["balance"] - 100)
    async with kernel.db.read() as session:
        shelf = await kernel.service("inventory").available(session, [shop.sku_id], store)
    assert shelf[shop.sku_id] == 2  # reserved from the store's own shelf
