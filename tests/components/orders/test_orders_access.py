"""Who sees which orders, malformed ids, and the demo orders a sandbox starts with."""

from __future__ import annotations

from conftest import hire
from sqlalchemy import func, select

from components.orders.models import Order, Payment, Refund
from core.gql.relay import to_global_id
from core.testing import member, staff

CREATE = """
mutation($lines: [OrderLineInput!]!, $delivery: DeliveryType!, $store: Int) {
  createOrder(input: {lines: $lines, deliveryType: $delivery, storeId: $store}) {
    order { id } userErrors { code field }
  }
}"""
LIST = """query($f: OrderFilter) { orders(filter: $f) { edges { node { id deliveryType storeId member { nickname } } } } }"""


async def count(kernel, model) -> int:
    async with kernel.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(model)))


async def test_a_store_is_named_only_by_a_pickup_order_at_a_store_that_exists(shop_factory, graphql):
    shop = await shop_factory()  # no store_pickup: this brand offers no pickup at all
    buyer = graphql(shop.kernel, member(1))
    line = [{"skuId": shop.sku, "quantity": 1}]
    before = await count(shop.kernel, Order)
    routed = await buyer.mutate(CREATE, lines=line, delivery="SHIPPING", store=1)
    assert routed == {"order": None, "userErrors": [{"code": "ORDERS_STORE_NOT_ALLOWED", "field": "input.storeId"}]}
    pickup = await buyer.mutate(CREATE, lines=line, delivery="PICKUP", store=1)
    assert pickup == {"order": None, "userErrors": [{"code": "ORDERS_STORE_REQUIRED", "field": "input.deliveryType"}]}
    assert await count(shop.kernel, Order) == before


async def with_stores(shop_factory, names=("One", "Two")):
    from conftest import SHOP

    shop = await shop_factory(blueprint=SHOP + "  store_pickup: {}\n")
    async with shop.kernel.transaction() as tx:
        for name in names:
            await shop.kernel.service("store_pickup").create_store(tx, name=name, latitude=31.2, longitude=121.4)
    return shop


async def test_store_clerks_see_their_stores_orders_and_admins_see_all(shop_factory, graphql):
    shop = await with_stores(shop_factory)
    buyer = graphql(shop.kernel, member(1))
    line = [{"skuId": shop.sku, "quantity": 1}]
    shipped = (await buyer.mutate(CREATE, lines=line, delivery="SHIPPING", store=None))["order"]["id"]
    at_one = (await buyer.mutate(CREATE, lines=line, delivery="PICKUP", store=1))["order"]["id"]
    at_two = (await graphql(shop.kernel, member(2)).mutate(CREATE, lines=line, delivery="PICKUP", store=2))["order"]["id"]
    no_store = await buyer.mutate(CREATE, lines=line, delivery="PICKUP", store=None)
    assert no_store == {"order": None, "userErrors": [{"code": "ORDERS_STORE_REQUIRED", "field": "input.pickup.storeId"}]}
    missing = await buyer.mutate(CREATE, lines=line, delivery="PICKUP", store=99)
    assert missing["userErrors"][0]["code"] == "STORE_PICKUP_UNKNOWN_STORE"

    admin = graphql(shop.kernel, staff(1, "admin"))
    listing = (await admin.data(LIST))["orders"]["edges"]
    assert [e["node"]["id"] for e in listing] == [at_two, at_one, shipped]  # newest first
    assert listing[0]["node"]["member"] == {"nickname": "m2"}  # staff who may view members see who ordered
    filtered = await admin.data(LIST, f={"storeId": 1})
    assert [e["node"]["id"] for e in filtered["orders"]["edges"]] == [at_one]
    by_member = await admin.data(LIST, f={"memberId": to_global_id("Member", 2), "status": "PENDING_PAYMENT"})
    assert [e["node"]["id"] for e in by_member["orders"]["edges"]] == [at_two]
    assert (await admin.data(LIST, f={"kind": "group_buy"}))["orders"]["edges"] == []

    clerk = graphql(shop.kernel, await hire(shop.kernel, "store_clerk", stores=(1,)))
    mine = (await clerk.data(LIST))["orders"]["edges"]
    assert [e["node"]["id"] for e in mine] == [at_one]
    assert mine[0]["node"]["member"] is None  # clerks lack members.view
    one = "query($id: ID!) { order(id: $id) { id } node(id: $id) { id } }"
    assert (await clerk.data(one, id=at_one)) == {"order": {"id": at_one}, "node": {"id": at_one}}
    assert (await clerk.data(one, id=at_two)) == {"order": None, "node": None}
    assert (await clerk.data(one, id=shipped)) == {"order": None, "node": None}

    # The member sees themself on their own order; a live host may not list orders at all.
    assert (await buyer.data("query($id: ID!) { order(id: $id) { member { nickname } } }", id=at_one))["order"]["member"] == {"nickname": "m1"}
    host = graphql(shop.kernel, await hire(shop.kernel, "live_host"))
    refused = await host.execute(LIST)
    assert refused["errors"][0]["extensions"]["code"] == "KERNEL_FORBIDDEN"
    assert (await host.data(one, id=at_one)) == {"order": None, "node": None}

    # Fulfilment by a clerk: only at their own store, and a pickup only against the customer's
    # code (confirmPickup), never by marking the order fulfilled.
    admin_pay = """mutation($id: ID!) { payOrder(input: {orderId: $id}) { payment { id } } }"""
    settle = """mutation($id: ID!) { sandboxSettlePayment(input: {paymentId: $id}) { order { status } } }"""
    for order_id in (at_one, at_two):
        await admin.mutate(settle, id=(await admin.mutate(admin_pay, id=order_id))["payment"]["id"])
    fulfil = "mutation($id: ID!) { fulfilOrder(input: {orderId: $id}) { order { status } userErrors { code } } }"
    assert (await clerk.mutate(fulfil, id=at_two)) == {"order": None, "userErrors": [{"code": "KERNEL_NOT_FOUND"}]}
    assert (await clerk.mutate(fulfil, id=at_one)) == {"order": None, "userErrors": [{"code": "ORDERS_FULFILMENT_BLOCKED"}]}


