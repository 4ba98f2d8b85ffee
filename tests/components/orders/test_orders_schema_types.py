"""The orders schema a frontend team trusts (issue 18): lines, payments, cart lines and payment
intents are nodes with global ids (inputs take them, and bare numbers for one release); store
ids are PickupStore global ids beside the deprecated Int; closed sets are enums; typed values
replace JSON; signed-in-only and staff-only root fields are null with an error, never the page."""

from __future__ import annotations

import pytest
from conftest import hire

from components.orders.checkout_types import field_values
from components.orders.client_parameters import client_parameters
from components.orders.enums import STAGE_DESCRIPTIONS, OrderKind, PriceStage, order_kind
from components.orders.models import Order
from core.gql.relay import decode_id, to_global_id
from core.pricing import STAGES
from core.testing import member

CREATE = """mutation($i: CreateOrderInput!) { createOrder(input: $i) {
  order { id kind orderKind storeId pickupStoreId lines { id title } } userErrors { code field } } }"""
PAY = """mutation($id: ID!) { payOrder(input: {orderId: $id}) {
  payment { id status paymentStatus } clientParameters { provider sandbox providerRef timeStamp paySign } userErrors { code } } }"""
SETTLE = "mutation($id: ID!) { sandboxSettlePayment(input: {paymentId: $id}) { order { status } userErrors { code field } } }"
NODE = """query($id: ID!) { node(id: $id) { id
  ... on OrderLine { title quantity order { id } }
  ... on OrderPayment { paymentStatus order { id } } } }"""
REQUEST = """mutation($i: RequestRefundInput!) { requestRefund(input: $i) {
  request { requestedLines { lineId quantity line { id title } } } userErrors { code field } } }"""
ORDERS = """query($f: OrderFilter) { orders(filter: $f) { nodes { id } } }"""


def test_price_stages_are_the_kernels_list_each_described():
    assert [stage.value for stage in PriceStage] == [*STAGES, "apportioned"]
    assert set(STAGE_DESCRIPTIONS) == set(STAGES) and all(STAGE_DESCRIPTIONS.values())


def test_a_kind_the_enum_does_not_list_reads_other():
    assert order_kind("group_buy") is OrderKind.GROUP_BUY
    assert order_kind("raffle") is OrderKind.OTHER


def test_cart_line_inputs_flatten_to_one_typed_value_each():
    found = field_values({"liveRoomId": "TGl2ZVJvb206MQ", "groupBuy": {"offerId": "b2Zm", "shareCode": None}, "tags": [1, 2]})
    assert [(v.field, v.value) for v in found] == [("liveRoomId", "TGl2ZVJvb206MQ"), ("groupBuy.offerId", "b2Zm"), ("tags", "1"), ("tags", "2")]


