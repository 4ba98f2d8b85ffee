"""Pickup stores: where they are, their hours, and finding the nearest open ones (a grid-cell
prefilter, then exact great-circle distances)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Mapping

from sqlalchemy import Text, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from components.store_pickup.hours import normalise_hours, open_at
from components.store_pickup.models import STORE_STATUSES, Store
from core.clock import as_utc
from core.errors import DomainError
from core.transaction import Transaction

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


class StoreDirectory:
    """Mixed into :class:`~components.store_pickup.service.StorePickupService` (which gives it
    ``kernel`` and ``zone``)."""

    async def existing_store_ids(self, session: AsyncSession, ids: Iterable[int]) -> set[int]:
        wanted = {int(i) for i in ids}
        if not wanted:
            return set()
        return set((await session.scalars(select(Store.id).where(Store.id.in_(wanted)))).all())

    async def create_store(
        self,
        tx: Transaction,
        *,
        name: str,
        latitude: float,
        longitude: float,
        address: str = "",
        phone: str = "",
        hours: Mapping[str, Any] | None = None,
        status: str = "open",
    ) -> int:
        if not name.strip() or len(name) > 100:
            raise DomainError("KERNEL_INVALID_INPUT", "A store name has 1 to 100 characters.", field="input.name")
        if status not in STORE_STATUSES:
            raise DomainError("KERNEL_INVALID_INPUT", f"A store is {', '.join(STORE_STATUSES)}.", field="input.status")
        check_coordinates(latitude, longitude)
        cell_y, cell_x = cell_of(latitude, longitude)
        store = Store(
            name=name.strip(),
            address=address[:300],
            phone=phone[:30],
            latitude=float(latitude),
            longitude=float(longitude),
            cell_y=cell_y,
            cell_x=cell_x,
            hours=normalise_hours(hours),
            status=status,
            created_at=tx.now(),
        )
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

    async def nearest(
        self,
        session: AsyncSession,
        latitude: float,
        longitude: float,
        *,
        limit: int = 10,
        radius_m: float | None = None,
        at: datetime | None = None,
        open_only: bool = True,
        prefilter: bool = True,
    ) -> list[NearbyStore]:
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
