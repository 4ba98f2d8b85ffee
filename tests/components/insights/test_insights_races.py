"""Payments and duplicate deliveries racing into the same day rows and customer rows, on
SQLite and PostgreSQL: every payment is counted once, none is lost."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from insights_helpers import buy, start, table_rows

BOTH = pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)


async def _pay(kernel, order_id: int) -> None:
    orders = kernel.service("orders")
    async with kernel.transaction() as tx:
        total = (await orders.get(tx, order_id)).total_minor
        await orders.mark_paid(tx, order_id, provider="sandbox", provider_ref=f"race-{order_id}", amount_minor=total)


@BOTH
async def test_30_payments_of_10_members_at_once(kernel_factory, database, clock):
    kernel, shop = await start(kernel_factory, database=database, members=10, price=1234)
    orders = [await buy(kernel, 1 + n % 10, shop.sku_id, 1 + n % 3, pay=False) for n in range(30)]
    await asyncio.gather(*(_pay(kernel, order_id) for order_id in orders))
    # And every payment's event delivered twice more, all at once (a worker's sweep racing the first delivery).
    service = kernel.service("insights")
    again = [SimpleNamespace(payload={"orderId": o}, created_at=clock.now(), id=0) for o in orders]
    await asyncio.gather(*(service.on_order_paid(kernel, e) for e in again + again))
    rows = await table_rows(kernel)
    gross = sum(1234 * (1 + n % 3) for n in range(30))
    assert [r for r in rows["daily"] if r[1] == "ALL"] == [(rows["daily"][0][0], "ALL", "", 30, gross, 0)]
    customers = {r[0]: r for r in rows["customers"]}
    assert sorted(customers) == list(range(1, 11))
    for m in range(1, 11):
        mine = [n for n in range(30) if 1 + n % 10 == m]
        assert customers[m][4] == 3 and customers[m][5] == sum(1234 * (1 + n % 3) for n in mine)
        assert customers[m][1] == min(orders[n] for n in mine)  # the first order: paid at the same instant, lowest id
