"""The typed notification fields: template keys (templateId kept, deprecated), fields as
name/value pairs, status and channel as enums, consents as messagesLeft; member-only root fields
are null with an error for anyone else instead of blanking the page."""

from __future__ import annotations

from core.testing import member, staff
from tests.components.notifications.test_notifications_delivery import _paid_order, shop  # noqa: F401  (shop is a fixture)

GRANT = """mutation($input: GrantNotificationConsentInput!) { grantNotificationConsent(input: $input) {
  consents { templateKey messagesLeft templateId remaining } userErrors { code field } } }"""
MINE = """query($last: Int) { myNotifications(last: $last) { edges { node {
  templateKey templateId deliveryChannel channel deliveryStatus status fields { name value } data } } } }"""


async def test_typed_notification_fields(shop, graphql):  # noqa: F811
    kernel, shop_ = shop
    buyer = graphql(kernel, member(1))
    granted = await buyer.mutate(GRANT, input={"templateKeys": ["TPL-PAID"]})
    assert granted == {"consents": [{"templateKey": "TPL-PAID", "messagesLeft": 1, "templateId": "TPL-PAID", "remaining": 1}], "userErrors": []}
    old_form = await buyer.mutate(GRANT, input={"templateIds": ["TPL-PAID"]})
    assert old_form["consents"][0]["messagesLeft"] == 2

    refused = [
        ({"templateKeys": ["TPL-PAID"], "templateIds": ["TPL-PAID"]}, "KERNEL_INVALID_INPUT", "input.templateKeys"),
        ({"templateKeys": ["TPL-NOT-OURS"]}, "NOTIFICATIONS_UNKNOWN_TEMPLATE", "input.templateKeys[0]"),
        ({"templateKeys": []}, "NOTIFICATIONS_TOO_MANY_TEMPLATES", "input.templateKeys"),
        ({}, "NOTIFICATIONS_TOO_MANY_TEMPLATES", "input.templateKeys"),
    ]
    for payload, code, field in refused:
        assert (await buyer.mutate(GRANT, input=payload))["userErrors"] == [{"code": code, "field": field}], payload
    assert (await buyer.data("{ myNotificationConsents { messagesLeft } }"))["myNotificationConsents"] == [{"messagesLeft": 2}]

    await _paid_order(kernel, graphql, shop_)
    await kernel.run_due()
    nodes = [e["node"] for e in (await buyer.data(MINE, last=1))["myNotifications"]["edges"]]
    # newest first, so the last one is the oldest: the WeChat message planned before the SMS
    assert [(n["deliveryChannel"], n["channel"], n["deliveryStatus"], n["status"]) for n in nodes] == [("WECHAT", "wechat", "SENT", "sent")]
    both = [e["node"] for e in (await buyer.data(MINE))["myNotifications"]["edges"]]
    wechat = next(n for n in both if n["deliveryChannel"] == "WECHAT")
    assert (wechat["templateKey"], wechat["templateId"], wechat["deliveryStatus"]) == ("TPL-PAID", "TPL-PAID", "SENT")
    assert [f["name"] for f in wechat["fields"]] == ["character_string1", "amount2", "thing3"]
    assert {f["name"]: f["value"] for f in wechat["fields"]} == wechat["data"]

    # Not a member: the member-only fields are null with an error at their path, the rest answers.
    for outsider in (graphql(kernel), graphql(kernel, staff(1, "admin"))):
        answer = await outsider.execute("{ myNotifications { edges { cursor } } myNotificationConsents { templateKey } brand { slug } }")
        assert answer["data"] == {"myNotifications": None, "myNotificationConsents": None, "brand": {"slug": "tea"}}
        assert sorted(e["path"][0] for e in answer["errors"]) == ["myNotificationConsents", "myNotifications"]
