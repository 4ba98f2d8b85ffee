"""Shared helpers for the member_tiers tests (not a test module: no test_ prefix)."""

from __future__ import annotations

from typing import Any

from conftest import open_shop
from sqlalchemy import func, select

from components.member_tiers.models import Account, Entry
from core.testing import member, staff

BLUEPRINT = """\
dougong: 1
brand: {slug: mt, name: MT, currency: CNY, timezone: Asia/Shanghai}
components:
  member_tiers:
    growth_per_yuan: 1
    review_period: 30d
    tiers:
      - {code: member, name: 会员, threshold: 0}
      - {code: silver, name: 白银, threshold: 100, keep: 50, discount_percent: 5, points_percent: 150}
      - {code: gold, name: 黄金, threshold: 300, keep: 200, discount_percent: 10, points_percent: 200}
    terms:
      - {code: svip, name: SVIP 月卡, price: "19.00", days: 30, discount_percent: 20, points_percent: 300}
%(extra)s"""

PLACE = """mutation($input: CheckoutInput!, $key: String) { placeOrder(input: {checkout: $input, idempotencyKey: $key}) {
  order { id kind status total { amountMinor } lines { id total { amountMinor } adjustments { component stage label amount { amountMinor } } } }
  userErrors { code field message details } } }"""
PREVIEW = """query($input: CheckoutInput!) { previewCheckout(input: $input) {
  preview { total { amountMinor } lines { total { amountMinor } adjustments { component stage label amount { amountMinor } } } }
  userErrors { code field message } } }"""
PAY = 'mutation($id: ID!) { payOrder(input: {orderId: $id}) { payment { id } userErrors { code } } }'
SETTLE = 'mutation($id: ID!) { sandboxSettlePayment(input: {paymentId: $id}) { order { status } userErrors { code } } }'
CANCEL = 'mutation($id: ID!) { cancelOrder(input: {orderId: $id}) { order { status } userErrors { code } } }'
REFUND = """mutation($id: ID!, $lines: [RefundLineInput!]) { refundOrder(input: {orderId: $id, lines: $lines}) {
  order { status } userErrors { code } } }"""
MINE = """{ myMemberTier { tier { code level } growth nextTier { code } growthToNext progressPercent reviewAt
  discountPercent pointsPercent paidTerm { term { code } expiresAt } } }"""
LEDGER = "{ myGrowthLedger(first: 100) { nodes { delta growthAfter reason note order { id } } } }"
BUY = """mutation($code: String!, $key: String) { buyMembershipTerm(input: {termCode: $code, idempotencyKey: $key}) {
  order { id kind status total { amountMinor } lines { id } } userErrors { code field message } } }"""
ADJUST = """mutation($m: ID!, $d: Int!, $r: String!, $key: String) {
  adjustMemberGrowth(input: {memberId: $m, delta: $d, reason: $r, idempotencyKey: $key}) {
    status { tier { code } growth } entry { delta reason note } userErrors { code field message details } } }"""


async def start(kernel_factory, *, extra: str = "", database: str = "sqlite", members: int = 5, stock: int = 500,
                price: int = 10000):
    kernel = await kernel_factory(BLUEPRINT % {"extra": extra}, database=database)
    shop = await open_shop(kernel, members=members, stock=stock, price=price)
    return kernel, shop


def buyer(graphql, kernel, member_id: int = 1):
    return graphql(kernel, member(member_id))


def admin(graphql, kernel):
    return graphql(kernel, staff(1, "admin"))


async def pay(client, order_id: str) -> None:
    payment = await client.mutate(PAY, id=order_id)
    assert payment["userErrors"] == [], payment
    settled = await client.mutate(SETTLE, id=payment["payment"]["id"])
    assert settled["userErrors"] == [], settled


async def buy_paid(client, sku: str, quantity: int = 1, *, lines: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    placed = await client.mutate(PLACE, input={"lines": lines or [{"skuId": sku, "quantity": quantity}]})
    assert placed["userErrors"] == [], placed
    await pay(client, placed["order"]["id"])
    return placed["order"]


async def ledger_invariant(kernel, member_id: int) -> int:
    """growth = the sum of the ledger entries; returns it."""
    async with kernel.db.read() as session:
        growth = int(await session.scalar(select(Account.growth).where(Account.member_id == member_id)) or 0)
        total = int(await session.scalar(select(func.coalesce(func.sum(Entry.delta), 0)).where(Entry.member_id == member_id)))
    assert growth == total, (growth, total)
    return growth
