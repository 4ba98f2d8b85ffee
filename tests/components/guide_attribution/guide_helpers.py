"""Shared helpers for the guide_attribution tests (not a test module)."""

from __future__ import annotations

from typing import Any

from conftest import hire, open_shop

from core.gql.relay import to_global_id
from core.testing import member, staff

BLUEPRINT = """\
dougong: 1
brand: {slug: ga, name: GA, currency: CNY, timezone: Asia/Shanghai}
components:
  guide_attribution: {binding: %(binding)s}
"""

TOUCH = """mutation($code: String!) { touchChannelCode(input: {code: $code}) {
  bound binding { guideId storeId channel protectedUntil } userErrors { code field } } }"""
MY_CODE = "{ myChannelCode { kind code qrScene } }"
MY_GUIDE = "{ myGuide { guideId channel } }"
PLACE = """mutation($sku: ID!, $n: Int!, $code: String) { placeOrder(input: {checkout: {lines: [{skuId: $sku, quantity: $n}],
  source: {shareCode: $code}}}) { order { id total { amountMinor } lines { id } guideAttribution { reason guideId sharerMemberId } }
  userErrors { code field } } }"""
FOR_CUSTOMER = """mutation($m: ID!, $sku: ID!, $key: String) { placeOrderForCustomer(input: {memberId: $m,
  lines: [{skuId: $sku, quantity: 1}], idempotencyKey: $key}) { orderId attribution { reason guideId }
  userErrors { code field } } }"""
PAY = 'mutation($id: ID!) { payOrder(input: {orderId: $id}) { payment { id } userErrors { code } } }'
SETTLE = 'mutation($id: ID!) { sandboxSettlePayment(input: {paymentId: $id}) { order { status } userErrors { code } } }'
REFUND = """mutation($id: ID!, $lines: [RefundLineInput!]) { refundOrder(input: {orderId: $id, lines: $lines}) {
  order { status } userErrors { code } } }"""
FIGURES = """query($kind: ChannelHolderKind!) { guideFigures(holderKind: $kind) { nodes { holderId membersAdded orders
  gmv { amountMinor } refunds { amountMinor } net { amountMinor } } } }"""
TRANSFER = """mutation($f: ID!, $t: ID!, $key: String) { transferGuideCustomers(input: {fromGuideId: $f, toGuideId: $t,
  idempotencyKey: $key}) { moved remaining userErrors { code field } } }"""


async def start(kernel_factory, *, binding: str = "{}", database: str = "sqlite", members: int = 6) -> tuple[Any, Any]:
    kernel = await kernel_factory(BLUEPRINT % {"binding": binding}, database=database)
    shop = await open_shop(kernel, members=members)
    return kernel, shop


async def guide(kernel: Any) -> Any:
    return await hire(kernel, "guide")


def admin() -> Any:
    return staff(1, "admin")


async def code_of(graphql: Any, kernel: Any, actor: Any) -> str:
    data = await graphql(kernel, actor).data(MY_CODE)
    return data["myChannelCode"]["code"]


async def pay(graphql: Any, kernel: Any, member_id: int, order: str) -> None:
    client = graphql(kernel, member(member_id))
    payment = await client.mutate(PAY, id=order)
    assert payment["userErrors"] == [], payment
    settled = await client.mutate(SETTLE, id=payment["payment"]["id"])
    assert settled["userErrors"] == [], settled


def gid(kind: str, pk: int) -> str:
    return to_global_id(kind, pk)
