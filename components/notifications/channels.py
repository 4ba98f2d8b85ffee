"""Delivery channels behind one interface: WeChat subscription messages (订阅消息) and SMS.

Each channel has a sandbox that records what it would have sent (the default, and the only
one a development blueprint needs) and one real provider: WeChat's
``/cgi-bin/message/subscribe/send`` and Aliyun's ``SendSms`` (dysmsapi 2017-05-25, RPC
signature HMAC-SHA1). Endpoints are settings, so tests talk to local fakes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping, Protocol
from urllib.parse import quote

import httpx


@dataclass(frozen=True)
class Message:
    member_id: int
    to: str  # an openid (wechat) or a phone number (sms)
    template: str
    data: Mapping[str, str]
    page: str | None = None


class DeliveryError(Exception):
    """The channel did not deliver. ``retryable``: worth trying again later (an outage, a
    throttle); otherwise final (the member refused the template, a malformed number)."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class Channel(Protocol):
    name: str

    async def send(self, message: Message) -> str:
        """Deliver ``message``; return the provider's reference, or raise :class:`DeliveryError`."""


class Sandbox:
    """Records messages instead of sending them (``sent``); never fails unless told to."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.sent: list[Message] = []
        self.fail_next: list[DeliveryError] = []  # tests queue failures here

    async def send(self, message: Message) -> str:
        if self.fail_next:
            raise self.fail_next.pop(0)
        self.sent.append(message)
        return f"sandbox-{secrets.token_hex(6)}"


async def _call(endpoint: str, timeout: float, transport: Any, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    try:
        async with httpx.AsyncClient(base_url=endpoint, timeout=timeout, transport=transport) as http:
            response = await http.request(method, path, **kwargs)
        data = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise DeliveryError(f"unreachable: {type(exc).__name__}") from None
    if response.status_code >= 500 or not isinstance(data, dict):
        raise DeliveryError(f"answered {response.status_code}")
    return data


class WeChatSubscribe:
    """WeChat mini-program subscription messages (one-time subscriptions)."""

    name = "wechat"
    # errcodes that will not change by trying again: no consent, a bad template or data, a bad openid.
    FINAL = {43101, 40003, 40037, 47003, 41030}

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.app_id, self._secret = settings["app_id"], settings["app_secret"]
        self.endpoint = str(settings.get("endpoint") or "https://api.weixin.qq.com").rstrip("/")
        self.state = settings.get("miniprogram_state", "formal")
        self.timeout = float(settings.get("timeout_seconds", 5))
        self.transport: Any = None
        self._token: tuple[str, float] | None = None

    async def _access_token(self) -> str:
        if self._token and self._token[1] > time.monotonic():
            return self._token[0]
        data = await _call(
            self.endpoint,
            self.timeout,
            self.transport,
            "GET",
            "/cgi-bin/token",
            params={"grant_type": "client_credential", "appid": self.app_id, "secret": self._secret},
        )
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            raise DeliveryError(f"no access token: errcode {data.get('errcode')}")
        lifetime = data.get("expires_in") if isinstance(data.get("expires_in"), int) else 7200
        self._token = (token, time.monotonic() + max(lifetime - 300, 60))
        return token

    async def send(self, message: Message) -> str:
        body = {
            "touser": message.to,
            "template_id": message.template,
            "miniprogram_state": self.state,
            "lang": "zh_CN",
            "data": {k: {"value": v} for k, v in message.data.items()},
        }
        if message.page:
            body["page"] = message.page
        data = await _call(
            self.endpoint,
            self.timeout,
            self.transport,
            "POST",
            "/cgi-bin/message/subscribe/send",
            params={"access_token": await self._access_token()},
            json=body,
        )
        code = data.get("errcode", 0)
        if code in (40001, 42001, 40014):  # the token went stale early: fetch a new one next time
            self._token = None
        if code:
            raise DeliveryError(f"errcode {code}: {data.get('errmsg')}", retryable=code not in self.FINAL)
        return str(data.get("msgid") or "sent")


def aliyun_signature(secret: str, params: Mapping[str, str], method: str = "GET") -> str:
    """Aliyun RPC signature (SignatureVersion 1.0, HMAC-SHA1)."""

    def enc(text: str) -> str:
        return quote(str(text), safe="~")

    canonical = "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(params.items()))
    to_sign = f"{method}&{enc('/')}&{enc(canonical)}"
    return base64.b64encode(hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()).decode()


class AliyunSms:
    """Aliyun SMS (短信服务) ``SendSms``: the template's variables come from the rule's fields."""

    name = "sms"
    FINAL = {
        "isv.MOBILE_NUMBER_ILLEGAL",
        "isv.SMS_TEMPLATE_ILLEGAL",
        "isv.SMS_SIGNATURE_ILLEGAL",
        "isv.TEMPLATE_MISSING_PARAMETERS",
        "isv.INVALID_PARAMETERS",
        "isv.BLACK_KEY_CONTROL_LIMIT",
    }

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.key_id, self._secret = settings["access_key_id"], settings["access_key_secret"]
        self.sign_name = settings["sign_name"]
        self.endpoint = str(settings.get("endpoint") or "https://dysmsapi.aliyuncs.com").rstrip("/")
        self.timeout = float(settings.get("timeout_seconds", 5))
        self.transport: Any = None

    async def send(self, message: Message) -> str:
        params = {
            "AccessKeyId": self.key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "PhoneNumbers": message.to,
            "RegionId": "cn-hangzhou",
            "SignName": self.sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": secrets.token_hex(12),
            "SignatureVersion": "1.0",
            "TemplateCode": message.template,
            "TemplateParam": json.dumps(dict(message.data), ensure_ascii=False, separators=(",", ":")),
            "Timestamp": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
        }
        params["Signature"] = aliyun_signature(self._secret, params)
        data = await _call(self.endpoint, self.timeout, self.transport, "GET", "/", params=params)
        code = str(data.get("Code"))
        if code != "OK":
            raise DeliveryError(f"{code}: {data.get('Message')}", retryable=code not in self.FINAL)
        return str(data.get("BizId") or "sent")


def make_channels(settings: Mapping[str, Any]) -> dict[str, Any]:
    configured = settings.get("channels") or {}
    wechat, sms = configured.get("wechat") or {}, configured.get("sms") or {}
    return {
        "wechat": WeChatSubscribe(wechat) if wechat.get("provider") == "wechat" else Sandbox("wechat"),
        "sms": AliyunSms(sms) if sms.get("provider") == "aliyun" else Sandbox("sms"),
    }
