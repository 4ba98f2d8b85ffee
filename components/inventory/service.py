"""Stock rules: one reserve / release / commit path for every component that sells.

Every change is a conditional UPDATE inside the caller's transaction, so the check and the
change are one statement: two buyers of the last unit cannot both pass the check. The table's
CHECK constraint backs it up in the database itself.
"""

from __future__ import annotations

from typing import Any, Mapping

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from components.inventory.models import CENTRAL, ActivityStock, Reservation, Stock
from core.errors import DomainError
from core.gql.relay import to_global_id
from core.keys_in import keys_in
from core.transaction import Transaction

MAX_QUANTITY = 100_000
MAX_ON_HAND = 10**9  # inventory_stock.on_hand is a 32-bit integer column

# Reads of many SKUs select the table, not the mapped class (no ORM machinery for plain rows).
STOCK = Stock.__table__
# Built once (every storefront page asks it): units to buy now of some SKUs at one location.
AVAILABLE_AT = select(STOCK.c.sku_id, STOCK.c.on_hand - STOCK.c.reserved).where(
    keys_in(STOCK.c.sku_id, name="keys"), STOCK.c.location_id == bindparam("location")
)


def _quantity(quantity: Any, field: str) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0 or quantity > MAX_QUANTITY:
        raise DomainError("KERNEL_INVALID_INPUT", f"A quantity is a whole number from 1 to {MAX_QUANTITY}.", field=field)
    return quantity


def _location(location_id: Any, field: str) -> int:
    # 0 is the central warehouse, store pickup uses store ids: never negative.
    if isinstance(location_id, bool) or not isinstance(location_id, int) or location_id < 0:
        raise DomainError("KERNEL_INVALID_INPUT", "A location is 0 (central) or a store id.", field=field)
    return location_id


def _label(value: Any, limit: int, name: str) -> str:
    # reason/ref/owner/key come from calling components, not shoppers; a bad one is a
    # programming error, but it must still fail typed rather than as a database error.
    if not isinstance(value, str) or not value or len(value) > limit:
        raise DomainError("KERNEL_INVALID_INPUT", f"{name} is text of 1 to {limit} characters.", field=name)
    return value


