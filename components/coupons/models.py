"""The coupons' tables. Counters move only through conditional UPDATEs (service.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base
from core.models import Id


class Template(Base):
    """What a coupon is worth, where it applies, how long it lasts and how many exist."""

    __tablename__ = "coupons_template"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10))  # fixed | percent
    amount_minor: Mapped[int] = mapped_column(BigInteger, default=0)  # fixed: the amount off
    percent_off: Mapped[int] = mapped_column(Integer, default=0)  # percent: 1..99 (15 = 15 % off, 八五折)
    cap_minor: Mapped[int | None] = mapped_column(BigInteger)  # percent: at most this much off
    threshold_minor: Mapped[int] = mapped_column(BigInteger, default=0)  # 满 X 可用
    # {"kind": all|categories|products|skus, "ids": [...], "excludeProductIds": [...], "excludeSkuIds": [...]}
    scope: Mapped[dict] = mapped_column(JSON)
    combines_with: Mapped[list] = mapped_column(JSON)  # activity components whose lines it may discount
    valid_from: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    valid_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    valid_days: Mapped[int | None] = mapped_column(Integer)  # else: valid N days after claim
    total_quantity: Mapped[int | None] = mapped_column(Integer)  # None: unlimited
    issued: Mapped[int] = mapped_column(Integer, default=0)
    per_member_limit: Mapped[int] = mapped_column(Integer, default=1)
    channel: Mapped[str] = mapped_column(String(20))  # claim_centre | push | new_member | order_gift | live_room
    live_room_id: Mapped[int | None] = mapped_column(Integer)
    gift_min_minor: Mapped[int] = mapped_column(BigInteger, default=0)  # order_gift: orders paying at least this
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Holding(Base):
    """How many coupons of a template a member got: the row the per-member limit is enforced on
    (a conditional UPDATE, never count-then-insert)."""

    __tablename__ = "coupons_holding"
    template_id: Mapped[int] = mapped_column(ForeignKey("coupons_template.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    received: Mapped[int] = mapped_column(Integer, default=0)


class Coupon(Base):
    """One coupon in a member's wallet."""

    __tablename__ = "coupons_coupon"
    # A gift is issued once per cause (the member's sign-up, an order): a replayed event finds it.
    __table_args__ = (UniqueConstraint("template_id", "member_id", "cause"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("coupons_template.id"), index=True)
    member_id: Mapped[int] = mapped_column(Integer, index=True)
    source: Mapped[str] = mapped_column(String(20))  # claim | push | new_member | order_gift | live_room
    cause: Mapped[str | None] = mapped_column(String(60))  # new_member, order:<id>; None for claims and pushes
    status: Mapped[str] = mapped_column(String(10), default="available")  # available | used
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    valid_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    order_id: Mapped[int | None] = mapped_column(Integer, index=True)
    discount_minor: Mapped[int] = mapped_column(BigInteger, default=0)  # what it took off its order
    returned_times: Mapped[int] = mapped_column(Integer, default=0)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
