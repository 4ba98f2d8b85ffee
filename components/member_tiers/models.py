"""The member_tiers tables. A member's growth moves only with their account row locked
(PostgreSQL ``FOR UPDATE``; SQLite's ``BEGIN IMMEDIATE`` writer queue), together with the
ledger entry that explains it, so ``account.growth == sum(entries.delta)`` always holds."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base
from core.models import Id


class Account(Base):
    """A member's growth, tier and paid term (one row per member, made on first use)."""

    __tablename__ = "member_tiers_account"
    member_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    growth: Mapped[int] = mapped_column(BigInteger, default=0)
    tier: Mapped[int] = mapped_column(Integer, default=0)  # index into the blueprint's tiers
    tier_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    review_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # None: the first tier is never reviewed
    term_code: Mapped[str | None] = mapped_column(String(32))
    term_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Entry(Base):
    """The append-only growth ledger. ``key`` makes each cause count once (a line's payment,
    one refund event of a line, a staff idempotency key)."""

    __tablename__ = "member_tiers_entry"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    member_id: Mapped[int] = mapped_column(Integer, index=True)
    delta: Mapped[int] = mapped_column(BigInteger)
    growth_after: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(20))  # order_paid | order_refunded | staff_adjust | review
    order_id: Mapped[int | None] = mapped_column(Integer, index=True)
    line_id: Mapped[int | None] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class Line(Base):
    """What one paid order line earned and what its refunds took back so far."""

    __tablename__ = "member_tiers_line"
    line_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # the order line: counted once
    order_id: Mapped[int] = mapped_column(Integer, index=True)
    member_id: Mapped[int] = mapped_column(Integer)
    paid_minor: Mapped[int] = mapped_column(BigInteger)
    growth: Mapped[int] = mapped_column(BigInteger)
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    reversed: Mapped[int] = mapped_column(BigInteger, default=0)


class TermProduct(Base):
    """The catalog SKU that sells a term (made on the first purchase, one per term code)."""

    __tablename__ = "member_tiers_term_product"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    sku_id: Mapped[int | None] = mapped_column(Integer, unique=True)


class Purchase(Base):
    """One term order: pending until paid, then active for ``[starts_at, ends_at)``."""

    __tablename__ = "member_tiers_purchase"
    order_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(Integer, index=True)
    term_code: Mapped[str] = mapped_column(String(32))
    days: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending | active | cancelled | refunded
    starts_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
