"""A member's cart: SKUs and quantities (with the line's checkout inputs) waiting for checkout.

The cart holds no stock: stock is held only by a placed order. A line that can no longer be
bought is kept and flagged with the reason, so the member sees what changed instead of it
silently vanishing; checkout from the cart refuses such lines with the same typed error a
direct checkout would give.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update

from components.orders.models import CartLine
from core.errors import DomainError
from core.transaction import Transaction

MAX_CART_LINES = 100


class Cart:
    def __init__(self, max_quantity: int) -> None:
        self.max_quantity = max_quantity

    async def lines(self, session: Any, member_id: int) -> list[CartLine]:
        return list((await session.scalars(select(CartLine).where(CartLine.member_id == member_id).order_by(CartLine.id))).all())

    def _check_quantity(self, quantity: Any, field: str) -> None:
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= self.max_quantity:
            raise DomainError("ORDERS_INVALID_QUANTITY", f"A quantity is a whole number from 1 to {self.max_quantity}.", field=field)

    async def add(self, tx: Transaction, member_id: int, sku_id: int, quantity: int, inputs: dict[str, Any]) -> CartLine:
        """Add units of a SKU; a SKU already in the cart gets the units added (and the new inputs)."""
        self._check_quantity(quantity, "input.line.quantity")
        sku = (await tx.kernel.service("catalog").skus(tx.session, [sku_id])).get(sku_id)
        if sku is None or not sku.on_sale:
            raise DomainError("ORDERS_SKU_UNAVAILABLE", "That product is not on sale.", field="input.line.skuId")
        existing = await tx.session.scalar(select(CartLine).where(CartLine.member_id == member_id, CartLine.sku_id == sku_id))
        now = tx.now()
        if existing is not None:
            total = existing.quantity + quantity
            self._check_quantity(total, "input.line.quantity")
            await tx.session.execute(
                update(CartLine).where(CartLine.id == existing.id).values(quantity=total, inputs=inputs or existing.inputs, updated_at=now)
            )
            await tx.session.refresh(existing)
            return existing
        count = len(await self.lines(tx.session, member_id))
        if count >= MAX_CART_LINES:
            raise DomainError("ORDERS_CART_FULL", f"A cart holds at most {MAX_CART_LINES} lines.", field="input.line")
        line = CartLine(member_id=member_id, sku_id=sku_id, quantity=quantity, inputs=inputs, created_at=now, updated_at=now)
        tx.session.add(line)
        await tx.session.flush()
        return line

    async def _own(self, tx: Transaction, member_id: int, line_id: int) -> CartLine:
        line = await tx.session.get(CartLine, line_id)
        if line is None or line.member_id != member_id:
            raise DomainError("KERNEL_NOT_FOUND", "No such cart line.", field="input.lineId")
        return line

    async def set_quantity(self, tx: Transaction, member_id: int, line_id: int, quantity: int) -> None:
        line = await self._own(tx, member_id, line_id)
        self._check_quantity(quantity, "input.quantity")
        await tx.session.execute(update(CartLine).where(CartLine.id == line.id).values(quantity=quantity, updated_at=tx.now()))

    async def remove(self, tx: Transaction, member_id: int, line_id: int) -> None:
        line = await self._own(tx, member_id, line_id)
        await tx.session.execute(delete(CartLine).where(CartLine.id == line.id))

    async def remove_skus(self, tx: Transaction, member_id: int, sku_ids: list[int]) -> None:
        """After an order from the cart: the bought SKUs leave it."""
        await tx.session.execute(delete(CartLine).where(CartLine.member_id == member_id, CartLine.sku_id.in_(sku_ids)))

    async def unavailable_reasons(self, session: Any, kernel: Any, lines: list[CartLine]) -> dict[int, str]:
        """Cart line id → why it cannot be bought now (withdrawn, or not enough stock)."""
        if not lines:
            return {}
        skus = await kernel.service("catalog").skus(session, [line.sku_id for line in lines])
        stock = await kernel.service("inventory").available(session, [line.sku_id for line in lines])
        reasons: dict[int, str] = {}
        for line in lines:
            sku = skus.get(line.sku_id)
            if sku is None or not sku.on_sale:
                reasons[line.id] = "NOT_ON_SALE"
            elif stock.get(line.sku_id, 0) < line.quantity:
                reasons[line.id] = "NOT_ENOUGH_STOCK" if stock.get(line.sku_id, 0) > 0 else "OUT_OF_STOCK"
        return reasons
