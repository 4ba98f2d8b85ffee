"""The distribution tables. Balances change only through ledger.py, which appends an entry and
moves the promoter's counter in the same transaction (conditional UPDATE for withdrawals)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base
from core.models import Id


class Promoter(Base):
    """A member who sells for commission (销售员), with their balances.

    ``available_minor`` is what may be withdrawn (it may go negative after a clawback);
    ``frozen_minor`` is commission waiting for its order lines' after-sale window."""

    __tablename__ = "distribution_promoter"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    member_id: Mapped[int] = mapped_column(Integer, unique=True)
    status: Mapped[str] = mapped_column(String(10))  # pending | active | rejected
    reason: Mapped[str | None] = mapped_column(String(500))  # why rejected
    frozen_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    available_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    withdrawn_minor: Mapped[int] = mapped_column(BigInteger, default=0)  # paid out (net of fees)
    applied_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Binding(Base):
    """Which promoter a member (a customer) is bound to; one row per member."""

    __tablename__ = "distribution_binding"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    member_id: Mapped[int] = mapped_column(Integer, unique=True)
    promoter_member_id: Mapped[int] = mapped_column(Integer, index=True)
    bound_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # time_limited mode only


class Rule(Base):
    """A SKU's commission per level: ``kind`` percent (basis points) or fixed (minor units per unit)."""

    __tablename__ = "distribution_rule"
    __table_args__ = (UniqueConstraint("sku_id", "level", name="uq_distribution_rule_sku_level"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    sku_id: Mapped[int] = mapped_column(Integer)
    level: Mapped[int] = mapped_column(Integer)  # 1 or 2
    kind: Mapped[str] = mapped_column(String(10))  # percent | fixed
    value: Mapped[int] = mapped_column(BigInteger)  # basis points, or minor units per unit


class Commission(Base):
    """One order line's commission at one level: written once (unique line + level)."""

    __tablename__ = "distribution_commission"
    __table_args__ = (UniqueConstraint("order_line_id", "level", name="uq_distribution_commission_line_level"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    promoter_id: Mapped[int] = mapped_column(Integer, index=True)
    buyer_id: Mapped[int] = mapped_column(Integer)
    order_id: Mapped[int] = mapped_column(Integer, index=True)
    order_line_id: Mapped[int] = mapped_column(Integer)
    sku_id: Mapped[int] = mapped_column(Integer)
    level: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))
    value: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(Integer)
    paid_minor: Mapped[int] = mapped_column(BigInteger)  # what the line was paid (the base)
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_quantity: Mapped[int] = mapped_column(Integer, default=0)
    amount_minor: Mapped[int] = mapped_column(BigInteger)  # the commission as it stands now
    status: Mapped[str] = mapped_column(String(10))  # frozen | settled | cancelled
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    settled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Entry(Base):
    """The append-only ledger. ``bucket`` says which balance it moves; ``key`` makes every
    posting happen at most once (a replayed event or job writes nothing)."""

    __tablename__ = "distribution_entry"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    promoter_id: Mapped[int] = mapped_column(Integer, index=True)
    bucket: Mapped[str] = mapped_column(String(10))  # frozen | available
    kind: Mapped[str] = mapped_column(String(20))
    amount_minor: Mapped[int] = mapped_column(BigInteger)  # signed
    key: Mapped[str] = mapped_column(String(120), unique=True)
    commission_id: Mapped[int | None] = mapped_column(Integer)
    withdrawal_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Withdrawal(Base):
    """A promoter's request for money: the amount leaves the balance when asked for and comes
    back if staff reject it or the payout fails."""

    __tablename__ = "distribution_withdrawal"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    promoter_id: Mapped[int] = mapped_column(Integer, index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)  # taken from the balance
    fee_minor: Mapped[int] = mapped_column(BigInteger)
    payout_minor: Mapped[int] = mapped_column(BigInteger)  # amount - fee: what reaches the promoter
    status: Mapped[str] = mapped_column(String(10))  # requested | paid | rejected | failed
    provider: Mapped[str | None] = mapped_column(String(20))
    provider_ref: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(500))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Spend(Base):
    """What a member paid net of refunds, counted from order events (the spend threshold)."""

    __tablename__ = "distribution_spend"
    member_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    paid_minor: Mapped[int] = mapped_column(BigInteger, default=0)
