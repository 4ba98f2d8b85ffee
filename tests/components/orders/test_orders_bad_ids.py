"""Payment and line ids spelled with non-ASCII digits ("¹" passes str.isdigit, int() refuses it)
are typed refusals, not internal errors."""

from __future__ import annotations

from core.testing import member, staff

SETTLE = """mutation($p: ID!) { sandboxSettlePayment(input: {paymentId: $p, outcome: SUCCEEDED}) {
  order { id } userErrors { code field } } }"""
REFUND = """mutation($o: ID!, $l: ID!) { refundOrder(input: {orderId: $o, lines: [{lineId: $l, quantity: 1}]}) {
  order { id } userErrors { code field } } }"""
CREATE = """mutation($sku: ID!) { createOrder(input: {lines: [{skuId: $sku, quantity: 1}]}) { order { id } userErrors { code } } }"""


async def test_settle_payment_with_superscript_digit_id_is_invalid_id(shop_factory, graphql):
    shop = await shop_factory()
    client = graphql(shop.kernel, member(1))
    for bad in ("¹", "١٢", "9" * 19):
        payload = await client.mutate(SETTLE, p=bad)
        assert payload["userErrors"] == [{"code": "KERNEL_INVALID_ID", "field": "input.paymentId"}], bad


async def test_refund_line_with_superscript_digit_id_is_invalid_id(shop_factory, graphql):
    shop = await shop_factory()
    order = (await graphql(shop.kernel, member(1)).mutate(CREATE, sku=shop.sku))["order"]["id"]
    admin = graphql(shop.kernel, staff(1, "admin"))
    payload = await admin.mutate(REFUND, o=order, l="²")  # neither a bare number nor an OrderLine's global id
    assert payload == {"order": None, "userErrors": [{"code": "KERNEL_INVALID_ID", "field": "input.lines[0].lineId"}]}
