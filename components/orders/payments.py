"""Payment providers. Real ones (WeChat Pay, Alipay, Stripe) are separate components that
answer the ``dougong_payment_provider`` hook with an object of this shape."""

from __future__ import annotations

import secrets
from typing import Any, Protocol


class PaymentProvider(Protocol):
    name: str

    async def start(self, tx: Any, order: Any, payment: Any) -> dict[str, Any]:
        """Begin collecting ``payment.amount_minor``; return what the client needs (e.g. WeChat
        Pay's prepay parameters). The provider later confirms through ``OrdersService.mark_paid``
        (idempotent on the payment's provider_ref) or ``payment_failed``."""

    async def refund(self, tx: Any, order: Any, payment: Any, amount_minor: int) -> str:
        """Return ``amount_minor`` of ``payment`` to the payer; returns the provider's refund reference."""


class SandboxProvider:
    """Pays nothing for real: a test or the demo settles a payment with
    ``sandboxSettlePayment(outcome: SUCCEEDED | FAILED)``, or leaves it to time out."""

    name = "sandbox"

    async def start(self, tx: Any, order: Any, payment: Any) -> dict[str, Any]:
        return {"sandbox": True, "providerRef": payment.provider_ref}

    async def refund(self, tx: Any, order: Any, payment: Any, amount_minor: int) -> str:
        return f"sandbox-refund-{secrets.token_hex(8)}"
