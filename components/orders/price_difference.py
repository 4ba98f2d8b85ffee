"""Refunding part of a line's price without taking any unit back (退差价): a component that
learns, after payment, that the buyer owed less (a late group-buy payer who now leads a group
pays the leader price) gives the difference back through the payment's own provider.

The units stay sold: only the line's ``refunded_minor`` and the order's ``refunded_minor`` grow,
so a later refund of the line can return at most what is left of what was paid for it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from components.orders.models import Order, OrderLine, Refund
from core.errors import DomainError
from core.transaction import Transaction

PAID_STATES = ("paid", "fulfilled", "completed")


async def refund_difference(orders: Any, tx: Transaction, order_id: int, *, line_id: int, amount_minor: int, reason: str) -> int:
    """Give ``amount_minor`` of ``line_id``'s price back; returns the amount (0 does nothing)."""
    order = await orders.get(tx, order_id)
    if order.status not in PAID_STATES:
        raise DomainError(
            "ORDERS_ILLEGAL_TRANSITION", f"An order that is {order.status} cannot be refunded.", field="input.orderId", status=order.status
        )
    line = await tx.session.get(OrderLine, line_id)
    if line is None or line.order_id != order.id:
        raise DomainError("ORDERS_UNKNOWN_LINE", "That line is not part of this order.", field="input.lineId")
    left = line.total_minor - line.refunded_minor
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int) or not 0 <= amount_minor <= left:
        raise DomainError("ORDERS_INVALID_AMOUNT", f"A price difference is between 0 and {left}.", field="input.amount", maxMinor=left)
    if amount_minor == 0:
        return 0
    provider_ref = await orders._refund_money(tx, order, amount_minor)
    line.refunded_minor += amount_minor
    lines = [
        {
            "lineId": line.id,
            "skuId": line.sku_id,
            "quantity": 0,
            "amountMinor": amount_minor,
            "restocked": 0,
            "activity": {"component": line.activity_component, "ref": line.activity_ref} if line.activity_component else None,
        }
    ]
    tx.session.add(
        Refund(order_id=order.id, amount_minor=amount_minor, lines=lines, reason=reason[:500], provider_ref=provider_ref, created_at=tx.now())
    )
    await tx.session.execute(update(Order).where(Order.id == order.id).values(refunded_minor=Order.refunded_minor + amount_minor))
    await tx.session.refresh(order)
    await tx.session.flush()
    await tx.emit("order.refunded", orders.event(order, amountMinor=amount_minor, lines=lines, full=False, reason=reason, priceDifference=True))
    return amount_minor
