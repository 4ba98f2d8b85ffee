"""Store pickup rules: slots, pickup codes, clerk verification, the pickup window; stores and
the nearest of them are in ``stores`` (mixed in, as ``verification`` and ``window`` are).

A pickup follows its order::

    order.created (pickup) ─▶ pending_payment ─order.paid─▶ awaiting_pickup ─confirm─▶ picked_up
            │                        │                          │  ├─window, on_expiry=refund─▶ expired (order refunded)
            │                        └─order.cancelled─▶ cancelled └─order refunded─▶ refunded
            └─ store closed / slot full: the order is not created at all

The pickup row is written in the order's own transaction (``order.created`` and ``order.paid``
are handled in-transaction), so an order never exists as a pickup order without its store
checked, its slot taken and its code allocated, whichever component created it (a plain
checkout, a points redemption, a group-buy order whose member chose a store).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from components.store_pickup.hours import WEEKDAYS, normalise_hours, open_at  # noqa: F401 (re-exported)
from components.store_pickup.models import OPEN_STATES, Pickup, Slot, Store
from components.store_pickup.stores import StoreDirectory
from components.store_pickup.verification import _HANDING_OVER, QR_PREFIX, Verification  # noqa: F401
from components.store_pickup.window import EXPIRE_JOB, REMIND_JOB, PickupWindow
from core.clock import as_utc
from core.errors import DomainError
from core.transaction import Event, Transaction
from core.units import parse_duration

SLOT_ATTRIBUTE = "storePickupSlotId"


class StorePickupService(StoreDirectory, Verification, PickupWindow):
    def __init__(self, kernel: Any, settings: Mapping[str, Any]) -> None:
        self.kernel = kernel
        self.window = parse_duration(settings.get("pickup_window", "3d"))
        self.remind_before = parse_duration(settings.get("expiry_reminder_before", "1d"))
        self.on_expiry = settings.get("on_expiry", "refund")
        self.stock = settings.get("stock", "central")
        self.slots_required = settings.get("slots", "optional") == "required"
        self.code_digits = int(settings.get("code_digits", 8))
        limits = settings.get("rate_limit") or {}
        self.rate_window = parse_duration(limits.get("window", "15m"))
        self.per_clerk = int(limits.get("per_clerk", 10))
        self.per_store = int(limits.get("per_store", 30))
        self._qr_secret = settings.get("qr_secret")

    @property
    def _qr_key(self) -> bytes:
        # Derived, not reused: a leaked QR key must not let anyone mint login tokens. Computed
        # on use: a development kernel reads its token secret from the database at start.
        base = self._qr_secret.encode() if self._qr_secret else self.kernel.signing_secret().encode()
        return hmac.new(base, b"dougong store_pickup qr v1", hashlib.sha256).digest()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.kernel.blueprint.brand.timezone)

    # -- slots -------------------------------------------------------------------------------------
    async def create_slots(self, tx: Transaction, *, store_id: int, starts_at: datetime, ends_at: datetime, minutes: int, capacity: int) -> list[int]:
        """Consecutive slots of ``minutes`` from ``starts_at`` to ``ends_at``; existing ones are kept."""
        await self.store(tx.session, store_id)
        if not 5 <= minutes <= 24 * 60:
            raise DomainError("KERNEL_INVALID_INPUT", "A slot lasts 5 minutes to 24 hours.", field="input.slotMinutes")
        if not 1 <= capacity <= 10_000:
            raise DomainError("KERNEL_INVALID_INPUT", "A slot takes 1 to 10000 pickups.", field="input.capacity")
        starts_at, ends_at = as_utc(starts_at), as_utc(ends_at)
        step = timedelta(minutes=minutes)
        count = int((ends_at - starts_at) / step) if ends_at > starts_at else 0
        if not 1 <= count <= 500:
            raise DomainError("KERNEL_INVALID_INPUT", "Give a range holding 1 to 500 slots.", field="input.endsAt")
        wanted = [starts_at + i * step for i in range(count)]
        existing = set(
            as_utc(t) for t in (await tx.session.scalars(select(Slot.starts_at).where(Slot.store_id == store_id, Slot.starts_at.in_(wanted)))).all()
        )
        slots = [Slot(store_id=store_id, starts_at=t, ends_at=t + step, capacity=capacity, taken=0) for t in wanted if t not in existing]
        tx.session.add_all(slots)
        await tx.session.flush()
        return [s.id for s in slots]

    async def _take_slot(self, tx: Transaction, slot_id: int, store_id: int) -> Slot:
        slot = await tx.session.get(Slot, slot_id)
        if slot is None or slot.store_id != store_id:
            raise DomainError("STORE_PICKUP_SLOT_UNAVAILABLE", "That slot is not one of this store's.", field="input.slotId")
        if as_utc(slot.starts_at) <= tx.now():
            raise DomainError("STORE_PICKUP_SLOT_UNAVAILABLE", "That slot has already started.", field="input.slotId")
        # The capacity check and the increment are one statement: concurrent checkouts for the
        # last place cannot both see it free (PostgreSQL re-checks the WHERE after the row lock).
        taken = await tx.session.execute(
            update(Slot)
            .where(Slot.id == slot_id, Slot.taken < Slot.capacity)
            .values(taken=Slot.taken + 1)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:
            raise DomainError("STORE_PICKUP_SLOT_FULL", "That slot is fully booked; choose another.", field="input.slotId")
        return slot

    async def _release_slot(self, tx: Transaction, slot_id: int | None) -> None:
        if slot_id is None:
            return
        await tx.session.execute(
            update(Slot).where(Slot.id == slot_id, Slot.taken > 0).values(taken=Slot.taken - 1).execution_options(synchronize_session=False)
        )

    async def slots(self, session: AsyncSession, store_id: int, since: datetime, until: datetime) -> list[Slot]:
        return list(
            (
                await session.scalars(
                    select(Slot).where(Slot.store_id == store_id, Slot.starts_at >= since, Slot.starts_at < until).order_by(Slot.starts_at).limit(500)
                )
            ).all()
        )

    # -- checkout ----------------------------------------------------------------------------------
    async def checkout(
        self,
        tx: Transaction,
        *,
        member_id: int,
        lines: list[tuple[int, int]],
        store_id: int,
        slot_id: int | None = None,
        source: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> int:
        """Place a pickup order through the one checkout (see components/store_pickup/checkout.py,
        which checks the store and slot and takes the slot). Returns the order id."""
        pickup = {"storeId": str(store_id), **({"slotId": str(slot_id)} if slot_id is not None else {})}
        try:
            return await self.kernel.service("orders").create_order(
                tx,
                member_id=member_id,
                lines=lines,
                delivery_type="pickup",
                inputs={"pickup": pickup},
                source=source,
                idempotency_key=idempotency_key,
            )
        except DomainError as error:
            # checkoutPickup takes storeId and slotId at the top of its input.
            if error.field and error.field.startswith("input.pickup."):
                error.field = "input." + error.field.removeprefix("input.pickup.")
            raise

    async def choose_store(self, tx: Transaction, *, member_id: int, order_id: int, store_id: int, slot_id: int | None = None) -> Pickup:
        """Make an unpaid order (a group-buy or auction order placed elsewhere) a pickup order,
        or move its pickup to another store or slot."""
        orders = self.kernel.service("orders")
        order = await orders.get(tx, order_id)
        if order.member_id != member_id:
            raise DomainError("KERNEL_NOT_FOUND", "No such order.", field="input.orderId")
        if order.status != "pending_payment":
            raise DomainError(
                "STORE_PICKUP_ORDER_NOT_PENDING", "Only an unpaid order can change where it is collected.", field="input.orderId", status=order.status
            )
        if slot_id is None and self.slots_required:
            raise DomainError("STORE_PICKUP_SLOT_REQUIRED", "Choose a pickup time slot.", field="input.slotId")
        if self.stock == "per_store" and order.location_id != store_id:
            raise DomainError(
                "STORE_PICKUP_STOCK_ELSEWHERE", "This order holds stock of another location; order again at this store.", field="input.storeId"
            )
        previous = await tx.session.scalar(select(Pickup).where(Pickup.order_id == order.id))
        if previous is not None:
            # The old choice gives its slot back and its code stops being live.
            await tx.session.delete(previous)
            await self._release_slot(tx, previous.slot_id)
            await tx.session.flush()
        await self._set_delivery(tx, order, store_id)
        return await self._open_pickup(
            tx,
            order_id=order.id,
            member_id=order.member_id,
            store_id=store_id,
            slot_id=slot_id,
            kind=order.kind,
            total_minor=order.total_minor,
            currency=order.currency,
        )

    async def _set_delivery(self, tx: Transaction, order: Any, store_id: int) -> None:
        moved = await self.kernel.service("orders").set_delivery(tx, order.id, delivery_type="pickup", store_id=store_id)
        if not moved:
            raise DomainError("STORE_PICKUP_ORDER_NOT_PENDING", "Only an unpaid order can change where it is collected.", field="input.orderId")

    async def _open_pickup(
        self,
        tx: Transaction,
        *,
        order_id: int,
        member_id: int,
        store_id: int | None,
        slot_id: int | None,
        kind: str,
        total_minor: int,
        currency: str,
        lenient: bool = False,
    ) -> Pickup:
        store = await self.store(tx.session, store_id)
        if store.status != "open" and not lenient:
            raise DomainError("STORE_PICKUP_STORE_CLOSED", f"This store is {store.status} and takes no pickups.", field="input.storeId")
        if slot_id is not None and not lenient:
            await self._take_slot(tx, int(slot_id), store.id)
        for _ in range(20):
            pickup = Pickup(
                order_id=order_id,
                member_id=member_id,
                store_id=store.id,
                slot_id=slot_id,
                state="pending_payment",
                code=self.new_code(),
                order_kind=kind,
                total_minor=total_minor,
                currency=currency,
                created_at=tx.now(),
            )
            try:
                async with tx.session.begin_nested():
                    tx.session.add(pickup)
                    await tx.session.flush()
                return pickup
            except IntegrityError:
                # The code is live at this store already (one chance in 10^digits / open
                # pickups): draw again rather than ever showing two customers one code.
                continue
        raise RuntimeError("could not allocate a unique pickup code")

    def new_code(self) -> str:
        # From the OS's CSPRNG: nothing about time, order or member goes into a code.
        return f"{secrets.randbelow(10**self.code_digits):0{self.code_digits}d}"

    # -- reacting to orders (in the order's transaction) ---------------------------------------------
    async def on_order_paid(self, tx: Transaction, event: Event) -> None:
        p = event.payload
        if p.get("deliveryType") != "pickup":
            return
        pickup = await self._pickup_of_order(tx, p["orderId"])
        if pickup is None:
            # The order predates this component, or came in another way: never block a payment
            # over it, just open its pickup if its store exists.
            if p.get("storeId") is None or await tx.session.get(Store, p["storeId"]) is None:
                return
            pickup = await self._open_pickup(
                tx,
                order_id=p["orderId"],
                member_id=p["memberId"],
                store_id=p["storeId"],
                slot_id=None,
                kind=p.get("kind", "plain"),
                total_minor=int(p.get("totalMinor", 0)),
                currency=p.get("currency", ""),
                lenient=True,
            )
        if pickup.state != "pending_payment":
            return  # a replayed event
        now = tx.now()
        start = now
        if pickup.slot_id is not None:
            slot = await tx.session.get(Slot, pickup.slot_id)
            start = max(now, as_utc(slot.ends_at)) if slot is not None else now
        pickup.state, pickup.ready_at, pickup.expires_at = "awaiting_pickup", now, start + self.window
        pickup.total_minor = int(p.get("totalMinor", pickup.total_minor))
        await tx.session.flush()
        await tx.schedule(EXPIRE_JOB, str(pickup.id), pickup.expires_at, {"pickupId": pickup.id})
        remind_at = pickup.expires_at - self.remind_before
        if self.remind_before and remind_at > now:  # a window shorter than the notice gets no reminder
            await tx.schedule(REMIND_JOB, str(pickup.id), remind_at, {"pickupId": pickup.id})
        await tx.emit("store_pickup.ready", {**self.event(pickup), "expiresAt": as_utc(pickup.expires_at).isoformat()})

    async def on_order_cancelled(self, tx: Transaction, event: Event) -> None:
        pickup = await self._pickup_of_order(tx, event.payload["orderId"])
        if pickup is None or pickup.state not in OPEN_STATES:
            return
        await self._close(tx, pickup, "cancelled")

    async def on_order_refunded(self, tx: Transaction, event: Event) -> None:
        """A full refund ends the pickup; after a partial one the rest is still collected with the
        same code (the clerk sees each line's refunded quantity)."""
        if not event.payload.get("full"):
            return
        pickup = await self._pickup_of_order(tx, event.payload["orderId"])
        if pickup is None or pickup.state not in OPEN_STATES:
            return
        await self._close(tx, pickup, "refunded")

    async def _close(self, tx: Transaction, pickup: Pickup, state: str) -> None:
        pickup.state, pickup.closed_at = state, tx.now()
        slot = await tx.session.get(Slot, pickup.slot_id) if pickup.slot_id is not None else None
        if slot is not None and as_utc(slot.starts_at) > tx.now():
            await self._release_slot(tx, slot.id)  # a future place goes back on offer
        await tx.cancel_timer(EXPIRE_JOB, str(pickup.id))
        await tx.cancel_timer(REMIND_JOB, str(pickup.id))
        await tx.session.flush()

    async def fulfilment_guard(self, tx: Transaction, order: Any) -> str | None:
        """Orders' fulfilment guard: an awaiting pickup is handed over only through verify().

        Found by the authorization matrix: without it a clerk could fulfilOrder + completeOrder
        a pickup order of their store and so "hand it over" without the customer's code — the
        very thing confirmPickup (and hiding codes from staff) is there to prevent."""
        if order.delivery_type != "pickup" or _HANDING_OVER.get() == order.id:
            return None
        pickup = await self._pickup_of_order(tx, order.id)
        if pickup is not None and pickup.state == "awaiting_pickup":
            return "A pickup order is handed over at its store against the customer's code (confirmPickup)."
        return None

    async def _pickup_of_order(self, tx: Transaction, order_id: int) -> Pickup | None:
        stmt = select(Pickup).where(Pickup.order_id == order_id)
        if self.kernel.db.is_postgresql:
            stmt = stmt.with_for_update()
        return await tx.session.scalar(stmt.execution_options(populate_existing=True))

    # -- reading -----------------------------------------------------------------------------------------
    def event(self, pickup: Pickup) -> dict[str, Any]:
        return {
            "pickupId": pickup.id,
            "orderId": pickup.order_id,
            "memberId": pickup.member_id,
            "storeId": pickup.store_id,
            "slotId": pickup.slot_id,
            "state": pickup.state,
            "kind": pickup.order_kind,
            "totalMinor": pickup.total_minor,
            "currency": pickup.currency,
        }

    async def results(self, session: AsyncSession, store_id: int, since: datetime | None, until: datetime | None) -> dict[str, int]:
        """What a store did for online sales: pickups handed over (and their value) in a period,
        and what waits there now."""
        handed = select(func.count(), func.coalesce(func.sum(Pickup.total_minor), 0)).where(Pickup.store_id == store_id, Pickup.state == "picked_up")
        if since is not None:
            handed = handed.where(Pickup.picked_up_at >= since)
        if until is not None:
            handed = handed.where(Pickup.picked_up_at < until)
        count, total = (await session.execute(handed)).one()
        waiting = await session.scalar(select(func.count()).select_from(Pickup).where(Pickup.store_id == store_id, Pickup.state == "awaiting_pickup"))
        return {"pickedUp": int(count), "salesMinor": int(total), "awaiting": int(waiting or 0)}
