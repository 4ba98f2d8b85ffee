"""Reconciliation (对账补单): a lost callback never leaves a member's money unaccounted for.

Every ``reconcile_every`` seconds a recurring job lists the WeChat Pay charges (orders'
payments and payment intents) still pending after ``reconcile_after`` and gives each a timer
of its own, so one charge's trouble (WeChat down, an amount that differs) retries with
backoff without holding up the others. Each asks WeChat: paid → confirmed through
``orders.gateway`` (the order becomes paid, or the money goes back if the order was
cancelled meanwhile); closed/revoked/failed → the attempt fails; still unpaid after
``close_unpaid_after`` → closed at WeChat first (so it can no longer be paid), then failed.
"""

from __future__ import annotations

import logging
from typing import Any

from components.wechat_pay.client import WeChatPayError
from components.wechat_pay.provider import NAME

log = logging.getLogger("dougong.wechat_pay")

SWEEP_JOB = "wechat_pay.reconcile"
ONE_JOB = "wechat_pay.reconcile_one"
BATCH = 100


async def sweep(tx: Any, timer: Any) -> None:
    kernel = tx.kernel
    config = kernel.service("wechat_pay").config
    if config is None:  # no merchant settings: nothing can be pending with WeChat
        return
    pending = await kernel.service("orders").gateway.pending(tx.session, NAME, created_before=tx.now() - config.reconcile_after, limit=BATCH)
    for charge in pending:
        await tx.schedule(ONE_JOB, charge.provider_ref, tx.now(), {"outTradeNo": charge.provider_ref})


async def reconcile_one(tx: Any, timer: Any) -> str:
    """Settle one charge by what WeChat says; returns what was done (for logs and tests)."""
    kernel = tx.kernel
    wechat = kernel.service("wechat_pay")
    gateway = kernel.service("orders").gateway
    charge = await gateway.find(tx.session, NAME, timer.key)
    if charge is None or charge.status != "pending" or wechat.provider is None:
        return "nothing"
    status = await wechat.provider.query(charge)
    if status.state == "succeeded":
        took = await gateway.confirm(tx, NAME, charge.provider_ref, status.amount_minor)
        log.warning("wechat_pay: reconciliation settled %s (%s) whose callback never came", charge.provider_ref, "paid" if took else "given back")
        return "settled" if took else "returned"
    if status.state == "failed":
        await gateway.fail(tx, NAME, charge.provider_ref)
        return "failed"
    if tx.now() - _aware(charge.created_at, tx.now()) >= wechat.config.close_unpaid_after:
        try:
            await wechat.client.close(charge.provider_ref)
        except WeChatPayError as exc:
            if exc.code != "ORDER_CLOSED":
                raise
        await gateway.fail(tx, NAME, charge.provider_ref)
        return "closed"
    return "pending"


def _aware(when: Any, now: Any) -> Any:
    # SQLite hands back naive datetimes (stored in UTC).
    return when.replace(tzinfo=now.tzinfo) if when.tzinfo is None else when


async def close_for_cancelled_order(kernel: Any, event: Any) -> None:
    """After ``order.cancelled``: close the order's WeChat transactions still open, so the
    member cannot pay an order that is gone (if they did meanwhile, the money comes back
    through ``order.payment_returned``). Idempotent: a closed one is no longer pending."""
    wechat = kernel.service("wechat_pay")
    if wechat.provider is None:
        return
    gateway = kernel.service("orders").gateway
    async with kernel.db.read() as session:
        charges = await gateway.pending_of_order(session, NAME, int(event.payload["orderId"]))
    for charge in charges:
        status = await wechat.provider.query(charge)  # outside any transaction: WeChat may be slow
        if status.state == "pending":
            try:
                await wechat.client.close(charge.provider_ref)
            except WeChatPayError as exc:
                if exc.code != "ORDER_CLOSED":
                    raise
        async with kernel.transaction() as tx:
            if status.state == "succeeded":
                await gateway.confirm(tx, NAME, charge.provider_ref, status.amount_minor)  # paid just before: given back
            else:
                await gateway.fail(tx, NAME, charge.provider_ref)
