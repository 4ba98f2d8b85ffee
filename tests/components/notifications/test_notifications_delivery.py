"""Notifications end to end with the sandbox channels and local fakes of WeChat and Aliyun:
an event of another component becomes one message per member, only with consent, retried with
backoff, held through quiet hours, never blocking the write that emitted it."""

from __future__ import annotations

import json

import httpx
import pytest
from conftest import open_shop
from sqlalchemy import select

from components.notifications.channels import AliyunSms, DeliveryError, Message, WeChatSubscribe, aliyun_signature
from components.notifications.models import Delivery
from core.errors import BootError
from core.testing import member

BLUEPRINT = """\
dougong: 1
brand: {slug: tea, name: Tea, currency: CNY, timezone: Asia/Shanghai}
auth: {dev_sign_in: true}
components:
  orders: {}
  notifications:
    retry: {attempts: 3, base_delay: 30s}
    rules:
      - name: paid
        event: order.paid
        template: TPL-PAID
        page: "pages/order/index?id={orderId}"
        fields: {character_string1: "{orderId}", amount2: "{totalMinor|yuan}", thing3: "您的订单已支付成功，我们会尽快发货"}
      - event: order.paid
        channel: sms
        template: SMS_100
        fields: {amount: "{totalMinor|yuan}"}
"""
CREATE = """mutation($sku: ID!) { createOrder(input: {lines: [{skuId: $sku, quantity: 1}]}) { order { id } userErrors { code } } }"""
PAY = """mutation($id: ID!) { payOrder(input: {orderId: $id}) { payment { id } userErrors { code } } }"""
SETTLE = """mutation($id: ID!) { sandboxSettlePayment(input: {paymentId: $id}) { order { status } userErrors { code } } }"""
GRANT = """mutation($t: [String!]!) { grantNotificationConsent(input: {templateIds: $t}) {
  consents { templateId remaining } userErrors { code field } } }"""
MINE = """{ myNotifications(first: 10) { edges { node { id event channel templateId data status } } } }"""


async def _paid_order(kernel, graphql, shop, who=1):
    buyer = graphql(kernel, member(who))
    order_id = (await buyer.mutate(CREATE, sku=shop.sku))["order"]["id"]
    payment = (await buyer.mutate(PAY, id=order_id))["payment"]["id"]
    assert (await buyer.mutate(SETTLE, id=payment))["order"]["status"] == "PAID"
    return order_id


async def _deliveries(kernel):
    async with kernel.db.read() as session:
        return (await session.scalars(select(Delivery).order_by(Delivery.id))).all()


@pytest.fixture
async def shop(kernel_factory):
    kernel = await kernel_factory(BLUEPRINT)
    shop = await open_shop(kernel)
    async with kernel.transaction() as tx:
        from components.members.models import Member

        (await tx.session.get(Member, 1)).open_id = "o-one"  # member 1 signed in through WeChat
    return kernel, shop


async def test_one_message_per_member_and_event_only_with_consent(shop, graphql):
    kernel, shop_ = shop
    service = kernel.service("notifications")
    wechat, sms = service.channels["wechat"], service.channels["sms"]
    await _paid_order(kernel, graphql, shop_)
    await kernel.run_due()
    first = await _deliveries(kernel)
    assert [(d.channel, d.status) for d in first] == [("wechat", "skipped"), ("sms", "sent")]  # no consent yet
    assert "consent" in first[0].last_error and wechat.sent == []
    assert sms.sent[0].to == "13900000000" and sms.sent[0].data == {"amount": "100.00"}

    granted = await graphql(kernel, member(1)).mutate(GRANT, t=["TPL-PAID"])
    assert granted == {"consents": [{"templateId": "TPL-PAID", "remaining": 1}], "userErrors": []}
    order_id = await _paid_order(kernel, graphql, shop_)
    await kernel.run_due()
    (message,) = wechat.sent
    assert (message.to, message.template, message.page) == ("o-one", "TPL-PAID", f"pages/order/index?id={message.data['character_string1']}")
    assert message.data["amount2"] == "100.00" and len(message.data["thing3"]) == 17
    assert await _consents(kernel) == [("TPL-PAID", 0)]  # one consent, one message

    # The same event delivered again (events are at least once): nothing new is planned or sent.
    async with kernel.db.read() as session:
        from core.models import EventRow
        from core.transaction import Event

        row = (await session.scalars(select(EventRow).where(EventRow.name == "order.paid").order_by(EventRow.id.desc()))).first()
    await service.on_event(kernel, Event(row.id, row.name, row.payload, row.created_at))
    await kernel.run_due()
    assert len(await _deliveries(kernel)) == 4 and len(wechat.sent) == 1 and len(sms.sent) == 2

    mine = await graphql(kernel, member(1)).data(MINE)
    assert [(e["node"]["channel"], e["node"]["status"]) for e in mine["myNotifications"]["edges"]] == [
        ("sms", "sent"), ("wechat", "sent"), ("sms", "sent"), ("wechat", "skipped")]
    assert (await graphql(kernel, member(2)).data(MINE))["myNotifications"]["edges"] == []
    assert order_id


