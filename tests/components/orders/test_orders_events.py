"""What other components rely on: events after commit with usable payloads, stock coming back
on cancel and per-line refund, transitions that refuse and change nothing, staff cancel,
the payment timeout on a running kernel, and the price pipeline's order-level adjustments."""

from __future__ import annotations

import importlib

from conftest import SHOP, hire, open_shop
from sqlalchemy import func, select

from components.orders.models import Order, Payment, Refund
from core.gql.relay import decode_id
from core.models import EventRow
from core.testing import member, staff

CREATE = """
mutation($lines: [OrderLineInput!]!) {
  createOrder(input: {lines: $lines}) {
    order { id status total { amountMinor } lines { id quantity total { amountMinor } } }
    userErrors { code field message details }
  }
}"""
PAY = 'mutation($id: ID!) { payOrder(input: {orderId: $id}) { payment { id } userErrors { code } } }'
SETTLE = """mutation($id: ID!, $o: PaymentOutcome!) {
  sandboxSettlePayment(input: {paymentId: $id, outcome: $o}) { order { status } userErrors { code } } }"""
MOVE = "mutation($id: ID!) { %s(input: {orderId: $id}) { order { status } userErrors { code details } } }"
REFUND = """mutation($id: ID!, $lines: [RefundLineInput!]) {
  refundOrder(input: {orderId: $id, lines: $lines}) { order { status refunded { amountMinor } } userErrors { code field } } }"""
ORDER_EVENTS = ("order.created", "order.paid", "order.cancelled", "order.refunded", "order.fulfilled", "order.completed")

# An inline component that listens to every order event after commit, and reads the order's
# status back from a fresh session: had it run before commit, it would not see the change.
SPY = """
    from sqlalchemy import select
    from core.hookspecs import hookimpl

    SEEN = []

    async def spy(kernel, event):
        from components.orders.models import Order

        async with kernel.db.read() as session:
            status = await session.scalar(select(Order.status).where(Order.id == event.payload["orderId"]))
        SEEN.append((event.name, event.payload, status))

    @hookimpl
    def dougong_event_handlers(registrar):
        for name in %r:
            registrar.on(name, spy)
""" % (ORDER_EVENTS,)


async def spy_shop(kernel_factory, make_component):
    spy = make_component("spy", depends={"orders": ""}, hooks=SPY)
    kernel = await kernel_factory(SHOP.replace("  orders: {}\n", "  orders: {}\n  spy: {}\n"), installed=[spy])
    seen = importlib.import_module(f"{spy.module}.hooks").SEEN
    return await open_shop(kernel), seen


async def place(client, lines):
    payload = await client.mutate(CREATE, lines=lines)
    assert payload["userErrors"] == [], payload
    return payload["order"]


async def pay(client, order_id, outcome="SUCCEEDED"):
    payment = (await client.mutate(PAY, id=order_id))["payment"]["id"]
    return await client.mutate(SETTLE, id=payment, o=outcome)


async def count(kernel, model, *where) -> int:
    async with kernel.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)))


