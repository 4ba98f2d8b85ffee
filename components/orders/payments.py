"""The payment-provider interface, and the sandbox provider.

Real providers (WeChat Pay, Alipay, Stripe) are separate components that answer the
``dougong_payment_provider`` hook with an object of the :class:`PaymentProvider` shape. A
provider never sees orders' tables: it is handed a :class:`Charge` (what to collect, from
whom, under which reference) and reports back through ``kernel.service("orders").gateway``
(``components/orders/gateway.py``). The same interface collects goods orders and payments
with another purpose (auction deposits: :mod:`components.orders.intents`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class Charge:
    """One payment attempt as a provider sees it.

    ``kind`` is ``"order"`` (a goods order's payment; ``order_id`` set) or ``"intent"`` (a
    payment intent; ``purpose`` names its owner, e.g. ``"bidding_sale.deposit"``).
    ``provider_ref`` is our reference at the provider (WeChat Pay's ``out_trade_no``), unique
    per provider; ``id`` is the row id of the payment or the intent."""

    kind: str
    id: int
    member_id: int
    provider: str
    provider_ref: str
    amount_minor: int
    currency: str
    status: str
    purpose: str
    description: str
    created_at: datetime
    order_id: int | None = None


@dataclass(frozen=True)
class ProviderStatus:
    """What a provider says about a charge when asked (reconciliation).

    ``state`` is ``"succeeded"``, ``"failed"`` (closed, revoked, payment error) or
    ``"pending"`` (the payer has not paid yet); ``amount_minor`` is what was paid."""

    state: str
    amount_minor: int | None = None
    provider_txn: str | None = None


class PaymentProvider(Protocol):
    name: str

    async def start(self, tx: Any, charge: Charge) -> dict[str, Any]:
        """Begin collecting ``charge.amount_minor``; return what the client needs (WeChat Pay's
        ``wx.requestPayment`` parameters), which reaches the frontend unchanged. The provider
        later confirms through ``orders.gateway.confirm`` (idempotent per provider_ref) or
        ``orders.gateway.fail``."""

    async def refund(self, tx: Any, charge: Charge, amount_minor: int) -> str:
        """Return ``amount_minor`` of ``charge`` to the payer; returns the provider's refund
        reference. Called inside the refunding transaction: a provider that talks to a remote
        API should record the request and send it after commit (wechat_pay does)."""

    # Optional: ``async def query(self, charge) -> ProviderStatus`` for reconciliation, and
    # ``def new_reference(self) -> str`` when the provider limits its references' shape.


class SandboxProvider:
    """Pays nothing for real: a test or the demo settles a payment with
    ``sandboxSettlePayment`` / ``sandboxSettlePaymentIntent`` (outcome SUCCEEDED | FAILED),
    or leaves it to time out."""

    name = "sandbox"

    async def start(self, tx: Any, charge: Charge) -> dict[str, Any]:
        return {"sandbox": True, "providerRef": charge.provider_ref}

    async def refund(self, tx: Any, charge: Charge, amount_minor: int) -> str:
        return f"sandbox-refund-{secrets.token_hex(8)}"


def new_reference(provider: Any, name: str) -> str:
    """Our reference for a new attempt: the provider's own shape if it has one (WeChat Pay's
    ``out_trade_no`` is at most 32 characters), else the provider's name and a random part."""
    make = getattr(provider, "new_reference", None)
    return make() if callable(make) else f"{name}-{secrets.token_hex(12)}"
