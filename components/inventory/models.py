from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base
from core.models import Id

CENTRAL = 0  # location 0 is the central warehouse; store pickup uses store ids


class Stock(Base):
    __tablename__ = "inventory_stock"
    __table_args__ = (
        UniqueConstraint("sku_id", "location_id"),
        # The database itself refuses an oversell, whatever a buggy caller does.
        CheckConstraint("reserved >= 0 AND on_hand >= reserved", name="not_oversold"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("catalog_sku.id"), index=True)
    location_id: Mapped[int] = mapped_column(Integer, default=CENTRAL)
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)


class ActivityStock(Base):
    """An activity's own quantity of a SKU (a group-buy offer's 200 units), checked with the stock."""

    __tablename__ = "inventory_activity_stock"
    __table_args__ = (
        UniqueConstraint("owner", "key", "sku_id"),
        CheckConstraint("reserved >= 0 AND sold >= 0 AND total >= reserved + sold", name="within_total"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(50))
    key: Mapped[str] = mapped_column(String(100))
    sku_id: Mapped[int] = mapped_column(ForeignKey("catalog_sku.id"))
    total: Mapped[int] = mapped_column(Integer)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    sold: Mapped[int] = mapped_column(Integer, default=0)


class Reservation(Base):
    __tablename__ = "inventory_reservation"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("catalog_sku.id"), index=True)
    location_id: Mapped[int] = mapped_column(Integer, default=CENTRAL)
    quantity: Mapped[int] = mapped_column(Integer)
    returned_quantity: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16), default="reserved")  # reserved|committed|released|returned
    reason: Mapped[str] = mapped_column(String(50))
    ref: Mapped[str] = mapped_column(String(100), index=True)
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("inventory_activity_stock.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
