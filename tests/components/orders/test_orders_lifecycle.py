"""An order's life through GraphQL: pay, fulfil, complete, cancel, refund, time out."""

from __future__ import annotations

from datetime import timedelta

from conftest import SHOP, hire, open_shop

from components.orders.models import Order, OrderLine, Payment
from core.testing import member, staff

CREATE = """
mutation($lines: [OrderLineInput!]!) {
  createOrder(input: {lines: $lines}) {
    order { id status total { amountMinor } lines { id quantity total { amountMinor } } }
    userErrors { code field message details }
  }
}"""
PAY = 'mutation($id: ID!) { payOrder(input: {orderId: $id}) { payment { id } userErrors { code } } }'
SETTLE = 'mutation($id: ID!, $o: PaymentOutcome!) { sandboxSettlePayment(input: {paymentId: $id, outcome: $o}) { order { status } userErrors { code } } }'
STATUS = "mutation($id: ID!) { %s(input: {orderId: $id}) { order { status } userErrors { code details } } }"


async def place(client, shop, quantity=1, sku=None):
    payload = await client.mutate(CREATE, lines=[{"skuId": sku or shop.sku, "quantity": quantity}])
    assert payload["userErrors"] == [], payload
    return payload["order"]


async def pay(client, order_id, outcome="SUCCEEDED"):
    payment = (await client.mutate(PAY, id=order_id))["payment"]["id"]
    return await client.mutate(SETTLE, id=payment, o=outcome)


async def test_paid_fulfilled_completed_and_illegal_moves(shop_factory, graphql):
    shop = await shop_factory()
    buyer, admin = graphql(shop.kernel, member(1)), graphql(shop.kernel, staff(1, "admin"))
    order = await place(buyer, shop, 2)
    assert order["status"] == "PENDING_PAYMENT" and order["total"]["amountMinor"] == 20000
    assert await shop.available() == 48

    complete_early = await buyer.mutate(STATUS % "completeOrder", id=order["id"])
    assert complete_early["userErrors"] == [{"code": "ORDERS_ILLEGAL_TRANSITION", "details": {"status": "pending_payment"}}]

    failed = await pay(buyer, order["id"], "FAILED")
    assert failed["order"]["status"] == "PENDING_PAYMENT"  # a failed payment leaves it payable
    paid = await pay(buyer, order["id"])
    assert paid == {"order": {"status": "PAID"}, "userErrors": []}
    assert await shop.available() == 48  # committed: gone from the shelf for good

    assert (await buyer.mutate(STATUS % "fulfilOrder", id=order["id"]))["userErrors"][0]["code"] == "KERNEL_FORBIDDEN"
    assert (await admin.mutate(STATUS % "fulfilOrder", id=order["id"]))["order"]["status"] == "FULFILLED"
    assert (await buyer.mutate(STATUS % "cancelOrder", id=order["id"]))["userErrors"][0]["code"] == "ORDERS_ILLEGAL_TRANSITION"
    assert (await buyer.mutate(STATUS % "completeOrder", id=order["id"]))["order"]["status"] == "COMPLETED"


async def test_replayed_payment_callback_changes_nothing(shop_factory, graphql):
    shop = await shop_factory()
    buyer = graphql(shop.kernel, member(1))
    order = await place(buyer, shop)
    payment = (await buyer.mutate(PAY, id=order["id"]))["payment"]["id"]
    seen = []

    async def on_paid(kernel, event):
        seen.append(event.payload["orderId"])

    from core.contributions import EventHandler

    shop.kernel.contributions.handlers.setdefault("order.paid", []).append(EventHandler("order.paid", "test", on_paid, False))
    assert (await buyer.mutate(SETTLE, id=payment, o="SUCCEEDED"))["order"]["status"] == "PAID"
    assert (await buyer.mutate(SETTLE, id=payment, o="SUCCEEDED"))["order"]["status"] == "PAID"
    assert len(seen) == 1  # the event went out once, after commit
    assert await shop.count(Payment) == 1
    assert await shop.available() == 49


async def test_cancel_returns_stock_and_a_late_payment_is_refunded(shop_factory, graphql):
    shop = await shop_factory()
    buyer = graphql(shop.kernel, member(1))
    order = await place(buyer, shop, 3)
    payment = (await buyer.mutate(PAY, id=order["id"]))["payment"]["id"]
    assert (await buyer.mutate(STATUS % "cancelOrder", id=order["id"]))["order"]["status"] == "CANCELLED"
    assert await shop.available() == 50
    late = await buyer.mutate(SETTLE, id=payment, o="SUCCEEDED")
    assert late["order"]["status"] == "CANCELLED"
    assert late["userErrors"] == [{"code": "ORDERS_NOT_PAYABLE"}]
    assert await shop.available() == 50


