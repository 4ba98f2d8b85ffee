"""live_room tables. Counters live on the room row so the stream and the results read one row."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base
from core.models import Id


class Room(Base):
    __tablename__ = "live_room_room"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(100))
    cover_url: Mapped[str | None] = mapped_column(String(500))
    host_staff_id: Mapped[int] = mapped_column(Integer, index=True)
    store_id: Mapped[int | None] = mapped_column(Integer)
    scheduled_start_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    scheduled_end_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    push_url: Mapped[str | None] = mapped_column(String(500))  # the host's encoder; staff only
    play_url: Mapped[str | None] = mapped_column(String(500))
    replay_url: Mapped[str | None] = mapped_column(String(500))
    comments_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    likes_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    replay_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    muted_all: Mapped[bool] = mapped_column(Boolean, default=False)
    # scheduled | live | paused | ended | cancelled | expired
    status: Mapped[str] = mapped_column(String(10), default="scheduled", index=True)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    presented_product_id: Mapped[int | None] = mapped_column(Integer)
    like_count: Mapped[int] = mapped_column(BigInteger, default=0)
    comment_count: Mapped[int] = mapped_column(Integer, default=0)
    viewer_count: Mapped[int] = mapped_column(Integer, default=0)  # watching now (joined, heartbeat fresh)
    peak_viewers: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ShelfItem(Base):
    """A product on a room's shelf (货架), in display order."""

    __tablename__ = "live_room_shelf_item"
    __table_args__ = (UniqueConstraint("room_id", "product_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("live_room_room.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("catalog_product.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    on_shelf: Mapped[bool] = mapped_column(Boolean, default=True)
    # Units left at the live price (直播专享库存), taken by a conditional UPDATE; null: no cap.
    live_stock: Mapped[int | None] = mapped_column(Integer)
    # Units one member may buy at the live price in this room; null: no limit.
    per_member_limit: Mapped[int | None] = mapped_column(Integer)


class LivePrice(Base):
    """A live-only price of one SKU in one room, honoured only while the room is live."""

    __tablename__ = "live_room_price"
    __table_args__ = (UniqueConstraint("room_id", "sku_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("live_room_room.id"), index=True)
    product_id: Mapped[int] = mapped_column(Integer)
    sku_id: Mapped[int] = mapped_column(ForeignKey("catalog_sku.id"))
    price_minor: Mapped[int] = mapped_column(BigInteger)


class Viewer(Base):
    """A member who joined a room: one row per member per room (so unique viewers is a count)."""

    __tablename__ = "live_room_viewer"
    __table_args__ = (UniqueConstraint("room_id", "member_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("live_room_room.id"), index=True)
    member_id: Mapped[int] = mapped_column(Integer)
    watching: Mapped[bool] = mapped_column(Boolean, default=True)
    first_joined_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_comment_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_like_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    likes: Mapped[int] = mapped_column(Integer, default=0)
    muted_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Who brought this viewer in (a shared link): orders from the room default to this sharer.
    sharer_member_id: Mapped[int | None] = mapped_column(Integer)
    guide_id: Mapped[int | None] = mapped_column(Integer)


class Comment(Base):
    __tablename__ = "live_room_comment"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("live_room_room.id"), index=True)
    member_id: Mapped[int] = mapped_column(Integer)
    author: Mapped[str] = mapped_column(String(50))  # the nickname shown, kept as it was when said
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RoomOrder(Base):
    """An order attributed to a room, and to whoever shared the room with the buyer."""

    __tablename__ = "live_room_order"
    order_id: Mapped[int] = mapped_column(ForeignKey("orders_order.id"), primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("live_room_room.id"), index=True)
    member_id: Mapped[int] = mapped_column(Integer)
    sharer_member_id: Mapped[int | None] = mapped_column(Integer)
    guide_id: Mapped[int | None] = mapped_column(Integer)
    # True when placed while the room was live or paused: the session's own results count
    # only these; orders from the replay page afterwards are reported apart.
    in_session: Mapped[bool] = mapped_column(Boolean)
    live_priced: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20))  # the order's: pending_payment | paid | cancelled | refunded …
    total_minor: Mapped[int] = mapped_column(BigInteger)
    paid_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Reservation(Base):
    """预约: a member asked to be reminded of an upcoming room, credited to the store (and the
    clerk) whose link brought them — the warm-up board counts these per store."""

    __tablename__ = "live_room_reservation"
    __table_args__ = (UniqueConstraint("room_id", "member_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("live_room_room.id"), index=True)
    member_id: Mapped[int] = mapped_column(Integer)
    store_id: Mapped[int | None] = mapped_column(Integer, index=True)
    guide_id: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Purchase(Base):
    """Units of a shelf product bought at the live price, per order line: what the per-member
    limit counts and what a cancellation or refund gives back to the live stock."""

    __tablename__ = "live_room_purchase"
    __table_args__ = (UniqueConstraint("order_id", "line_index"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(Integer, index=True)
    line_index: Mapped[int] = mapped_column(Integer)
    room_id: Mapped[int] = mapped_column(ForeignKey("live_room_room.id"))
    product_id: Mapped[int] = mapped_column(Integer)
    member_id: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)
    returned: Mapped[int] = mapped_column(Integer, default=0)