async def _consents(kernel, member_id=1):
    async with kernel.db.read() as session:
        return await kernel.service("notifications").consents(session, member_id)


async def test_a_failing_channel_retries_with_backoff_and_never_blocks_the_payment(shop, graphql, clock):
    kernel, shop_ = shop
    service = kernel.service("notifications")
    wechat = service.channels["wechat"]
    await graphql(kernel, member(1)).mutate(GRANT, t=["TPL-PAID"])
    wechat.fail_next = [DeliveryError("busy"), DeliveryError("busy again")]
    await _paid_order(kernel, graphql, shop_)  # the order is paid whatever the channel does
    await kernel.run_due()
    (pending,) = [d for d in await _deliveries(kernel) if d.channel == "wechat"]
    assert (pending.status, pending.attempts, pending.last_error) == ("pending", 1, "busy")
    assert await _consents(kernel) == [("TPL-PAID", 1)]  # given back meanwhile
    clock.advance(seconds=29)
    await kernel.run_due()
    assert wechat.sent == []  # not before the backoff
    clock.advance(seconds=2)
    await kernel.run_due()
    clock.advance(seconds=61)  # second failure: twice the delay
    await kernel.run_due()
    (sent,) = [d for d in await _deliveries(kernel) if d.channel == "wechat"]
    assert (sent.status, sent.attempts, len(wechat.sent)) == ("sent", 3, 1)

    # A final refusal (the member withdrew consent at WeChat) is not retried.
    await graphql(kernel, member(1)).mutate(GRANT, t=["TPL-PAID"])
    wechat.fail_next = [DeliveryError("errcode 43101", retryable=False)]
    await _paid_order(kernel, graphql, shop_)
    await kernel.run_due()
    last = [d for d in await _deliveries(kernel) if d.channel == "wechat"][-1]
    assert (last.status, last.attempts) == ("failed", 1)


async def test_quiet_hours_and_the_hourly_limit_hold_messages_back(kernel_factory, graphql, clock):
    local = clock.now().astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai"))
    start, end = local.strftime("%H:00"), (local.replace(minute=0) + __import__("datetime").timedelta(hours=2)).strftime("%H:00")
    blueprint = BLUEPRINT.replace("    retry:", f"    quiet_hours: {{start: \"{start}\", end: \"{end}\"}}\n    per_member_per_hour: 1\n    retry:")
    kernel = await kernel_factory(blueprint)
    shop_ = await open_shop(kernel)
    sms = kernel.service("notifications").channels["sms"]
    await _paid_order(kernel, graphql, shop_)
    await _paid_order(kernel, graphql, shop_)
    await kernel.run_due()
    assert sms.sent == []  # quiet hours
    clock.advance(hours=2)
    await kernel.run_due()
    assert len(sms.sent) == 1  # the hourly limit lets one through
    clock.advance(minutes=61)
    await kernel.run_due()
    assert len(sms.sent) == 2


async def test_bad_rules_and_bad_consents_are_refused(kernel_factory, shop, graphql):
    with pytest.raises(BootError, match="'order.payed', which no component declares; did you mean 'order.paid'"):
        await kernel_factory(BLUEPRINT.replace("event: order.paid\n        template: TPL-PAID", "event: order.payed\n        template: TPL-PAID"))
    kernel, _ = shop
    client = graphql(kernel, member(1))
    assert (await client.mutate(GRANT, t=["TPL-NOT-OURS"]))["userErrors"] == [
        {"code": "NOTIFICATIONS_UNKNOWN_TEMPLATE", "field": "input.templateIds[0]"}]
    assert (await client.mutate(GRANT, t=["TPL-PAID"] * 4))["userErrors"][0]["code"] == "NOTIFICATIONS_TOO_MANY_TEMPLATES"
    assert (await client.mutate(GRANT, t=["SMS_100"]))["userErrors"][0]["code"] == "NOTIFICATIONS_UNKNOWN_TEMPLATE"  # not a WeChat one
    assert (await graphql(kernel).mutate(GRANT, t=["TPL-PAID"]))["consents"] is None