async def test_refund_whole_and_per_line_returns_stock(shop_factory, graphql):
    shop = await shop_factory()
    buyer, admin = graphql(shop.kernel, member(1)), graphql(shop.kernel, staff(1, "admin"))
    order = await place(buyer, shop, 3)
    await pay(buyer, order["id"])
    line = order["lines"][0]["id"]
    refund_doc = """mutation($id: ID!, $lines: [RefundLineInput!]) {
      refundOrder(input: {orderId: $id, lines: $lines}) { order { status refunded { amountMinor } } userErrors { code field } } }"""
    assert (await buyer.mutate(refund_doc, id=order["id"]))["userErrors"][0]["code"] == "KERNEL_FORBIDDEN"

    partial = await admin.mutate(refund_doc, id=order["id"], lines=[{"lineId": line, "quantity": 1}])
    assert partial == {"order": {"status": "PAID", "refunded": {"amountMinor": 10000}}, "userErrors": []}
    assert await shop.available() == 48
    too_many = await admin.mutate(refund_doc, id=order["id"], lines=[{"lineId": line, "quantity": 5}])
    assert too_many["userErrors"] == [{"code": "ORDERS_INVALID_QUANTITY", "field": "input.lines[0].quantity"}]
    rest = await admin.mutate(refund_doc, id=order["id"])
    assert rest == {"order": {"status": "REFUNDED", "refunded": {"amountMinor": 30000}}, "userErrors": []}
    assert await shop.available() == 50
    again = await admin.mutate(refund_doc, id=order["id"])
    assert again["userErrors"][0]["code"] == "ORDERS_ILLEGAL_TRANSITION"


async def test_payment_timeout_cancels_once_across_a_restart(kernel_factory, graphql, clock, tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'restart.sqlite'}"
    first = await kernel_factory(SHOP, database=url)
    shop = await open_shop(first)
    order = await place(graphql(first, member(1)), shop, 5)
    assert await shop.available() == 45
    await first.stop()

    second = await kernel_factory(SHOP, database=url)
    clock.advance(minutes=29)
    assert await second.run_due() == 0
    clock.advance(minutes=2)
    assert await second.run_due() == 1
    shop.kernel = second
    assert await shop.available() == 50
    body = await graphql(second, member(1)).data("query($id: ID!) { order(id: $id) { status cancelReason } }", id=order["id"])
    assert body["order"] == {"status": "CANCELLED", "cancelReason": "payment_timeout"}
    assert await second.run_due() == 0  # exactly once


async def test_price_pipeline_records_each_adjustment_in_stage_order(kernel_factory, make_component, graphql):
    promo = make_component("promo", depends={"orders": ""}, hooks="""
        from core.hookspecs import hookimpl

        def coupon(tx, draft):
            draft.lines[0].adjust(-500, "coupon: 5 off")

        async def live_price(tx, draft):
            for line in draft.lines:
                line.set_unit_price(8000, "live price")

        @hookimpl
        def dougong_price_adjusters(registrar):
            registrar.price_adjuster("coupon", coupon)
            registrar.price_adjuster("activity", live_price)
    """)
    kernel = await kernel_factory(SHOP.replace("  orders: {}\n", "  orders: {}\n  promo: {}\n"), installed=[promo])
    shop = await open_shop(kernel)
    body = await graphql(kernel, member(1)).mutate(
        """mutation($sku: ID!) { createOrder(input: {lines: [{skuId: $sku, quantity: 2}]}) {
             order { subtotal { amountMinor } total { amountMinor } adjustmentsTotal { amountMinor }
                     lines { unitPrice { amountMinor } listUnitPrice { amountMinor } total { amountMinor }
                             adjustments { component stage label amount { amountMinor } } } }
             userErrors { code } } }""",
        sku=shop.sku,
    )
    order = body["order"]
    assert order["subtotal"]["amountMinor"] == 20000
    assert order["total"]["amountMinor"] == 15500
    assert order["adjustmentsTotal"]["amountMinor"] == -4500
    line = order["lines"][0]
    assert line["unitPrice"]["amountMinor"] == 8000 and line["listUnitPrice"]["amountMinor"] == 10000
    assert line["adjustments"] == [
        {"component": "promo", "stage": "activity", "label": "live price", "amount": {"amountMinor": -4000}},
        {"component": "promo", "stage": "coupon", "label": "coupon: 5 off", "amount": {"amountMinor": -500}},
    ]


