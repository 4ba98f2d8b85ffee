"""The demo's seeded orders show up in its insights, counted once by the seeding rebuild and
the events that follow it."""

from __future__ import annotations

from insights_helpers import BLUEPRINT, figures
from sqlalchemy import func, select

from components.orders.models import Order


async def test_the_demo_orders_are_in_the_demo_insights(kernel_factory, graphql):
    kernel = await kernel_factory(BLUEPRINT % {"extra": ""}, seed_demo=True)
    async with kernel.db.read() as session:
        paid, gross = (await session.execute(select(func.count(Order.id), func.sum(Order.total_minor))
                                             .where(Order.paid_at.is_not(None)))).one()
    assert paid >= 2
    got = await figures(graphql, kernel, "2026-01-05", "2026-01-05")
    assert got["sales"]["orders"] == paid and got["sales"]["gross"]["amountMinor"] == gross
    assert got["customerValue"]["newCustomers"] >= 1 and got["reach"]["members"] >= 1
