"""A unit of work: one database transaction plus what must happen because it committed.

Services receive a :class:`Transaction` and do everything through it: queries via
``tx.session``, events via ``tx.emit``, live messages via ``tx.publish``, timers via
``tx.schedule``. Nothing reaches another component or a subscriber unless the transaction
commits — a rolled-back order never announces itself.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import DomainError
from core.models import EventRow, IdempotencyRow, TimerRow

if TYPE_CHECKING:  # pragma: no cover
    from core.kernel import Kernel

log = logging.getLogger("dougong.transaction")


def _lock_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(f"dougong:tx:{name}".encode()).digest()[:8], "big", signed=True)


@dataclass(frozen=True)
class Event:
    id: int
    name: str
    payload: dict[str, Any]
    created_at: datetime


class Transaction:
    def __init__(self, kernel: Kernel, session: AsyncSession) -> None:
        self.kernel = kernel
        self.session = session
        self._events: list[Event] = []
        self._messages: list[tuple[str, dict[str, Any]]] = []
        self._callbacks: list[Callable[[], Awaitable[None]]] = []

    def now(self) -> datetime:
        return self.kernel.clock.now()

    # -- events ------------------------------------------------------------------------------
    async def emit(self, name: str, payload: dict[str, Any]) -> Event:
        """Record a domain event. In-transaction handlers run now; the rest after commit."""
        if name not in self.kernel.contributions.events:
            raise LookupError(f"event {name!r} was emitted but no loaded component declared it (dougong_events)")
        handlers = self.kernel.contributions.handlers.get(name, ())
        later = any(not h.in_transaction for h in handlers)
        # With nobody listening after commit, the event is delivered when it commits: stamping
        # it here saves every such mutation a second write transaction for the bookkeeping.
        row = EventRow(name=name, payload=payload, created_at=self.now(), attempts=0, delivered_at=None if later else self.now())
        self.session.add(row)
        await self.session.flush()
        event = Event(row.id, name, payload, row.created_at)
        for handler in handlers:
            if handler.in_transaction:
                await handler.handler(self, event)
        if later:
            self._events.append(event)
        return event

    def publish(self, channel: str, message: dict[str, Any]) -> None:
        """Send a live message (subscriptions) once the transaction has committed."""
        self._messages.append((channel, message))

    def after_commit(self, callback: Callable[[], Awaitable[None]]) -> None:
        self._callbacks.append(callback)

    # -- timers ------------------------------------------------------------------------------
    async def schedule(self, job: str, key: str, due_at: datetime, payload: dict[str, Any] | None = None) -> None:
        """Run ``job`` at ``due_at``. Scheduling the same ``(job, key)`` again moves it."""
        if job not in self.kernel.contributions.jobs:
            raise LookupError(f"no component declared the job {job!r}")
        existing = await self.session.scalar(select(TimerRow).where(TimerRow.job == job, TimerRow.key == key))
        if existing is None:
            self.session.add(TimerRow(job=job, key=key, due_at=due_at, payload=payload or {}, state="pending", attempts=0))
        else:
            existing.due_at = due_at
            existing.payload = payload or {}
            existing.state = "pending"
            existing.attempts = 0
        await self.session.flush()

    async def lock_timer(self, job: str, key: str) -> None:
        """Lock a timer's row (PostgreSQL; SQLite's single writer serialises anyway) before the
        rows its job locks, when this transaction may move the timer.

        A running timer holds its row while its job waits for the job's rows (an auction's close
        waits for the lot). A transaction that took such a row first and then moves the timer
        (a late bid extending the lot) would wait for the timer's row: a deadlock. Taking the
        timer's row first puts both in the same order; the job then re-checks what it acts on."""
        if self.kernel.db.is_postgresql:
            await self.session.execute(select(TimerRow.id).where(TimerRow.job == job, TimerRow.key == key).with_for_update())

    async def cancel_timer(self, job: str, key: str) -> None:
        """Cancel a pending timer — unless it is running right now in another transaction.

        A running timer holds its row's lock while its job waits for the rows the job needs
        (a payment timeout waits for the order). A transaction that holds such a row and then
        cancels the timer (the payment itself) would wait for the timer's row: a deadlock on
        PostgreSQL. So a locked timer row is skipped, not waited for: the running job re-checks
        the state it acts on (every job does) and finds nothing left to do."""
        pending = select(TimerRow.id).where(TimerRow.job == job, TimerRow.key == key, TimerRow.state == "pending")
        if self.kernel.db.is_postgresql:
            pending = pending.with_for_update(skip_locked=True)
        await self.session.execute(update(TimerRow).where(TimerRow.id.in_(pending)).values(state="cancelled"))

    # -- serialising a count-and-record -------------------------------------------------------
    async def serialize(self, *names: str) -> None:
        """Hold named locks until this transaction ends, so that a rate limit's count and the
        row that records the attempt are one atomic step.

        Without it, on PostgreSQL, 40 concurrent wrong pickup codes each counted the refusals
        committed so far (fewer than 10), and 19 were tried against a limit of 10. With it the
        next attempt counts only once the previous one has committed. Transaction-scoped
        advisory locks, taken in a fixed order (no deadlock between two callers that share
        names). SQLite needs nothing: its write transactions already run one at a time.
        """
        if not self.kernel.db.is_postgresql:
            return
        from sqlalchemy import text

        for key in sorted({_lock_key(name) for name in names}):
            await self.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})

    # -- idempotency ---------------------------------------------------------------------------
    async def replay(self, scope: str, actor: str, key: str | None, request: Any) -> dict[str, Any] | None:
        """Claim an idempotency key; return the first result if this is a replay.

        Call before doing the work, and :meth:`remember` the result after. ``request`` is the
        input; a reuse of the key with a different input is refused rather than silently
        returning an unrelated result. On PostgreSQL a concurrent twin blocks on the key's row
        until the first commits, then sees its result.
        """
        if not key:
            return None
        if len(key) > 200:
            raise DomainError("KERNEL_INVALID_INPUT", "idempotencyKey is longer than 200 characters", field="idempotencyKey")
        fingerprint = hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()
        for _ in range(2):
            row = await self.session.get(IdempotencyRow, (scope, actor, key))
            if row is not None:
                if row.fingerprint != fingerprint:
                    raise DomainError(
                        "KERNEL_IDEMPOTENCY_CONFLICT",
                        "This idempotencyKey was already used for a different request.",
                        field="idempotencyKey",
                    )
                return row.result
            try:
                async with self.session.begin_nested():
                    self.session.add(IdempotencyRow(scope=scope, actor=actor, key=key, fingerprint=fingerprint, created_at=self.now()))
                return None
            except IntegrityError:
                continue  # a twin committed first: read its result
        raise RuntimeError("idempotency key could be neither claimed nor read")

    async def remember(self, scope: str, actor: str, key: str | None, result: dict[str, Any]) -> None:
        if not key:
            return
        await self.session.execute(
            update(IdempotencyRow)
            .where(IdempotencyRow.scope == scope, IdempotencyRow.actor == actor, IdempotencyRow.key == key)
            .values(result=result)
        )

    # -- after commit --------------------------------------------------------------------------
    async def _committed(self) -> None:
        """What follows a commit. None of it may fail the write's answer: the write is done.
        Undelivered events stay in the outbox for the worker's sweep; live messages are best
        effort."""
        for channel, message in self._messages:
            await _quietly(self.kernel.broadcast.publish(channel, message), f"publish to {channel}")
        if self._events:
            await _quietly(self.kernel.events.deliver(self._events), "after-commit event delivery")
        for callback in self._callbacks:
            await _quietly(callback(), "after-commit callback")


async def _quietly(step: Awaitable[None], what: str) -> None:
    try:
        await step
    except Exception:  # noqa: BLE001 - logged; the committed write must still be answered
        log.exception("%s failed after commit; the write itself is committed", what)
