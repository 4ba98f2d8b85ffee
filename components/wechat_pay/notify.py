"""WeChat Pay's callbacks (``POST /webhooks/wechat_pay/notify``): payment and refund results.

Before anything is read: the signature is checked against the platform key named by
``Wechatpay-Serial``, and the signing time must be within ``callback_tolerance`` of now (an
old, genuinely signed callback sent again is a replay). Then the resource is decrypted
(AEAD_AES_256_GCM, APIv3 key) and must be for our merchant and app. A callback that fails any
check changes nothing, is logged, and is answered 401/400 (WeChat's own never fail them).

Each verified notification id is recorded once with what it did; a copy (WeChat resends
until it hears 200/204) is answered 204 and changes nothing. Confirming a payment goes
through ``orders.gateway``, idempotent per ``out_trade_no`` as well.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from components.wechat_pay import signing
from components.wechat_pay.models import Notification, Refund
from components.wechat_pay.provider import NAME, refund_event
from core.errors import DomainError
from core.webhooks import WebhookRequest, WebhookResponse

log = logging.getLogger("dougong.wechat_pay")

OK = WebhookResponse(204)


def _fail(status: int, message: str) -> WebhookResponse:
    return WebhookResponse(status, json.dumps({"code": "FAIL", "message": message}).encode())


async def handle(kernel: Any, request: WebhookRequest) -> WebhookResponse:
    config = kernel.service("wechat_pay").config
    if config is None:
        return _fail(404, "not configured")
    try:
        body = request.body.decode("utf-8")
        signed = signing.verify(config.platform_keys, request.headers, body)
    except (UnicodeDecodeError, signing.SignatureError) as exc:
        log.warning("wechat_pay: refused a callback that WeChat did not sign: %s", exc)
        return _fail(401, "signature")
    now = kernel.clock.now().timestamp()
    if not signed.timestamp.isdigit() or abs(now - int(signed.timestamp)) > config.callback_tolerance:
        log.warning("wechat_pay: refused a replayed callback signed at %s (nonce %s)", signed.timestamp, signed.nonce)
        return _fail(401, "timestamp")
    try:
        notice = json.loads(body)
        resource = signing.decrypt_resource(config.api_v3_key, notice["resource"])
        notification_id, event_type = str(notice["id"])[:64], str(notice["event_type"])[:40]
    except (ValueError, KeyError, TypeError, signing.SignatureError) as exc:
        log.warning("wechat_pay: refused a callback that does not decrypt: %s", exc)
        return _fail(400, "resource")
    if resource.get("mchid") != config.mch_id or (resource.get("appid") not in (None, config.app_id)):
        log.warning("wechat_pay: refused callback %s for another merchant or app", notification_id)
        return _fail(400, "merchant")

    async with kernel.db.read() as session:
        seen = await session.scalar(select(Notification.outcome).where(Notification.notification_id == notification_id))
    if seen is not None:
        log.info("wechat_pay: callback %s again (was %s): nothing to do", notification_id, seen)
        return OK
    try:
        async with kernel.transaction() as tx:
            outcome = await _apply(tx, event_type, resource)
            tx.session.add(_record(tx, notification_id, event_type, resource, outcome))
    except IntegrityError:  # the same notification, handled by a twin request just now
        return OK
    except (DomainError, LookupError) as exc:
        # Verified and for us, but nothing it names can take it (an unknown out_trade_no, an
        # amount that differs): a human must look; WeChat resending it would change nothing.
        log.error("wechat_pay: callback %s (%s) could not be applied: %s", notification_id, event_type, exc)
        try:
            async with kernel.transaction() as tx:
                tx.session.add(_record(tx, notification_id, event_type, resource, f"ignored:{type(exc).__name__}"))
        except IntegrityError:
            pass
    return OK


def _record(tx: Any, notification_id: str, event_type: str, resource: dict[str, Any], outcome: str) -> Notification:
    return Notification(
        notification_id=notification_id,
        event_type=event_type,
        out_trade_no=_text(resource.get("out_trade_no")),
        out_refund_no=_text(resource.get("out_refund_no")),
        outcome=outcome[:40],
        received_at=tx.now(),
    )


def _text(value: Any) -> str | None:
    return str(value)[:64] if value is not None else None


async def _apply(tx: Any, event_type: str, resource: dict[str, Any]) -> str:
    gateway = tx.kernel.service("orders").gateway
    if event_type.startswith("TRANSACTION."):
        out_trade_no, state = str(resource.get("out_trade_no")), resource.get("trade_state")
        if state == "SUCCESS":
            amount = (resource.get("amount") or {}).get("total")
            if not isinstance(amount, int):
                raise LookupError("a payment result without amount.total")
            took = await gateway.confirm(tx, NAME, out_trade_no, amount)
            return "settled" if took else "returned"
        if state in ("CLOSED", "REVOKED", "PAYERROR"):
            await gateway.fail(tx, NAME, out_trade_no)
            return "failed"
        return f"ignored:{state}"
    if event_type.startswith("REFUND."):
        row = await tx.session.scalar(select(Refund).where(Refund.out_refund_no == str(resource.get("out_refund_no"))))
        if row is None:
            raise LookupError("a refund result for a refund we never asked for")
        status = str(resource.get("refund_status") or event_type.split(".", 1)[1])[:20]
        if row.status != status:
            row.status, row.refund_id, row.updated_at = status, resource.get("refund_id") or row.refund_id, tx.now()
            if status in ("ABNORMAL", "CLOSED"):
                log.error("wechat_pay: refund %s ended %s", row.out_refund_no, status)
                row.last_error = f"WeChat says {status}"
                await tx.emit("wechat_pay.refund_failed", refund_event(row))
        return f"refund_{status}"
    return "ignored:event_type"
