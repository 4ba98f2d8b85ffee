"""Demo insights: the demo's own orders, counted by the rebuild over the last month.

The seeded orders are paid inside the seeding transaction; their events would count them
after commit anyway, and the rebuild counting them first proves the two agree (each payment
is one fact, whichever path wrote it).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from components.insights import rules


async def seed(kernel: Any, tx: Any) -> None:
    service = kernel.service("insights")
    today = rules.local_day(tx.now(), service.ledger.zone)
    await service.rebuild(tx, today - timedelta(days=30), today)
