"""Flash sales in the one checkout: a line naming ``flashSaleItemId`` is bought at the
session's flash price, from the session's own quantity.

- ``prepare`` (read-only) checks the session is running, the SKU, the member's limit and
  what is left, so once a session sells out the crowd is refused by a read, before anyone
  queues for a row lock. It claims the line (an order of its own, so the short payment window
  applies to nothing else) and sets that window.
- The ``activity`` price stage sets the flash price.
- ``placed`` takes the units with two conditional UPDATEs in the placing transaction — the
  item's ``quantity - sold >= n`` and the member's ``units + n <= limit`` — which are what
  holds under any race; a loser's whole order rolls back with a typed error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from components.flash_sale.gate import REFUSED
from components.flash_sale.models import Bought, Item, Purchase
from components.flash_sale.service import phase
from core.checkout import Draft, DraftLine
from core.clock import as_utc
from core.errors import DomainError
from core.gql.relay import decode_id
from core.transaction import Transaction

if TYPE_CHECKING:
    from components.flash_sale.service import FlashSaleService

COMPONENT = "flash_sale"
LINE_FIELD = "flashSaleItemId"
GATED = "flashSaleGated"  # draft.attributes: the Redis gate was asked already (buyFlashSaleItem)
LINE_DESCRIPTION = "Flash sale: this line is bought in a flash-sale session (its FlashSaleItem id); the SKU must be the item's."


def sold_out(field: str, left: int) -> DomainError:
    """The refusal when fewer units are left than asked for (also answered early: early.py)."""
    return DomainError("FLASH_SALE_SOLD_OUT", "Sold out in this session.", field=field, left=max(0, left))


class FlashCheckout:
    def __init__(self, service: FlashSaleService) -> None:
        self.service = service

    async def prepare(self, tx: Transaction, draft: Draft) -> None:
        line = draft.own_order_line(LINE_FIELD, "A flash-sale purchase")
        if line is None:
            return
        where = f"input.lines[{line.index}]"
        item_id = decode_id(str(line.input(LINE_FIELD)), "FlashSaleItem", field=f"{where}.{LINE_FIELD}")
        gate = self.service.gate
        if gate is not None and not draft.previewing and not draft.attributes.get(GATED):
            # placeOrder naming a flash item: the gate first (buyFlashSaleItem asked it before the transaction).
            if await gate.take(item_id, line.quantity) == REFUSED:
                raise DomainError("FLASH_SALE_SOLD_OUT", "Sold out in this session.", field=f"{where}.{LINE_FIELD}")
        item, session = await self.service.item(tx, item_id, f"{where}.{LINE_FIELD}")
        if item.sku_id != line.sku_id:
            raise DomainError("KERNEL_INVALID_INPUT", "The line's SKU is not the flash-sale item's.", field=f"{where}.skuId")
        now = tx.now()
        starts, ends = as_utc(session.starts_at), as_utc(session.ends_at)
        state = phase(starts, ends, now)
        if state == "upcoming":
            raise DomainError(
                "FLASH_SALE_NOT_STARTED", "This session has not started yet.", field=f"{where}.{LINE_FIELD}", startsAt=starts.isoformat()
            )
        if state == "ended":
            raise DomainError("FLASH_SALE_ENDED", "This session has ended.", field=f"{where}.{LINE_FIELD}", endsAt=ends.isoformat())
        # Sold out before the member's limit: it is the answer for everyone, so a crowd can be
        # given it without reading each member's units (early.py).
        if item.quantity - item.sold < line.quantity:
            if not draft.previewing:  # a write transaction: nobody else commits while it runs
                self.service.sold_out_memo.remember(item.id, item.quantity - item.sold, starts, ends)
            raise sold_out(f"{where}.{LINE_FIELD}", item.quantity - item.sold)
        held = await self.service.bought(tx.session, item.id, draft.member_id)
        if held + line.quantity > item.per_member_limit:
            raise DomainError(
                "FLASH_SALE_LIMIT_REACHED",
                f"At most {item.per_member_limit} per member in this session.",
                field=f"{where}.quantity",
                limit=item.per_member_limit,
                bought=held,
            )
        # The session counts its own quantity (Item.sold): no inventory activity counter.
        line.claim(COMPONENT, str(item.id), exclusive=True, activity_stock=False)
        draft.kind = COMPONENT
        draft.payment_timeout = self.service.payment_window
        draft.attributes.pop(GATED, None)
        draft.attributes.update({"flashSaleItemId": item.id, "flashSaleSessionId": session.id, "flashPriceMinor": item.flash_price_minor})

    # -- price stage "activity" ------------------------------------------------------------------------
    def price(self, tx: Transaction, draft: Draft) -> None:
        for line in draft.lines:
            if line.activity is not None and line.activity[0] == COMPONENT:
                line.set_unit_price(int(draft.attributes["flashPriceMinor"]), "秒杀价 flash price")

    # -- placed ------------------------------------------------------------------------------------------
    async def placed(self, tx: Transaction, draft: Draft, order_id: int) -> None:
        for line in draft.lines:
            if line.activity is not None and line.activity[0] == COMPONENT:
                await self._take(tx, draft, line, order_id)

    async def _take(self, tx: Transaction, draft: Draft, line: DraftLine, order_id: int) -> None:
        item_id = int(line.activity[1])
        where = f"input.lines[{line.index}]"
        n = line.quantity
        taken = await tx.session.execute(
            update(Item)
            .where(Item.id == item_id, Item.quantity - Item.sold >= n)
            .values(sold=Item.sold + n)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:
            raise DomainError("FLASH_SALE_SOLD_OUT", "Sold out in this session.", field=f"{where}.{LINE_FIELD}")
        limit = await tx.session.scalar(select(Item.per_member_limit).where(Item.id == item_id))
        if await tx.session.scalar(select(Bought.units).where(Bought.item_id == item_id, Bought.member_id == draft.member_id)) is None:
            try:
                async with tx.session.begin_nested():
                    tx.session.add(Bought(item_id=item_id, member_id=draft.member_id, units=0))
            except IntegrityError:
                pass  # the same member's other request made it first
        mine = await tx.session.execute(
            update(Bought)
            .where(Bought.item_id == item_id, Bought.member_id == draft.member_id, Bought.units + n <= limit)
            .values(units=Bought.units + n)
            .execution_options(synchronize_session=False)
        )
        if mine.rowcount != 1:
            raise DomainError("FLASH_SALE_LIMIT_REACHED", f"At most {limit} per member in this session.", field=f"{where}.quantity", limit=limit)
        tx.session.add(Purchase(item_id=item_id, member_id=draft.member_id, order_id=order_id, quantity=n, status="held", created_at=tx.now()))
        await tx.session.flush()
        tx.publish(f"flash_sale:item:{item_id}", {"itemId": item_id})