def test_wechat_pay_request_payment_parameters_arrive_typed():
    # The dict components/wechat_pay/signing.request_payment returns.
    sent = {"appId": "wx1", "timeStamp": "1700000000", "nonceStr": "n", "package": "prepay_id=p", "signType": "RSA", "paySign": "s"}
    typed = client_parameters("wechat_pay", sent)
    assert (typed.time_stamp, typed.nonce_str, typed.package, typed.sign_type, typed.pay_sign) == ("1700000000", "n", "prepay_id=p", "RSA", "s")
    assert typed.provider == "wechat_pay" and typed.sandbox is None and client_parameters("x", None) is None


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_lines_and_payments_are_nodes_that_inputs_take_by_global_id_or_bare_number(shop_factory, graphql, database):
    shop = await shop_factory(database=database)
    buyer, stranger = graphql(shop.kernel, member(1)), graphql(shop.kernel, member(2))
    viewer = graphql(shop.kernel, await hire(shop.kernel, "admin"))
    order = (await buyer.mutate(CREATE, i={"lines": [{"skuId": shop.sku, "quantity": 3}]}))["order"]
    assert (order["kind"], order["orderKind"], order["storeId"], order["pickupStoreId"]) == ("plain", "PLAIN", None, None)
    line = order["lines"][0]
    assert decode_id(line["id"], "OrderLine") > 0

    paying = await buyer.mutate(PAY, id=order["id"])
    payment = paying["payment"]
    assert (payment["status"], payment["paymentStatus"]) == ("pending", "PENDING") and decode_id(payment["id"], "OrderPayment") > 0
    params = paying["clientParameters"]
    assert params["provider"] == "sandbox" and params["sandbox"] is True and params["providerRef"] and params["paySign"] is None

    # node(id) with the order's visibility: its member and staff with orders.view, nobody else.
    for node_id in (line["id"], payment["id"]):
        assert (await buyer.data(NODE, id=node_id))["node"]["order"]["id"] == order["id"]
        assert (await viewer.data(NODE, id=node_id))["node"]["id"] == node_id
        assert (await stranger.data(NODE, id=node_id))["node"] is None

    # sandboxSettlePayment: another type's id is a typed error; the global id settles.
    wrong = await buyer.mutate(SETTLE, id=line["id"])
    assert wrong["userErrors"] == [{"code": "KERNEL_INVALID_ID", "field": "input.paymentId"}]
    assert (await buyer.mutate(SETTLE, id=payment["id"]))["order"]["status"] == "PAID"
    assert (await buyer.data(NODE, id=payment["id"]))["node"]["paymentStatus"] == "SUCCEEDED"

    # requestRefund: the line's global id works, and (one release) its bare number does too.
    request = {"orderId": order["id"], "kind": "REFUND_ONLY", "reason": "too much", "lines": [{"lineId": line["id"], "quantity": 1}]}
    asked = (await buyer.mutate(REQUEST, i=request))["request"]["requestedLines"]
    assert asked == [{"lineId": line["id"], "quantity": 1, "line": {"id": line["id"], "title": line["title"]}}]
    bare = str(decode_id(line["id"], "OrderLine"))
    again = await buyer.mutate(REQUEST, i={**request, "lines": [{"lineId": bare, "quantity": 1}]})
    assert again["userErrors"] == [{"code": "ORDERS_REFUND_REQUEST_OPEN", "field": "input.lines[0].lineId"}]  # read as the same line

    # A keyed refund retried with the other id form is the same request: answered once, refunded once.
    admin = graphql(shop.kernel, await hire(shop.kernel, "admin"))
    refund = """mutation($i: RefundOrderInput!) { refundOrder(input: $i) { order { refunded { amountMinor } } userErrors { code } } }"""
    keyed = {"orderId": order["id"], "lines": [{"lineId": line["id"], "quantity": 1}], "idempotencyKey": "r-1"}
    first = await admin.mutate(refund, i=keyed)
    retried = await admin.mutate(refund, i={**keyed, "lines": [{"lineId": bare, "quantity": 1}]})
    assert first == retried and first["userErrors"] == [] and first["order"]["refunded"]["amountMinor"] == 10000


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_pickup_store_ids_are_global_ids_and_the_int_alias_still_works(shop_factory, graphql, database):
    shop = await shop_factory(database=database)
    buyer, admin = graphql(shop.kernel, member(1)), graphql(shop.kernel, await hire(shop.kernel, "admin"))
    lines = [{"skuId": shop.sku, "quantity": 1}]
    store = to_global_id("PickupStore", 7)

    both = await buyer.mutate(CREATE, i={"lines": lines, "deliveryType": "PICKUP", "storeId": 7, "pickupStoreId": store})
    assert both["userErrors"] == [{"code": "KERNEL_INVALID_INPUT", "field": "input.storeId"}]
    shipping = await buyer.mutate(CREATE, i={"lines": lines, "pickupStoreId": store})
    assert shipping["userErrors"] == [{"code": "ORDERS_STORE_NOT_ALLOWED", "field": "input.pickupStoreId"}]
    wrong = await buyer.mutate(CREATE, i={"lines": lines, "deliveryType": "PICKUP", "pickupStoreId": to_global_id("Sku", 7)})
    assert wrong["userErrors"] == [{"code": "KERNEL_INVALID_ID", "field": "input.pickupStoreId"}]
    assert await shop.count(Order) == 0

    # An order that moved to store 7 (as an auction's winner choosing pickup does) shows both forms.
    order = (await buyer.mutate(CREATE, i={"lines": lines}))["order"]
    async with shop.kernel.transaction() as tx:
        assert await shop.kernel.service("orders").set_delivery(tx, decode_id(order["id"], "Order"), delivery_type="pickup", store_id=7)
    seen = (await buyer.data("query($id: ID!) { order(id: $id) { storeId pickupStoreId } }", id=order["id"]))["order"]
    assert seen == {"storeId": 7, "pickupStoreId": store}

    by_new = (await admin.data(ORDERS, f={"pickupStoreId": store}))["orders"]["nodes"]
    by_old = (await admin.data(ORDERS, f={"storeId": 7}))["orders"]["nodes"]
    assert by_new == by_old == [{"id": order["id"]}]
    assert (await admin.data(ORDERS, f={"pickupStoreId": to_global_id("PickupStore", 8)}))["orders"]["nodes"] == []
    assert (await admin.data(ORDERS, f={"orderKind": "PLAIN"}))["orders"]["nodes"] == [{"id": order["id"]}]
    assert (await admin.data(ORDERS, f={"orderKind": "OTHER"}))["orders"]["nodes"] == []
    refused = await admin.execute(ORDERS, f={"storeId": 7, "pickupStoreId": store})
    assert refused["data"] == {"orders": None} and refused["errors"][0]["extensions"]["code"] == "KERNEL_INVALID_INPUT"


