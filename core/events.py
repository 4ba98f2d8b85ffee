"""After-commit delivery of domain events, backed by the outbox table.

Delivery is at least once: an event is marked delivered only after every after-commit
handler ran; one whose handler failed, or whose process died before delivery, is delivered
again by the worker's sweep. Handlers must therefore be idempotent (check before acting).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from core.models import EventRow
from core.transaction import Event

if TYPE_CHECKING:  # pragma: no cover
    from core.kernel import Kernel

log = logging.getLogger("dougong.events")

MAX_ATTEMPTS = 5


class EventBus:
    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel

    def _after_commit_handlers(self, name: str):
        return [h for h in self.kernel.contributions.handlers.get(name, ()) if not h.in_transaction]

    async def deliver(self, events: list[Event]) -> None:
        delivered: list[int] = []
        failed: dict[int, str] = {}
        for event in events:
            error = None
            for handler in self._after_commit_handlers(event.name):
                try:
                    await handler.handler(self.kernel, event)
                except Exception as exc:  # one broken handler must not starve the others
                    log.exception("event %s #%s: handler %s failed", event.name, event.id, handler.qualname)
                    error = f"{handler.qualname}: {exc!r}"
            if error is None:
                delivered.append(event.id)
            else:
                failed[event.id] = error
        if not delivered and not failed:
            return
        async with self.kernel.transaction() as tx:
            if delivered:
                await tx.session.execute(update(EventRow).where(EventRow.id.in_(delivered)).values(delivered_at=tx.now()))
            for event_id, error in failed.items():
                await tx.session.execute(
                    update(EventRow).where(EventRow.id == event_id).values(attempts=EventRow.attempts + 1, last_error=error[:2000])
                )

    async def redeliver(self, older_than: timedelta = timedelta(seconds=30), limit: int = 100) -> int:
        """Deliver events that were committed but not (successfully) delivered."""
        cutoff = self.kernel.clock.now() - older_than
        async with self.kernel.db.read() as session:
            rows = (
                await session.scalars(
                    select(EventRow)
                    .where(EventRow.delivered_at.is_(None), EventRow.created_at <= cutoff, EventRow.attempts < MAX_ATTEMPTS)
                    .order_by(EventRow.id)
                    .limit(limit)
                )
            ).all()
        events = [Event(r.id, r.name, r.payload, r.created_at) for r in rows]
        if events:
            await self.deliver(events)
        return len(events)
