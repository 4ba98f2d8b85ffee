from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base
from core.models import Id

STATUSES = ("pending_payment", "paid", "fulfilled", "completed", "cancelled", "refunded")


class Order(Base):
    __tablename__ = "orders_order"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members_member.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    kind: Mapped[str] = mapped_column(String(30), default="plain")
    currency: Mapped[str] = mapped_column(String(3))
    subtotal_minor: Mapped[int] = mapped_column(BigInteger)
    adjustments_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    total_minor: Mapped[int] = mapped_column(BigInteger)
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    delivery_type: Mapped[str] = mapped_column(String(10), default="shipping")
    store_id: Mapped[int | None] = mapped_column(Integer, index=True)
    location_id: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[dict] = mapped_column(JSON, default=dict)
    attributes: Mapped[dict] = mapped_column(JSON, default=dict)
    order_adjustments: Mapped[list] = mapped_column(JSON, default=list)
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    payment_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    fulfilled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancel_reason: Mapped[str | None] = mapped_column(String(100))
    refunded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    shipping_address: Mapped[dict | None] = mapped_column(JSON)  # snapshot: editing the address book later changes nothing


class OrderLine(Base):
    __tablename__ = "orders_line"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders_order.id"), index=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("catalog_sku.id"))
    title: Mapped[str] = mapped_column(String(400))
    quantity: Mapped[int] = mapped_column(Integer)
    list_unit_price_minor: Mapped[int] = mapped_column(BigInteger)
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)
    adjustments: Mapped[list] = mapped_column(JSON, default=list)
    total_minor: Mapped[int] = mapped_column(BigInteger)
    refunded_quantity: Mapped[int] = mapped_column(Integer, default=0)
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    reservation_id: Mapped[int | None] = mapped_column(Integer)
    # The activity the line belongs to (a group-buy offer, an auction lot, a points-mall item):
    # the component that claimed it in checkout and that component's own reference.
    activity_component: Mapped[str | None] = mapped_column(String(40))
    activity_ref: Mapped[str | None] = mapped_column(String(64))
    inputs: Mapped[dict | None] = mapped_column(JSON, default=dict)  # what the buyer sent for the line's extension fields
    shipped_quantity: Mapped[int | None] = mapped_column(Integer, default=0)  # units that left the warehouse
    # The after-sale request now open on this line (one at a time): set and cleared by
    # conditional updates, so two requests for one line cannot both open.
    open_request_id: Mapped[int | None] = mapped_column(Integer)


class Payment(Base):
    __tablename__ = "orders_payment"
    __table_args__ = (UniqueConstraint("provider", "provider_ref"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders_order.id"), index=True)
    provider: Mapped[str] = mapped_column(String(30))
    provider_ref: Mapped[str] = mapped_column(String(100))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending|succeeded|failed|refunded
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    settled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Refund(Base):
    __tablename__ = "orders_refund"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders_order.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    lines: Mapped[list] = mapped_column(JSON, default=list)
    reason: Mapped[str] = mapped_column(Text)
    provider_ref: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CartLine(Base):
    """A line of a member's cart: a SKU, a quantity and the line's checkout inputs."""

    __tablename__ = "orders_cart_line"
    __table_args__ = (UniqueConstraint("member_id", "sku_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members_member.id"), index=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("catalog_sku.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    inputs: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Address(Base):
    """A member's shipping address (Chinese fields); orders keep a snapshot, not a reference."""

    __tablename__ = "orders_address"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members_member.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(20))
    province: Mapped[str] = mapped_column(String(30))
    city: Mapped[str] = mapped_column(String(30))
    district: Mapped[str] = mapped_column(String(30))
    detail: Mapped[str] = mapped_column(String(200))
    latitude: Mapped[float | None] = mapped_column()
    longitude: Mapped[float | None] = mapped_column()
    is_default: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Shipment(Base):
    """Units of an order's lines handed to a carrier."""

    __tablename__ = "orders_shipment"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders_order.id"), index=True)
    carrier: Mapped[str] = mapped_column(String(50))
    tracking_number: Mapped[str] = mapped_column(String(50))
    lines: Mapped[list] = mapped_column(JSON, default=list)  # [{lineId, quantity}]
    shipped_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RefundRequest(Base):
    """An after-sale request (售后): refund only, or return and refund, for some lines."""

    __tablename__ = "orders_refund_request"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders_order.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members_member.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # refund_only | return_and_refund
    status: Mapped[str] = mapped_column(String(20), index=True)  # requested|approved|rejected|refunded|cancelled
    lines: Mapped[list] = mapped_column(JSON, default=list)  # [{lineId, quantity}]
    reason: Mapped[str] = mapped_column(String(500))
    photos: Mapped[list] = mapped_column(JSON, default=list)
    requested_minor: Mapped[int] = mapped_column(BigInteger)
    approved_minor: Mapped[int | None] = mapped_column(BigInteger)
    refunded_minor: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PaymentIntent(Base):
    """Money a member pays that is not a goods order: an auction deposit, a membership fee.

    The owner (``purpose`` = ``"<component>.<what>"``) keeps its own reference (``reference``)
    and learns the outcome from the ``payment_intent.*`` events; the provider sees it exactly
    like an order's payment (see ``components/orders/payments.py``)."""

    __tablename__ = "orders_payment_intent"
    __table_args__ = (UniqueConstraint("provider", "provider_ref"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members_member.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(60), index=True)
    reference: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(127))
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    provider: Mapped[str] = mapped_column(String(30))
    provider_ref: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)  # pending|succeeded|failed|refunded
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    settled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