async def test_malformed_and_foreign_ids_are_typed_errors_and_write_nothing(shop_factory, graphql):
    shop = await shop_factory()
    buyer, admin = graphql(shop.kernel, member(1)), graphql(shop.kernel, staff(1, "admin"))
    order = (await buyer.mutate(CREATE, lines=[{"skuId": shop.sku, "quantity": 1}], delivery="SHIPPING"))["order"]["id"]
    before = (await count(shop.kernel, Order), await count(shop.kernel, Payment), await count(shop.kernel, Refund))

    pay = "mutation($id: ID!) { payOrder(input: {orderId: $id}) { payment { id } userErrors { code field } } }"
    for bad in ("garbage", shop.sku, to_global_id("Order", "x1"), to_global_id("Order", "9" * 30)):
        assert (await buyer.mutate(pay, id=bad))["userErrors"] == [{"code": "KERNEL_INVALID_ID", "field": "input.orderId"}], bad
    missing = await buyer.mutate(pay, id=to_global_id("Order", 999))
    assert missing["userErrors"] == [{"code": "KERNEL_NOT_FOUND", "field": "input.orderId"}]
    unknown_provider = await buyer.mutate(
        'mutation($id: ID!) { payOrder(input: {orderId: $id, provider: "alipay"}) { payment { id } userErrors { code field } } }', id=order)
    assert unknown_provider["userErrors"] == [{"code": "ORDERS_UNKNOWN_PROVIDER", "field": "input.provider"}]

    settle = "mutation($id: ID!) { sandboxSettlePayment(input: {paymentId: $id}) { order { id } userErrors { code field } } }"
    for bad in ("abc", "-1", "9" * 40):
        assert (await buyer.mutate(settle, id=bad))["userErrors"] == [{"code": "KERNEL_INVALID_ID", "field": "input.paymentId"}], bad
    assert (await buyer.mutate(settle, id="12345"))["userErrors"] == [{"code": "KERNEL_NOT_FOUND", "field": "input.paymentId"}]

    refund = """mutation($id: ID!, $lines: [RefundLineInput!]) {
      refundOrder(input: {orderId: $id, lines: $lines}) { order { id } userErrors { code field } } }"""
    # Garbage is not an OrderLine's global id (a bare number is still read, for one release).
    assert (await admin.mutate(refund, id=order, lines=[{"lineId": "x", "quantity": 1}]))["userErrors"] == [
        {"code": "KERNEL_INVALID_ID", "field": "input.lines[0].lineId"}]
    assert (await admin.mutate(refund, id=order, lines=[{"lineId": to_global_id("Order", 1), "quantity": 1}]))["userErrors"] == [
        {"code": "KERNEL_INVALID_ID", "field": "input.lines[0].lineId"}]

    query = await buyer.execute("query { order(id: \"not-an-id\") { id } }")
    assert query["data"] == {"order": None} and query["errors"][0]["extensions"]["code"] == "KERNEL_INVALID_ID"
    long_key = await buyer.mutate(
        'mutation($sku: ID!, $k: String) { createOrder(input: {lines: [{skuId: $sku, quantity: 1}], idempotencyKey: $k}) { order { id } userErrors { code field } } }',
        sku=shop.sku, k="k" * 201)
    assert long_key["userErrors"] == [{"code": "KERNEL_INVALID_INPUT", "field": "idempotencyKey"}]
    assert (await count(shop.kernel, Order), await count(shop.kernel, Payment), await count(shop.kernel, Refund)) == before
    assert await shop.available() == 49


DEMO = """\
dougong: 1
brand: {slug: demo, name: Demo, currency: CNY, timezone: Asia/Shanghai}
components:
  orders: {}
"""


async def test_demo_seed_gives_members_orders_in_several_states(kernel_factory, graphql):
    kernel = await kernel_factory(DEMO, seed_demo=True)
    async with kernel.db.read() as session:
        rows = (await session.execute(select(Order.member_id, Order.status).order_by(Order.id))).all()
    assert len(rows) >= 3
    assert {"pending_payment", "paid", "completed"} <= {status for _, status in rows}
    # Each demo member sees their own demo orders, through GraphQL like a frontend.
    for member_id, status in rows:
        mine = await graphql(kernel, member(member_id)).data("{ myOrders { edges { node { status total { amountMinor } } } } }")
        statuses = [e["node"]["status"] for e in mine["myOrders"]["edges"]]
        assert status.upper() in statuses
        assert all(e["node"]["total"]["amountMinor"] > 0 for e in mine["myOrders"]["edges"])
    assert await kernel.seed_demo() is False  # once per database
