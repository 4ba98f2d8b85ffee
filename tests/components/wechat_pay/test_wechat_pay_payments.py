"""WeChat Pay (API v3) against a local fake that signs with RSA keys made for this run:
prepay for the mini-program, verified and decrypted callbacks, refunds and refund callbacks,
reconciliation of a lost callback, deposits (payment intents) through the same provider."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest
from conftest import open_shop
from fake_wechat_pay import API_V3_KEY, APP_ID, KEY_ID, MCH_ID, SERIAL, FakeWeChatPay, new_key, private_pem, public_pem, verify_pay_sign
from sqlalchemy import func, select

from components.orders.models import Order, Payment, PaymentIntent
from components.wechat_pay.models import Notification, Refund
from core.app import create_app
from core.gql.relay import decode_id
from core.models import EventRow
from core.testing import member, staff

BLUEPRINT = f"""\
dougong: 1
brand: {{slug: tea, name: Tea, currency: CNY, timezone: Asia/Shanghai}}
components:
  orders: {{payment_timeout: 30m}}
  wechat_pay:
    mch_id: "{MCH_ID}"
    app_id: {APP_ID}
    merchant_serial_no: {SERIAL}
    private_key: ${{WXPAY_TEST_PRIVATE_KEY}}
    api_v3_key: ${{WXPAY_TEST_API_V3_KEY}}
    platform_public_key: ${{WXPAY_TEST_PLATFORM_KEY}}
    platform_public_key_id: {KEY_ID}
    notify_url: https://tea.example/webhooks/wechat_pay/notify
    endpoint: http://wechat-pay.fake
    reconcile_after: 2m
    close_unpaid_after: 1h
