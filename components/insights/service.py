"""The insights service: events in, aggregates kept, a rebuild for backfill, figures out.

Events are handled after commit (at least once): a handler does not trust its payload's
numbers but asks the orders history for the order's payment and refunds, and applies them
through the ledger, which counts each exactly once. The rebuild reads the same history for
a range of days, so the two can never disagree about what a day holds.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Mapping

from components.insights import rules
from components.insights.ledger import Ledger, insert_for
from components.insights.models import Joined, JoinedFact
from core.transaction import Transaction

REBUILD_JOB = "insights.rebuild"
PAGE = 1000


class InsightsService:
    def __init__(self, kernel: Any, settings: Mapping[str, Any]) -> None:
        self.kernel = kernel
        self.max_period_days = int(settings.get("max_period_days", 366))
        self.ledger = Ledger(kernel)

    def history(self) -> Any:
        return self.kernel.service("orders.history")

    def period(self, first: date, last: date) -> rules.Period:
        return rules.check_period(first, last, self.max_period_days)

    # -- events (after commit, idempotent through the ledger's facts) ------------------------------
    async def on_order_paid(self, kernel: Any, event: Any) -> None:
        async with kernel.transaction() as tx:
            paid = await self.history().paid_orders(tx.session, order_ids=[int(event.payload["orderId"])])
            await self.ledger.apply(tx, paid, [])

    async def on_order_refunded(self, kernel: Any, event: Any) -> None:
        # Every refund of the order, not only this event's: one missed earlier is caught up,
        # one counted already is skipped by its fact.
        async with kernel.transaction() as tx:
            refunds = await self.history().refunds(tx.session, order_ids=[int(event.payload["orderId"])])
            await self.ledger.apply(tx, [], refunds)

    async def on_member_registered(self, kernel: Any, event: Any) -> None:
        member_id = int(event.payload["memberId"])
        async with kernel.transaction() as tx:
            day = rules.local_day(event.created_at, self.ledger.zone)
            counted = (
                await tx.session.execute(
                    insert_for(tx, JoinedFact)
                    .values(member_id=member_id, day=day)
                    .on_conflict_do_nothing(index_elements=["member_id"])
                    .returning(JoinedFact.member_id)
                )
            ).scalar()
            if counted is None:
                return
            stmt = insert_for(tx, Joined).values(day=day, members=1)
            await tx.session.execute(stmt.on_conflict_do_update(index_elements=["day"], set_={"members": Joined.__table__.c.members + 1}))

    # -- rebuild (backfill) -------------------------------------------------------------------------
    async def rebuild(self, tx: Transaction, first: date, last: date) -> dict[str, int]:
        """Recompute brand days first..last from the orders history, in one transaction.

        Idempotent: the days' facts and daily rows are dropped and applied again, then every
        customer who had or has a fact in those days is recomputed from all their facts."""
        if last < first:
            rules.check_period(first, last, 10**6)
        start, end = rules.day_bounds(first, last, self.ledger.zone)
        members = await self.ledger.forget(tx, first, last)
        history, counts = self.history(), {"orders": 0, "refunds": 0, "customers": 0}
        after = 0
        while page := await history.paid_orders(tx.session, paid_from=start, paid_before=end, after_id=after, limit=PAGE):
            members |= await self.ledger.apply(tx, page, [], customers=False)
            counts["orders"] += len(page)
            after = page[-1]["orderId"]
        after = 0
        while page := await history.refunds(tx.session, refunded_from=start, refunded_before=end, after_id=after, limit=PAGE):
            members |= await self.ledger.apply(tx, [], page, customers=False)
            counts["refunds"] += sum(1 for r in page if r["lines"])
            after = page[-1]["refundId"]
        await self.ledger.recompute_customers(tx, sorted(members))
        counts["customers"] = len(members)
        return counts

    async def schedule_rebuild(self, tx: Transaction, first: date, last: date) -> None:
        """Rebuild these days on the worker, soon (the same range asked twice runs once)."""
        if last < first:
            rules.check_period(first, last, 10**6)
        await tx.schedule(REBUILD_JOB, f"{first.isoformat()}..{last.isoformat()}", tx.now(), {"from": first.isoformat(), "to": last.isoformat()})

    async def on_rebuild_timer(self, tx: Transaction, timer: Any) -> None:
        await self.rebuild(tx, date.fromisoformat(timer.payload["from"]), date.fromisoformat(timer.payload["to"]))

    # -- figures --------------------------------------------------------------------------------------
    async def reach(self, session: Any) -> dict[str, int | None]:
        counts: dict[str, int | None] = dict(await self.kernel.service("members.reach").counts(session))
        # notifications is not a dependency: a brand without it has no subscription channel.
        counts["subscribed"] = (
            await self.kernel.service("notifications").subscribed_members(session) if self.kernel.has_component("notifications") else None
        )
        return counts