async def test_a_refused_root_field_is_null_with_an_error_at_its_path_not_the_page(shop_factory, graphql):
    shop = await shop_factory()
    await graphql(shop.kernel, member(1)).mutate(CREATE, i={"lines": [{"skuId": shop.sku, "quantity": 1}]})
    anonymous = await graphql(shop.kernel).execute("{ myOrders { nodes { id } } myCart { lines { id } } orders { nodes { id } } brand { name } }")
    assert anonymous["data"] == {"myOrders": None, "myCart": None, "orders": None, "brand": {"name": "Shop"}}
    assert sorted(e["path"][0] for e in anonymous["errors"]) == ["myCart", "myOrders", "orders"]
    assert {e["extensions"]["code"] for e in anonymous["errors"]} == {"KERNEL_UNAUTHENTICATED"}
    member_asks_staff = await graphql(shop.kernel, member(1)).execute("{ orders { nodes { id } } myOrders { nodes { id } } }")
    assert member_asks_staff["data"]["orders"] is None and len(member_asks_staff["data"]["myOrders"]["nodes"]) == 1


async def test_my_orders_pages_backwards_with_last_and_before(shop_factory, graphql):
    shop = await shop_factory()
    buyer = graphql(shop.kernel, member(1))
    ids = [(await buyer.mutate(CREATE, i={"lines": [{"skuId": shop.sku, "quantity": 1}]}))["order"]["id"] for _ in range(3)]
    page = "query($l: Int, $b: String) { myOrders(last: $l, before: $b) { nodes { id } pageInfo { hasPreviousPage startCursor } } }"
    tail = (await buyer.data(page, l=2))["myOrders"]
    assert [n["id"] for n in tail["nodes"]] == [ids[1], ids[0]] and tail["pageInfo"]["hasPreviousPage"] is True  # newest first
    head = (await buyer.data(page, l=2, b=tail["pageInfo"]["startCursor"]))["myOrders"]
    assert [n["id"] for n in head["nodes"]] == [ids[2]]


