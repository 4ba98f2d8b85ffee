"""Points are earned only when a refund can no longer take them back: an order's points are
pending (shown, not spendable) until its after-sale window has closed, and an order refunded
within the window never earns them — so nobody spends points of an order refunded later."""

from __future__ import annotations

import pytest
from conftest import SHOP, open_shop

from core.testing import member, staff

PLACE = """mutation($sku: ID!) { placeOrder(input: {checkout: {lines: [{skuId: $sku, quantity: 2}]}}) {
  order { id total { amountMinor } lines { id } } userErrors { code } } }"""
PAY = 'mutation($id: ID!) { payOrder(input: {orderId: $id}) { payment { id } userErrors { code } } }'
SETTLE = 'mutation($id: ID!) { sandboxSettlePayment(input: {paymentId: $id}) { order { status } userErrors { code } } }'
SHIP = """mutation($id: ID!) { shipOrder(input: {orderId: $id, carrier: "顺丰", trackingNumber: "SF1"}) {
  order { status } userErrors { code } } }"""
COMPLETE = 'mutation($id: ID!) { completeOrder(input: {orderId: $id}) { order { status } userErrors { code } } }'
POINTS = "{ myPoints { balance pending } }"
ASK = """mutation($i: RequestRefundInput!) { requestRefund(input: $i) { request { id } userErrors { code } } }"""
APPROVE = """mutation($id: ID!) { approveRefundRequest(input: {requestId: $id}) { request { status } userErrors { code } } }"""


async def bought_and_received(kernel, graphql, shop):
    buyer, admin = graphql(kernel, member(1)), graphql(kernel, staff(1, "admin"))
    order = (await buyer.mutate(PLACE, sku=shop.sku))["order"]
    await buyer.mutate(SETTLE, id=(await buyer.mutate(PAY, id=order["id"]))["payment"]["id"])
    await admin.mutate(SHIP, id=order["id"])
    await buyer.mutate(COMPLETE, id=order["id"])
    return buyer, admin, order


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_points_are_pending_until_the_after_sale_window_closes(kernel_factory, graphql, clock, database):
    kernel = await kernel_factory(SHOP.replace("  orders: {}\n", "  orders: {after_sale_window: 7d}\n  points_mall: {}\n"),
                                  database=database)
    shop = await open_shop(kernel)
    buyer, _admin, order = await bought_and_received(kernel, graphql, shop)
    assert order["total"]["amountMinor"] == 20000
    assert (await buyer.data(POINTS))["myPoints"] == {"balance": 0, "pending": 200}  # 200.00 paid, 1 point per yuan
    clock.advance(days=7, minutes=1)
    await kernel.run_due()
    await kernel.events.redeliver()
    assert (await buyer.data(POINTS))["myPoints"] == {"balance": 200, "pending": 0}


async def test_an_order_refunded_within_the_window_never_earns(kernel_factory, graphql, clock):
    kernel = await kernel_factory(SHOP.replace("  orders: {}\n", "  orders: {}\n  points_mall: {}\n"))
    shop = await open_shop(kernel)
    buyer, admin, order = await bought_and_received(kernel, graphql, shop)
    asked = await buyer.mutate(ASK, i={"orderId": order["id"], "kind": "REFUND_ONLY", "reason": "不合适",
                                       "lines": [{"lineId": order["lines"][0]["id"], "quantity": 1}]})
    await admin.mutate(APPROVE, id=asked["request"]["id"])
    assert (await buyer.data(POINTS))["myPoints"] == {"balance": 0, "pending": 100}  # half the order is left to earn
    clock.advance(days=7, minutes=1)
    await kernel.run_due()
    assert (await buyer.data(POINTS))["myPoints"] == {"balance": 100, "pending": 0}  # only what was kept earns
