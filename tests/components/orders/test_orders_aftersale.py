"""The rest of an order's life through GraphQL: an address chosen at checkout and kept as a
snapshot, shipments with tracking, confirming receipt or auto-completion, after-sale requests
(refund only, return and refund) within the window, and stock that returns only when the
goods never left or came back."""

from __future__ import annotations

import asyncio

import pytest
from conftest import SHOP, open_shop

from components.orders.models import Refund, RefundRequest
from core.testing import member, staff

ADD_ADDRESS = """mutation($i: ShippingAddressInput!) { addShippingAddress(input: $i) {
  address { id isDefault } userErrors { code field } } }"""
UPDATE_ADDRESS = """mutation($i: UpdateShippingAddressInput!) { updateShippingAddress(input: $i) {
  address { id detail } userErrors { code field } } }"""
PLACE = """mutation($c: CheckoutInput!) { placeOrder(input: {checkout: $c}) {
  order { id total { amountMinor } lines { id quantity total { amountMinor } } } userErrors { code field } } }"""
PAY = 'mutation($id: ID!) { payOrder(input: {orderId: $id}) { payment { id } userErrors { code } } }'
SETTLE = 'mutation($id: ID!) { sandboxSettlePayment(input: {paymentId: $id}) { order { status } userErrors { code } } }'
SHIP = """mutation($i: ShipOrderInput!) { shipOrder(input: $i) {
  order { status shipments { carrier trackingNumber lines } } userErrors { code field } } }"""
ORDER = """query($id: ID!) { order(id: $id) { status refunded { amountMinor }
  shippingAddress { recipient detail } shipments { trackingNumber }
  refundRequests { status } } }"""
REQUEST = """mutation($i: RequestRefundInput!) { requestRefund(input: $i) {
  request { id status kind requested { amountMinor } } userErrors { code field } } }"""
APPROVE = """mutation($i: ApproveRefundRequestInput!) { approveRefundRequest(input: $i) {
  request { status approved { amountMinor } refunded { amountMinor } } order { status refunded { amountMinor } }
  userErrors { code field } } }"""
RECEIVE = """mutation($id: ID!) { receiveReturnedGoods(input: {requestId: $id}) {
  request { status refunded { amountMinor } } userErrors { code } } }"""
REJECT = """mutation($id: ID!, $why: String!) { rejectRefundRequest(input: {requestId: $id, reason: $why}) {
  request { status note } userErrors { code field } } }"""
CANCEL = """mutation($id: ID!) { cancelRefundRequest(input: {requestId: $id}) { request { status } userErrors { code } } }"""
COMPLETE = 'mutation($id: ID!) { completeOrder(input: {orderId: $id}) { order { status } userErrors { code } } }'
HOME = {"recipient": "王小明", "phone": "13812345678", "province": "浙江省", "city": "杭州市", "district": "西湖区",
        "detail": "龙井路 1 号"}