async def test_cart_lines_are_nodes_and_take_their_global_id(shop_factory, graphql):
    shop = await shop_factory()
    buyer = graphql(shop.kernel, member(1))
    add = "mutation($s: ID!) { addCartLine(input: {line: {skuId: $s, quantity: 1}}) { cart { lines { id checkoutFields { field } } } } }"
    line = (await buyer.mutate(add, s=shop.sku))["cart"]["lines"][0]
    assert line["checkoutFields"] == [] and decode_id(line["id"], "CartLine") > 0
    update = "mutation($id: ID!, $q: Int!) { updateCartLine(input: {lineId: $id, quantity: $q}) { cart { lines { quantity } } userErrors { code } } }"
    assert (await buyer.mutate(update, id=line["id"], q=4))["cart"]["lines"] == [{"quantity": 4}]
    assert (await buyer.mutate(update, id=str(decode_id(line["id"], "CartLine")), q=2))["cart"]["lines"] == [{"quantity": 2}]
    assert (await buyer.mutate(update, id=to_global_id("OrderLine", 1), q=2))["userErrors"] == [{"code": "KERNEL_INVALID_ID"}]
    assert (await graphql(shop.kernel, member(2)).data(NODE, id=line["id"]))["node"] is None


async def test_a_refused_share_credit_reads_as_an_enum(shop_factory, graphql):
    shop = await shop_factory()
    buyer = graphql(shop.kernel, member(1))
    own_code = (await buyer.data("{ myShareCode }"))["myShareCode"]
    place = """mutation($sku: ID!, $source: OrderSourceInput) { placeOrder(input: {checkout: {lines: [{skuId: $sku, quantity: 1}],
      source: $source}}) { order { source { creditRefused creditRefusal } } userErrors { code } } }"""
    own = await buyer.mutate(place, sku=shop.sku, source={"shareCode": own_code})
    assert own["order"]["source"] == {"creditRefused": "SELF_SHARE", "creditRefusal": "SELF_SHARE"}
    plain = await buyer.mutate(place, sku=shop.sku)
    assert plain["order"]["source"] == {"creditRefused": None, "creditRefusal": None}


async def test_payment_intents_are_nodes_of_their_payer_and_settle_by_global_id(shop_factory, graphql):
    shop = await shop_factory()
    async with shop.kernel.transaction() as tx:
        intent, _ = await shop.kernel.service("orders").intents.create(
            tx, member_id=1, amount_minor=5000, purpose="deposits.hold", reference="lot:9", description="保证金"
        )
    node_id = to_global_id("PaymentIntent", intent.id)
    show = "query($id: ID!) { node(id: $id) { ... on PaymentIntent { id status paymentStatus amount { amountMinor } } } }"
    assert (await graphql(shop.kernel, member(1)).data(show, id=node_id))["node"] == {
        "id": node_id, "status": "pending", "paymentStatus": "PENDING", "amount": {"amountMinor": 5000}}
    assert (await graphql(shop.kernel, member(2)).data(show, id=node_id))["node"] is None
    assert (await graphql(shop.kernel, await hire(shop.kernel, "admin")).data(show, id=node_id))["node"]["id"] == node_id
    settle = """mutation($id: ID!) { sandboxSettlePaymentIntent(input: {intentId: $id, outcome: FAILED}) {
      paymentIntent { id paymentStatus } userErrors { code field } } }"""
    wrong = await graphql(shop.kernel, member(1)).mutate(settle, id=to_global_id("OrderPayment", intent.id))
    assert wrong["userErrors"] == [{"code": "KERNEL_INVALID_ID", "field": "input.intentId"}]
    failed = await graphql(shop.kernel, member(1)).mutate(settle, id=node_id)
    assert failed == {"paymentIntent": {"id": node_id, "paymentStatus": "FAILED"}, "userErrors": []}