"""
CREATE = """mutation($sku: ID!) { createOrder(input: {lines: [{skuId: $sku, quantity: 2}]}) { order { id } userErrors { code } } }"""
PAY = """mutation($id: ID!) { payOrder(input: {orderId: $id, provider: "wechat_pay"}) {
  payment { id status } clientPayload userErrors { code field details } } }"""
REFUND = """mutation($id: ID!) { refundOrder(input: {orderId: $id}) { order { status } userErrors { code } } }"""


@pytest.fixture(scope="module")
def keys():
    return {"merchant": new_key(), "platform": new_key(), "stranger": new_key()}


async def _wechat_shop(kernel_factory, clock, keys, monkeypatch, database="sqlite"):
    monkeypatch.setenv("WXPAY_TEST_PRIVATE_KEY", private_pem(keys["merchant"]))
    monkeypatch.setenv("WXPAY_TEST_API_V3_KEY", API_V3_KEY)
    monkeypatch.setenv("WXPAY_TEST_PLATFORM_KEY", public_pem(keys["platform"]))
    kernel = await kernel_factory(BLUEPRINT, database=database)
    fake = FakeWeChatPay(keys["merchant"], keys["platform"], clock)
    kernel.service("wechat_pay").client.transport = httpx.ASGITransport(app=fake.app)
    shop = await open_shop(kernel, members=0)
    async with kernel.transaction() as tx:
        members = kernel.service("members")
        await members.create_member(tx, open_id="o-buyer", nickname="buyer")  # member 1, signed in through WeChat
        await members.create_member(tx, phone="13900000002", nickname="phone only")  # member 2: no openid
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app([kernel], run_worker=False)), base_url="http://tea")
    return kernel, fake, shop, http


@pytest.fixture
async def wx(kernel_factory, clock, keys, monkeypatch):
    kernel, fake, shop, http = await _wechat_shop(kernel_factory, clock, keys, monkeypatch)
    yield kernel, fake, shop, http
    await http.aclose()


async def _paying(kernel, graphql, shop, who=1):
    buyer = graphql(kernel, member(who))
    order_id = (await buyer.mutate(CREATE, sku=shop.sku))["order"]["id"]
    return order_id, await buyer.mutate(PAY, id=order_id)


async def _ref(kernel, order_id) -> str:
    async with kernel.db.read() as session:
        return await session.scalar(select(Payment.provider_ref).where(Payment.order_id == decode_id(order_id, "Order")))


async def _status(kernel, order_id) -> str:
    async with kernel.db.read() as session:
        return await session.scalar(select(Order.status).where(Order.id == decode_id(order_id, "Order")))


async def _count(kernel, model, *where) -> int:
    async with kernel.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)))


async def test_the_mini_program_pays_and_the_callback_settles_once(wx, graphql, keys):
    kernel, fake, shop, http = wx
    order_id, started = await _paying(kernel, graphql, shop)
    assert started["userErrors"] == [] and started["payment"]["status"] == "pending"
    params = started["clientPayload"]
    assert set(params) == {"appId", "timeStamp", "nonceStr", "package", "signType", "paySign"}
    assert (params["appId"], params["signType"]) == (APP_ID, "RSA") and params["package"].startswith("prepay_id=wx")
    assert verify_pay_sign(keys["merchant"], params)
    ref = await _ref(kernel, order_id)
    sent = fake.transactions[ref]
    assert (sent["amount"], sent["payer"], sent["notify_url"]) == ({"total": 20000, "currency": "CNY"}, {"openid": "o-buyer"},
                                                                   "https://tea.example/webhooks/wechat_pay/notify")
    assert len(ref) <= 32

    headers, body = fake.paid_callback(ref)
    first = await http.post("/webhooks/wechat_pay/notify", content=body, headers=headers)
    again = await http.post("/webhooks/wechat_pay/notify", content=body, headers=headers)  # WeChat resends
    assert (first.status_code, again.status_code) == (204, 204)
    assert await _status(kernel, order_id) == "paid"
    assert await _count(kernel, EventRow, EventRow.name == "order.paid") == 1
    assert await _count(kernel, Notification) == 1


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_copies_of_a_callback_racing_each_other_settle_once(kernel_factory, clock, keys, monkeypatch, graphql, database):
    kernel, fake, shop, http = await _wechat_shop(kernel_factory, clock, keys, monkeypatch, database)
    async with http:
        order_id, _ = await _paying(kernel, graphql, shop)
        headers, body = fake.paid_callback(await _ref(kernel, order_id))
        answers = await asyncio.gather(*(http.post("/webhooks/wechat_pay/notify", content=body, headers=headers) for _ in range(12)))
    assert {a.status_code for a in answers} == {204}
    assert await _status(kernel, order_id) == "paid"
    assert (await _count(kernel, EventRow, EventRow.name == "order.paid"), await _count(kernel, Notification)) == (1, 1)
    async with kernel.db.read() as session:
        assert (await session.scalar(select(Payment.status))) == "succeeded"


async def test_tampered_replayed_and_mis_signed_callbacks_change_nothing_and_are_logged(wx, graphql, keys, clock, caplog):
    kernel, fake, shop, http = wx
    order_id, _ = await _paying(kernel, graphql, shop)
    ref = await _ref(kernel, order_id)
    headers, body = fake.paid_callback(ref)
    tampered = body.replace(b'"summary": "', b'"summary": "x')
    mis_signed = fake.paid_callback(ref, key=keys["stranger"])
    unknown_key = fake.paid_callback(ref, serial="PUB_KEY_ID_SOMEONE_ELSE")
    unsigned = ({"content-type": "application/json"}, body)
    caplog.set_level(logging.WARNING, logger="dougong.wechat_pay")
    answers = []
    for h, b in ((headers, tampered), mis_signed, unknown_key, unsigned):
        answers.append((await http.post("/webhooks/wechat_pay/notify", content=b, headers=h)).status_code)
    clock.advance(minutes=6)  # a genuine callback, sent again after the tolerance: a replay
    answers.append((await http.post("/webhooks/wechat_pay/notify", content=body, headers=headers)).status_code)
    assert answers == [401, 401, 401, 401, 401]
    assert await _status(kernel, order_id) == "pending_payment"
    assert await _count(kernel, Notification) == 0
    refused = [r.getMessage() for r in caplog.records if r.name == "dougong.wechat_pay"]
    assert len(refused) == 5 and sum("replayed" in m for m in refused) == 1 and sum("did not sign" in m for m in refused) == 4


async def test_refunds_go_to_wechat_after_commit_and_its_callback_closes_them(wx, graphql):
    kernel, fake, shop, http = wx
    order_id, _ = await _paying(kernel, graphql, shop)
    ref = await _ref(kernel, order_id)
    headers, body = fake.paid_callback(ref)
    await http.post("/webhooks/wechat_pay/notify", content=body, headers=headers)
    refunded = await graphql(kernel, staff(1, "admin")).mutate(REFUND, id=order_id)
    assert refunded == {"order": {"status": "REFUNDED"}, "userErrors": []}
    assert fake.refunds == {}  # not inside the refunding transaction
    await kernel.run_due()
    (out_refund_no, sent), = fake.refunds.items()
    assert (sent["out_trade_no"], sent["amount"]) == (ref, {"refund": 20000, "total": 20000, "currency": "CNY"})
    async with kernel.db.read() as session:
        assert await session.scalar(select(Refund.status)) == "PROCESSING"
    headers, body = fake.refund_callback(out_refund_no, "SUCCESS")
    assert (await http.post("/webhooks/wechat_pay/notify", content=body, headers=headers)).status_code == 204
    async with kernel.db.read() as session:
        assert await session.scalar(select(Refund.status)) == "SUCCESS"


async def test_a_refund_wechat_refuses_is_reported_not_lost(wx, graphql):
    kernel, fake, shop, http = wx
    order_id, _ = await _paying(kernel, graphql, shop)
    headers, body = fake.paid_callback(await _ref(kernel, order_id))
    await http.post("/webhooks/wechat_pay/notify", content=body, headers=headers)
    fake.refuse_refunds = "NOT_ENOUGH"
    await graphql(kernel, staff(1, "admin")).mutate(REFUND, id=order_id)
    await kernel.run_due()
    async with kernel.db.read() as session:
        row = await session.scalar(select(Refund))
    assert (row.status, "NOT_ENOUGH" in row.last_error) == ("refused", True)
    assert await _count(kernel, EventRow, EventRow.name == "wechat_pay.refund_failed") == 1


async def test_reconciliation_settles_a_payment_whose_callback_was_lost(wx, graphql, clock):
    kernel, fake, shop, http = wx
    paid_id, _ = await _paying(kernel, graphql, shop)
    fake.pay(await _ref(kernel, paid_id))  # the member paid; the callback never arrives
    unpaid_id, _ = await _paying(kernel, graphql, shop)
    await kernel.run_due()
    assert await _status(kernel, paid_id) == "pending_payment"  # too young to ask about
    clock.advance(minutes=3)
    await kernel.run_due()  # the sweep gives each charge a timer of its own
    await kernel.run_due()
    assert (await _status(kernel, paid_id), await _status(kernel, unpaid_id)) == ("paid", "pending_payment")
    clock.advance(minutes=61)  # still unpaid at WeChat past close_unpaid_after: closed there, failed here
    await kernel.run_due()
    await kernel.run_due()
    unpaid_ref = await _ref(kernel, unpaid_id)
    assert fake.transactions[unpaid_ref]["trade_state"] == "CLOSED"
    async with kernel.db.read() as session:
        assert await session.scalar(select(Payment.status).where(Payment.provider_ref == unpaid_ref)) == "failed"


async def test_a_payment_for_an_order_cancelled_meanwhile_goes_back_through_wechat(wx, graphql, clock):
    kernel, fake, shop, http = wx
    order_id, _ = await _paying(kernel, graphql, shop)
    ref = await _ref(kernel, order_id)
    clock.advance(minutes=31)
    await kernel.run_due()  # the payment timeout cancels the order
    assert await _status(kernel, order_id) == "cancelled"
    clock.advance(seconds=1)
    headers, body = fake.paid_callback(ref)
    assert (await http.post("/webhooks/wechat_pay/notify", content=body, headers=headers)).status_code == 204
    await kernel.run_due()
    assert [r["amount"]["refund"] for r in fake.refunds.values()] == [20000]
    assert await _count(kernel, EventRow, EventRow.name == "order.payment_returned") == 1


async def test_a_member_without_openid_or_a_wechat_outage_writes_nothing(wx, graphql):
    kernel, fake, shop, http = wx
    _, no_openid = await _paying(kernel, graphql, shop, who=2)
    assert no_openid["userErrors"] == [{"code": "WECHAT_PAY_NO_OPENID", "field": "input.provider", "details": None}]
    fake.down = True
    _, outage = await _paying(kernel, graphql, shop)
    assert [e["code"] for e in outage["userErrors"]] == ["WECHAT_PAY_UNAVAILABLE"]
    assert await _count(kernel, Payment) == 0


async def test_a_deposit_is_a_payment_intent_paid_and_refunded_through_wechat(wx, graphql):
    kernel, fake, shop, http = wx
    intents = kernel.service("orders").intents
    async with kernel.transaction() as tx:
        intent, params = await intents.create(tx, member_id=1, amount_minor=50000, purpose="bidding_sale.deposit",
                                              reference="lot:3", description="拍品保证金", provider="wechat_pay")
    async with kernel.db.read() as session:
        ref = await session.scalar(select(PaymentIntent.provider_ref))
    assert params["package"].startswith("prepay_id=") and fake.transactions[ref]["description"] == "拍品保证金"
    headers, body = fake.paid_callback(ref)
    assert (await http.post("/webhooks/wechat_pay/notify", content=body, headers=headers)).status_code == 204
    async with kernel.transaction() as tx:
        assert await intents.refund(tx, intent.id, reason="outbid, lot closed") == 50000
    await kernel.run_due()
    assert [r["amount"] for r in fake.refunds.values()] == [{"refund": 50000, "total": 50000, "currency": "CNY"}]
    assert await _count(kernel, EventRow, EventRow.name.in_(["order.intent_succeeded", "order.intent_refunded"])) == 2


async def test_cancelling_an_order_closes_its_open_wechat_transaction(wx, graphql):
    kernel, fake, shop, http = wx
    order_id, _ = await _paying(kernel, graphql, shop)
    ref = await _ref(kernel, order_id)
    cancelled = await graphql(kernel, member(1)).mutate(
        'mutation($id: ID!) { cancelOrder(input: {orderId: $id}) { order { status } userErrors { code } } }', id=order_id)
    assert cancelled["order"]["status"] == "CANCELLED"
    assert fake.transactions[ref]["trade_state"] == "CLOSED"  # the member can no longer pay it
    async with kernel.db.read() as session:
        assert await session.scalar(select(Payment.status).where(Payment.provider_ref == ref)) == "failed"
