"""Paying a withdrawal out: the payout-provider interface, the sandbox, and the WeChat Pay
transfer-to-balance request (商家转账到零钱) built and signed but never sent from here.

A provider answers ``paid`` (the money left), ``pending`` (the provider will tell us later:
``DistributionService.withdrawals.confirm``) or ``failed`` (the amount returns to the balance)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

TRANSFER_PATH = "/v3/transfer/batches"


@dataclass(frozen=True)
class Payout:
    """What a provider is asked to pay: one withdrawal to one member."""

    withdrawal_id: int
    member_id: int
    amount_minor: int
    currency: str
    reference: str  # our unique reference (out_batch_no / out_detail_no)


@dataclass(frozen=True)
class PayoutResult:
    status: str  # paid | pending | failed
    provider_ref: str
    request: dict[str, Any] = field(default_factory=dict)  # what was (or would be) sent, for the record


class PayoutProvider(Protocol):
    name: str

    async def pay(self, payout: Payout, session: Any) -> PayoutResult: ...


class SandboxPayout:
    """Pays at once, without money: demos and tests. A member id listed in ``fail_members``
    is refused, so the failure path can be tried."""

    name = "sandbox"

    def __init__(self, fail_members: frozenset[int] = frozenset()) -> None:
        self.fail_members = fail_members

    async def pay(self, payout: Payout, session: Any) -> PayoutResult:
        status = "failed" if payout.member_id in self.fail_members else "paid"
        return PayoutResult(status=status, provider_ref=f"sandbox-{payout.reference}")


def transfer_body(*, app_id: str, payout: Payout, openid: str, remark: str) -> dict[str, Any]:
    """The body of WeChat Pay v3 ``POST /v3/transfer/batches`` for one transfer (amounts in fen)."""
    return {
        "appid": app_id,
        "out_batch_no": payout.reference,
        "batch_name": remark[:32],
        "batch_remark": remark[:32],
        "total_amount": payout.amount_minor,
        "total_num": 1,
        "transfer_detail_list": [
            {"out_detail_no": payout.reference, "transfer_amount": payout.amount_minor, "transfer_remark": remark[:32], "openid": openid}
        ],
    }


class WeChatTransferPayout:
    """Builds the signed transfer request through the loaded wechat_pay component's signer and
    answers ``pending``: sending it (and hearing the result) belongs to a deployment with the
    merchant's transfer product enabled, which the tests and the sandbox never have."""

    name = "wechat_pay"

    def __init__(self, wechat_pay: Any, openid_of: Any) -> None:
        self.wechat_pay = wechat_pay
        self.openid_of = openid_of

    async def pay(self, payout: Payout, session: Any) -> PayoutResult:
        config = self.wechat_pay.config
        body = transfer_body(
            app_id=config.app_id, payout=payout, openid=await self.openid_of(session, payout.member_id), remark="佣金提现 commission"
        )
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        headers = self.wechat_pay.client.sign("POST", TRANSFER_PATH, text, timestamp=int(time.time()))
        return PayoutResult(
            status="pending", provider_ref=payout.reference, request={"method": "POST", "path": TRANSFER_PATH, "body": body, "headers": headers}
        )
