from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base
from core.models import Id


class Notification(Base):
    """Every callback WeChat sent that verified: once per notification id, whatever its fate."""

    __tablename__ = "wechat_pay_notification"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    notification_id: Mapped[str] = mapped_column(String(64), unique=True)
    event_type: Mapped[str] = mapped_column(String(40))
    out_trade_no: Mapped[str | None] = mapped_column(String(64), index=True)
    out_refund_no: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(40))  # settled | failed | refund_<status> | ignored:<why>
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Refund(Base):
    """A refund asked of WeChat: recorded with the refund that caused it, sent after commit."""

    __tablename__ = "wechat_pay_refund"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    out_refund_no: Mapped[str] = mapped_column(String(64), unique=True)
    out_trade_no: Mapped[str] = mapped_column(String(64), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    total_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(20), default="requested")  # requested|PROCESSING|SUCCESS|ABNORMAL|CLOSED|refused
    refund_id: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
