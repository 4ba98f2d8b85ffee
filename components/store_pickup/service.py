"""Store pickup rules: stores and the nearest of them, slots, pickup codes, clerk verification,
the pickup window.

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
import json
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable, Mapping
from zoneinfo import ZoneInfo

from sqlalchemy import Text, func, select, type_coerce, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from components.store_pickup.hours import WEEKDAYS, normalise_hours, open_at  # noqa: F401 (re-exported)
from components.store_pickup.verification import _HANDING_OVER, QR_PREFIX, Verification  # noqa: F401
from components.store_pickup.window import EXPIRE_JOB, REMIND_JOB, PickupWindow
from components.store_pickup.models import OPEN_STATES, STORE_STATUSES, Pickup, Slot, Store
from core.clock import as_utc
from core.errors import DomainError
from core.transaction import Event, Transaction
from core.units import parse_duration

SLOT_ATTRIBUTE = "storePickupSlotId"
EARTH_RADIUS_M = 6_371_008.8
METRES_PER_DEGREE = 111_195.0  # of latitude, on the mean sphere used for distances
# Grid cells of 0.05° (about 5.5 km north–south): small enough that a city query reads a few
# cells, large enough that a rural query does not walk hundreds of them.
CELL_DEGREES = 0.05
MAX_SEARCH_M = 20_100_000.0  # half the Earth's circumference: everything
MAX_NEAREST = 50


def cell_of(latitude: float, longitude: float) -> tuple[int, int]:
    return math.floor((latitude + 90.0) / CELL_DEGREES), math.floor((longitude + 180.0) / CELL_DEGREES)


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance (haversine) in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def check_coordinates(latitude: float, longitude: float, field: str = "input") -> None:
    if not (isinstance(latitude, (int, float)) and -90.0 <= latitude <= 90.0 and math.isfinite(latitude)):
        raise DomainError("KERNEL_INVALID_INPUT", "A latitude is between -90 and 90.", field=f"{field}.latitude")
    if not (isinstance(longitude, (int, float)) and -180.0 <= longitude <= 180.0 and math.isfinite(longitude)):
        raise DomainError("KERNEL_INVALID_INPUT", "A longitude is between -180 and 180.", field=f"{field}.longitude")


def _open_text(hours: str | dict | None, local: datetime) -> bool:
    # SQLite hands the column back as text; asyncpg's JSON codec may already have decoded it.
    return open_at(json.loads(hours) if isinstance(hours, (str, bytes)) else hours, local)


@dataclass(frozen=True)
class NearbyStore:
    store: Store
    distance_m: float


class StorePickupService(Verification, PickupWindow):
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

    # -- stores ------------------------------------------------------------------------------------
    async def existing_store_ids(self, session: AsyncSession, ids: Iterable[int]) -> set[int]:
        wanted = {int(i) for i in ids}
        if not wanted:
            return set()
        return set((await session.scalars(select(Store.id).where(Store.id.in_(wanted)))).all())

    async def create_store(self, tx: Transaction, *, name: str, latitude: float, longitude: float, address: str = "",
                           phone: str = "", hours: Mapping[str, Any] | None = None, status: str = "open") -> int:
        if not name.strip() or len(name) > 100:
            raise DomainError("KERNEL_INVALID_INPUT", "A store name has 1 to 100 characters.", field="input.name")
        if status not in STORE_STATUSES:
            raise DomainError("KERNEL_INVALID_INPUT", f"A store is {', '.join(STORE_STATUSES)}.", field="input.status")
        check_coordinates(latitude, longitude)
        cell_y, cell_x = cell_of(latitude, longitude)
        store = Store(name=name.strip(), address=address[:300], phone=phone[:30], latitude=float(latitude),
                      longitude=float(longitude), cell_y=cell_y, cell_x=cell_x, hours=normalise_hours(hours),
                      status=status, created_at=tx.now())
        tx.session.add(store)
        await tx.session.flush()
        return store.id

    async def update_store(self, tx: Transaction, store_id: int, **changes: Any) -> Store:
        store = await self.store(tx.session, store_id)
        if "status" in changes and changes["status"] is not None:
            if changes["status"] not in STORE_STATUSES:
                raise DomainError("KERNEL_INVALID_INPUT", f"A store is {', '.join(STORE_STATUSES)}.", field="input.status")
            store.status = changes["status"]
        if changes.get("hours") is not None:
            store.hours = normalise_hours(changes["hours"])
        for key in ("name", "address", "phone"):
            if changes.get(key) is not None:
                setattr(store, key, str(changes[key]).strip())
        if changes.get("latitude") is not None or changes.get("longitude") is not None:
            lat = changes.get("latitude", store.latitude) if changes.get("latitude") is not None else store.latitude
            lng = changes.get("longitude", store.longitude) if changes.get("longitude") is not None else store.longitude
            check_coordinates(lat, lng)
            store.latitude, store.longitude = float(lat), float(lng)
            store.cell_y, store.cell_x = cell_of(lat, lng)
        await tx.session.flush()
        return store

    async def store(self, session: AsyncSession, store_id: int | None, field: str = "input.storeId") -> Store:
        store = await session.get(Store, store_id) if store_id is not None else None
        if store is None:
            raise DomainError("STORE_PICKUP_UNKNOWN_STORE", "No such pickup store.", field=field)
        return store

    def serves_at(self, store: Store, when: datetime) -> bool:
        return store.status == "open" and open_at(store.hours, as_utc(when).astimezone(self.zone))

    async def nearest(self, session: AsyncSession, latitude: float, longitude: float, *, limit: int = 10,
                      radius_m: float | None = None, at: datetime | None = None, open_only: bool = True,
                      prefilter: bool = True) -> list[NearbyStore]:
        """The ``limit`` nearest stores able to serve pickup (status open, and open at ``at`` —
        now by default — unless ``open_only`` is false), optionally within ``radius_m``.

        Grid-cell prefilter: read the indexed cells of a box around the point, growing the box
        until it holds ``limit`` stores within its inscribed radius (nothing outside that radius
        can be nearer), then rank the candidates by exact haversine distance. ``prefilter=False``
        is the full-scan baseline the benchmark compares with."""
        check_coordinates(latitude, longitude, field="")
        if not 1 <= limit <= MAX_NEAREST:
            raise DomainError("KERNEL_INVALID_INPUT", f"Ask for 1 to {MAX_NEAREST} stores.", field="first")
        if radius_m is not None and not 0 < radius_m <= MAX_SEARCH_M:
            raise DomainError("KERNEL_INVALID_INPUT", "The radius must be positive.", field="radiusKm")
        when = at or self.kernel.clock.now()
        local = as_utc(when).astimezone(self.zone)
        cap = min(radius_m or MAX_SEARCH_M, MAX_SEARCH_M)
        # Hours come back as text and are parsed only for stores near enough to matter.
        columns = (Store.id, Store.latitude, Store.longitude, type_coerce(Store.hours, Text).label("hours"))
        if not prefilter:
            rows = (await session.execute(select(*columns).where(Store.status == "open"))).all()
            ranked = sorted((distance_m(latitude, longitude, r.latitude, r.longitude), r.id, r.hours) for r in rows)
            chosen = [(d, i) for d, i, h in ranked if d <= cap and (not open_only or _open_text(h, local))]
            return await self._load(session, chosen[:limit])
        searched = min(1_000.0, cap)
        seen: set[int] = set()
        found: list[tuple[float, int, str | None]] = []
        while True:
            stmt = select(*columns).where(Store.status == "open", *self._box(latitude, longitude, searched))
            for row in (await session.execute(stmt)).all():
                if row.id not in seen:
                    seen.add(row.id)
                    found.append((distance_m(latitude, longitude, row.latitude, row.longitude), row.id, row.hours))
            found.sort()
            chosen: list[tuple[float, int]] = []
            for d, store_id, hours in found:
                if d > searched or len(chosen) == limit:
                    break
                if not open_only or _open_text(hours, local):
                    chosen.append((d, store_id))
            if len(chosen) >= limit or searched >= cap:
                return await self._load(session, chosen)
            searched = min(searched * 4, cap)

    @staticmethod
    def _box(latitude: float, longitude: float, radius_m: float) -> list[Any]:
        """Conditions on the indexed cell columns covering a circle of ``radius_m``."""
        dlat = radius_m / METRES_PER_DEGREE
        y0, y1 = cell_of(max(latitude - dlat, -90.0), 0)[0], cell_of(min(latitude + dlat, 90.0), 0)[0]
        conditions: list[Any] = [Store.cell_y.between(y0, y1)]
        # Near the poles or across the antimeridian a longitude band is not worth computing.
        widest = max(abs(latitude) + dlat, 0.0)
        if widest < 89.0:
            dlng = dlat / math.cos(math.radians(widest))
            if longitude - dlng > -180.0 and longitude + dlng < 180.0:
                x0, x1 = cell_of(0, longitude - dlng)[1], cell_of(0, longitude + dlng)[1]
                conditions.append(Store.cell_x.between(x0, x1))
        return conditions

    @staticmethod
    async def _load(session: AsyncSession, ranked: list[tuple[float, int]]) -> list[NearbyStore]:
        if not ranked:
            return []
        stores = {s.id: s for s in (await session.scalars(select(Store).where(Store.id.in_([i for _, i in ranked])))).all()}
        return [NearbyStore(stores[i], d) for d, i in ranked if i in stores]

    # -- slots -------------------------------------------------------------------------------------
    async def create_slots(self, tx: Transaction, *, store_id: int, starts_at: datetime, ends_at: datetime,
                           minutes: int, capacity: int) -> list[int]:
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
            as_utc(t) for t in (await tx.session.scalars(
                select(Slot.starts_at).where(Slot.store_id == store_id, Slot.starts_at.in_(wanted)))).all()
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
            update(Slot).where(Slot.id == slot_id, Slot.taken < Slot.capacity).values(taken=Slot.taken + 1)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:
            raise DomainError("STORE_PICKUP_SLOT_FULL", "That slot is fully booked; choose another.", field="input.slotId")
        return slot

    async def _release_slot(self, tx: Transaction, slot_id: int | None) -> None:
        if slot_id is None:
            return
        await tx.session.execute(
            update(Slot).where(Slot.id == slot_id, Slot.taken > 0).values(taken=Slot.taken - 1)
            .execution_options(synchronize_session=False)
        )

    async def slots(self, session: AsyncSession, store_id: int, since: datetime, until: datetime) -> list[Slot]:
        return list((await session.scalars(
            select(Slot).where(Slot.store_id == store_id, Slot.starts_at >= since, Slot.starts_at < until)
            .order_by(Slot.starts_at).limit(500)
        )).all())

    # -- checkout ----------------------------------------------------------------------------------
    async def checkout(self, tx: Transaction, *, member_id: int, lines: list[tuple[int, int]], store_id: int,
                       slot_id: int | None = None, source: Mapping[str, Any] | None = None,
                       idempotency_key: str | None = None) -> int:
        """Place a pickup order through the one checkout (see components/store_pickup/checkout.py,
        which checks the store and slot and takes the slot). Returns the order id."""
        pickup = {"storeId": str(store_id), **({"slotId": str(slot_id)} if slot_id is not None else {})}
        try:
            return await self.kernel.service("orders").create_order(
                tx, member_id=member_id, lines=lines, delivery_type="pickup", inputs={"pickup": pickup}, source=source,
                idempotency_key=idempotency_key,
            )
        except DomainError as error:
            # checkoutPickup takes storeId and slotId at the top of its input.
            if error.field and error.field.startswith("input.pickup."):
                error.field = "input." + error.field.removeprefix("input.pickup.")
            raise

    async def choose_store(self, tx: Transaction, *, member_id: int, order_id: int, store_id: int,
                           slot_id: int | None = None) -> Pickup:
        """Make an unpaid order (a group-buy or auction order placed elsewhere) a pickup order,
        or move its pickup to another store or slot."""
        orders = self.kernel.service("orders")
        order = await orders.get(tx, order_id)
        if order.member_id != member_id:
            raise DomainError("KERNEL_NOT_FOUND", "No such order.", field="input.orderId")
        if order.status != "pending_payment":
            raise DomainError("STORE_PICKUP_ORDER_NOT_PENDING", "Only an unpaid order can change where it is collected.",
                              field="input.orderId", status=order.status)
        if slot_id is None and self.slots_required:
            raise DomainError("STORE_PICKUP_SLOT_REQUIRED", "Choose a pickup time slot.", field="input.slotId")
        if self.stock == "per_store" and order.location_id != store_id:
            raise DomainError("STORE_PICKUP_STOCK_ELSEWHERE",
                              "This order holds stock of another location; order again at this store.", field="input.storeId")
        previous = await tx.session.scalar(select(Pickup).where(Pickup.order_id == order.id))
        if previous is not None:
            # The old choice gives its slot back and its code stops being live.
            await tx.session.delete(previous)
            await self._release_slot(tx, previous.slot_id)
            await tx.session.flush()
        await self._set_delivery(tx, order, store_id)
        return await self._open_pickup(tx, order_id=order.id, member_id=order.member_id, store_id=store_id,
                                       slot_id=slot_id, kind=order.kind, total_minor=order.total_minor, currency=order.currency)

    async def _set_delivery(self, tx: Transaction, order: Any, store_id: int) -> None:
        moved = await self.kernel.service("orders").set_delivery(tx, order.id, delivery_type="pickup", store_id=store_id)
        if not moved:
            raise DomainError("STORE_PICKUP_ORDER_NOT_PENDING", "Only an unpaid order can change where it is collected.",
                              field="input.orderId")

    async def _open_pickup(self, tx: Transaction, *, order_id: int, member_id: int, store_id: int | None,
                           slot_id: int | None, kind: str, total_minor: int, currency: str, lenient: bool = False) -> Pickup:
        store = await self.store(tx.session, store_id)
        if store.status != "open" and not lenient:
            raise DomainError("STORE_PICKUP_STORE_CLOSED", f"This store is {store.status} and takes no pickups.",
                              field="input.storeId")
        if slot_id is not None and not lenient:
            await self._take_slot(tx, int(slot_id), store.id)
        for _ in range(20):
            pickup = Pickup(order_id=order_id, member_id=member_id, store_id=store.id, slot_id=slot_id,
                            state="pending_payment", code=self.new_code(), order_kind=kind, total_minor=total_minor,
                            currency=currency, created_at=tx.now())
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
        return f"{secrets.randbelow(10 ** self.code_digits):0{self.code_digits}d}"

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
            pickup = await self._open_pickup(tx, order_id=p["orderId"], member_id=p["memberId"], store_id=p["storeId"],
                                             slot_id=None, kind=p.get("kind", "plain"), total_minor=int(p.get("totalMinor", 0)),
                                             currency=p.get("currency", ""), lenient=True)
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
        return {"pickupId": pickup.id, "orderId": pickup.order_id, "memberId": pickup.member_id, "storeId": pickup.store_id,
                "slotId": pickup.slot_id, "state": pickup.state, "kind": pickup.order_kind, "totalMinor": pickup.total_minor,
                "currency": pickup.currency}

    async def results(self, session: AsyncSession, store_id: int, since: datetime | None, until: datetime | None) -> dict[str, int]:
        """What a store did for online sales: pickups handed over (and their value) in a period,
        and what waits there now."""
        handed = select(func.count(), func.coalesce(func.sum(Pickup.total_minor), 0)).where(
            Pickup.store_id == store_id, Pickup.state == "picked_up")
        if since is not None:
            handed = handed.where(Pickup.picked_up_at >= since)
        if until is not None:
            handed = handed.where(Pickup.picked_up_at < until)
        count, total = (await session.execute(handed)).one()
        waiting = await session.scalar(select(func.count()).select_from(Pickup).where(
            Pickup.store_id == store_id, Pickup.state == "awaiting_pickup"))
        return {"pickedUp": int(count), "salesMinor": int(total), "awaiting": int(waiting or 0)}
