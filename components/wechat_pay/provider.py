"""The ``wechat_pay`` payment provider (``components.orders.payments.PaymentProvider``).

``start`` asks WeChat for a JSAPI prepay id and answers the five values
``wx.requestPayment`` takes plus ``paySign``; ``refund`` records the refund with the
transaction that decided it and sends it after commit (a durable timer), so a slow WeChat
never holds the brand's write lock and a crash never loses a refund; ``query`` tells
reconciliation what WeChat knows.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from sqlalchemy import select

from components.orders import Charge, ProviderStatus
from components.wechat_pay import signing
from components.wechat_pay.client import Client, WeChatPayError, WeChatPayUnavailable
from components.wechat_pay.models import Refund
from core.errors import DomainError

log = logging.getLogger("dougong.wechat_pay")

NAME = "wechat_pay"
SEND_REFUND_JOB = "wechat_pay.send_refund"
# trade_state → what orders cares about. REFUND: paid, then (partly) refunded at WeChat.
STATES = {
    "SUCCESS": "succeeded",
    "REFUND": "succeeded",
    "NOTPAY": "pending",
    "USERPAYING": "pending",
    "CLOSED": "failed",
    "REVOKED": "failed",
    "PAYERROR": "failed",
}


class WeChatPayProvider:
    name = NAME

    def __init__(self, kernel: Any, client: Client) -> None:
        self.kernel = kernel
        self.client = client

    def new_reference(self) -> str:
        # out_trade_no: 6–32 characters of [0-9A-Za-z_-|*], unique per merchant.
        return "dg" + secrets.token_hex(15)

    async def start(self, tx: Any, charge: Charge) -> dict[str, Any]:
        member = await self.kernel.service("members").member(tx.session, charge.member_id)
        openid = getattr(member, "open_id", None)
        if not openid:
            raise DomainError(
                "WECHAT_PAY_NO_OPENID", "Sign in with WeChat in the mini-program before paying with WeChat Pay.", field="input.provider"
            )
        try:
            prepay_id = await self.client.jsapi_prepay(
                out_trade_no=charge.provider_ref,
                description=charge.description,
                amount_minor=charge.amount_minor,
                currency=charge.currency,
                openid=openid,
                attach=charge.kind,
            )
        except WeChatPayError as exc:
            log.warning("wechat_pay: prepay of %s refused: %s", charge.provider_ref, exc)
            raise DomainError(
                "WECHAT_PAY_REFUSED", f"WeChat Pay refused the payment ({exc.code}).", field="input.provider", wechatCode=exc.code
            ) from None
        except WeChatPayUnavailable as exc:
            log.warning("wechat_pay: prepay of %s failed: %s", charge.provider_ref, exc)
            raise DomainError("WECHAT_PAY_UNAVAILABLE", "WeChat Pay did not answer; try again shortly.", field="input.provider") from None
        c = self.client.config
        return signing.request_payment(
            c.private_key, app_id=c.app_id, prepay_id=prepay_id, timestamp=int(self.kernel.clock.now().timestamp()), nonce_str=signing.nonce()
        )

    async def refund(self, tx: Any, charge: Charge, amount_minor: int) -> str:
        out_refund_no = "rf" + secrets.token_hex(15)
        reason = "退款 refund" if charge.kind == "order" else f"退还 {charge.purpose}"
        tx.session.add(
            Refund(
                out_refund_no=out_refund_no,
                out_trade_no=charge.provider_ref,
                amount_minor=amount_minor,
                total_minor=charge.amount_minor,
                currency=charge.currency,
                reason=reason[:80],
                status="requested",
                created_at=tx.now(),
                updated_at=tx.now(),
            )
        )
        await tx.session.flush()
        await tx.schedule(SEND_REFUND_JOB, out_refund_no, tx.now(), {"outRefundNo": out_refund_no})
        return out_refund_no

    async def query(self, charge: Charge) -> ProviderStatus:
        try:
            found = await self.client.query(charge.provider_ref)
        except WeChatPayError as exc:
            if exc.code == "ORDER_NOT_EXIST":  # the prepay never reached WeChat: nothing to pay
                return ProviderStatus("failed")
            raise
        amount = (found.get("amount") or {}).get("total")
        return ProviderStatus(
            STATES.get(str(found.get("trade_state")), "pending"), amount if isinstance(amount, int) else None, found.get("transaction_id")
        )

    async def send_refund(self, tx: Any, timer: Any) -> None:
        """The durable timer behind :meth:`refund`: ask WeChat once the refund has committed.
        WeChat deduplicates by ``out_refund_no``, so a retry after a lost answer is safe."""
        row = await tx.session.scalar(select(Refund).where(Refund.out_refund_no == timer.key))
        if row is None or row.status != "requested":
            return
        try:
            answer = await self.client.refund(
                out_trade_no=row.out_trade_no,
                out_refund_no=row.out_refund_no,
                amount_minor=row.amount_minor,
                total_minor=row.total_minor,
                currency=row.currency,
                reason=row.reason,
            )
        except WeChatPayError as exc:
            # Refused for good (NOT_ENOUGH balance, a wrong amount): staff must step in.
            log.error("wechat_pay: refund %s of %s refused: %s", row.out_refund_no, row.out_trade_no, exc)
            row.status, row.last_error, row.updated_at = "refused", str(exc)[:2000], tx.now()
            await tx.emit("wechat_pay.refund_failed", refund_event(row))
            return
        row.status = str(answer.get("status") or "PROCESSING")[:20]
        row.refund_id = answer.get("refund_id")
        row.updated_at = tx.now()


def refund_event(row: Refund) -> dict[str, Any]:
    return {
        "outRefundNo": row.out_refund_no,
        "outTradeNo": row.out_trade_no,
        "amountMinor": row.amount_minor,
        "status": row.status,
        "error": row.last_error,
    }


async def send_refund(tx: Any, timer: Any) -> None:
    """The job ``wechat_pay.send_refund``: a refund recorded while configured is sent as soon as
    the merchant settings are there again (until then the timer fails and retries, loudly)."""
    provider = tx.kernel.service("wechat_pay").provider
    if provider is None:
        raise RuntimeError("wechat_pay has no merchant settings: a recorded refund cannot be sent")
    await provider.send_refund(tx, timer)
