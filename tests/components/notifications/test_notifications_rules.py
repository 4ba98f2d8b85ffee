"""The pure rules of notifications: recipients, rendering, WeChat's field limits, backoff, quiet hours."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from components.notifications import rules as R
from components.notifications.channels import aliyun_signature


def test_recipients_are_one_id_or_a_list_and_nothing_else():
    assert R.recipients({"memberId": 7}, "memberId") == [7]
    assert R.recipients({"memberIds": [3, "4", 3, True, None, "x"]}, "memberIds") == [3, 4]
    assert R.recipients({"winner": {"memberId": 9}}, "winner.memberId") == [9]
    assert R.recipients({"groupId": 1}, "memberIds") == []


def test_fields_render_from_the_payload_and_fit_wechat_s_limits():
    payload = {"orderId": 12, "totalMinor": 123456, "room": {"title": "龙井春茶直播 " * 5}, "refund": -5}
    fields = {"thing1": "{room.title}", "amount2": "{totalMinor|yuan}", "character_string3": "NO.{orderId}",
              "thing4": "{missing}到了", "amount5": "{refund|yuan}"}
    out = R.render_fields(fields, payload)
    assert out == {"thing1": ("龙井春茶直播 " * 5)[:20], "amount2": "1234.56", "character_string3": "NO.12", "thing4": "到了",
                   "amount5": "-0.05"}
    assert R.render("{a} {{b}}", {"a": 1}) == "1 {}"  # no format-string tricks: only {key} is replaced


def test_backoff_doubles_up_to_a_cap():
    assert [R.backoff(n, 30).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert R.backoff(20, 30) == timedelta(hours=1)


def test_quiet_hours_across_midnight_end_in_the_brand_s_morning():
    shanghai_23h = datetime(2026, 3, 1, 15, 0, tzinfo=timezone.utc)  # 23:00 in Shanghai
    until = R.quiet_until(shanghai_23h, "Asia/Shanghai", "22:00", "08:00")
    assert until.astimezone(timezone.utc) == datetime(2026, 3, 2, 0, 0, tzinfo=timezone.utc)  # 08:00 next day
    early = R.quiet_until(datetime(2026, 3, 1, 22, 30, tzinfo=timezone.utc), "Asia/Shanghai", "22:00", "08:00")  # 06:30
    assert early.astimezone(timezone.utc) == datetime(2026, 3, 2, 0, 0, tzinfo=timezone.utc)
    assert R.quiet_until(datetime(2026, 3, 1, 4, 0, tzinfo=timezone.utc), "Asia/Shanghai", "22:00", "08:00") is None  # 12:00
    assert R.quiet_until(shanghai_23h, "Asia/Shanghai", "13:00", "14:00") is None
    assert R.quiet_until(shanghai_23h, "Asia/Shanghai", None, None) is None


def test_a_message_goes_stale_at_the_time_its_payload_names():
    start = "2026-01-05T12:30:00+00:00"
    assert R.stale_at({"scheduledStartAt": start}, "scheduledStartAt") == datetime(2026, 1, 5, 12, 30, tzinfo=timezone.utc)
    assert R.stale_at({"at": "2026-01-05T20:30:00+08:00"}, "at") == datetime(2026, 1, 5, 12, 30, tzinfo=timezone.utc)
    assert R.stale_at({"at": "2026-01-05T12:30:00"}, "at") == datetime(2026, 1, 5, 12, 30, tzinfo=timezone.utc)  # naive: UTC
    assert R.stale_at({"at": "soon"}, "at") is None and R.stale_at({"at": 5}, "at") is None
    assert R.stale_at({"scheduledStartAt": start}, None) is None and R.stale_at({}, "at") is None
    rule = R.rules_from({"rules": [{"event": "live_room.reservation_reminder", "template": "T", "stale_after": "scheduledStartAt"}]})[0]
    assert rule.stale_after == "scheduledStartAt"


def test_aliyun_signature_signs_the_percent_encoded_canonical_query():
    import base64
    import hashlib
    import hmac

    # RFC 3986 encoding as Aliyun's RPC signature wants it: space %20 (not +), * %2A, ~ kept,
    # and the canonical query encoded once more inside "GET&%2F&…".
    params = {"b": "x y*~", "a": "签名/1"}
    to_sign = "GET&%2F&" + "a%3D%25E7%25AD%25BE%25E5%2590%258D%252F1%26b%3Dx%2520y%252A~"
    expected = base64.b64encode(hmac.new(b"secret&", to_sign.encode(), hashlib.sha1).digest()).decode()
    assert aliyun_signature("secret", params) == expected
    assert aliyun_signature("other", params) != expected