async def test_the_real_channels_speak_wechat_s_and_aliyun_s_api():
    seen = []

    def wechat_api(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if request.url.path == "/cgi-bin/token":
            assert dict(request.url.params) == {"grant_type": "client_credential", "appid": "wxapp", "secret": "s3cret"}
            return httpx.Response(200, json={"access_token": "AT", "expires_in": 7200})
        body = json.loads(request.content)
        assert request.url.params["access_token"] == "AT"
        if body["touser"] == "o-refused":
            return httpx.Response(200, json={"errcode": 43101, "errmsg": "user refuse to accept the msg"})
        assert body["data"] == {"thing1": {"value": "到店取货"}} and body["template_id"] == "T" and body["page"] == "p"
        return httpx.Response(200, json={"errcode": 0, "errmsg": "ok", "msgid": 42})

    wechat = WeChatSubscribe({"app_id": "wxapp", "app_secret": "s3cret", "endpoint": "http://wx.fake"})
    wechat.transport = httpx.MockTransport(wechat_api)
    assert await wechat.send(Message(1, "o-1", "T", {"thing1": "到店取货"}, "p")) == "42"
    with pytest.raises(DeliveryError) as refused:
        await wechat.send(Message(1, "o-refused", "T", {}, None))
    assert refused.value.retryable is False and seen.count("/cgi-bin/token") == 1  # the token is kept

    def aliyun_api(request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        signature = params.pop("Signature")
        if signature != aliyun_signature("ak-secret", params):
            return httpx.Response(400, json={"Code": "SignatureDoesNotMatch"})
        assert (params["PhoneNumbers"], params["TemplateCode"], json.loads(params["TemplateParam"])) == ("13900000000", "SMS_1", {"code": "7"})
        return httpx.Response(200, json={"Code": "OK", "BizId": "biz-1"})

    sms = AliyunSms({"access_key_id": "ak", "access_key_secret": "ak-secret", "sign_name": "茶"})
    sms.transport = httpx.MockTransport(aliyun_api)
    assert await sms.send(Message(1, "13900000000", "SMS_1", {"code": "7"})) == "biz-1"
    sms._secret = "wrong"
    with pytest.raises(DeliveryError, match="SignatureDoesNotMatch"):
        await sms.send(Message(1, "13900000000", "SMS_1", {"code": "7"}))


async def test_a_planned_message_survives_a_restart_and_is_sent_once(kernel_factory, graphql, clock, tmp_path):
    local = clock.now().astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai"))
    start, end = local.strftime("%H:00"), (local.replace(minute=0) + __import__("datetime").timedelta(hours=1)).strftime("%H:00")
    blueprint = BLUEPRINT.replace("    retry:", f"    quiet_hours: {{start: \"{start}\", end: \"{end}\"}}\n    retry:")
    url = f"sqlite+aiosqlite:///{tmp_path / 'restart.sqlite'}"
    before = await kernel_factory(blueprint, database=url)
    shop_ = await open_shop(before)
    await _paid_order(before, graphql, shop_)
    await before.run_due()  # planned, then held by the quiet hours
    assert before.service("notifications").channels["sms"].sent == []
    await before.stop()

    after = await kernel_factory(blueprint, database=url)  # the same database, a fresh process
    clock.advance(hours=1)
    await after.run_due()
    await after.run_due()
    assert len(after.service("notifications").channels["sms"].sent) == 1
    assert [d.status for d in await _deliveries(after) if d.channel == "sms"] == ["sent"]


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_racing_consents_all_count(kernel_factory, graphql, database):
    import asyncio

    kernel = await kernel_factory(BLUEPRINT, database=database)
    await open_shop(kernel, members=1)
    client = graphql(kernel, member(1))
    answers = await asyncio.gather(*(client.mutate(GRANT, t=["TPL-PAID"]) for _ in range(20)))
    assert all(a["userErrors"] == [] for a in answers)
    assert await _consents(kernel) == [("TPL-PAID", 20)]
