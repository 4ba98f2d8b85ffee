"""The flash sale's tables. ``Item.sold`` and ``Bought.units`` move only through conditional
UPDATEs (checkout.py), which are the guards against overselling and over-buying."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base
from core.models import Id


class FlashSession(Base):
    """A time slot (10:00, 14:00, 20:00 …) with its items."""

    __tablename__ = "flash_sale_session"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(100))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Item(Base):
    """A SKU in a session at a flash price, with the session's own quantity of it."""

    __tablename__ = "flash_sale_item"
    __table_args__ = (
        UniqueConstraint("session_id", "sku_id"),
        CheckConstraint("sold >= 0 AND sold <= quantity", name="flash_sale_item_sold_in_range"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("flash_sale_session.id"), index=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("catalog_sku.id"))
    flash_price_minor: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(Integer)
    sold: Mapped[int] = mapped_column(Integer, default=0)  # units in unpaid and paid orders
    per_member_limit: Mapped[int] = mapped_column(Integer, default=1)


class Bought(Base):
    """Units of an item a member holds in unpaid and paid orders: the per-member limit's row."""

    __tablename__ = "flash_sale_bought"
    item_id: Mapped[int] = mapped_column(ForeignKey("flash_sale_item.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    units: Mapped[int] = mapped_column(Integer, default=0)


class Purchase(Base):
    """One flash-sale order's units: held until paid, returned when the order is cancelled."""

    __tablename__ = "flash_sale_purchase"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("flash_sale_item.id"), index=True)
    member_id: Mapped[int] = mapped_column(Integer, index=True)
    order_id: Mapped[int] = mapped_column(Integer, unique=True)
    quantity: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10))  # held | paid | returned
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
