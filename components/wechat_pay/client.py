"""WeChat Pay API v3 over HTTP: signed requests, verified answers.

The API base URL is a setting (``endpoint``), so tests and staging talk to a local fake that
signs with its own keys. Every 2xx answer with a body must carry WeChat's signature; one that
does not is treated as not from WeChat (``WeChatPayUnavailable``), never trusted.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import quote

import httpx

from components.wechat_pay import signing
from core.units import parse_duration

log = logging.getLogger("dougong.wechat_pay")


class WeChatPayError(Exception):
    """WeChat answered and refused (4xx): ``code`` is its error code (``ORDER_NOT_EXIST``, …)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


class WeChatPayUnavailable(Exception):
    """WeChat could not be reached, failed (5xx) or answered something unsigned: try again later."""


@dataclass
class Config:
    mch_id: str
    app_id: str
    serial_no: str
    private_key: Any
    api_v3_key: str
    platform_keys: dict[str, Any]
    notify_url: str
    endpoint: str
    timeout: float
    callback_tolerance: float  # seconds
    reconcile_after: Any
    reconcile_every: int
    close_unpaid_after: Any

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Config:
        key, cert_serial = signing.load_platform_key(settings["platform_public_key"])
        key_id = settings["platform_public_key_id"]
        keys = {key_id: key}
        if cert_serial:
            keys[cert_serial] = key
        return cls(
            mch_id=settings["mch_id"],
            app_id=settings["app_id"],
            serial_no=settings["merchant_serial_no"],
            private_key=signing.load_private_key(settings["private_key"]),
            api_v3_key=settings["api_v3_key"],
            platform_keys=keys,
            notify_url=settings["notify_url"],
            endpoint=str(settings.get("endpoint") or "https://api.mch.weixin.qq.com").rstrip("/"),
            timeout=float(settings.get("timeout_seconds", 5)),
            callback_tolerance=parse_duration(settings.get("callback_tolerance", "5m")).total_seconds(),
            reconcile_after=parse_duration(settings.get("reconcile_after", "2m")),
            reconcile_every=int(settings.get("reconcile_every", 60)),
            close_unpaid_after=parse_duration(settings.get("close_unpaid_after", "2h")),
        )


class Client:
    def __init__(self, config: Config, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.config = config
        self.transport = transport  # tests may hand in httpx.MockTransport; normally the network

    def sign(self, method: str, path: str, text: str, *, timestamp: int) -> dict[str, str]:
        """The headers of one signed API request (also used by components that only build a
        request, as distribution does for transfers to a member's balance)."""
        c = self.config
        auth = signing.authorization(
            c.private_key, mch_id=c.mch_id, serial_no=c.serial_no, method=method, path=path, body=text, timestamp=timestamp, nonce_str=signing.nonce()
        )
        return {"Authorization": auth, "Accept": "application/json", "Content-Type": "application/json", "User-Agent": "dougong-wechat-pay"}

    async def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        text = "" if body is None else json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        c = self.config
        headers = self.sign(method, path, text, timestamp=int(time.time()))
        try:
            async with httpx.AsyncClient(base_url=c.endpoint, timeout=c.timeout, transport=self.transport) as http:
                response = await http.request(method, path, content=text.encode() if body is not None else None, headers=headers)
        except httpx.HTTPError as exc:
            raise WeChatPayUnavailable(f"WeChat Pay is unreachable: {type(exc).__name__}") from None
        if response.status_code >= 500:
            raise WeChatPayUnavailable(f"WeChat Pay answered {response.status_code}")
        data = _json(response.text)
        if response.status_code >= 400:
            raise WeChatPayError(response.status_code, str(data.get("code") or "UNKNOWN"), str(data.get("message") or ""))
        if response.text:
            try:
                signing.verify(c.platform_keys, response.headers, response.text)
            except signing.SignatureError as exc:
                log.error("wechat_pay: an answer to %s %s is not signed by WeChat: %s", method, path.split("?")[0], exc)
                raise WeChatPayUnavailable("an answer not signed by WeChat Pay") from None
        return data

    # -- the endpoints used ---------------------------------------------------------------------
    async def jsapi_prepay(self, *, out_trade_no: str, description: str, amount_minor: int, currency: str, openid: str, attach: str) -> str:
        c = self.config
        data = await self.call(
            "POST",
            "/v3/pay/transactions/jsapi",
            {
                "appid": c.app_id,
                "mchid": c.mch_id,
                "description": description,
                "out_trade_no": out_trade_no,
                "attach": attach,
                "notify_url": c.notify_url,
                "amount": {"total": amount_minor, "currency": currency},
                "payer": {"openid": openid},
            },
        )
        prepay_id = data.get("prepay_id")
        if not isinstance(prepay_id, str) or not prepay_id:
            raise WeChatPayUnavailable("WeChat Pay gave no prepay_id")
        return prepay_id

    async def query(self, out_trade_no: str) -> dict[str, Any]:
        return await self.call("GET", f"/v3/pay/transactions/out-trade-no/{quote(out_trade_no)}?mchid={quote(self.config.mch_id)}")

    async def close(self, out_trade_no: str) -> None:
        await self.call("POST", f"/v3/pay/transactions/out-trade-no/{quote(out_trade_no)}/close", {"mchid": self.config.mch_id})

    async def refund(
        self, *, out_trade_no: str, out_refund_no: str, amount_minor: int, total_minor: int, currency: str, reason: str
    ) -> dict[str, Any]:
        return await self.call(
            "POST",
            "/v3/refund/domestic/refunds",
            {
                "out_trade_no": out_trade_no,
                "out_refund_no": out_refund_no,
                "reason": reason,
                "notify_url": self.config.notify_url,
                "amount": {"refund": amount_minor, "total": total_minor, "currency": currency},
            },
        )


def _json(text: str) -> dict[str, Any]:
    try:
        found = json.loads(text) if text else {}
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}
