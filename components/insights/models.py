"""The insights component's rows: facts it applied once, and the aggregates they feed.

Nothing here is read on a request but the aggregates (``Daily``, ``Joined``) and the
per-customer rows (``Customer``); the facts exist so that an event delivered twice, or a
rebuild overlapping live traffic, counts each payment and each refund exactly once.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base


class Fact(Base):
    """One payment of an order (``paid:<order>``) or one refund (``refund:<refund>``), applied once."""

    __tablename__ = "insights_fact"
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # paid | refund
    member_id: Mapped[int] = mapped_column(Integer, index=True)
    order_id: Mapped[int] = mapped_column(Integer, index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    day: Mapped[date] = mapped_column(Date, index=True)  # the brand's calendar day of ``at``
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    # paid facts: the member who brought the buyer (the order's proven sharer), else null
    referrer_member_id: Mapped[int | None] = mapped_column(Integer)


class Daily(Base):
    """Per brand day and per slice (ALL, a channel, a live room, an offer, a guide, a store)."""

    __tablename__ = "insights_daily"
    # The reads: one slice kind over a period (GMV by live room for March).
    __table_args__ = (Index("insights_daily_slice", "dimension", "day"),)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    dimension: Mapped[str] = mapped_column(String(20), primary_key=True)
    ref: Mapped[str] = mapped_column(String(80), primary_key=True)  # "" for ALL; a channel name; a global id
    orders: Mapped[int] = mapped_column(Integer, default=0)
    gross_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0)


class Customer(Base):
    """A member who paid at least once: first and last payment, counts and sums, to date."""

    __tablename__ = "insights_customer"
    member_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    first_order_id: Mapped[int | None] = mapped_column(Integer)
    first_paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    first_day: Mapped[date | None] = mapped_column(Date, index=True)
    referrer_member_id: Mapped[int | None] = mapped_column(Integer)  # who brought the first order
    last_paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    orders: Mapped[int] = mapped_column(Integer, default=0)
    paid_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0)


class Joined(Base):
    """Members who signed up on a brand day (from ``member.registered``)."""

    __tablename__ = "insights_joined"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    members: Mapped[int] = mapped_column(Integer, default=0)


class JoinedFact(Base):
    """One sign-up counted (``member.registered`` is delivered at least once)."""

    __tablename__ = "insights_joined_fact"
    member_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(Date)
