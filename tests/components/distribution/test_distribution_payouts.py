"""Payouts: the sandbox pays at once (see the flow tests); with WeChat Pay loaded the transfer
to the member's balance is built and signed as wechat_pay signs its own requests, never sent,
and the withdrawal waits (PAYING) for the provider's answer."""

from __future__ import annotations

import json
import re

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from distribution_helpers import REVIEW, WITHDRAW, admin, balances, pk

from components.distribution import ledger
from components.distribution.payouts import TRANSFER_PATH, Payout, WeChatTransferPayout
from components.wechat_pay import signing
from core.testing import member

MCH_ID, APP_ID, SERIAL, KEY_ID = "1900000109", "wx0123456789abcdef", "3775B6A45ACD588826D15E583A95F5DD2C6E30AB", "PUB_KEY_ID_01"
AUTH = re.compile(r'^WECHATPAY2-SHA256-RSA2048 mchid="(\w+)",nonce_str="(\w+)",signature="([^"]+)",timestamp="(\d+)",serial_no="(\w+)"$')
BLUEPRINT = f"""\
dougong: 1
brand: {{slug: wxd, name: WXD, currency: CNY, timezone: Asia/Shanghai}}
components:
  distribution: {{eligibility: everyone, payout: wechat_pay}}
  wechat_pay:
    mch_id: "{MCH_ID}"
    app_id: {APP_ID}
    merchant_serial_no: {SERIAL}
    private_key: ${{WXPAY_TEST_PRIVATE_KEY}}
    api_v3_key: "0123456789abcdefABCDEFGHIJKLMNOP"
    platform_public_key: ${{WXPAY_TEST_PLATFORM_KEY}}
    platform_public_key_id: {KEY_ID}
    notify_url: https://tea.example/webhooks/wechat_pay/notify
    endpoint: http://wechat-pay.invalid
"""


def _pems() -> tuple[rsa.RSAPrivateKey, str, str]:
    merchant, platform = (rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(2))
    private = merchant.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()).decode()
    public = platform.public_key().public_bytes(serialization.Encoding.PEM,
                                                serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return merchant, private, public


async def test_the_wechat_transfer_is_signed_with_the_merchant_key_and_waits_for_its_answer(kernel_factory, graphql, monkeypatch):
    merchant, private, public = _pems()
    monkeypatch.setenv("WXPAY_TEST_PRIVATE_KEY", private)
    monkeypatch.setenv("WXPAY_TEST_PLATFORM_KEY", public)
    kernel = await kernel_factory(BLUEPRINT)
    async with kernel.transaction() as tx:
        members = kernel.service("members")
        promoter_id = await members.create_member(tx, open_id="o-promoter", nickname="promoter")
        await members.create_member(tx, phone="13900000002", nickname="phone only")
        await members.create_staff(tx, name="admin", roles=("admin",))
        promoter = await kernel.service("distribution").promoters.apply(tx, promoter_id)
        await ledger.post(tx, promoter.id, "available", "settled", 10_000, "test:credit")

    wechat = kernel.service("wechat_pay")

    async def openid_of(session, member_id):  # noqa: ANN001, ANN202
        return (await kernel.service("members").member(session, member_id)).open_id

    payout = Payout(withdrawal_id=7, member_id=promoter_id, amount_minor=2982, currency="CNY", reference="dgw00000000000000000007")
    async with kernel.db.read() as session:
        result = await WeChatTransferPayout(wechat, openid_of).pay(payout, session)
    assert result.status == "pending" and result.provider_ref == payout.reference
    body = result.request["body"]
    assert body["appid"] == APP_ID and body["out_batch_no"] == payout.reference and body["total_amount"] == 2982
    assert body["transfer_detail_list"] == [{"out_detail_no": payout.reference, "transfer_amount": 2982,
                                             "transfer_remark": "佣金提现 commission", "openid": "o-promoter"}]
    mch, nonce, signature, timestamp, serial = AUTH.match(result.request["headers"]["Authorization"]).groups()
    assert (mch, serial) == (MCH_ID, SERIAL)
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    assert signing.rsa_verify(merchant.public_key(), f"POST\n{TRANSFER_PATH}\n{timestamp}\n{nonce}\n{text}\n", signature)
    assert not signing.rsa_verify(merchant.public_key(), f"POST\n{TRANSFER_PATH}\n{timestamp}\n{nonce}\n{text} \n", signature)

    # Through GraphQL: approved, the withdrawal waits for WeChat; a failed transfer gives the amount back.
    asked = await graphql(kernel, member(promoter_id)).mutate(WITHDRAW, amount=3000)
    reviewed = await admin(graphql, kernel).mutate(REVIEW, id=asked["withdrawal"]["id"], approve=True)
    assert reviewed["withdrawal"]["status"] == "PAYING"
    assert (await balances(kernel, promoter_id))["available"] == 7000
    withdrawals = kernel.service("distribution").withdrawals
    async with kernel.transaction() as tx:
        row = await withdrawals.confirm(tx, pk(asked["withdrawal"]["id"]), paid=False)
    assert row.status == "failed"
    assert await balances(kernel, promoter_id) == {"frozen": 0, "available": 10_000, "withdrawn": 0}
    async with kernel.transaction() as tx:  # a late duplicate answer changes nothing
        assert (await withdrawals.confirm(tx, row.id, paid=True)).status == "failed"