async def test_members_see_only_their_own_orders(shop_factory, graphql):
    shop = await shop_factory()
    order = await place(graphql(shop.kernel, member(1)), shop)
    query = "query($id: ID!) { order(id: $id) { id } node(id: $id) { id } }"
    assert (await graphql(shop.kernel, member(1)).data(query, id=order["id"])) == {"order": {"id": order["id"]}, "node": {"id": order["id"]}}
    assert (await graphql(shop.kernel, member(2)).data(query, id=order["id"])) == {"order": None, "node": None}
    assert (await graphql(shop.kernel).data(query, id=order["id"])) == {"order": None, "node": None}
    assert (await graphql(shop.kernel, member(2)).data("{ myOrders { edges { node { id } } } }"))["myOrders"]["edges"] == []
    stranger_cancel = await graphql(shop.kernel, member(2)).mutate(STATUS % "cancelOrder", id=order["id"])
    assert stranger_cancel["userErrors"][0]["code"] == "KERNEL_NOT_FOUND"
    listing = await graphql(shop.kernel, staff(1, "admin")).data("{ orders { edges { node { id } } } }")
    assert listing["orders"]["edges"] == [{"node": {"id": order["id"]}}]
    refused = await graphql(shop.kernel, await hire(shop.kernel, "live_host")).execute("{ orders { edges { node { id } } } }")
    assert refused["errors"][0]["extensions"]["code"] == "KERNEL_FORBIDDEN"


async def test_bad_input_is_refused_and_writes_nothing(shop_factory, graphql):
    shop = await shop_factory()
    buyer = graphql(shop.kernel, member(1))
    cases = [
        ([{"skuId": shop.sku, "quantity": 0}], "ORDERS_INVALID_QUANTITY", "input.lines[0].quantity"),
        ([{"skuId": shop.sku, "quantity": -3}], "ORDERS_INVALID_QUANTITY", "input.lines[0].quantity"),
        ([{"skuId": shop.sku, "quantity": 100000}], "ORDERS_INVALID_QUANTITY", "input.lines[0].quantity"),
        ([], "ORDERS_EMPTY", "input.lines"),
        ([{"skuId": "not-an-id", "quantity": 1}], "KERNEL_INVALID_ID", "input.lines[0].skuId"),
        ([{"skuId": "U2t1Ojk5OTk", "quantity": 1}], "ORDERS_SKU_UNAVAILABLE", "input.lines[0].skuId"),
        ([{"skuId": shop.sku, "quantity": 1}, {"skuId": shop.sku, "quantity": 60}], "INVENTORY_OUT_OF_STOCK", "input.lines[1]"),
    ]
    for lines, code, field in cases:
        payload = await buyer.mutate(CREATE, lines=lines)
        assert payload["order"] is None
        assert (payload["userErrors"][0]["code"], payload["userErrors"][0]["field"]) == (code, field), lines
    assert await shop.count(Order) == 0
    assert await shop.count(OrderLine) == 0
    assert await shop.available() == 50
    anonymous = await graphql(shop.kernel).mutate(CREATE, lines=[{"skuId": shop.sku, "quantity": 1}])
    assert anonymous["userErrors"][0]["code"] == "KERNEL_UNAUTHENTICATED"
    huge = await buyer.execute(CREATE, lines=[{"skuId": shop.sku, "quantity": 2**40}])
    assert huge["errors"] and "Int" in huge["errors"][0]["message"]  # refused by GraphQL validation, not a 500


async def test_off_sale_product_cannot_be_ordered(shop_factory, graphql):
    shop = await shop_factory()
    admin = graphql(shop.kernel, staff(1, "admin"))
    from core.gql.relay import to_global_id

    changed = await admin.mutate('mutation($id: ID!) { updateProduct(input: {id: $id, status: OFF_SALE}) { product { status } userErrors { code } } }',
                                 id=to_global_id("Product", shop.product_id))
    assert changed == {"product": {"status": "OFF_SALE"}, "userErrors": []}
    payload = await graphql(shop.kernel, member(1)).mutate(CREATE, lines=[{"skuId": shop.sku, "quantity": 1}])
    assert payload["userErrors"][0]["code"] == "ORDERS_SKU_UNAVAILABLE"
    assert timedelta(minutes=30) == shop.kernel.service("orders").payment_timeout
