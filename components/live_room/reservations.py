"""预约: members reserve an upcoming room; staff watch the count per store (the warm-up board);
a reminder event goes to every member who reserved, shortly before the start.

A reservation is one row per member and room (a unique constraint, so a double tap reserves
once). It is credited to the store — and the clerk — whose link brought the member, and keeps
that first credit if the member cancels and reserves again: stores compete on the board for
weeks, and a member re-tapping another store's poster must not move the credit.

The reminder is one durable timer per room (``live_room.remind_reservations``), set by the
first reservation (a room nobody reserved has none) and moved with the room's start. It emits ``live_room.reservation_reminder`` per
member, marking each reservation as reminded in the same transaction, in batches (a big
session has tens of thousands of reservations), chaining the next batch at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from components.live_room.models import Reservation, Room
from core.clock import as_utc
from core.errors import DomainError
from core.models import TimerRow
from core.transaction import Transaction

if TYPE_CHECKING:
    from components.live_room.service import LiveRoomService

REMIND_JOB = "live_room.remind_reservations"
REMIND_BATCH = 500


class Reservations:
    def __init__(self, service: LiveRoomService) -> None:
        self.service = service
        self.kernel = service.kernel

    async def reserve(
        self,
        tx: Transaction,
        room_id: int,
        member_id: int,
        *,
        store_id: int | None = None,
        guide_id: int | None = None,
        store_field: str = "input.storeId",
    ) -> Reservation:
        room = await self.service.room(tx, room_id)
        if room.status != "scheduled":
            raise DomainError(
                "LIVE_ROOM_NOT_RESERVABLE", f"The room is {room.status}: only an upcoming room is reserved.", field="input.roomId", status=room.status
            )
        await self._check_credit(tx, store_id, guide_id, store_field)
        reservation = await self._of(tx, room.id, member_id)
        if reservation is None:
            try:
                async with tx.session.begin_nested():
                    tx.session.add(
                        Reservation(room_id=room.id, member_id=member_id, store_id=store_id, guide_id=guide_id, active=True, created_at=tx.now())
                    )
            except IntegrityError:
                pass  # the same member's second tap at the same instant: one reservation
            reservation = await self._of(tx, room.id, member_id)
        elif not reservation.active:
            await tx.session.execute(
                update(Reservation)
                .where(Reservation.id == reservation.id)
                .values(active=True, cancelled_at=None)
                .execution_options(synchronize_session=False)
            )
            await tx.session.refresh(reservation)
        if reservation.reminded_at is None:
            await self.schedule_reminder(tx, room)
        return reservation

    async def cancel(self, tx: Transaction, room_id: int, member_id: int) -> None:
        room = await self.service.room(tx, room_id)
        cancelled = await tx.session.execute(
            update(Reservation)
            .where(Reservation.room_id == room.id, Reservation.member_id == member_id, Reservation.active.is_(True))
            .values(active=False, cancelled_at=tx.now())
            .execution_options(synchronize_session=False)
        )
        if cancelled.rowcount != 1:
            raise DomainError("LIVE_ROOM_NOT_RESERVED", "You have not reserved this room.", field="input.roomId")

    async def _of(self, tx: Transaction, room_id: int, member_id: int) -> Reservation | None:
        return await tx.session.scalar(
            select(Reservation).where(Reservation.room_id == room_id, Reservation.member_id == member_id).execution_options(populate_existing=True)
        )

    async def _check_credit(self, tx: Transaction, store_id: int | None, guide_id: int | None, store_field: str) -> None:
        """The store and clerk credited must exist: a typo must not open a phantom store on the board."""
        if store_id is not None:
            stores = self.kernel.contributions.stores.get("stores")
            known = await stores.value(tx.session, {store_id}) if stores is not None else {store_id}
            if not 1 <= store_id <= 2**31 - 1 or store_id not in known:
                raise DomainError("KERNEL_NOT_FOUND", "No such store.", field=store_field)
        if guide_id is not None:
            guide = await self.kernel.service("members").staff(tx.session, guide_id) if 1 <= guide_id <= 2**31 - 1 else None
            if guide is None or not guide.active:
                raise DomainError("KERNEL_NOT_FOUND", "No such shopping guide.", field="input.guideId")

    # -- reading -------------------------------------------------------------------------------------
    async def count(self, session: Any, room_id: int) -> int:
        return int(
            await session.scalar(select(func.count()).select_from(Reservation).where(Reservation.room_id == room_id, Reservation.active.is_(True)))
            or 0
        )

    async def is_reserved(self, session: Any, room_id: int, member_id: int) -> bool:
        return (
            await session.scalar(
                select(Reservation.id).where(Reservation.room_id == room_id, Reservation.member_id == member_id, Reservation.active.is_(True))
            )
            is not None
        )

    async def board(self, session: Any, room_id: int) -> list[tuple[int | None, int]]:
        """(store id, active reservations) per store, most first; ``None`` for reservations no
        store's link brought."""
        rows = (
            await session.execute(
                select(Reservation.store_id, func.count())
                .where(Reservation.room_id == room_id, Reservation.active.is_(True))
                .group_by(Reservation.store_id)
            )
        ).all()
        return sorted(((store, int(n)) for store, n in rows), key=lambda row: (-row[1], row[0] is None, row[0] or 0))

    # -- the reminder --------------------------------------------------------------------------------
    async def schedule_reminder(self, tx: Transaction, room: Room, *, only_if_pending: bool = False) -> None:
        """Make sure the room's reminder is due ``reminder_before`` its start (at once if that
        has passed: a late reservation is reminded right away). A pending timer is left alone
        unless the start moved (``only_if_pending``: move it, never create one), so thousands of
        reservations do not all rewrite one timer row."""
        due = max(tx.now(), as_utc(room.scheduled_start_at) - self.service.reminder_before)
        existing = await tx.session.scalar(select(TimerRow).where(TimerRow.job == REMIND_JOB, TimerRow.key == str(room.id)))
        pending = existing is not None and existing.state == "pending"
        if only_if_pending != pending or (pending and as_utc(existing.due_at) == due):
            return
        try:
            async with tx.session.begin_nested():
                await tx.schedule(REMIND_JOB, str(room.id), due, {"roomId": room.id})
        except IntegrityError:
            pass  # a concurrent first reservation scheduled it

    async def cancel_reminder(self, tx: Transaction, room: Room) -> None:
        await tx.cancel_timer(REMIND_JOB, str(room.id))

    async def remind(self, tx: Transaction, timer: Any) -> int:
        """The timer: remind every member who reserved and was not reminded yet, a batch at a
        time. A room that is no longer upcoming (cancelled, or started early) reminds nobody."""
        room = await tx.session.get(Room, int(timer.payload["roomId"]), populate_existing=True)
        if room is None or room.status != "scheduled":
            return 0
        rows = (
            await tx.session.scalars(
                select(Reservation)
                .where(Reservation.room_id == room.id, Reservation.active.is_(True), Reservation.reminded_at.is_(None))
                .order_by(Reservation.id)
                .limit(REMIND_BATCH + 1)
            )
        ).all()
        now = tx.now()
        for reservation in rows[:REMIND_BATCH]:
            # Conditional: a reservation is reminded once even if two batches overlapped.
            marked = await tx.session.execute(
                update(Reservation)
                .where(Reservation.id == reservation.id, Reservation.reminded_at.is_(None))
                .values(reminded_at=now)
                .execution_options(synchronize_session=False)
            )
            if marked.rowcount:
                await tx.emit(
                    "live_room.reservation_reminder",
                    {
                        "roomId": room.id,
                        "memberId": reservation.member_id,
                        "storeId": reservation.store_id,
                        "title": room.title,
                        "scheduledStartAt": as_utc(room.scheduled_start_at).isoformat(),
                    },
                )
        if len(rows) > REMIND_BATCH:
            await tx.schedule(REMIND_JOB, f"{room.id}:after:{rows[REMIND_BATCH - 1].id}", now, {"roomId": room.id})
        return min(len(rows), REMIND_BATCH)
