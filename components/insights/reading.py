"""Reading the aggregates: every insight query is a range read over day rows or customer rows.

Nothing here touches orders: a period of a year is at most 366 day rows per slice, and the
customer figures read the customers whose first payment fell in the period (an index range).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import case, func, select

from components.insights import rules
from components.insights.models import Customer, Daily, Joined


@dataclass(frozen=True)
class Sales:
    orders: int
    gross_minor: int
    refunded_minor: int

    @property
    def net_minor(self) -> int:
        return self.gross_minor - self.refunded_minor

    @property
    def average_order_minor(self) -> int:
        return rules.average(self.gross_minor, self.orders)


@dataclass(frozen=True)
class Cohort:
    customers: int
    referred: int
    repeat: int
    orders: int
    paid_minor: int
    refunded_minor: int


async def sales_days(session: Any, period: rules.Period, dimension: str = rules.ALL, ref: str = "") -> list[tuple[date, Sales]]:
    """One entry per day of the period (days without sales as zeros)."""
    rows = await session.execute(
        select(Daily.day, Daily.orders, Daily.gross_minor, Daily.refunded_minor).where(
            Daily.dimension == dimension, Daily.ref == ref, Daily.day.between(period.first, period.last)
        )
    )
    found = {day: Sales(int(o), int(g), int(r)) for day, o, g, r in rows.all()}
    return [(day, found.get(day, Sales(0, 0, 0))) for day in period.each_day()]


async def slice_days(session: Any, period: rules.Period, dimension: str, refs: list[str]) -> dict[str, list[tuple[date, Sales]]]:
    """:func:`sales_days` for a page of slices at once (one query, not one per slice)."""
    rows = await session.execute(
        select(Daily.ref, Daily.day, Daily.orders, Daily.gross_minor, Daily.refunded_minor).where(
            Daily.dimension == dimension, Daily.ref.in_(refs), Daily.day.between(period.first, period.last)
        )
    )
    found: dict[str, dict[date, Sales]] = {ref: {} for ref in refs}
    for ref, day, o, g, r in rows.all():
        found[ref][day] = Sales(int(o), int(g), int(r))
    zero = Sales(0, 0, 0)
    return {ref: [(day, days.get(day, zero)) for day in period.each_day()] for ref, days in found.items()}


async def sales_total(session: Any, period: rules.Period, dimension: str = rules.ALL, ref: str = "") -> Sales:
    row = (
        await session.execute(
            select(func.sum(Daily.orders), func.sum(Daily.gross_minor), func.sum(Daily.refunded_minor)).where(
                Daily.dimension == dimension, Daily.ref == ref, Daily.day.between(period.first, period.last)
            )
        )
    ).one()
    return Sales(int(row[0] or 0), int(row[1] or 0), int(row[2] or 0))


async def slices(session: Any, period: rules.Period, dimension: str, offset: int, limit: int) -> list[tuple[str, Sales]]:
    """The slices of one kind with sales in the period, largest net GMV first (then by ref)."""
    net = func.sum(Daily.gross_minor) - func.sum(Daily.refunded_minor)
    rows = await session.execute(
        select(Daily.ref, func.sum(Daily.orders), func.sum(Daily.gross_minor), func.sum(Daily.refunded_minor))
        .where(Daily.dimension == dimension, Daily.day.between(period.first, period.last))
        .group_by(Daily.ref)
        .order_by(net.desc(), Daily.ref)
        .offset(offset)
        .limit(limit)
    )
    return [(ref, Sales(int(o or 0), int(g or 0), int(r or 0))) for ref, o, g, r in rows.all()]


async def slice_count(session: Any, period: rules.Period, dimension: str) -> int:
    """How many slices of one kind have sales in the period (where a backwards page ends)."""
    refs = select(Daily.ref).where(Daily.dimension == dimension, Daily.day.between(period.first, period.last)).group_by(Daily.ref)
    return int(await session.scalar(select(func.count()).select_from(refs.subquery())) or 0)


async def cohort(session: Any, period: rules.Period) -> Cohort:
    """Customers whose first payment fell in the period, with everything they did since."""
    row = (
        await session.execute(
            select(
                func.count(Customer.member_id),
                func.count(Customer.referrer_member_id),
                func.sum(case((Customer.orders >= 2, 1), else_=0)),
                func.sum(Customer.orders),
                func.sum(Customer.paid_minor),
                func.sum(Customer.refunded_minor),
            ).where(Customer.first_day.between(period.first, period.last))
        )
    ).one()
    return Cohort(*(int(v or 0) for v in row))


async def new_customer_days(session: Any, period: rules.Period) -> list[tuple[date, int, int]]:
    """(day, new customers, of them referred) for each day of the period."""
    rows = await session.execute(
        select(Customer.first_day, func.count(Customer.member_id), func.count(Customer.referrer_member_id))
        .where(Customer.first_day.between(period.first, period.last))
        .group_by(Customer.first_day)
    )
    found = {day: (int(n), int(r)) for day, n, r in rows.all()}
    return [(day, *found.get(day, (0, 0))) for day in period.each_day()]


async def joined_days(session: Any, period: rules.Period) -> list[tuple[date, int]]:
    rows = await session.execute(select(Joined.day, Joined.members).where(Joined.day.between(period.first, period.last)))
    found = {day: int(n) for day, n in rows.all()}
    return [(day, found.get(day, 0)) for day in period.each_day()]