async def test_events_are_delivered_once_after_commit_with_lines_and_amounts(kernel_factory, make_component, graphql):
    shop, seen = await spy_shop(kernel_factory, make_component)
    buyer, admin = graphql(shop.kernel, member(1)), graphql(shop.kernel, staff(1, "admin"))
    from core.gql.relay import to_global_id

    order = await place(buyer, [{"skuId": shop.sku, "quantity": 2}, {"skuId": to_global_id("Sku", shop.second_sku_id), "quantity": 3}])
    assert order["total"]["amountMinor"] == 2 * 10000 + 3 * 20000
    created = [e for e in seen if e[0] == "order.created"]
    assert len(created) == 1 and created[0][2] == "pending_payment"

    await pay(buyer, order["id"], "FAILED")
    assert [e[0] for e in seen] == ["order.created"]  # a failed attempt announces nothing
    assert (await pay(buyer, order["id"]))["order"]["status"] == "PAID"
    paid = [e for e in seen if e[0] == "order.paid"]
    assert len(paid) == 1
    name, payload, status_seen = paid[0]
    assert status_seen == "paid"  # the handler ran after the commit
    assert payload["memberId"] == 1 and payload["kind"] == "plain" and payload["totalMinor"] == 80000
    assert payload["provider"] == "sandbox" and payload["currency"] == "CNY"
    assert [(l["skuId"], l["quantity"]) for l in payload["lines"]] == [(shop.sku_id, 2), (shop.second_sku_id, 3)]

    # Per-line refund: one unit of the second line; only that SKU's stock comes back.
    second_line = order["lines"][1]["id"]
    partial = await admin.mutate(REFUND, id=order["id"], lines=[{"lineId": second_line, "quantity": 1}])
    assert partial == {"order": {"status": "PAID", "refunded": {"amountMinor": 20000}}, "userErrors": []}
    assert await shop.available(shop.sku_id) == 48
    assert await shop.available(shop.second_sku_id) == 48
    refunded = [e for e in seen if e[0] == "order.refunded"]
    assert len(refunded) == 1
    payload = refunded[0][1]
    assert payload["orderId"] == paid[0][1]["orderId"] and payload["memberId"] == 1 and payload["kind"] == "plain"
    assert payload["amountMinor"] == 20000 and payload["refundedMinor"] == 20000 and payload["full"] is False
    assert payload["lines"] == [{"lineId": decode_id(second_line, "OrderLine"), "skuId": shop.second_sku_id, "quantity": 1, "amountMinor": 20000,
                                 "restocked": 1, "activity": None}]

    # Whole refund of what is left: everything returns, the status moves, the money adds up.
    rest = await admin.mutate(REFUND, id=order["id"])
    assert rest == {"order": {"status": "REFUNDED", "refunded": {"amountMinor": 80000}}, "userErrors": []}
    assert await shop.available(shop.sku_id) == 50 and await shop.available(shop.second_sku_id) == 50
    last = [e for e in seen if e[0] == "order.refunded"][-1][1]
    assert last["full"] is True and last["amountMinor"] == 60000 and last["status"] == "refunded"
    assert sorted((l["skuId"], l["quantity"]) for l in last["lines"]) == [(shop.sku_id, 2), (shop.second_sku_id, 2)]
    assert await count(shop.kernel, Refund) == 2

    # Cancel of another order: stock back, the payload lists the lines that were held.
    other = await place(buyer, [{"skuId": shop.sku, "quantity": 4}])
    assert await shop.available() == 46
    assert (await buyer.mutate(MOVE % "cancelOrder", id=other["id"]))["order"]["status"] == "CANCELLED"
    assert await shop.available() == 50
    cancelled = [e for e in seen if e[0] == "order.cancelled"]
    assert len(cancelled) == 1 and cancelled[0][2] == "cancelled"
    payload = cancelled[0][1]
    assert payload["memberId"] == 1 and payload["totalMinor"] == 40000 and payload["reason"] == "cancelled by member"
    assert [(l["skuId"], l["quantity"]) for l in payload["lines"]] == [(shop.sku_id, 4)]
    # Every event was marked delivered in the outbox: nothing left for the worker to redo.
    assert await count(shop.kernel, EventRow, EventRow.delivered_at.is_(None)) == 0


