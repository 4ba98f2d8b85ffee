"""Live-only stock and per-member purchase limits of a shelf product (直播专享库存, 限购).

Both count units bought **at the live price** in one room: a line paying the normal price
(before or after the session, or for a member who did not join) takes neither. They are
checked where the order is placed (``placed``, in the placing transaction), so racing orders
cannot pass them together; ``previewCheckout`` says the same refusals without writing (``check``):

- the live stock moves by a conditional ``UPDATE … SET live_stock = live_stock - :n WHERE
  live_stock >= :n`` (shelf rows taken in product order, so two orders never deadlock);
- the limit counts the member's units under a named lock per member and room
  (``tx.serialize``: an advisory lock on PostgreSQL, SQLite's single writer otherwise).

A cancellation gives back every unit of the order; a refund the units refunded so far (state
based: the order's own ``refundedQuantity`` per line, so a replayed event returns nothing twice).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from sqlalchemy import func, select, update

from components.live_room.models import Purchase, ShelfItem
from core.checkout import Draft
from core.errors import DomainError
from core.transaction import Transaction

if TYPE_CHECKING:
    from components.live_room.service import LiveRoomService

LIVE_LINES = "liveRoomLiveLines"  # draft attribute: {line index: product id} of the lines priced live


class LiveQuota:
    def __init__(self, service: LiveRoomService) -> None:
        self.service = service

    async def check(self, tx: Transaction, draft: Draft, room_id: int) -> None:
        """What ``take`` will refuse, said by the preview (``previewCheckout``) without writing:
        the member's limit and the live stock left now. ``take`` checks again when the order is
        placed, under its lock and conditional update, so a preview that passed may still be
        refused by a racing order."""
        lines, wanted = _wanted(draft)
        for product_id in sorted(wanted):
            shelf = await self._shelf(tx, room_id, product_id)
            field = _field(lines, product_id)
            await self._check_limit(tx, draft, room_id, shelf, wanted[product_id], field)
            if shelf.live_stock is not None and shelf.live_stock < wanted[product_id]:
                raise _sold_out(field, shelf.live_stock)

    async def take(self, tx: Transaction, draft: Draft, order_id: int, room_id: int) -> None:
        lines, wanted = _wanted(draft)
        if not lines:
            return
        await tx.serialize(f"live_room.limit:{room_id}:{draft.member_id}")
        for product_id in sorted(wanted):
            shelf = await self._shelf(tx, room_id, product_id)
            field = _field(lines, product_id)
            await self._check_limit(tx, draft, room_id, shelf, wanted[product_id], field)
            taken = await tx.session.execute(
                update(ShelfItem)
                .where(ShelfItem.id == shelf.id, (ShelfItem.live_stock.is_(None)) | (ShelfItem.live_stock >= wanted[product_id]))
                .values(live_stock=ShelfItem.live_stock - wanted[product_id])
                .execution_options(synchronize_session=False)
            )
            if taken.rowcount != 1:
                raise _sold_out(field, None)
        for line in draft.lines:
            if line.index in lines:
                tx.session.add(
                    Purchase(
                        order_id=order_id,
                        line_index=line.index,
                        room_id=room_id,
                        product_id=lines[line.index],
                        member_id=draft.member_id,
                        quantity=line.quantity,
                        returned=0,
                    )
                )
        await tx.session.flush()

    @staticmethod
    async def _shelf(tx: Transaction, room_id: int, product_id: int) -> ShelfItem:
        return await tx.session.scalar(select(ShelfItem).where(ShelfItem.room_id == room_id, ShelfItem.product_id == product_id))

    @staticmethod
    async def _check_limit(tx: Transaction, draft: Draft, room_id: int, shelf: ShelfItem, wanted: int, field: str) -> None:
        if shelf.per_member_limit is None:
            return
        held = int(
            await tx.session.scalar(
                select(func.coalesce(func.sum(Purchase.quantity - Purchase.returned), 0)).where(
                    Purchase.room_id == room_id, Purchase.member_id == draft.member_id, Purchase.product_id == shelf.product_id
                )
            )
        )
        if held + wanted > shelf.per_member_limit:
            raise DomainError(
                "LIVE_ROOM_LIMIT_REACHED",
                f"At most {shelf.per_member_limit} per member at the live price.",
                field=field,
                limit=shelf.per_member_limit,
                bought=held,
            )

    async def give_back(self, tx: Transaction, payload: Mapping[str, Any], *, everything: bool) -> None:
        purchases = (await tx.session.scalars(select(Purchase).where(Purchase.order_id == payload["orderId"]).order_by(Purchase.line_index))).all()
        if not purchases:
            return
        if not everything:  # the units refunded so far, per line (the event carries only this refund's)
            payload = await self.service.kernel.service("orders").snapshot(tx, payload["orderId"]) or payload
        lines = sorted(payload.get("lines") or (), key=lambda line: line["lineId"])  # placed in draft order
        for purchase in purchases:
            if everything:
                target = purchase.quantity
            else:
                line = lines[purchase.line_index] if purchase.line_index < len(lines) else {}
                target = min(int(line.get("refundedQuantity") or 0), purchase.quantity)
            if target <= purchase.returned:
                continue
            back = target - purchase.returned
            purchase.returned = target
            await tx.session.execute(
                update(ShelfItem)
                .where(ShelfItem.room_id == purchase.room_id, ShelfItem.product_id == purchase.product_id, ShelfItem.live_stock.is_not(None))
                .values(live_stock=ShelfItem.live_stock + back)
                .execution_options(synchronize_session=False)
            )
        await tx.session.flush()


def _wanted(draft: Draft) -> tuple[dict[int, int], dict[int, int]]:
    """The lines priced live ({line index: product}) and the units wanted per product."""
    lines = {int(index): int(product) for index, product in (draft.attributes.get(LIVE_LINES) or {}).items()}
    wanted: dict[int, int] = {}
    for line in draft.lines:
        if line.index in lines:
            wanted[lines[line.index]] = wanted.get(lines[line.index], 0) + line.quantity
    return lines, wanted


def _field(lines: dict[int, int], product_id: int) -> str:
    return f"input.lines[{min(i for i, p in lines.items() if p == product_id)}].quantity"


def _sold_out(field: str, left: int | None) -> DomainError:
    details = {} if left is None else {"left": left}
    return DomainError("LIVE_ROOM_LIVE_STOCK_SOLD_OUT", "The live-price stock of this product is sold out.", field=field, **details)
