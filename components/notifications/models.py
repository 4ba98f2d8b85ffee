from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base
from core.models import Id


class Consent(Base):
    """A member's one-time WeChat subscription consents (一次性订阅) left for a template: each
    acceptance in ``wx.requestSubscribeMessage`` allows one message."""

    __tablename__ = "notifications_consent"
    __table_args__ = (UniqueConstraint("member_id", "template_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members_member.id"), index=True)
    template_id: Mapped[str] = mapped_column(String(64))
    remaining: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Delivery(Base):
    """One message to one member for one event and rule: the durable outbox and the record."""

    __tablename__ = "notifications_delivery"
    # Never twice for one event: the same event delivered again (at least once) finds its row.
    __table_args__ = (UniqueConstraint("event_id", "rule", "member_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(80))
    rule: Mapped[str] = mapped_column(String(80))
    member_id: Mapped[int] = mapped_column(ForeignKey("members_member.id"), index=True)
    channel: Mapped[str] = mapped_column(String(30))
    template_id: Mapped[str] = mapped_column(String(64))
    page: Mapped[str | None] = mapped_column(String(200))
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), index=True)  # pending|sent|failed|skipped
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    provider_ref: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
