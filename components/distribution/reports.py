"""What promoters and staff read: sales, tiers and monthly targets, leaderboards.

A promoter's sales are what their level-one customers paid for lines, net of refunds:
Σ (paid_minor − refunded_minor) over their level-1 commission rows. A month is the brand's
calendar month (its timezone), as the targets are."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from components.distribution.models import Binding, Commission, Promoter, Withdrawal
from components.distribution.rules import tier_of

LEADERBOARD_MAX = 100


def month_bounds(now: datetime, tz_name: str) -> tuple[datetime, datetime]:
    """The brand-local calendar month containing ``now``, as UTC instants [start, end)."""
    tz = ZoneInfo(tz_name)
    local = now.astimezone(tz)
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
    return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


SALES = func.coalesce(func.sum(Commission.paid_minor - Commission.refunded_minor), 0)


class Reports:
    def __init__(self, service: Any) -> None:
        self.service = service

    def month(self, now: datetime) -> tuple[datetime, datetime]:
        return month_bounds(now, self.service.kernel.blueprint.brand.timezone)

    async def sales(self, session: Any, promoter_id: int, *, since: datetime | None = None, until: datetime | None = None) -> int:
        stmt = select(SALES).where(Commission.promoter_id == promoter_id, Commission.level == 1)
        if since is not None:
            stmt = stmt.where(Commission.created_at >= since)
        if until is not None:
            stmt = stmt.where(Commission.created_at < until)
        return int(await session.scalar(stmt) or 0)

    async def standing(self, session: Any, promoter: Promoter, now: datetime) -> dict[str, Any]:
        """Lifetime sales, the tier they reach, this month's sales against the tier's target."""
        lifetime = await self.sales(session, promoter.id)
        start, end = self.month(now)
        month = await self.sales(session, promoter.id, since=start, until=end)
        tier = tier_of(self.service.config.tiers, lifetime)
        target = int(tier["monthly_target_minor"]) if tier else 0
        customers = int(await session.scalar(select(func.count()).select_from(Binding).where(Binding.promoter_member_id == promoter.member_id)) or 0)
        return {
            "lifetime": lifetime,
            "month": month,
            "tier": tier["name"] if tier else None,
            "target": target,
            "reached": target > 0 and month >= target,
            "customers": customers,
        }

    async def leaderboard(self, session: Any, *, since: datetime, until: datetime, limit: int) -> list[tuple[Promoter, int]]:
        """Active promoters ranked by sales in [since, until), ties by who joined first."""
        limit = max(1, min(limit, LEADERBOARD_MAX))
        rows = (
            await session.execute(
                select(Commission.promoter_id, SALES.label("sales"))
                .where(Commission.level == 1, Commission.created_at >= since, Commission.created_at < until)
                .group_by(Commission.promoter_id)
                .order_by(SALES.desc(), Commission.promoter_id)
                .limit(limit)
            )
        ).all()
        promoters = {
            p.id: p for p in (await session.scalars(select(Promoter).where(Promoter.id.in_([r[0] for r in rows]), Promoter.status == "active"))).all()
        }
        return [(promoters[pid], int(sales)) for pid, sales in rows if pid in promoters]

    async def totals(self, session: Any) -> dict[str, int]:
        P, W = Promoter, Withdrawal
        counts = dict((await session.execute(select(P.status, func.count()).group_by(P.status))).all())
        money_row = (
            await session.execute(
                select(
                    func.coalesce(func.sum(P.frozen_minor), 0),
                    func.coalesce(func.sum(P.available_minor), 0),
                    func.coalesce(func.sum(P.withdrawn_minor), 0),
                )
            )
        ).one()
        pending = await session.scalar(select(func.coalesce(func.sum(W.amount_minor), 0)).where(W.status.in_(("requested", "paying"))))
        return {
            "active": int(counts.get("active", 0)),
            "pending": int(counts.get("pending", 0)),
            "frozen": int(money_row[0]),
            "available": int(money_row[1]),
            "withdrawn": int(money_row[2]),
            "pendingWithdrawals": int(pending or 0),
        }
