"""Per guide and per store, per day: members added, orders, GMV, refunds.

Kept incrementally: each binding, payment and refund adds to one row per holder and day (of
the brand's calendar), through a conditional UPDATE, or an INSERT when the day's row does not
exist yet (a collision with a concurrent first insert falls back to the UPDATE). Reports sum a
period's rows; nothing ever scans orders.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from components.guide_attribution.models import DailyFigure
from core.errors import DomainError
from core.transaction import Transaction

GUIDE, STORE = "guide", "store"
METRICS = ("members_added", "orders", "gmv_minor", "refunds_minor", "net_minor")
MAX_PERIOD_DAYS = 366
LEADERBOARD_MAX = 100


@dataclass(frozen=True)
class Figures:
    holder_kind: str
    holder_id: int
    members_added: int = 0
    orders: int = 0
    gmv_minor: int = 0
    refunds_minor: int = 0

    @property
    def net_minor(self) -> int:
        return self.gmv_minor - self.refunds_minor


def brand_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


async def bump(tx: Transaction, day: date, holders: list[tuple[str, int | None]], **deltas: int) -> None:
    """Add ``deltas`` (column → amount) to the day's row of every holder named (None skipped)."""
    for kind, holder in holders:
        if holder is None:
            continue
        where = (DailyFigure.holder_kind == kind, DailyFigure.holder_id == holder, DailyFigure.day == day)
        values = {name: getattr(DailyFigure, name) + amount for name, amount in deltas.items()}
        moved = await tx.session.execute(update(DailyFigure).where(*where).values(**values).execution_options(synchronize_session=False))
        if moved.rowcount:
            continue
        try:
            async with tx.session.begin_nested():
                start = {"members_added": 0, "orders": 0, "gmv_minor": 0, "refunds_minor": 0, **deltas}
                tx.session.add(DailyFigure(holder_kind=kind, holder_id=holder, day=day, **start))
        except IntegrityError:  # another transaction inserted the day's row first
            await tx.session.execute(update(DailyFigure).where(*where).values(**values).execution_options(synchronize_session=False))


def check_period(start: date, end: date) -> None:
    if end < start:
        raise DomainError("GUIDE_ATTRIBUTION_INVALID_PERIOD", "The period ends before it starts.", field="to")
    if (end - start).days >= MAX_PERIOD_DAYS:
        raise DomainError("GUIDE_ATTRIBUTION_INVALID_PERIOD", f"A period is at most {MAX_PERIOD_DAYS} days.", field="to")


def _totals(kind: str, start: date, end: date) -> Any:
    D = DailyFigure
    return (
        select(D.holder_id, func.sum(D.members_added), func.sum(D.orders), func.sum(D.gmv_minor), func.sum(D.refunds_minor))
        .where(D.holder_kind == kind, D.day >= start, D.day <= end)
        .group_by(D.holder_id)
    )


HOLDER = DailyFigure.holder_id  # the key a page of period figures is ordered and cut by


def period_statement(kind: str, start: date, end: date) -> Any:
    """Every holder's totals over a checked period, one row per holder (``figures_of`` reads a row)."""
    check_period(start, end)
    return _totals(kind, start, end)


def figures_of(kind: str, row: Any) -> Figures:
    return _figures(kind, row)


def _figures(kind: str, row: Any) -> Figures:
    return Figures(kind, int(row[0]), int(row[1] or 0), int(row[2] or 0), int(row[3] or 0), int(row[4] or 0))


async def of_holder(session: Any, kind: str, holder: int, start: date, end: date) -> Figures:
    check_period(start, end)
    row = (await session.execute(_totals(kind, start, end).where(DailyFigure.holder_id == holder))).first()
    return _figures(kind, row) if row is not None else Figures(kind, holder)


async def leaderboard(session: Any, kind: str, metric: str, start: date, end: date, limit: int) -> list[Figures]:
    """The top holders of the period by ``metric``, ties broken by the lower id (stable ranks)."""
    check_period(start, end)
    if not 1 <= limit <= LEADERBOARD_MAX:
        raise DomainError("KERNEL_INVALID_INPUT", f"A leaderboard has 1 to {LEADERBOARD_MAX} places.", field="first")
    D = DailyFigure
    column = {
        "members_added": func.sum(D.members_added),
        "orders": func.sum(D.orders),
        "gmv_minor": func.sum(D.gmv_minor),
        "refunds_minor": func.sum(D.refunds_minor),
        "net_minor": func.sum(D.gmv_minor) - func.sum(D.refunds_minor),
    }[metric]
    rows = (await session.execute(_totals(kind, start, end).order_by(column.desc(), D.holder_id).limit(limit))).all()
    return [_figures(kind, r) for r in rows]


async def holders_who_added(session: Any, start: date, end: date) -> set[int]:
    D = DailyFigure
    rows = await session.scalars(select(D.holder_id).where(D.holder_kind == GUIDE, D.day >= start, D.day <= end, D.members_added > 0).distinct())
    return set(rows.all())
