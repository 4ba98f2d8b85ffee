"""Issue 28: a rate limit is one atomic count-and-record, also when attempts race.

40 wrong pickup codes from one clerk at once, on PostgreSQL (where transactions really run
side by side): exactly the clerk's budget of 10 is tried, every other attempt is refused as
rate limited, and every attempt is recorded. SQLite runs the same test (its writers queue).
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

import components.store_pickup as store_pickup_package
from core.errors import DomainError
from core.testing import staff
from registry.discovery import InstalledComponent

BLUEPRINT = """\
dougong: 1
brand: {slug: racing, name: Racing, currency: CNY, timezone: Asia/Shanghai}
components:
  store_pickup: {rate_limit: {per_clerk: 10, per_store: 30}}
"""
INSTALLED = [InstalledComponent(store_pickup_package.manifest, "components.store_pickup", None)]
ATTEMPTS = 40


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_forty_concurrent_wrong_codes_try_exactly_the_budget(kernel_factory, database):
    from components.store_pickup.models import Attempt

    kernel = await kernel_factory(BLUEPRINT, database=database, installed=INSTALLED)
    service = kernel.service("store_pickup")
    async with kernel.transaction() as tx:
        store = await service.create_store(tx, name="Jing'an", latitude=31.2235, longitude=121.4453)
        clerk = await kernel.service("members").create_staff(tx, name="clerk", roles=("store_clerk",), store_ids=(store,))
    actor = staff(clerk, "store_clerk", stores=(store,))

    async def guess(n: int) -> str:
        try:
            await service.verify(actor, store_id=store, code=f"{n:08d}")
        except DomainError as refused:
            return refused.code
        return "accepted"

    codes = await asyncio.gather(*[guess(n) for n in range(ATTEMPTS)])
    assert codes.count("STORE_PICKUP_WRONG_CODE") == 10, sorted(codes)
    assert codes.count("STORE_PICKUP_RATE_LIMITED") == ATTEMPTS - 10
    async with kernel.db.read() as session:
        recorded = dict((await session.execute(select(Attempt.outcome, func.count()).group_by(Attempt.outcome))).all())
    assert recorded == {"refused": 10, "rate_limited": ATTEMPTS - 10}
