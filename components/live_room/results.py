"""A session's results: the attribution rows follow their orders; the figures brands report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, func, select

from components.live_room.models import Room, RoomOrder, Viewer
from core.clock import as_utc
from core.transaction import Event, Transaction


@dataclass(frozen=True)
class Results:
    unique_viewers: int
    peak_viewers: int
    comments: int
    likes: int
    orders: int
    paid_orders: int
    paying_members: int
    gmv_minor: int
    refunded_minor: int
    average_order_value_minor: int
    conversion_rate: float
    orders_after_session: int
    gmv_after_session_minor: int
    orders_before_session: int = 0
    gmv_before_session_minor: int = 0


def _round_half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator) if denominator else 0


class RoomResults:
    """Mixed into :class:`~components.live_room.service.LiveRoomService`."""

    # -- orders: the live price and attribution are in checkout.py; the row follows the order --
    async def on_order_changed(self, tx: Transaction, event: Event) -> None:
        payload = event.payload
        row = await tx.session.get(RoomOrder, payload["orderId"], populate_existing=True)
        if row is None:
            return
        row.status = payload["status"]
        if event.name == "order.paid":
            row.paid_minor = payload["totalMinor"]
        row.refunded_minor = payload.get("refundedMinor") or 0
        await tx.session.flush()
        if event.name in ("order.cancelled", "order.refunded"):
            await self.quota.give_back(tx, payload, everything=event.name == "order.cancelled")

    # -- results -----------------------------------------------------------------------------------
    async def results(self, session: Any, room: Room) -> Results:
        """The session's figures. Orders are split three ways by when they were placed: before
        the room went live (from the warm-up page), during the session (live or paused: the
        session's own figures), and after it ended (the replay page)."""
        unique = await session.scalar(select(func.count()).select_from(Viewer).where(Viewer.room_id == room.id)) or 0
        paid = RoomOrder.paid_minor > 0
        during = RoomOrder.in_session.is_(True)
        outside = RoomOrder.in_session.is_(False)
        if room.started_at is None:  # never went live: every order came before
            before, after = outside, and_(outside, RoomOrder.order_id.is_(None))
        else:
            started = as_utc(room.started_at)
            before, after = and_(outside, RoomOrder.created_at < started), and_(outside, RoomOrder.created_at >= started)
        row = (
            await session.execute(
                select(
                    func.count().filter(during),
                    func.count().filter(during, paid),
                    func.count(func.distinct(case((and_(during, paid), RoomOrder.member_id)))),
                    func.coalesce(func.sum(case((during, RoomOrder.paid_minor), else_=0)), 0),
                    func.coalesce(func.sum(case((during, RoomOrder.refunded_minor), else_=0)), 0),
                    func.count().filter(after),
                    func.coalesce(func.sum(case((after, RoomOrder.paid_minor), else_=0)), 0),
                    func.count().filter(before),
                    func.coalesce(func.sum(case((before, RoomOrder.paid_minor), else_=0)), 0),
                ).where(RoomOrder.room_id == room.id)
            )
        ).one()
        orders, paid_orders, paying, gmv, refunded, after_n, gmv_after, before_n, gmv_before = (int(v or 0) for v in row)
        return Results(
            unique_viewers=int(unique),
            peak_viewers=room.peak_viewers,
            comments=room.comment_count,
            likes=int(room.like_count),
            orders=orders,
            paid_orders=paid_orders,
            paying_members=paying,
            gmv_minor=gmv,
            refunded_minor=refunded,
            average_order_value_minor=_round_half_up(gmv, paid_orders),
            conversion_rate=round(paying / unique, 4) if unique else 0.0,
            orders_after_session=after_n,
            gmv_after_session_minor=gmv_after,
            orders_before_session=before_n,
            gmv_before_session_minor=gmv_before,
        )
