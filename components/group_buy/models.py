from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, DateTime, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base
from core.models import Id


class Offer(Base):
    __tablename__ = "group_buy_offer"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("catalog_sku.id"), index=True)
    # Copied from the SKU at creation so "offers on a product" needs no join into catalog.
    product_id: Mapped[int | None] = mapped_column(Id, ForeignKey("catalog_product.id"), index=True)
    group_price_minor: Mapped[int] = mapped_column(BigInteger)
    leader_price_minor: Mapped[int | None] = mapped_column(BigInteger)
    # 团长优惠: taken off the group price for the leader; an offer has a leader price or a discount.
    leader_discount_minor: Mapped[int | None] = mapped_column(BigInteger)
    group_size: Mapped[int] = mapped_column(Integer)
    duration_seconds: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    per_member_limit: Mapped[int] = mapped_column(Integer, default=1)
    total_limit: Mapped[int] = mapped_column(Integer)
    virtual_fill_ratio: Mapped[float | None] = mapped_column(Float)
    show_joinable: Mapped[bool] = mapped_column(Boolean, default=True)
    # active | ended (staff closed the window early: running groups go on) | withdrawn (taken
    # down: forming groups failed and were refunded)
    status: Mapped[str] = mapped_column(String(12), default="active")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OfferSku(Base):
    """A SKU of an offer with its own group price (and leader price). The offer row keeps its
    first SKU's values too, as offers made before several SKUs per offer had only those."""

    __tablename__ = "group_buy_offer_sku"
    __table_args__ = (UniqueConstraint("offer_id", "sku_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("group_buy_offer.id"), index=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("catalog_sku.id"), index=True)
    group_price_minor: Mapped[int] = mapped_column(BigInteger)
    leader_price_minor: Mapped[int | None] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(Integer)  # this SKU's own activity quantity
    position: Mapped[int] = mapped_column(Integer, default=0)


class Group(Base):
    __tablename__ = "group_buy_group"
    __table_args__ = (CheckConstraint("paid_seats <= size", name="never_oversubscribed"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("group_buy_offer.id"), index=True)
    leader_member_id: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)
    paid_seats: Mapped[int] = mapped_column(Integer, default=0)
    placeholders: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(12), default="forming", index=True)  # forming | succeeded | failed
    share_code: Mapped[str] = mapped_column(String(16), unique=True)
    deadline_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Membership(Base):
    __tablename__ = "group_buy_member"
    __table_args__ = (UniqueConstraint("order_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("group_buy_group.id"), index=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("group_buy_offer.id"), index=True)
    member_id: Mapped[int] = mapped_column(Integer, index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders_order.id"))
    is_leader: Mapped[bool] = mapped_column(Boolean, default=False)
    # Units bought: the per-member limit counts units, not orders.
    quantity: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # pending (order unpaid) | seated | cancelled (order cancelled) | refunded (late or failed)
    state: Mapped[str] = mapped_column(String(12), default="pending")
    shared_by_member_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # This member's own share link: whoever joins through it is counted as their referral, so
    # the sharer comes from the link itself and cannot be claimed by the joiner.
    share_code: Mapped[str | None] = mapped_column(String(16), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
