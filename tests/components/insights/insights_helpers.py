"""Shared helpers for the insights tests (not a test module: no test_ prefix)."""

from __future__ import annotations

from typing import Any

from conftest import open_shop

from core.testing import staff

BLUEPRINT = """\
dougong: 1
brand: {slug: ins, name: Insights, currency: CNY, timezone: Asia/Shanghai}
auth: {dev_sign_in: true}
components:
  insights: {max_period_days: 92}
%(extra)s"""

INSIGHTS = """query($from: Date!, $to: Date!) { insights(period: {from: $from, to: $to}) {
  from to
  reach { members wechatConnected unionIdConnected phoneReachable subscriptionReachable newMembers days { day newMembers } }
  sales { orders gross { amountMinor } refunded { amountMinor } net { amountMinor } averageOrderValue { amountMinor }
          days { day orders gross { amountMinor } refunded { amountMinor } net { amountMinor } } }
  customerValue { newCustomers repeatCustomers repurchaseRate orders lifetimeValue { amountMinor } averageOrderValue { amountMinor } }
  referral { newCustomers referredNewCustomers rate days { day newCustomers referredNewCustomers rate } }
} }"""

GMV_BY = """query($from: Date!, $to: Date!, $d: InsightsDimension!, $first: Int, $after: String, $last: Int, $before: String) {
  insights(period: {from: $from, to: $to}) { gmvBy(dimension: $d, first: $first, after: $after, last: $last, before: $before) {
    edges { cursor node { dimension channel targetId sales { orders gross { amountMinor } refunded { amountMinor }
      net { amountMinor } days { day net { amountMinor } } } } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }"""

ADMIN = staff(1, "admin")


async def start(kernel_factory, *, extra: str = "", database: str = "sqlite", members: int = 5, price: int = 10000):
    kernel = await kernel_factory(BLUEPRINT % {"extra": extra}, database=database)
    shop = await open_shop(kernel, members=members, stock=1000, price=price)
    return kernel, shop


async def share_code(kernel: Any, member_id: int) -> str:
    async with kernel.db.read() as session:
        return await kernel.service("members.share_codes").issue_for_member(session, member_id)


async def buy(kernel: Any, member_id: int, sku_id: int, quantity: int = 1, *, source: dict | None = None,
              pay: bool = True) -> int:
    """Place an order (and pay it): the events reach insights after commit."""
    orders = kernel.service("orders")
    async with kernel.transaction() as tx:
        order_id = await orders.create_order(tx, member_id=member_id, lines=[(sku_id, quantity)], source=source or {})
    if pay:
        async with kernel.transaction() as tx:
            total = (await orders.get(tx, order_id)).total_minor
            await orders.mark_paid(tx, order_id, provider="sandbox", provider_ref=f"t-{order_id}", amount_minor=total)
    return order_id


async def refund_units(kernel: Any, order_id: int, units: int) -> int:
    orders = kernel.service("orders")
    async with kernel.transaction() as tx:
        line = (await orders.lines(tx, order_id))[0]
        return await orders.refund(tx, order_id, lines=[(line.id, units)], reason="test")


async def figures(graphql: Any, kernel: Any, first: str, last: str) -> dict[str, Any]:
    return (await graphql(kernel, ADMIN).data(INSIGHTS, {"from": first, "to": last}))["insights"]


async def table_rows(kernel: Any) -> dict[str, list[tuple]]:
    """Every aggregate row, to compare two ways of computing them."""
    from sqlalchemy import select

    from components.insights.models import Customer, Daily

    async with kernel.db.read() as session:
        daily = (await session.execute(select(Daily.day, Daily.dimension, Daily.ref, Daily.orders, Daily.gross_minor,
                                              Daily.refunded_minor).order_by(Daily.day, Daily.dimension, Daily.ref))).all()
        customers = (await session.execute(select(
            Customer.member_id, Customer.first_order_id, Customer.first_day, Customer.referrer_member_id, Customer.orders,
            Customer.paid_minor, Customer.refunded_minor).order_by(Customer.member_id))).all()
    return {"daily": [tuple(r) for r in daily], "customers": [tuple(r) for r in customers]}
