"""Refunds: whole lines or some of their units, money back through the payment's provider,
stock back for the units that never left or came back. A mixin of :class:`OrdersService`
(it uses the service's ``get``, ``lines``, ``_move``, ``event`` and ``gateway``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from components.orders.gateway import order_charge, order_description
from components.orders.jobs import AUTO_COMPLETE_JOB
from components.orders.models import Order, OrderLine, Payment, Refund
from components.orders.price_difference import refund_difference
from core.apportion import apportion
from core.errors import DomainError
from core.transaction import Transaction

REFUNDABLE = ("paid", "fulfilled", "completed")


def units_back_on_shelf(quantity: int, shipped: int, refunded_before: int, refunding: int, goods_returned: bool) -> int:
    """How many of ``refunding`` units go back to stock: those that never left the warehouse
    (refunds use up the unshipped units first), and the shipped ones only if they came back."""
    unshipped_left = max(quantity - shipped - refunded_before, 0)
    never_left = min(refunding, unshipped_left)
    return refunding if goods_returned else never_left


def line_activity(line: OrderLine) -> dict[str, str] | None:
    if line.activity_component is None:
        return None
    return {"component": line.activity_component, "ref": line.activity_ref}


class Refunding:
    kernel: Any
    gateway: Any

    async def refund(
        self,
        tx: Transaction,
        order_id: int,
        *,
        lines: list[tuple[int, int]] | None = None,
        reason: str,
        goods_returned: bool = False,
        amount_minor: int | None = None,
    ) -> int:
        """Refund whole lines or some of their units; returns the amount refunded.

        Each unit of a line is worth ``total // quantity``; the line's last refunded unit takes
        the remainder, so refunding every unit one by one returns exactly the line total.
        Stock comes back only for units that never left (not shipped, or a pickup not handed
        over) or, with ``goods_returned``, that came back. ``amount_minor`` refunds less than
        the units are worth (staff approving a smaller after-sale amount), spread over the
        lines in proportion."""
        order = await self.get(tx, order_id)
        if order.status not in REFUNDABLE:
            raise DomainError(
                "ORDERS_ILLEGAL_TRANSITION", f"An order that is {order.status} cannot be refunded.", field="input.orderId", status=order.status
            )
        order_lines = {line.id: line for line in await self.lines(tx, order.id)}
        wanted = lines if lines is not None else [(lid, ol.quantity - ol.refunded_quantity) for lid, ol in order_lines.items()]
        inventory = self.kernel.service("inventory")
        picked: list[tuple[int, Any, int, int]] = []  # (input index, line, units, amount)
        for index, (line_id, quantity) in enumerate(wanted):
            line = order_lines.get(line_id)
            if line is None:
                raise DomainError("ORDERS_UNKNOWN_LINE", "That line is not part of this order.", field=f"input.lines[{index}].lineId")
            left = line.quantity - line.refunded_quantity
            if quantity == 0 and lines is None:
                continue
            if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0 or quantity > left:
                raise DomainError(
                    "ORDERS_INVALID_QUANTITY", f"Between 1 and {left} units of this line can be refunded.", field=f"input.lines[{index}].quantity"
                )
            worth = line.total_minor - line.refunded_minor if quantity == left else (line.total_minor // line.quantity) * quantity
            picked.append((index, line, quantity, worth))
        if not picked:
            raise DomainError("ORDERS_NOTHING_TO_REFUND", "Everything in this order was refunded already.", field="input.orderId")
        if amount_minor is not None:
            worth_all = sum(p[3] for p in picked)
            if isinstance(amount_minor, bool) or not isinstance(amount_minor, int) or not 0 <= amount_minor <= worth_all:
                raise DomainError(
                    "ORDERS_INVALID_AMOUNT", f"A refund of these units is between 0 and {worth_all}.", field="input.amount", maxMinor=worth_all
                )
            shares = apportion(amount_minor, [p[3] for p in picked], fallback=[p[2] for p in picked])
            picked = [(i, line, units, share) for (i, line, units, _), share in zip(picked, shares, strict=True)]
        refunded_lines, amount = [], 0
        for _index, line, quantity, line_amount in picked:
            restock = units_back_on_shelf(line.quantity, line.shipped_quantity or 0, line.refunded_quantity, quantity, goods_returned)
            line.refunded_quantity += quantity
            line.refunded_minor += line_amount
            amount += line_amount
            if line.reservation_id is not None and restock:
                await inventory.restock(tx, line.reservation_id, restock)
            refunded_lines.append(
                {
                    "lineId": line.id,
                    "skuId": line.sku_id,
                    "quantity": quantity,
                    "amountMinor": line_amount,
                    "restocked": restock,
                    "activity": line_activity(line),
                }
            )
        everything = all(ol.refunded_quantity == ol.quantity for ol in order_lines.values())
        if everything and amount_minor is None:
            # The lines add up to the total (order-level amounts are apportioned at checkout);
            # for orders placed before that, the last refund takes any order-level rest.
            amount = order.total_minor - order.refunded_minor
        else:
            amount = min(amount, order.total_minor - order.refunded_minor)
        provider_ref = await self._refund_money(tx, order, amount)
        tx.session.add(
            Refund(order_id=order.id, amount_minor=amount, lines=refunded_lines, reason=reason[:500], provider_ref=provider_ref, created_at=tx.now())
        )
        values: dict[str, Any] = {"refunded_minor": order.refunded_minor + amount}
        if everything:
            await self._move(tx, order, REFUNDABLE, "refunded", refunded_at=tx.now(), **values)
            await tx.cancel_timer(AUTO_COMPLETE_JOB, str(order.id))
        else:
            await tx.session.execute(update(Order).where(Order.id == order.id).values(**values))
            await tx.session.refresh(order)
        await tx.session.flush()
        await tx.emit("order.refunded", self.event(order, amountMinor=amount, lines=refunded_lines, full=everything, reason=reason))
        return amount

    async def refund_difference(self, tx: Transaction, order_id: int, *, line_id: int, amount_minor: int, reason: str) -> int:
        """Give part of a line's price back, no unit returned (退差价); see price_difference.py."""
        return await refund_difference(self, tx, order_id, line_id=line_id, amount_minor=amount_minor, reason=reason)

    async def _refund_money(self, tx: Transaction, order: Order, amount: int) -> str | None:
        payment = await tx.session.scalar(
            select(Payment).where(Payment.order_id == order.id, Payment.status == "succeeded").order_by(Payment.id.desc())
        )
        if payment is None or amount == 0 or payment.provider == "none":
            return None
        charge = order_charge(order, payment, await order_description(tx.session, order.id))
        return await self.gateway.provider_for(payment.provider).refund(tx, charge, amount)