async def test_illegal_transitions_are_refused_and_change_nothing(shop_factory, graphql):
    shop = await shop_factory()
    buyer, admin = graphql(shop.kernel, member(1)), graphql(shop.kernel, staff(1, "admin"))
    order = await place(buyer, [{"skuId": shop.sku, "quantity": 2}])

    async def snapshot():
        async with shop.kernel.db.read() as session:
            row = await session.get(Order, decode_id(order["id"], "Order"))
            return (row.status, row.paid_at, row.fulfilled_at, row.cancelled_at, row.refunded_minor,
                    await shop.available(), await count(shop.kernel, EventRow), await count(shop.kernel, Payment))

    # pending_payment: cannot be fulfilled, completed or refunded.
    before = await snapshot()
    for mutation, client in (("fulfilOrder", admin), ("completeOrder", buyer)):
        body = await client.mutate(MOVE % mutation, id=order["id"])
        assert body["userErrors"] == [{"code": "ORDERS_ILLEGAL_TRANSITION", "details": {"status": "pending_payment"}}], mutation
    refused = await admin.mutate(REFUND, id=order["id"])
    assert refused["userErrors"][0]["code"] == "ORDERS_ILLEGAL_TRANSITION"
    assert await snapshot() == before

    # paid → fulfilled, then a fulfilled order refunds whole; a refunded order is final.
    await pay(buyer, order["id"])
    assert (await admin.mutate(MOVE % "fulfilOrder", id=order["id"]))["order"]["status"] == "FULFILLED"
    assert (await admin.mutate(REFUND, id=order["id"]))["order"] == {"status": "REFUNDED", "refunded": {"amountMinor": 20000}}
    assert await shop.available() == 48  # shipped goods that never came back are not on the shelf
    before = await snapshot()
    for mutation, client in (("fulfilOrder", admin), ("completeOrder", buyer), ("cancelOrder", buyer), ("cancelOrder", admin)):
        body = await client.mutate(MOVE % mutation, id=order["id"])
        assert body["userErrors"] == [{"code": "ORDERS_ILLEGAL_TRANSITION", "details": {"status": "refunded"}}], mutation
    assert (await admin.mutate(REFUND, id=order["id"]))["userErrors"][0]["code"] == "ORDERS_ILLEGAL_TRANSITION"
    assert (await buyer.mutate(PAY, id=order["id"]))["userErrors"] == [{"code": "ORDERS_ILLEGAL_TRANSITION"}]
    assert await snapshot() == before


async def test_staff_cancel_needs_the_permission(shop_factory, graphql):
    shop = await shop_factory()
    buyer = graphql(shop.kernel, member(1))
    order = await place(buyer, [{"skuId": shop.sku, "quantity": 3}])
    host = await graphql(shop.kernel, await hire(shop.kernel, "live_host")).mutate(MOVE % "cancelOrder", id=order["id"])
    assert host["userErrors"][0]["code"] == "KERNEL_FORBIDDEN"
    assert await shop.available() == 47
    by_admin = await graphql(shop.kernel, staff(1, "admin")).mutate(
        'mutation($id: ID!) { cancelOrder(input: {orderId: $id, reason: "out of season"}) { order { status cancelReason } userErrors { code } } }',
        id=order["id"],
    )
    assert by_admin == {"order": {"status": "CANCELLED", "cancelReason": "out of season"}, "userErrors": []}
    assert await shop.available() == 50


async def test_payment_timeout_cancels_unpaid_orders_only(shop_factory, graphql, clock):
    shop = await shop_factory()
    buyer = graphql(shop.kernel, member(1))
    unpaid = await place(buyer, [{"skuId": shop.sku, "quantity": 5}])
    late_payment = (await buyer.mutate(PAY, id=unpaid["id"]))["payment"]["id"]
    paid = await place(buyer, [{"skuId": shop.sku, "quantity": 1}])
    await pay(buyer, paid["id"])
    assert await shop.available() == 44

    clock.advance(minutes=30, seconds=1)
    assert await shop.kernel.run_due() == 1  # the paid order's timer was cancelled on payment
    query = "query($id: ID!) { order(id: $id) { status cancelReason paymentDueAt } }"
    assert (await buyer.data(query, id=unpaid["id"]))["order"] == {"status": "CANCELLED", "cancelReason": "payment_timeout", "paymentDueAt": None}
    assert (await buyer.data(query, id=paid["id"]))["order"]["status"] == "PAID"
    assert await shop.available() == 49

    # The provider's callback arrives after the timeout: the money goes back, the order stays cancelled.
    late = await buyer.mutate(SETTLE, id=late_payment, o="SUCCEEDED")
    assert late == {"order": {"status": "CANCELLED"}, "userErrors": [{"code": "ORDERS_NOT_PAYABLE"}]}
    assert await count(shop.kernel, Refund) == 1
    assert await shop.available() == 49
    assert await shop.kernel.run_due() == 0


