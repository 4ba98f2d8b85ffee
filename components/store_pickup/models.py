"""Tables of store pickup: stores, time slots, pickups (one per pickup order), verification attempts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, DateTime, Float, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base
from core.models import Id

STORE_STATUSES = ("open", "closed", "suspended")
# A pickup's code is live (unique at its store) while the order is unpaid or waiting.
OPEN_STATES = ("pending_payment", "awaiting_pickup")
STATES = (*OPEN_STATES, "picked_up", "expired", "cancelled", "refunded")
_OPEN_SQL = "state IN ('pending_payment', 'awaiting_pickup')"


class Store(Base):
    __tablename__ = "store_pickup_store"
    __table_args__ = (
        # The spatial prefilter: a nearest-store query reads only the grid cells around the point.
        Index("ix_store_pickup_store_cell", "cell_y", "cell_x"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(300), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    cell_y: Mapped[int] = mapped_column(Integer)
    cell_x: Mapped[int] = mapped_column(Integer)
    hours: Mapped[dict] = mapped_column(JSON, default=dict)  # {"mon": ["09:00-21:00"], ...} in the brand's time zone
    status: Mapped[str] = mapped_column(String(12), default="open")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Slot(Base):
    __tablename__ = "store_pickup_slot"
    __table_args__ = (
        UniqueConstraint("store_id", "starts_at"),
        # The database itself refuses an over-taken slot, whatever a future code path does.
        CheckConstraint("taken >= 0 AND taken <= capacity", name="taken_within_capacity"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("store_pickup_store.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    capacity: Mapped[int] = mapped_column(Integer)
    taken: Mapped[int] = mapped_column(Integer, default=0)


class Pickup(Base):
    __tablename__ = "store_pickup_pickup"
    __table_args__ = (
        # A code identifies one live pickup at its store; used codes may come round again later.
        Index("ux_store_pickup_pickup_live_code", "store_id", "code", unique=True, sqlite_where=text(_OPEN_SQL), postgresql_where=text(_OPEN_SQL)),
        Index("ix_store_pickup_pickup_store_state", "store_id", "state"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders_order.id"), unique=True)
    member_id: Mapped[int] = mapped_column(Integer, index=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("store_pickup_store.id"))
    slot_id: Mapped[int | None] = mapped_column(ForeignKey("store_pickup_slot.id"))
    state: Mapped[str] = mapped_column(String(20))
    code: Mapped[str] = mapped_column(String(12))
    order_kind: Mapped[str] = mapped_column(String(30), default="plain")
    total_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ready_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    overdue_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    picked_up_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    picked_up_by: Mapped[int | None] = mapped_column(Integer)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Attempt(Base):
    """Every verification attempt, refused ones included: the rate limit counts these rows."""

    __tablename__ = "store_pickup_attempt"
    __table_args__ = (
        Index("ix_store_pickup_attempt_staff_time", "staff_id", "created_at"),
        Index("ix_store_pickup_attempt_store_time", "store_id", "created_at"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    staff_id: Mapped[int] = mapped_column(Integer)
    store_id: Mapped[int] = mapped_column(Integer)
    step: Mapped[str] = mapped_column(String(10))  # preview | confirm
    via: Mapped[str] = mapped_column(String(4))  # code | qr
    outcome: Mapped[str] = mapped_column(String(14))  # ok | refused | rate_limited
    error_code: Mapped[str | None] = mapped_column(String(60))
    pickup_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