async def bought(shop, graphql, *, quantities=(2, 1)):
    """Member 1 buys two lines to their home address and pays; returns (buyer, admin, order)."""
    buyer, admin = graphql(shop.kernel, member(1)), graphql(shop.kernel, staff(1, "admin"))
    address = (await buyer.mutate(ADD_ADDRESS, i=HOME))["address"]
    from core.gql.relay import to_global_id

    lines = [{"skuId": shop.sku, "quantity": quantities[0]},
             {"skuId": to_global_id("Sku", shop.second_sku_id), "quantity": quantities[1]}]
    order = (await buyer.mutate(PLACE, c={"lines": lines, "shippingAddressId": address["id"]}))["order"]
    payment = await buyer.mutate(PAY, id=order["id"])
    assert (await buyer.mutate(SETTLE, id=payment["payment"]["id"]))["order"]["status"] == "PAID"
    return buyer, admin, order, address


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_the_whole_life_ship_confirm_return_one_line_and_get_exactly_its_money_back(shop_factory, graphql, database,
                                                                                             clock):
    # With the points mall: points are earned on what is kept, once the after-sale window closes.
    shop = await shop_factory(database=database, blueprint=SHOP + "  points_mall: {}\n")
    buyer, admin, order, address = await bought(shop, graphql)
    first, second = order["lines"]
    assert await shop.available(shop.sku_id) == 48

    # Bad addresses are typed and add nothing.
    for field, value in (("phone", "12345"), ("recipient", " "), ("detail", "x" * 201)):
        body = await buyer.mutate(ADD_ADDRESS, i={**HOME, field: value})
        assert body["userErrors"] == [{"code": "ORDERS_INVALID_ADDRESS", "field": f"input.{field}"}]

    # Two shipments: the order stays paid until nothing is left to ship.
    part = await admin.mutate(SHIP, i={"orderId": order["id"], "carrier": "顺丰", "trackingNumber": "SF100",
                                       "lines": [{"lineId": first["id"], "quantity": 2}]})
    assert part["order"]["status"] == "PAID"
    rest = await admin.mutate(SHIP, i={"orderId": order["id"], "carrier": "顺丰", "trackingNumber": "SF101"})
    assert rest["order"]["status"] == "FULFILLED"
    assert [s["trackingNumber"] for s in rest["order"]["shipments"]] == ["SF100", "SF101"]
    again = await admin.mutate(SHIP, i={"orderId": order["id"], "carrier": "顺丰", "trackingNumber": "SF102"})
    assert again["userErrors"][0]["code"] == "ORDERS_ILLEGAL_TRANSITION"

    # The order keeps the address as it was.
    await buyer.mutate(UPDATE_ADDRESS, i={"addressId": address["id"], "detail": "新地址 9 号"})
    seen = (await buyer.data(ORDER, id=order["id"]))["order"]
    assert seen["shippingAddress"] == {"recipient": "王小明", "detail": "龙井路 1 号"}

    assert (await buyer.mutate(COMPLETE, id=order["id"]))["order"]["status"] == "COMPLETED"
    ask = {"orderId": order["id"], "kind": "RETURN_AND_REFUND", "lines": [{"lineId": first["id"], "quantity": 1}],
           "reason": "破损 damaged", "photoUrls": ["https://img.example/1.jpg"]}
    request = (await buyer.mutate(REQUEST, i=ask))["request"]
    assert request["status"] == "REQUESTED" and request["requested"]["amountMinor"] == 10000
    twice = await buyer.mutate(REQUEST, i=ask)
    assert twice["userErrors"] == [{"code": "ORDERS_REFUND_REQUEST_OPEN", "field": "input.lines[0].lineId"}]

    approved = await admin.mutate(APPROVE, i={"requestId": request["id"]})
    assert approved["request"]["status"] == "APPROVED" and approved["order"]["refunded"]["amountMinor"] == 0
    assert await shop.available(shop.sku_id) == 48  # nothing back yet: the goods are on their way
    received = await admin.mutate(RECEIVE, id=request["id"])
    assert received["request"] == {"status": "REFUNDED", "refunded": {"amountMinor": 10000}}
    assert await shop.available(shop.sku_id) == 49  # the returned unit is on the shelf again
    final = (await buyer.data(ORDER, id=order["id"]))["order"]
    assert final["status"] == "COMPLETED" and final["refunded"]["amountMinor"] == 10000
    assert final["refundRequests"] == [{"status": "REFUNDED"}]

    # Refund only of the shipped second line: money back, the goods did not come back.
    only = (await buyer.mutate(REQUEST, i={**ask, "kind": "REFUND_ONLY", "lines": [{"lineId": second["id"], "quantity": 1}]}))
    smaller = await admin.mutate(APPROVE, i={"requestId": only["request"]["id"], "amount": 5000})
    assert smaller["request"]["refunded"]["amountMinor"] == 5000
    assert await shop.available(shop.second_sku_id) == 49

    # Paid 400.00, refunded 100.00 + 50.00: 250 points pending, granted when the window closes.
    points = "{ myPoints { balance pending } }"
    assert (await buyer.data(points))["myPoints"] == {"balance": 0, "pending": 250}
    clock.advance(days=7, minutes=1)
    await shop.kernel.run_due()
    assert (await buyer.data(points))["myPoints"] == {"balance": 250, "pending": 0}


async def test_after_sale_window_rejection_and_cancellation(shop_factory, graphql, clock):
    shop = await shop_factory()
    buyer, admin, order, _ = await bought(shop, graphql)
    await admin.mutate(SHIP, i={"orderId": order["id"], "carrier": "EMS", "trackingNumber": "E1"})
    await buyer.mutate(COMPLETE, id=order["id"])
    line = order["lines"][0]["id"]
    ask = {"orderId": order["id"], "kind": "REFUND_ONLY", "lines": [{"lineId": line, "quantity": 1}], "reason": "不想要了"}
    first = (await buyer.mutate(REQUEST, i=ask))["request"]
    assert (await admin.mutate(REJECT, id=first["id"], why=" "))["userErrors"][0]["code"] == "KERNEL_INVALID_INPUT"
    assert (await admin.mutate(REJECT, id=first["id"], why="已过质检"))["request"] == {"status": "REJECTED", "note": "已过质检"}
    assert (await admin.mutate(APPROVE, i={"requestId": first["id"]}))["userErrors"][0]["code"] == "ORDERS_REQUEST_NOT_OPEN"
    second = (await buyer.mutate(REQUEST, i=ask))["request"]  # the line is free again
    assert (await buyer.mutate(CANCEL, id=second["id"]))["request"]["status"] == "CANCELLED"
    other = graphql(shop.kernel, member(2))
    assert (await other.mutate(CANCEL, id=second["id"]))["userErrors"][0]["code"] == "KERNEL_NOT_FOUND"
    clock.advance(days=8)  # past the 7-day window
    late = await buyer.mutate(REQUEST, i=ask)
    assert late["userErrors"] == [{"code": "ORDERS_AFTER_SALE_CLOSED", "field": "input.orderId"}]
    assert await shop.count(Refund) == 0


