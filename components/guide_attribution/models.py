"""guide_attribution's tables. Counters move only through conditional UPDATEs (figures.py)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base


class Binding(Base):
    """A member's guide and store (导购绑定). One row per member: the primary key is what makes
    concurrent first touches bind exactly once (the losers' inserts collide)."""

    __tablename__ = "guide_attribution_binding"
    member_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    guide_id: Mapped[int | None] = mapped_column(Integer, index=True)
    store_id: Mapped[int | None] = mapped_column(Integer, index=True)
    channel: Mapped[str] = mapped_column(String(20))  # guide_code | store_code | member_code | registration | transfer
    code: Mapped[str | None] = mapped_column(String(64))  # the channel code touched, if any
    bound_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    protected_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # None: permanent
    rebinds: Mapped[int] = mapped_column(Integer, default=0)


class Attribution(Base):
    """Who one order is credited to and why (the precedence's answer), written as it is placed."""

    __tablename__ = "guide_attribution_order"
    order_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    member_id: Mapped[int] = mapped_column(Integer, index=True)
    reason: Mapped[str] = mapped_column(String(20))  # see precedence.Reason
    guide_id: Mapped[int | None] = mapped_column(Integer, index=True)
    store_id: Mapped[int | None] = mapped_column(Integer)
    sharer_member_id: Mapped[int | None] = mapped_column(Integer)
    placed_by_staff_id: Mapped[int | None] = mapped_column(Integer)
    paid_minor: Mapped[int | None] = mapped_column(BigInteger)  # None until order.paid was counted
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RefundLine(Base):
    """A refunded line counted against the figures, keyed by the refund event: a redelivered
    ``order.refunded`` finds its rows and counts nothing twice."""

    __tablename__ = "guide_attribution_refund_line"
    event_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    line_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    order_id: Mapped[int] = mapped_column(Integer, index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)


class DailyFigure(Base):
    """One guide's or one store's figures for one day of the brand's calendar, kept as the
    events arrive so a report sums a few rows instead of scanning orders."""

    __tablename__ = "guide_attribution_daily"
    holder_kind: Mapped[str] = mapped_column(String(5), primary_key=True)  # guide | store
    holder_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    members_added: Mapped[int] = mapped_column(Integer, default=0)
    orders: Mapped[int] = mapped_column(Integer, default=0)
    gmv_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    refunds_minor: Mapped[int] = mapped_column(BigInteger, default=0)
