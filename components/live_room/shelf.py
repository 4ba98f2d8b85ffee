"""The shelf (货架): products in display order, their live-only prices, the presented one."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from components.live_room.models import LivePrice, Room, ShelfItem
from components.live_room.states import JOINABLE, RUNNING
from core.auth import Actor
from core.errors import DomainError
from core.transaction import Transaction


@dataclass(frozen=True)
class ShelfEntry:
    product_id: int
    on_shelf: bool = True
    # (sku_id, price_minor); None leaves the product's live prices as they are, an empty tuple clears them
    live_prices: tuple[tuple[int, int], ...] | None = None
    position: int | None = None
    live_stock: int | None = None  # units left at the live price; None leaves it as it is
    per_member_limit: int | None = None  # units per member at the live price; None leaves it, 0 removes it


class Shelf:
    """Mixed into :class:`~components.live_room.service.LiveRoomService`."""

    # -- the shelf --------------------------------------------------------------------------------------
    async def set_shelf_item(self, tx: Transaction, actor: Actor, room_id: int, entry: ShelfEntry) -> None:
        room = await self.room(tx, room_id, lock=True)
        self.require_runner(actor, room)
        if room.status not in JOINABLE:
            raise DomainError("LIVE_ROOM_ILLEGAL_STATE", f"The shelf of a {room.status} room is closed.", field="input.roomId")
        await self._put_on_shelf(tx, room, entry, field="input")
        if not entry.on_shelf and room.presented_product_id == entry.product_id:
            room.presented_product_id = None
            self._publish(tx, room, "presenting")
        await tx.session.flush()
        self._publish(tx, room, "shelf")

    async def _put_on_shelf(self, tx: Transaction, room: Room, entry: ShelfEntry, field: str) -> None:
        skus = await self.kernel.service("catalog").product_skus(tx.session, entry.product_id)
        if not skus:
            raise DomainError("KERNEL_NOT_FOUND", "No such product (or it has no SKUs).", field=f"{field}.productId")
        sku_ids = {sku.id: sku for sku in skus}
        item = await tx.session.scalar(select(ShelfItem).where(ShelfItem.room_id == room.id, ShelfItem.product_id == entry.product_id))
        if item is None:
            count = await tx.session.scalar(select(func.count()).select_from(ShelfItem).where(ShelfItem.room_id == room.id))
            if count >= self.shelf_max:
                raise DomainError("LIVE_ROOM_SHELF_FULL", f"A shelf holds at most {self.shelf_max} products.", field=f"{field}.productId")
            item = ShelfItem(
                room_id=room.id, product_id=entry.product_id, position=count if entry.position is None else entry.position, on_shelf=entry.on_shelf
            )
            tx.session.add(item)
        else:
            item.on_shelf = entry.on_shelf
            if entry.position is not None:
                item.position = entry.position
        if entry.live_stock is not None:
            if not 0 <= entry.live_stock <= 10**9:
                raise DomainError("KERNEL_INVALID_INPUT", "Live stock is 0 or more.", field=f"{field}.liveStock")
            item.live_stock = entry.live_stock
        if entry.per_member_limit is not None:
            if not 0 <= entry.per_member_limit <= 10**6:
                raise DomainError("KERNEL_INVALID_INPUT", "A limit is 1 or more (0: no limit).", field=f"{field}.perMemberLimit")
            item.per_member_limit = entry.per_member_limit or None
        seen: set[int] = set()
        for index, (sku_id, price) in enumerate(entry.live_prices or ()):
            where = f"{field}.livePrices[{index}]"
            if sku_id not in sku_ids:
                raise DomainError("LIVE_ROOM_INVALID_PRICE", "That SKU is not one of the product's.", field=f"{where}.skuId")
            if sku_id in seen:
                raise DomainError("LIVE_ROOM_INVALID_PRICE", "A SKU has one live price.", field=f"{where}.skuId")
            seen.add(sku_id)
            if not 0 < price <= sku_ids[sku_id].price_minor:
                raise DomainError("LIVE_ROOM_INVALID_PRICE", "A live price is above zero and at most the SKU's price.", field=f"{where}.price")
        if entry.live_prices is not None:
            # The given prices replace the product's live prices in this room (none: cleared).
            existing = {
                p.sku_id: p
                for p in (
                    await tx.session.scalars(select(LivePrice).where(LivePrice.room_id == room.id, LivePrice.product_id == entry.product_id))
                ).all()
            }
            for sku_id, price in entry.live_prices:
                if sku_id in existing:
                    existing.pop(sku_id).price_minor = price
                else:
                    tx.session.add(LivePrice(room_id=room.id, product_id=entry.product_id, sku_id=sku_id, price_minor=price))
            for stale in existing.values():
                await tx.session.delete(stale)
        await tx.session.flush()

    async def present(self, tx: Transaction, actor: Actor, room_id: int, product_id: int | None) -> None:
        room = await self.room(tx, room_id, lock=True)
        self.require_runner(actor, room)
        if room.status not in RUNNING:
            raise DomainError("LIVE_ROOM_NOT_LIVE", "Products are presented while the room is live.", field="input.roomId")
        if product_id is not None:
            on_shelf = await tx.session.scalar(
                select(ShelfItem.id).where(ShelfItem.room_id == room.id, ShelfItem.product_id == product_id, ShelfItem.on_shelf.is_(True))
            )
            if on_shelf is None:
                raise DomainError("LIVE_ROOM_NOT_ON_SHELF", "Only a product on the room's shelf can be presented.", field="input.productId")
        room.presented_product_id = product_id
        await tx.session.flush()
        await tx.emit("live_room.presenting", {"roomId": room.id, "productId": product_id})
        self._publish(tx, room, "presenting")
