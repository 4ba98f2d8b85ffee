"""Durable timers: rows in ``kernel_timer``, claimed by a worker, run exactly once.

Each due timer runs in its own transaction that re-reads the row (``FOR UPDATE SKIP LOCKED``
on PostgreSQL; SQLite's single writer serialises it), runs the job and marks the row done. The
job's effects and the ``done`` mark commit together, so a crash mid-job leaves the timer
pending and a second worker never runs it twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from core.models import TimerRow

if TYPE_CHECKING:  # pragma: no cover
    from core.kernel import Kernel

log = logging.getLogger("dougong.timers")

MAX_ATTEMPTS = 5
RECURRING_KEY = "recurring"


@dataclass(frozen=True)
class Timer:
    job: str
    key: str
    due_at: datetime
    payload: dict[str, Any]
    attempts: int


class TimerService:
    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel

    async def ensure_recurring(self) -> None:
        """Give every recurring job a pending row (idempotent, safe from several workers)."""
        recurring = [job for job in self.kernel.contributions.jobs.values() if job.every_seconds is not None]
        if not recurring:
            return
        # Workers booting together would both find no row and both insert (a unique violation).
        async with self.kernel.db.exclusive("recurring-timers"):
            for job in recurring:
                await self._ensure(job)

    async def _ensure(self, job: Any) -> None:
        async with self.kernel.transaction() as tx:
            existing = await tx.session.scalar(select(TimerRow).where(TimerRow.job == job.name, TimerRow.key == RECURRING_KEY))
            if existing is None:
                await tx.schedule(job.name, RECURRING_KEY, tx.now() + timedelta(seconds=job.every_seconds))

    async def run_due(self, limit: int = 100) -> int:
        """Run every timer due by the kernel clock; returns how many ran successfully."""
        now = self.kernel.clock.now()
        async with self.kernel.db.read() as session:
            due = (
                await session.scalars(
                    select(TimerRow.id).where(TimerRow.state == "pending", TimerRow.due_at <= now).order_by(TimerRow.due_at, TimerRow.id).limit(limit)
                )
            ).all()
        ran = 0
        for timer_id in due:
            ran += await self._run_one(timer_id)
        return ran

    async def _run_one(self, timer_id: int) -> int:
        kernel = self.kernel
        error: str | None = None
        try:
            async with kernel.transaction() as tx:
                stmt = select(TimerRow).where(TimerRow.id == timer_id, TimerRow.state == "pending")
                if kernel.db.is_postgresql:
                    stmt = stmt.with_for_update(skip_locked=True)
                row = await tx.session.scalar(stmt)
                if row is None or row.due_at.replace(tzinfo=None) > tx.now().replace(tzinfo=None):
                    return 0  # another worker took it, or it was moved later meanwhile
                job = kernel.contributions.jobs.get(row.job)
                if job is None:
                    row.state = "failed"
                    row.last_error = f"no loaded component declares job {row.job!r}"
                    return 0
                timer = Timer(row.job, row.key, row.due_at, dict(row.payload or {}), row.attempts)
                await job.handler(tx, timer)
                if job.every_seconds is not None:
                    row.due_at = tx.now() + timedelta(seconds=job.every_seconds)
                else:
                    row.state = "done"
                    row.done_at = tx.now()
                return 1
        except Exception as exc:
            log.exception("timer %s failed", timer_id)
            error = repr(exc)
        # The job's transaction rolled back; record the failure in a fresh one and back off.
        async with kernel.transaction() as tx:
            row = await tx.session.get(TimerRow, timer_id)
            if row is not None and row.state == "pending":
                row.attempts += 1
                row.last_error = (error or "")[:2000]
                if row.attempts >= MAX_ATTEMPTS:
                    row.state = "failed"
                else:
                    row.due_at = tx.now() + timedelta(seconds=2**row.attempts)
        return 0
