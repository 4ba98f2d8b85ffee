from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Boolean, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base
from core.models import Id


class Account(Base):
    """A member's balance. It moves only through conditional UPDATEs in the service, so it is
    also the row that serialises one member's spends on PostgreSQL."""

    __tablename__ = "points_mall_account"
    member_id: Mapped[int] = mapped_column(ForeignKey("members_member.id"), primary_key=True)
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    # Staff-set member tier (0 = everyone) until a member-tiers component owns tiers.
    tier: Mapped[int] = mapped_column(Integer, default=0)
    streak: Mapped[int] = mapped_column(Integer, default=0)
    last_sign_in: Mapped[date | None] = mapped_column(Date)


class Entry(Base):
    """One change of a balance. The ledger is append-only; the balance is its sum."""

    __tablename__ = "points_mall_entry"
    __table_args__ = (UniqueConstraint("member_id", "idempotency_key"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    member_id: Mapped[int] = mapped_column(Integer, index=True)
    delta: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(30))
    reference: Mapped[str | None] = mapped_column(String(100), index=True)
    balance_after: Mapped[int] = mapped_column(BigInteger)
    # Points that should have been taken but were not there (refund of spent points under
    # the `deduct_available` policy): recorded, never silently skipped.
    shortfall: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # For a spend: which expiries it used, [{"expiresAt": iso | None, "points": n}], soonest
    # first, so points given back (a cancelled redemption) keep the expiry they had.
    consumed: Mapped[list | None] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Lot(Base):
    """Points earned together, with one expiry; spending consumes the soonest-expiring first.

    A lot with a negative ``remaining`` (and ``earned`` 0) is a debt: points a refund took
    that the member had already spent, under the `allow_negative` policy. New points pay the
    debt first, so the sum of lot remainders always equals the balance."""

    __tablename__ = "points_mall_lot"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    member_id: Mapped[int] = mapped_column(Integer, index=True)
    entry_id: Mapped[int | None] = mapped_column(BigInteger)  # the entry that earned it
    earned: Mapped[int] = mapped_column(BigInteger)
    remaining: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Item(Base):
    __tablename__ = "points_mall_item"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    # A SKU makes it a physical item delivered through an order; without one it is a
    # non-physical reward (a class, a service) recorded by the redemption alone.
    sku_id: Mapped[int | None] = mapped_column(ForeignKey("catalog_sku.id"))
    points_price: Mapped[int] = mapped_column(BigInteger)
    cash_price_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    stock_left: Mapped[int] = mapped_column(Integer)
    per_member_limit: Mapped[int] = mapped_column(Integer, default=1)
    min_tier: Mapped[int] = mapped_column(Integer, default=0)
    starts_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The item's own picture; without one the schema shows its SKU's (through the catalog).
    image_url: Mapped[str | None] = mapped_column(String(1000))


class Redemption(Base):
    __tablename__ = "points_mall_redemption"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("points_mall_item.id"), index=True)
    member_id: Mapped[int] = mapped_column(Integer, index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    returned_quantity: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    points: Mapped[int] = mapped_column(BigInteger)
    cash_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    order_id: Mapped[int | None] = mapped_column(Integer, unique=True)
    delivery_type: Mapped[str | None] = mapped_column(String(12))
    store_id: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default="active")  # active | returned | cancelled
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
