"""Redemptions through the one checkout: a line naming pointsMallItemId, previewed without
writing, placed with the redemption written before the zero-total order is paid."""

from __future__ import annotations

import importlib

from core.gql.relay import to_global_id
from core.testing import member
from points_mall_helpers import admin_of, check_invariant, counts, grant, make_item

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
