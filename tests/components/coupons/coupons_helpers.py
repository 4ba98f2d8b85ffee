"""Shared helpers for the coupons tests (not a test module: no test_ prefix)."""

from __future__ import annotations

from typing import Any

from conftest import open_shop
from sqlalchemy import func, select

from components.coupons.models import Coupon, Template
from components.orders.models import Order
from core.gql.relay import to_global_id
from core.testing import staff

BLUEPRINT = """\
dougong: 1
brand: {slug: cp, name: CP, currency: CNY, timezone: Asia/Shanghai}
components:
  coupons: {per_order: %(per_order)s, return_on_full_refund: %(full_refund)s}
%(extra)s"""

CNY = lambda n: {"amountMinor": n, "currency": "CNY"}  # noqa: E731

CREATE = """mutation($input: CreateCouponTemplateInput!) { createCouponTemplate(input: $input) {
  template { id title remaining issued } userErrors { code field message } } }"""
CLAIM = """mutation($t: ID!, $key: String) { claimCoupon(input: {templateId: $t, idempotencyKey: $key}) {
  coupon { id status source validUntil discount { amountMinor } } userErrors { code field message details } } }"""
PUSH = """mutation($t: ID!, $m: [ID!]!, $key: String) { pushCoupons(input: {templateId: $t, memberIds: $m, idempotencyKey: $key}) {
  issued skipped { memberId code error { code message } } userErrors { code field } } }"""
PREVIEW = """query($input: CheckoutInput!) { previewCheckout(input: $input) {
  preview { total { amountMinor } lines { index total { amountMinor } adjustments { component stage label amount { amountMinor } } }
            coupons { coupon { id } usable reason discount { amountMinor } selected } }
  userErrors { code field message details } } }"""
PLACE = """mutation($input: CheckoutInput!, $key: String) { placeOrder(input: {checkout: $input, idempotencyKey: $key}) {
  order { id status total { amountMinor } lines { id total { amountMinor } } } userErrors { code field message details } } }"""
PAY = 'mutation($id: ID!) { payOrder(input: {orderId: $id}) { payment { id } userErrors { code } } }'
SETTLE = 'mutation($id: ID!) { sandboxSettlePayment(input: {paymentId: $id}) { order { status } userErrors { code } } }'
CANCEL = 'mutation($id: ID!) { cancelOrder(input: {orderId: $id}) { order { status } userErrors { code } } }'
REFUND = """mutation($id: ID!, $lines: [RefundLineInput!]) { refundOrder(input: {orderId: $id, lines: $lines}) {
  order { status } userErrors { code } } }"""
MINE = """query($status: CouponStatus) { myCoupons(first: 50, status: $status) { nodes { id status source returnedTimes
  discount { amountMinor } template { title } order { id } } } }"""


async def start(kernel_factory, *, per_order="one", full_refund="true", extra="", database="sqlite", members=5, stock=500,
                price=10000):
    text = BLUEPRINT % {"per_order": per_order, "full_refund": full_refund, "extra": extra}
    kernel = await kernel_factory(text, database=database)
    shop = await open_shop(kernel, members=members, stock=stock, price=price)
    return kernel, shop


def admin_of(graphql, kernel):
    return graphql(kernel, staff(1, "admin"))


async def make_template(admin, **fields: Any) -> str:
    data = {"title": "¥20 off", "kind": "FIXED", "amountOff": CNY(2000), "validDays": 30, **fields}
    made = await admin.mutate(CREATE, input=data)
    assert made["userErrors"] == [], made
    return made["template"]["id"]


async def claim(client, template: str, key: str | None = None) -> dict[str, Any]:
    return await client.mutate(CLAIM, t=template, key=key)


def lines(sku: str, n: int = 1, **extra: Any) -> list[dict[str, Any]]:
    return [{"skuId": sku, "quantity": n, **extra}]


async def pay(client, order: str) -> None:
    payment = await client.mutate(PAY, id=order)
    assert payment["userErrors"] == [], payment
    settled = await client.mutate(SETTLE, id=payment["payment"]["id"])
    assert settled["userErrors"] == [], settled


async def counts(kernel) -> dict[str, int]:
    async with kernel.db.read() as session:
        return {
            "coupons": int(await session.scalar(select(func.count()).select_from(Coupon))),
            "used": int(await session.scalar(select(func.count()).select_from(Coupon).where(Coupon.status == "used"))),
            "issued": int(await session.scalar(select(func.coalesce(func.sum(Template.issued), 0)))),
            "orders": int(await session.scalar(select(func.count()).select_from(Order))),
        }


def gid(type_name: str, pk: int) -> str:
    return to_global_id(type_name, pk)
