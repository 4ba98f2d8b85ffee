"""Payments and duplicate deliveries racing into the same day rows and customer rows, on
SQLite and PostgreSQL: every payment is counted once, none is lost."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from insights_helpers import start, table_rows

BOTH = pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)


async def _pay(kernel, order_id: int) -> None:
    orders = kernel.service("orders")
    async with kernel.transaction() as tx:
        total = (await orders.get(tx, order_id)).total_minor
        await orders.mark_paid(tx, order_id, provider="sandbox", provider_ref=f"race-{order_id}", amount_minor=total)


N, MEMBERS = 20, 5


@BOTH
async def test_20_payments_of_5_members_at_once_and_their_events_again(kernel_factory, database, clock):
    kernel, shop = await start(kernel_factory, database=database, members=MEMBERS, price=1234)
    async with kernel.transaction() as tx:  # placed up front in one go: the race is the payments
        orders = [await kernel.service("orders").create_order(tx, member_id=1 + n % MEMBERS, lines=[(shop.sku_id, 1 + n % 3)])
                  for n in range(N)]
    service = kernel.service("insights")
    # Each payment, and a second delivery of its event (a worker's sweep racing the first), all at once.
    again = [SimpleNamespace(payload={"orderId": o}, created_at=clock.now(), id=0) for o in orders]
    await asyncio.gather(*(_pay(kernel, order_id) for order_id in orders), *(service.on_order_paid(kernel, e) for e in again))
    rows = await table_rows(kernel)
    gross = sum(1234 * (1 + n % 3) for n in range(N))
    assert [r for r in rows["daily"] if r[1] == "ALL"] == [(rows["daily"][0][0], "ALL", "", N, gross, 0)]
    customers = {r[0]: r for r in rows["customers"]}
    assert sorted(customers) == list(range(1, MEMBERS + 1))
    for m in customers:
        mine = [n for n in range(N) if 1 + n % MEMBERS == m]
        assert customers[m][4] == len(mine) and customers[m][5] == sum(1234 * (1 + n % 3) for n in mine)
        assert customers[m][1] == min(orders[n] for n in mine)  # the first order: paid at the same instant, lowest id
