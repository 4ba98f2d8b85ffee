"""member_tags' tables: its own per-order facts, per-member figures, tags and their holders.

Nothing here is read from another component: ``purchase`` rows are written from the orders'
events, ``profile`` rows from those and from ``member.registered``, so the figures a request
reads are always precomputed (no request scans orders).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base
from core.models import Id


class Purchase(Base):
    """One paid order of a member, as the order's events told it (keyed by the order: the
    at-least-once delivery of ``order.paid`` writes it once)."""

    __tablename__ = "member_tags_purchase"
    order_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    member_id: Mapped[int] = mapped_column(BigInteger)
    paid_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    total_minor: Mapped[int] = mapped_column(BigInteger)
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    # False once the order was refunded in full: it no longer counts as an order.
    counted: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (Index("ix_member_tags_purchase_member_paid", "member_id", "paid_at"),)


class Profile(Base):
    """A member's figures, RFM segment and lifecycle stage (one row per member we heard of)."""

    __tablename__ = "member_tags_profile"
    member_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    orders_count: Mapped[int] = mapped_column(Integer, default=0)
    paid_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    first_order_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_order_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    window_orders: Mapped[int] = mapped_column(Integer, default=0)
    window_paid_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    segment: Mapped[str | None] = mapped_column(String(24))
    stage: Mapped[str] = mapped_column(String(12), default="prospect")
    stage_since: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_member_tags_profile_segment", "segment", "member_id"),
        Index("ix_member_tags_profile_stage", "stage", "member_id"),
    )


class Tag(Base):
    """A tag: MANUAL (staff set it), RULE (a blueprint rule sets it) or CHANNEL (how a member came)."""

    __tablename__ = "member_tags_tag"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    # manual:<name>, rule:<rule name>, channel:<channel>, guide:<staff id>, store:<store id>
    key: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(10))
    description: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MemberTag(Base):
    """A member holding a tag."""

    __tablename__ = "member_tags_member_tag"
    tag_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    member_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    tagged_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_member_tags_member_tag_member", "member_id"),)


class Baseline(Base):
    """The brand-wide medians the last full recompute found (RFM dimensions set to ``median``):
    an incremental refresh between two recomputes classifies against them."""

    __tablename__ = "member_tags_baseline"
    key: Mapped[str] = mapped_column(String(20), primary_key=True)
    values: Mapped[dict] = mapped_column(JSON, default=dict)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