async def test_staff_refund_restocks_only_what_never_left(shop_factory, graphql):
    shop = await shop_factory()
    buyer, admin, order, _ = await bought(shop, graphql)
    refund = 'mutation($i: RefundOrderInput!) { refundOrder(input: $i) { order { status } userErrors { code } } }'
    first = order["lines"][0]["id"]
    await admin.mutate(SHIP, i={"orderId": order["id"], "carrier": "EMS", "trackingNumber": "E1",
                                "lines": [{"lineId": first, "quantity": 1}]})
    # Two units of the first line: one shipped, one not. Refunding both returns only the one at home.
    await admin.mutate(refund, i={"orderId": order["id"], "lines": [{"lineId": first, "quantity": 2}]})
    assert await shop.available(shop.sku_id) == 49
    # The second line was shipped whole and came back: with goodsReturned it is on the shelf again.
    second = order["lines"][1]["id"]
    shipped = await admin.mutate(SHIP, i={"orderId": order["id"], "carrier": "EMS", "trackingNumber": "E2"})
    assert shipped["order"]["status"] == "FULFILLED"  # the refunded units are not waited for
    await admin.mutate(refund, i={"orderId": order["id"], "lines": [{"lineId": second, "quantity": 1}], "goodsReturned": True})
    assert await shop.available(shop.second_sku_id) == 50


async def test_auto_completion_and_the_shipping_fee(kernel_factory, graphql, clock):
    kernel = await kernel_factory(SHOP.replace("  orders: {}\n",
                                               "  orders: {auto_complete_after: 3d, shipping_fee: {flat: \"8.00\", free_over: \"250.00\"}}\n"))
    shop = await open_shop(kernel)
    buyer, admin, order, _ = await bought(shop, graphql, quantities=(1, 1))
    assert order["total"]["amountMinor"] == 30000  # 300.00 of goods: over 250.00, no fee
    cheap = (await buyer.mutate(PLACE, c={"lines": [{"skuId": shop.sku, "quantity": 1}]}))["order"]
    assert cheap["total"]["amountMinor"] == 10800 and cheap["lines"][0]["total"]["amountMinor"] == 10800
    await admin.mutate(SHIP, i={"orderId": order["id"], "carrier": "EMS", "trackingNumber": "E1"})
    clock.advance(days=3, minutes=1)
    await kernel.run_due()
    assert (await buyer.data(ORDER, id=order["id"]))["order"]["status"] == "COMPLETED"


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_two_staff_approving_at_once_refund_once_and_a_request_races_a_shipment(kernel_factory, graphql, database):
    kernel = await kernel_factory(SHOP, database=database)
    shop = await open_shop(kernel)
    buyer, admin, order, _ = await bought(shop, graphql)
    line = order["lines"][0]["id"]
    request = (await buyer.mutate(REQUEST, i={"orderId": order["id"], "kind": "REFUND_ONLY",
                                              "lines": [{"lineId": line, "quantity": 2}], "reason": "重复下单"}))["request"]
    other_admin = graphql(kernel, staff(1, "admin"))
    results = await asyncio.gather(*(c.mutate(APPROVE, i={"requestId": request["id"]}) for c in (admin, other_admin, admin)))
    assert sorted(bool(r["userErrors"]) for r in results) == [False, True, True]
    assert await shop.count(Refund) == 1
    assert await shop.available(shop.sku_id) == 50  # never shipped: both units back

    # A request and a shipment of the same line race: one of them wins, both end consistent.
    second = order["lines"][1]["id"]
    ask = {"orderId": order["id"], "kind": "REFUND_ONLY", "lines": [{"lineId": second, "quantity": 1}], "reason": "x"}
    ship = {"orderId": order["id"], "carrier": "EMS", "trackingNumber": "E9", "lines": [{"lineId": second, "quantity": 1}]}
    asked, shipped = await asyncio.gather(buyer.mutate(REQUEST, i=ask), admin.mutate(SHIP, i=ship))
    assert not asked["userErrors"]  # a request may follow a shipment (refund only)
    if shipped["userErrors"]:
        assert shipped["userErrors"][0]["code"] == "ORDERS_REFUND_REQUEST_OPEN"
    async with kernel.db.read() as session:
        from sqlalchemy import func, select

        assert await session.scalar(select(func.count()).select_from(RefundRequest)) == 2
