"""What a payment-provider component calls: ``kernel.service("orders").gateway``.

A provider's callback (or its reconciliation job) knows only its own reference for a charge;
this finds the charge behind it, whether an order's payment or a payment intent, and settles
it through the rules of its kind. Providers never read orders' tables."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from components.orders.models import Order, OrderLine, Payment, PaymentIntent
from components.orders.payments import Charge, SandboxProvider
from core.transaction import Transaction

if TYPE_CHECKING:  # pragma: no cover
    from components.orders.service import OrdersService


def order_charge(order: Order, payment: Payment, description: str) -> Charge:
    return Charge(
        kind="order",
        id=payment.id,
        member_id=order.member_id,
        provider=payment.provider,
        provider_ref=payment.provider_ref,
        amount_minor=payment.amount_minor,
        currency=order.currency,
        status=payment.status,
        purpose="order",
        description=description,
        created_at=payment.created_at,
        order_id=order.id,
    )


def intent_charge(intent: PaymentIntent) -> Charge:
    return Charge(
        kind="intent",
        id=intent.id,
        member_id=intent.member_id,
        provider=intent.provider,
        provider_ref=intent.provider_ref,
        amount_minor=intent.amount_minor,
        currency=intent.currency,
        status=intent.status,
        purpose=intent.purpose,
        description=intent.description,
        created_at=intent.created_at,
    )


async def order_description(session: Any, order_id: int) -> str:
    """What the payer's bank statement says: the first line's title, and how many more."""
    titles = (await session.scalars(select(OrderLine.title).where(OrderLine.order_id == order_id).order_by(OrderLine.id).limit(50))).all()
    if not titles:
        return f"order {order_id}"
    more = f" 等{len(titles)}件" if len(titles) > 1 else ""
    return (titles[0][: 120 - len(more)] + more)[:127]


class PaymentGateway:
    def __init__(self, orders: OrdersService) -> None:
        self.orders = orders

    def provider_for(self, name: str) -> Any:
        # Money taken through the sandbox goes back through it even if the brand since turned it off.
        return SandboxProvider() if name == "sandbox" else self.orders.provider(name)

    async def find(self, session: Any, provider: str, provider_ref: str) -> Charge | None:
        """The charge behind a provider's reference, or None (a callback for someone else's)."""
        payment = await session.scalar(
            select(Payment).where(Payment.provider == provider, Payment.provider_ref == provider_ref).execution_options(populate_existing=True)
        )
        if payment is not None:
            order = await session.get(Order, payment.order_id)
            return order_charge(order, payment, await order_description(session, order.id))
        intent = await session.scalar(
            select(PaymentIntent)
            .where(PaymentIntent.provider == provider, PaymentIntent.provider_ref == provider_ref)
            .execution_options(populate_existing=True)
        )
        return intent_charge(intent) if intent is not None else None

    async def pending(self, session: Any, provider: str, *, created_before: datetime, limit: int = 100) -> list[Charge]:
        """Charges of ``provider`` still pending that began before ``created_before``, oldest
        first: what a reconciliation job asks the provider about."""
        payments = (
            await session.scalars(
                select(Payment)
                .where(Payment.provider == provider, Payment.status == "pending", Payment.created_at <= created_before)
                .order_by(Payment.id)
                .limit(limit)
            )
        ).all()
        found = []
        for payment in payments:
            order = await session.get(Order, payment.order_id)
            found.append(order_charge(order, payment, await order_description(session, order.id)))
        intents = (
            await session.scalars(
                select(PaymentIntent)
                .where(PaymentIntent.provider == provider, PaymentIntent.status == "pending", PaymentIntent.created_at <= created_before)
                .order_by(PaymentIntent.id)
                .limit(limit)
            )
        ).all()
        return found + [intent_charge(intent) for intent in intents]

    async def pending_of_order(self, session: Any, provider: str, order_id: int) -> list[Charge]:
        """An order's attempts with ``provider`` still pending (to close them at the provider
        once the order is cancelled, so the member can no longer pay it)."""
        order = await session.get(Order, order_id)
        if order is None:
            return []
        payments = (
            await session.scalars(
                select(Payment).where(Payment.order_id == order_id, Payment.provider == provider, Payment.status == "pending").order_by(Payment.id)
            )
        ).all()
        description = await order_description(session, order_id)
        return [order_charge(order, payment, description) for payment in payments]

    async def confirm(self, tx: Transaction, provider: str, provider_ref: str, amount_minor: int) -> bool:
        """The provider took ``amount_minor`` for this reference. Idempotent: a replay changes
        nothing and answers as the first did. Returns False when the money could not be kept
        (the order was cancelled meanwhile): it is then given back through the provider."""
        charge = await self.find(tx.session, provider, provider_ref)
        if charge is None:
            raise LookupError(f"no {provider} charge {provider_ref!r}")
        if charge.kind == "intent":
            return await self.orders.intents.settle(tx, provider, provider_ref, amount_minor)
        if charge.status in ("succeeded", "refunded"):
            return charge.status == "succeeded"
        took = await self.orders.mark_paid(tx, charge.order_id, provider=provider, provider_ref=provider_ref, amount_minor=amount_minor)
        if not took:
            await self.provider_for(provider).refund(tx, charge, amount_minor)
        return took

    async def fail(self, tx: Transaction, provider: str, provider_ref: str) -> None:
        """The provider says this attempt will never be paid (closed, revoked). The order stays
        payable with another attempt; an intent becomes failed."""
        charge = await self.find(tx.session, provider, provider_ref)
        if charge is None:
            return
        if charge.kind == "intent":
            await self.orders.intents.fail(tx, provider, provider_ref)
        else:
            await self.orders.payment_failed(tx, provider, provider_ref)