class InventoryService:
    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.settings = settings

    async def reserve(
        self,
        tx: Transaction,
        sku_id: int,
        quantity: int,
        *,
        reason: str,
        ref: str,
        location_id: int = CENTRAL,
        activity: tuple[str, str] | None = None,
        field: str | None = None,
    ) -> int:
        """Hold ``quantity`` units for ``ref``; raises INVENTORY_OUT_OF_STOCK and changes nothing if short."""
        quantity = _quantity(quantity, field or "quantity")
        location_id = _location(location_id, "locationId")
        reason, ref = _label(reason, 50, "reason"), _label(ref, 100, "ref")
        session = tx.session
        held = await session.execute(
            update(Stock)
            .where(Stock.sku_id == sku_id, Stock.location_id == location_id, Stock.on_hand - Stock.reserved >= quantity)
            .values(reserved=Stock.reserved + quantity)
        )
        if held.rowcount != 1:
            available = (await self.available(session, [sku_id], location_id)).get(sku_id, 0)
            raise DomainError(
                "INVENTORY_OUT_OF_STOCK",
                f"Only {available} left." if available else "Sold out.",
                field=field,
                skuId=to_global_id("Sku", sku_id),
                available=available,
            )
        activity_id = None
        if activity is not None:
            owner, key = activity
            row = await session.scalar(
                select(ActivityStock.id).where(ActivityStock.owner == owner, ActivityStock.key == key, ActivityStock.sku_id == sku_id)
            )
            if row is None:
                raise DomainError("INVENTORY_ACTIVITY_SOLD_OUT", "This activity does not sell that SKU.", field=field)
            taken = await session.execute(
                update(ActivityStock)
                .where(ActivityStock.id == row, ActivityStock.total - ActivityStock.reserved - ActivityStock.sold >= quantity)
                .values(reserved=ActivityStock.reserved + quantity)
            )
            if taken.rowcount != 1:
                # The stock hold above is in this transaction: the caller's rollback returns it.
                raise DomainError(
                    "INVENTORY_ACTIVITY_SOLD_OUT", "The activity's quantity is sold out.", field=field, skuId=to_global_id("Sku", sku_id)
                )
            activity_id = row
        reservation = Reservation(
            sku_id=sku_id,
            location_id=location_id,
            quantity=quantity,
            returned_quantity=0,
            state="reserved",
            reason=reason,
            ref=ref,
            activity_id=activity_id,
            created_at=tx.now(),
        )
        session.add(reservation)
        await session.flush()
        return reservation.id

    async def _claim(self, tx: Transaction, reservation_id: int, from_state: str, to_state: str) -> Reservation | None:
        """Move a reservation between states exactly once (a conditional update is the lock)."""
        moved = await tx.session.execute(
            update(Reservation).where(Reservation.id == reservation_id, Reservation.state == from_state).values(state=to_state)
        )
        if moved.rowcount != 1:
            return None
        return await tx.session.get(Reservation, reservation_id, populate_existing=True)

    async def release(self, tx: Transaction, reservation_id: int) -> bool:
        """Give held units back (a cancelled or timed-out order). Idempotent."""
        reservation = await self._claim(tx, reservation_id, "reserved", "released")
        if reservation is None:
            return False
        await tx.session.execute(
            update(Stock)
            .where(Stock.sku_id == reservation.sku_id, Stock.location_id == reservation.location_id)
            .values(reserved=Stock.reserved - reservation.quantity)
        )
        if reservation.activity_id is not None:
            await tx.session.execute(
                update(ActivityStock)
                .where(ActivityStock.id == reservation.activity_id)
                .values(reserved=ActivityStock.reserved - reservation.quantity)
            )
        await self._changed(tx, reservation.sku_id)
        return True

    async def commit(self, tx: Transaction, reservation_id: int) -> bool:
        """Held units are sold (the order was paid): they leave the shelf. Idempotent."""
        reservation = await self._claim(tx, reservation_id, "reserved", "committed")
        if reservation is None:
            return False
        await tx.session.execute(
            update(Stock)
            .where(Stock.sku_id == reservation.sku_id, Stock.location_id == reservation.location_id)
            .values(reserved=Stock.reserved - reservation.quantity, on_hand=Stock.on_hand - reservation.quantity)
        )
        if reservation.activity_id is not None:
            await tx.session.execute(
                update(ActivityStock)
                .where(ActivityStock.id == reservation.activity_id)
                .values(reserved=ActivityStock.reserved - reservation.quantity, sold=ActivityStock.sold + reservation.quantity)
            )
        await self._changed(tx, reservation.sku_id)
        return True

    async def restock(self, tx: Transaction, reservation_id: int, quantity: int | None = None) -> int:
        """Sold units come back (a refund): all that remain, or ``quantity`` of them. Returns how many."""
        reservation = await tx.session.get(Reservation, reservation_id, with_for_update=tx.kernel.db.is_postgresql)
        if reservation is None or reservation.state not in ("committed", "returned"):
            return 0
        remaining = reservation.quantity - reservation.returned_quantity
        count = remaining if quantity is None else min(_quantity(quantity, "quantity"), remaining)
        if count <= 0:
            return 0
        moved = await tx.session.execute(
            update(Reservation)
            .where(Reservation.id == reservation_id, Reservation.returned_quantity == reservation.returned_quantity)
            .values(returned_quantity=Reservation.returned_quantity + count, state="returned" if count == remaining else "committed")
        )
        if moved.rowcount != 1:
            return 0  # a concurrent refund got there first; it returned these units
        await tx.session.execute(
            update(Stock)
            .where(Stock.sku_id == reservation.sku_id, Stock.location_id == reservation.location_id)
            .values(on_hand=Stock.on_hand + count)
        )
        if reservation.activity_id is not None:
            await tx.session.execute(update(ActivityStock).where(ActivityStock.id == reservation.activity_id).values(sold=ActivityStock.sold - count))
        await self._changed(tx, reservation.sku_id)
        return count

    async def _ensure_row(self, tx: Transaction, sku_id: int, location_id: int) -> None:
        if await tx.session.scalar(select(Stock.id).where(Stock.sku_id == sku_id, Stock.location_id == location_id)) is None:
            tx.session.add(Stock(sku_id=sku_id, location_id=location_id, on_hand=0, reserved=0))
            await tx.session.flush()

    async def set_stock(self, tx: Transaction, sku_id: int, on_hand: int, location_id: int = CENTRAL) -> None:
        if isinstance(on_hand, bool) or not isinstance(on_hand, int) or on_hand < 0 or on_hand > MAX_ON_HAND:
            raise DomainError("KERNEL_INVALID_INPUT", f"Stock on hand is a whole number from 0 to {MAX_ON_HAND}.", field="input.onHand")
        location_id = _location(location_id, "input.locationId")
        await self._ensure_row(tx, sku_id, location_id)
        done = await tx.session.execute(
            update(Stock).where(Stock.sku_id == sku_id, Stock.location_id == location_id, Stock.reserved <= on_hand).values(on_hand=on_hand)
        )
        if done.rowcount != 1:
            raise DomainError(
                "INVENTORY_BELOW_RESERVED", "Units held for unpaid orders exceed that; wait or cancel them first.", field="input.onHand"
            )
        await self._changed(tx, sku_id)

    async def adjust_stock(self, tx: Transaction, sku_id: int, delta: int, location_id: int = CENTRAL) -> None:
        """Goods in (delta > 0) or written off (delta < 0); relative, so two clerks' counts both land."""
        if isinstance(delta, bool) or not isinstance(delta, int) or abs(delta) > MAX_ON_HAND:
            raise DomainError("KERNEL_INVALID_INPUT", "A stock change is a whole number of units.", field="input.delta")
        location_id = _location(location_id, "input.locationId")
        if delta > 0:
            await self._ensure_row(tx, sku_id, location_id)
        done = await tx.session.execute(
            update(Stock)
            .where(
                Stock.sku_id == sku_id,
                Stock.location_id == location_id,
                Stock.on_hand + delta >= Stock.reserved,
                Stock.on_hand + delta <= MAX_ON_HAND,
            )
            .values(on_hand=Stock.on_hand + delta)
        )
        if done.rowcount != 1:
            raise DomainError(
                "INVENTORY_BELOW_RESERVED", "That would leave less on hand than is held (or more than 10^9 units).", field="input.delta"
            )
        await self._changed(tx, sku_id)

    async def available(self, session: AsyncSession, sku_ids: list[int], location_id: int = CENTRAL) -> dict[int, int]:
        rows = await session.execute(AVAILABLE_AT, {"keys": list(set(sku_ids)), "location": location_id})
        found = {sku: int(n) for sku, n in rows.all()}
        return {sku: found.get(sku, 0) for sku in sku_ids}

    async def define_activity(self, tx: Transaction, owner: str, key: str, sku_id: int, total: int) -> None:
        """Give an activity its own quantity of a SKU, or change it (never below what it has sold or holds)."""
        if isinstance(total, bool) or not isinstance(total, int) or total < 0 or total > MAX_ON_HAND:
            raise DomainError("KERNEL_INVALID_INPUT", "An activity quantity is a whole number from 0.", field="input.quantity")
        owner, key = _label(owner, 50, "owner"), _label(key, 100, "key")
        existing = await tx.session.scalar(
            select(ActivityStock).where(ActivityStock.owner == owner, ActivityStock.key == key, ActivityStock.sku_id == sku_id)
        )
        if existing is None:
            tx.session.add(ActivityStock(owner=owner, key=key, sku_id=sku_id, total=total, reserved=0, sold=0))
            await tx.session.flush()
            return
        done = await tx.session.execute(
            update(ActivityStock).where(ActivityStock.id == existing.id, ActivityStock.reserved + ActivityStock.sold <= total).values(total=total)
        )
        if done.rowcount != 1:
            raise DomainError("INVENTORY_BELOW_RESERVED", "The activity has already sold or holds more than that.", field="input.quantity")

    async def activity_left(self, session: AsyncSession, owner: str, key: str, sku_id: int) -> int:
        row = await session.execute(
            select(ActivityStock.total - ActivityStock.reserved - ActivityStock.sold).where(
                ActivityStock.owner == owner, ActivityStock.key == key, ActivityStock.sku_id == sku_id
            )
        )
        value = row.scalar()
        return int(value) if value is not None else 0

    async def _changed(self, tx: Transaction, sku_id: int) -> None:
        # Storefront caches and live pages listen for this after commit.
        tx.publish(f"inventory:sku:{sku_id}", {"skuId": sku_id})