async def test_fulfilment_guard_in_the_contract_form_blocks_shipping(shop_factory, graphql):
    shop = await shop_factory()

    async def not_yet(tx, order):
        return "the group has not formed yet" if order.kind == "plain" else None

    shop.kernel.service("orders").add_fulfilment_guard(not_yet)
    buyer, admin = graphql(shop.kernel, member(1)), graphql(shop.kernel, staff(1, "admin"))
    order = await place(buyer, [{"skuId": shop.sku, "quantity": 1}])
    await pay(buyer, order["id"])
    blocked = await admin.mutate(MOVE % "fulfilOrder", id=order["id"])
    assert blocked == {"order": None, "userErrors": [{"code": "ORDERS_FULFILMENT_BLOCKED", "details": None}]}
    assert (await buyer.data("query($id: ID!) { order(id: $id) { status } }", id=order["id"]))["order"]["status"] == "PAID"


async def test_order_level_adjustments_and_kind_reach_the_pipeline(kernel_factory, make_component, graphql):
    promo = make_component("promo", depends={"orders": ""}, hooks="""
        from core.hookspecs import hookimpl

        def threshold(tx, draft):
            if draft.subtotal_minor >= 30000:
                draft.adjust(-25000, "250 off over 300")

        def delivery(tx, draft):
            if draft.delivery_type == "shipping":
                draft.adjust(800, "shipping fee")

        @hookimpl
        def dougong_price_adjusters(registrar):
            registrar.price_adjuster("delivery", delivery)
            registrar.price_adjuster("threshold", threshold)
    """)
    kernel = await kernel_factory(SHOP.replace("  orders: {}\n", "  orders: {}\n  promo: {}\n"), installed=[promo])
    shop = await open_shop(kernel)
    buyer, admin = graphql(kernel, member(1)), graphql(kernel, staff(1, "admin"))
    body = await buyer.mutate(
        """mutation($sku: ID!) { createOrder(input: {lines: [{skuId: $sku, quantity: 3}]}) {
             order { id subtotal { amountMinor } total { amountMinor } adjustmentsTotal { amountMinor }
                     orderAdjustments { component stage label amount { amountMinor } } lines { adjustments { label } } }
             userErrors { code } } }""",
        sku=shop.sku,
    )
    order = body["order"]
    assert (order["subtotal"]["amountMinor"], order["total"]["amountMinor"], order["adjustmentsTotal"]["amountMinor"]) == (30000, 5800, -24200)
    assert order["orderAdjustments"] == [
        {"component": "promo", "stage": "threshold", "label": "250 off over 300", "amount": {"amountMinor": -25000}},
        {"component": "promo", "stage": "delivery", "label": "shipping fee", "amount": {"amountMinor": 800}},
    ]
    # The order-level amounts are apportioned to the line: it carries its share and its total
    # is what was paid for it.
    assert order["lines"] == [{"adjustments": [{"label": "订单优惠/费用分摊 share of order-level adjustments"}]}]
    # Refunds never return more than was paid: one unit is "worth" 100.00 of list price, but the
    # order-level discount left only 58.00 paid for three, so one unit returns 19.33.
    await pay(buyer, order["id"])
    line_id = (await buyer.data("query($id: ID!) { order(id: $id) { lines { id } } }", id=order["id"]))["order"]["lines"][0]["id"]
    one = await admin.mutate(REFUND, id=order["id"], lines=[{"lineId": line_id, "quantity": 1}])
    assert one["order"] == {"status": "PAID", "refunded": {"amountMinor": 1933}}
    refunded = await admin.mutate(REFUND, id=order["id"])
    assert refunded["order"] == {"status": "REFUNDED", "refunded": {"amountMinor": 5800}}
    assert await shop.available() == 50
