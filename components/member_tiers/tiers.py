"""Tier moves: raised at once by growth, lowered only by the review timer.

Each member above the first tier has one pending review timer (``member_tiers.review``) due
``review_period`` after they reached their tier; at the review the growth earned in the last
period decides (:func:`~components.member_tiers.rules.reviewed_tier`), and the next
review is one period later. A raise moves the timer: a new tier gets a whole period.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from components.member_tiers.models import Account, Entry
from components.member_tiers.rules import growth_after_downgrade, reviewed_tier
from core.clock import as_utc
from core.transaction import Transaction

REVIEW_JOB = "member_tiers.review"
TIER_CHANGED = "member_tiers.tier_changed"


def review_key(member_id: int, due: Any) -> str:
    """One timer row per review: a review that schedules the next one runs inside its own
    timer, whose row is marked done when the job returns, so the next needs a row of its own."""
    return f"{member_id}@{due.isoformat()}"


class Tiers:
    kernel: Any

    async def move_tier(self, tx: Transaction, account: Account, target: int, *, cause: str) -> None:
        before = account.tier
        if account.review_at is not None:
            await tx.cancel_timer(REVIEW_JOB, review_key(account.member_id, as_utc(account.review_at)))
        account.tier, account.tier_since = target, tx.now()
        account.review_at = None if target == 0 else tx.now() + self.review_period
        if account.review_at is not None:
            await self._schedule_review(tx, account)
        await tx.session.flush()
        await tx.emit(
            TIER_CHANGED,
            {
                "memberId": account.member_id,
                "fromTier": self.tiers[before].code,
                "toTier": self.tiers[target].code,
                "direction": "up" if target > before else "down",
                "growth": account.growth,
                "cause": cause,
            },
        )

    async def _schedule_review(self, tx: Transaction, account: Account) -> None:
        await tx.schedule(REVIEW_JOB, review_key(account.member_id, account.review_at), account.review_at, {"memberId": account.member_id})

    async def window_growth(self, tx: Transaction, member_id: int, until: Any) -> int:
        """Net growth the member earned in the period ending ``until`` (payments less their
        refunds and staff corrections; a review's own trim does not count)."""
        return int(
            await tx.session.scalar(
                select(func.coalesce(func.sum(Entry.delta), 0)).where(
                    Entry.member_id == member_id, Entry.reason != "review", Entry.created_at >= until - self.review_period, Entry.created_at <= until
                )
            )
        )

    async def on_review_due(self, tx: Transaction, timer: Any) -> None:
        await self.review(tx, int(timer.payload["memberId"]))

    async def review(self, tx: Transaction, member_id: int) -> int:
        """Keep or lower the member's tier by the keep rules; returns the tier after."""
        account = await self.lock_account(tx, member_id)
        now = tx.now()
        if account.tier == 0 or account.review_at is None:
            return account.tier
        due = as_utc(account.review_at)
        if due > now:  # moved by a raise meanwhile: the timer row carries the new time
            return account.tier
        earned = await self.window_growth(tx, member_id, due)
        kept = reviewed_tier(account.tier, earned, self.tiers)
        if kept == account.tier:
            account.review_at = due + self.review_period
            await self._schedule_review(tx, account)
            return kept
        trimmed = growth_after_downgrade(account.growth, kept, self.tiers)
        if trimmed != account.growth:
            await self.write(
                tx,
                account,
                trimmed - account.growth,
                reason="review",
                key=f"review:{member_id}:{due.isoformat()}",
                note=f"review: {earned} growth in the period, kept {self.tiers[kept].code}",
            )
        await self.move_tier(tx, account, kept, cause="review")
        return kept
