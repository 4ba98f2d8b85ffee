"""Payment intents: money collected through a provider that is not a goods order.

An auction deposit (``bidding_sale.deposit``), later a membership fee: the owner component
creates an intent with a ``purpose`` (``"<component>.<what>"``) and its own ``reference``,
hands the provider's client payload to the frontend, and learns the outcome from the declared
events ``order.intent_succeeded`` / ``order.intent_failed`` / ``order.intent_refunded`` (filtering on ``purpose``).
It gives the money back with :meth:`PaymentIntents.refund`, whole or in part, never more than
was paid, also under concurrent refunds (a conditional update on ``refunded_minor``).

States::

    pending ──provider confirms──▶ succeeded ──refund (all)──▶ refunded
       └──provider fails / closed──▶ failed      (partial refunds keep succeeded)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from components.orders.gateway import intent_charge
from components.orders.models import PaymentIntent
from components.orders.payments import new_reference
from core.errors import DomainError
from core.transaction import Transaction

if TYPE_CHECKING:  # pragma: no cover
    from components.orders.service import OrdersService

PURPOSE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class IntentView:
    id: int
    member_id: int
    purpose: str
    reference: str
    amount_minor: int
    refunded_minor: int
    currency: str
    provider: str
    status: str


def view(row: PaymentIntent) -> IntentView:
    return IntentView(row.id, row.member_id, row.purpose, row.reference, row.amount_minor, row.refunded_minor, row.currency, row.provider, row.status)


def event(row: PaymentIntent, **extra: Any) -> dict[str, Any]:
    return {
        "intentId": row.id,
        "memberId": row.member_id,
        "purpose": row.purpose,
        "reference": row.reference,
        "amountMinor": row.amount_minor,
        "refundedMinor": row.refunded_minor,
        "currency": row.currency,
        "provider": row.provider,
        "providerRef": row.provider_ref,
        "status": row.status,
        **extra,
    }


EVENT_PAYLOAD = {
    "intentId": "int",
    "memberId": "int",
    "purpose": "str: '<component>.<what>', e.g. bidding_sale.deposit",
    "reference": "str: the owner's own reference",
    "amountMinor": "int",
    "refundedMinor": "int",
    "currency": "str",
    "provider": "str",
    "providerRef": "str",
    "status": "str",
}


class PaymentIntents:
    def __init__(self, orders: OrdersService) -> None:
        self.orders = orders

    async def create(
        self,
        tx: Transaction,
        *,
        member_id: int,
        amount_minor: int,
        purpose: str,
        reference: str,
        description: str,
        provider: str = "sandbox",
        currency: str | None = None,
    ) -> tuple[IntentView, dict[str, Any]]:
        """Open an intent and start it with ``provider``; returns it and the client payload."""
        if not PURPOSE.match(purpose or "") or len(purpose) > 60:
            raise ValueError(f"a payment intent's purpose is '<component>.<what>', not {purpose!r}")
        if isinstance(amount_minor, bool) or not isinstance(amount_minor, int) or amount_minor <= 0:
            raise DomainError("ORDERS_INVALID_AMOUNT", "A payment is a positive amount.", field="input.amount")
        chosen = self.orders.provider(provider)  # ORDERS_UNKNOWN_PROVIDER, the sandbox off in production
        row = PaymentIntent(
            member_id=member_id,
            purpose=purpose,
            reference=str(reference)[:100],
            description=(description or purpose)[:127],
            currency=currency or self.orders.kernel.blueprint.brand.currency,
            amount_minor=amount_minor,
            refunded_minor=0,
            provider=provider,
            provider_ref=new_reference(chosen, provider),
            status="pending",
            created_at=tx.now(),
        )
        tx.session.add(row)
        await tx.session.flush()
        client = await chosen.start(tx, intent_charge(row))
        return view(row), dict(client or {})

    async def get(self, session: Any, intent_id: int) -> IntentView | None:
        row = await session.get(PaymentIntent, intent_id, populate_existing=True)
        return view(row) if row is not None else None

    async def _row(self, tx: Transaction, **where: Any) -> PaymentIntent | None:
        stmt = select(PaymentIntent).filter_by(**where).execution_options(populate_existing=True)
        if tx.kernel.db.is_postgresql:
            stmt = stmt.with_for_update()
        return await tx.session.scalar(stmt)

    async def settle(self, tx: Transaction, provider: str, provider_ref: str, amount_minor: int) -> bool:
        """The provider confirmed the money. Idempotent per reference; a replay emits nothing."""
        row = await self._row(tx, provider=provider, provider_ref=provider_ref)
        if row is None:
            raise DomainError("KERNEL_NOT_FOUND", "No such payment.", field="input.paymentId")
        if row.status in ("succeeded", "refunded"):
            return True
        if amount_minor != row.amount_minor:
            raise DomainError(
                "ORDERS_PAYMENT_MISMATCH",
                "The amount paid differs from the amount due.",
                field="input.paymentId",
                expectedMinor=row.amount_minor,
                paidMinor=amount_minor,
            )
        # A failed attempt that is paid after all (a late confirmation) is still the member's money.
        moved = await tx.session.execute(
            update(PaymentIntent)
            .where(PaymentIntent.id == row.id, PaymentIntent.status.in_(("pending", "failed")))
            .values(status="succeeded", settled_at=tx.now())
        )
        if moved.rowcount != 1:
            return True
        await tx.session.refresh(row)
        await tx.emit("order.intent_succeeded", event(row))
        return True

    async def fail(self, tx: Transaction, provider: str, provider_ref: str) -> None:
        row = await self._row(tx, provider=provider, provider_ref=provider_ref)
        if row is None or row.status != "pending":
            return
        row.status, row.settled_at = "failed", tx.now()
        await tx.session.flush()
        await tx.emit("order.intent_failed", event(row))

    async def refund(self, tx: Transaction, intent_id: int, *, amount_minor: int | None = None, reason: str) -> int:
        """Give back ``amount_minor`` (default: all that is left) of a succeeded intent; returns
        the amount. Never more than was paid, even when two refunds race."""
        row = await self._row(tx, id=intent_id)
        if row is None:
            raise DomainError("KERNEL_NOT_FOUND", "No such payment.", field="input.intentId")
        if row.status not in ("succeeded",):
            raise DomainError(
                "ORDERS_ILLEGAL_TRANSITION", f"A payment that is {row.status} cannot be refunded.", field="input.intentId", status=row.status
            )
        left = row.amount_minor - row.refunded_minor
        amount = left if amount_minor is None else amount_minor
        if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= left:
            raise DomainError("ORDERS_INVALID_AMOUNT", f"A refund of this payment is between 1 and {left}.", field="input.amount", maxMinor=left)
        full = amount == left
        moved = await tx.session.execute(
            update(PaymentIntent)
            .where(
                PaymentIntent.id == row.id, PaymentIntent.status == "succeeded", PaymentIntent.refunded_minor + amount <= PaymentIntent.amount_minor
            )
            .values(refunded_minor=PaymentIntent.refunded_minor + amount, status="refunded" if full else "succeeded")
        )
        if moved.rowcount != 1:
            raise DomainError("ORDERS_NOTHING_TO_REFUND", "This payment was refunded meanwhile.", field="input.intentId")
        await tx.session.refresh(row)
        refund_ref = await self.orders.gateway.provider_for(row.provider).refund(tx, intent_charge(row), amount)
        await tx.emit("order.intent_refunded", event(row, refundMinor=amount, full=full, reason=reason[:500], refundRef=refund_ref))
        return amount

    async def sandbox_settle(self, tx: Transaction, intent_id: int, member_id: int | None, succeeded: bool) -> IntentView:
        """Act as the sandbox provider's callback (development only; the member's own intent)."""
        row = await tx.session.get(PaymentIntent, intent_id)
        if row is None or row.provider != "sandbox" or (member_id is not None and row.member_id != member_id):
            raise DomainError("KERNEL_NOT_FOUND", "No such sandbox payment.", field="input.intentId")
        self.orders.provider("sandbox")  # refuses in production
        if succeeded:
            await self.settle(tx, "sandbox", row.provider_ref, row.amount_minor)
        else:
            await self.fail(tx, "sandbox", row.provider_ref)
        return view(await tx.session.get(PaymentIntent, intent_id, populate_existing=True))
