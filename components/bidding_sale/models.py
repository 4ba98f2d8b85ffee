from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base
from core.models import Id


class Lot(Base):
    __tablename__ = "bidding_sale_lot"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("catalog_sku.id"))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    start_price: Mapped[int] = mapped_column(BigInteger)
    increments: Mapped[list] = mapped_column(JSON)  # [[from_price, step], ...] ascending; one row = fixed
    reserve_price: Mapped[int | None] = mapped_column(BigInteger)
    buy_now_price: Mapped[int | None] = mapped_column(BigInteger)
    deposit: Mapped[int] = mapped_column(BigInteger, default=0)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    extend_window_s: Mapped[int] = mapped_column(Integer)
    extend_by_s: Mapped[int] = mapped_column(Integer)
    max_extensions: Mapped[int] = mapped_column(Integer)
    # Per lot, the blueprint's payment_due as default (null for lots made before it was per lot).
    payment_due_s: Mapped[int | None] = mapped_column(Integer)
    # Set when the lot was offered to the runner-up after the winner defaulted (once per lot).
    runner_up_member_id: Mapped[int | None] = mapped_column(Integer)
    extensions: Mapped[int] = mapped_column(Integer, default=0)
    # draft | scheduled | sold | unsold | cancelled | defaulted | paid ("open" is scheduled within its window)
    status: Mapped[str] = mapped_column(String(12), default="scheduled", index=True)
    current_price: Mapped[int | None] = mapped_column(BigInteger)
    leader_member_id: Mapped[int | None] = mapped_column(Integer)
    leader_max: Mapped[int | None] = mapped_column(BigInteger)
    bid_count: Mapped[int] = mapped_column(Integer, default=0)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    # The unit on the block is held in inventory from scheduling until the close, so the
    # winner's order can always be made (see service._hold_stock).
    reservation_id: Mapped[int | None] = mapped_column(Id)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Bid(Base):
    """An accepted change of the visible price, in order: seq is strictly increasing per lot."""

    __tablename__ = "bidding_sale_bid"
    __table_args__ = (UniqueConstraint("lot_id", "seq"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("bidding_sale_lot.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    member_id: Mapped[int] = mapped_column(Integer, index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(10))  # bid | proxy | buy_now
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Bidder(Base):
    """A member on a lot: their hidden maximum and their deposit."""

    __tablename__ = "bidding_sale_bidder"
    __table_args__ = (UniqueConstraint("lot_id", "member_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("bidding_sale_lot.id"), index=True)
    member_id: Mapped[int] = mapped_column(Integer)
    max_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    # none | pending (deposit order placed, unpaid) | frozen (paid) | released (refunded: lost,
    # unsold, cancelled) | applied (the winner's; counted toward the price) | forfeited (the
    # winner defaulted) | returned (given back with a refunded winner's order, or by staff)
    deposit_state: Mapped[str] = mapped_column(String(10), default="none")
    deposit_ref: Mapped[str | None] = mapped_column(String(60))
    # The deposit is an order of kind auction_deposit, paid through any payment provider.
    deposit_order_id: Mapped[int | None] = mapped_column(Id, ForeignKey("orders_order.id"))
    first_bid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LotOrder(Base):
    """The winner's order. One per lot, enforced by the database: a close racing a bid, or
    two workers closing at once, can never make two orders."""

    __tablename__ = "bidding_sale_order"
    lot_id: Mapped[int] = mapped_column(ForeignKey("bidding_sale_lot.id"), primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders_order.id"), unique=True)
    price: Mapped[int] = mapped_column(BigInteger)


class DepositEntry(Base):
    """The deposit ledger: every movement of a bidder's deposit money (paid, refunded, written
    from orders' own payment and refund events) and every change of what it is for (applied to
    the winner's price, forfeited on default). It reconciles with the deposit orders' payments
    (service ``reconcile_deposits``)."""

    __tablename__ = "bidding_sale_deposit_entry"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("bidding_sale_lot.id"), index=True)
    member_id: Mapped[int] = mapped_column(Integer)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders_order.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # paid | refunded | applied | forfeited
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
