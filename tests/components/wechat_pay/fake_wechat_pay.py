"""A local fake of WeChat Pay API v3 (no network), with RSA keys made for the test run.

It checks what the real API checks — our request signature against the merchant's public
key, the merchant id, amounts — keeps transactions and refunds, signs every answer with the
platform key, and writes the signed, encrypted callbacks WeChat would post.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from components.wechat_pay import signing

MCH_ID, APP_ID, SERIAL, KEY_ID = "1900000109", "wx0123456789abcdef", "3775B6A45ACD588826D15E583A95F5DD2C6E30AB", "PUB_KEY_ID_0119000001"
API_V3_KEY = "0123456789abcdefABCDEFGHIJKLMNOP"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


AUTH = re.compile(r'^WECHATPAY2-SHA256-RSA2048 mchid="(\w+)",nonce_str="(\w+)",signature="([^"]+)",timestamp="(\d+)",serial_no="(\w+)"$')


class FakeWeChatPay:
    def __init__(self, merchant: rsa.RSAPrivateKey, platform: rsa.RSAPrivateKey, clock: Any) -> None:
        self.merchant, self.platform, self.clock = merchant, platform, clock
        self.transactions: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.calls: list[str] = []
        self.down = False
        self.refuse_refunds: str | None = None
        self.app = Starlette(routes=[
            Route("/v3/pay/transactions/jsapi", self.jsapi, methods=["POST"]),
            Route("/v3/pay/transactions/out-trade-no/{no}", self.query, methods=["GET"]),
            Route("/v3/pay/transactions/out-trade-no/{no}/close", self.close, methods=["POST"]),
            Route("/v3/refund/domestic/refunds", self.refund, methods=["POST"]),
        ])

    # -- WeChat's side of the API ------------------------------------------------------------
    def _signed(self, status: int, data: dict[str, Any] | None) -> Response:
        body = json.dumps(data) if data is not None else ""
        headers = self.sign(body)
        return Response(body, status_code=status, media_type="application/json", headers=headers)

    def sign(self, body: str, key: rsa.RSAPrivateKey | None = None, *, timestamp: int | None = None,
             serial: str = KEY_ID) -> dict[str, str]:
        stamp = str(timestamp if timestamp is not None else int(self.clock.now().timestamp()))
        nonce = secrets.token_hex(16)
        signature = signing.rsa_sign(key or self.platform, signing.response_message(stamp, nonce, body))
        return {"Wechatpay-Timestamp": stamp, "Wechatpay-Nonce": nonce, "Wechatpay-Signature": signature,
                "Wechatpay-Serial": serial, "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048"}

    async def _check(self, request: Request) -> tuple[dict[str, Any] | None, Response | None]:
        if self.down:
            return None, Response("<html>502</html>", status_code=502)
        body = (await request.body()).decode()
        found = AUTH.match(request.headers.get("authorization", ""))
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if not found or found[1] != MCH_ID or found[5] != SERIAL:
            return None, self._signed(401, {"code": "SIGN_ERROR", "message": "bad authorization"})
        message = f"{request.method}\n{path}\n{found[4]}\n{found[2]}\n{body}\n"
        if not signing.rsa_verify(self.merchant.public_key(), message, found[3]):
            return None, self._signed(401, {"code": "SIGN_ERROR", "message": "signature mismatch"})
        self.calls.append(f"{request.method} {request.url.path}")
        return (json.loads(body) if body else {}), None

    async def jsapi(self, request: Request) -> Response:
        data, refused = await self._check(request)
        if refused:
            return refused
        if data["mchid"] != MCH_ID or data["appid"] != APP_ID or data["amount"]["total"] <= 0:
            return self._signed(400, {"code": "PARAM_ERROR", "message": "bad parameters"})
        self.transactions[data["out_trade_no"]] = {**data, "trade_state": "NOTPAY", "prepay_id": "wx" + secrets.token_hex(14)}
        return self._signed(200, {"prepay_id": self.transactions[data["out_trade_no"]]["prepay_id"]})

    async def query(self, request: Request) -> Response:
        _, refused = await self._check(request)
        if refused:
            return refused
        txn = self.transactions.get(request.path_params["no"])
        if txn is None:
            return self._signed(404, {"code": "ORDER_NOT_EXIST", "message": "no such order"})
        return self._signed(200, self.resource(txn))

    async def close(self, request: Request) -> Response:
        _, refused = await self._check(request)
        if refused:
            return refused
        self.transactions[request.path_params["no"]]["trade_state"] = "CLOSED"
        return Response(status_code=204)

    async def refund(self, request: Request) -> Response:
        data, refused = await self._check(request)
        if refused:
            return refused
        if self.refuse_refunds:
            return self._signed(403, {"code": self.refuse_refunds, "message": "refused"})
        txn = self.transactions.get(data["out_trade_no"])
        refunded = sum(r["amount"]["refund"] for r in self.refunds.values() if r["out_trade_no"] == data["out_trade_no"])
        if txn is None or txn["trade_state"] not in ("SUCCESS", "REFUND") or data["amount"]["total"] != txn["amount"]["total"] \
                or refunded + data["amount"]["refund"] > txn["amount"]["total"]:
            return self._signed(400, {"code": "INVALID_REQUEST", "message": "refund does not fit the transaction"})
        first = self.refunds.setdefault(data["out_refund_no"], {**data, "refund_id": "50" + secrets.token_hex(10)})
        txn["trade_state"] = "REFUND"
        return self._signed(200, {"refund_id": first["refund_id"], "out_refund_no": data["out_refund_no"], "status": "PROCESSING"})

    # -- what the test does as WeChat ---------------------------------------------------------
    def resource(self, txn: dict[str, Any]) -> dict[str, Any]:
        return {"appid": APP_ID, "mchid": MCH_ID, "out_trade_no": txn["out_trade_no"], "transaction_id": "4200" + txn["prepay_id"][2:12],
                "trade_type": "JSAPI", "trade_state": txn["trade_state"], "payer": txn["payer"],
                "amount": {"total": txn["amount"]["total"], "payer_total": txn["amount"]["total"], "currency": "CNY"}}

    def pay(self, out_trade_no: str) -> None:
        """The member paid in the mini-program (no callback yet)."""
        self.transactions[out_trade_no]["trade_state"] = "SUCCESS"

    def callback(self, event_type: str, resource: dict[str, Any], **sign: Any) -> tuple[dict[str, str], bytes]:
        """The signed, encrypted notification WeChat would post: (headers, body)."""
        kind = "transaction" if event_type.startswith("TRANSACTION") else "refund"
        notice = {"id": "EV-" + secrets.token_hex(8), "create_time": self.clock.now().isoformat(), "resource_type": "encrypt-resource",
                  "event_type": event_type, "summary": "支付成功",
                  "resource": signing.encrypt_resource(API_V3_KEY, resource, kind, secrets.token_hex(6))}
        body = json.dumps(notice, ensure_ascii=False)
        return self.sign(body, **sign), body.encode()

    def paid_callback(self, out_trade_no: str, **sign: Any) -> tuple[dict[str, str], bytes]:
        self.pay(out_trade_no)
        return self.callback("TRANSACTION.SUCCESS", self.resource(self.transactions[out_trade_no]), **sign)

    def refund_callback(self, out_refund_no: str, status: str = "SUCCESS") -> tuple[dict[str, str], bytes]:
        refund = self.refunds[out_refund_no]
        return self.callback(f"REFUND.{status}", {
            "mchid": MCH_ID, "out_trade_no": refund["out_trade_no"], "out_refund_no": out_refund_no,
            "refund_id": refund["refund_id"], "refund_status": status,
            "amount": {"total": refund["amount"]["total"], "refund": refund["amount"]["refund"]}})


def verify_pay_sign(merchant: rsa.RSAPrivateKey, params: dict[str, str]) -> bool:
    """What WeChat's client does with wx.requestPayment's parameters."""
    message = f"{params['appId']}\n{params['timeStamp']}\n{params['nonceStr']}\n{params['package']}\n"
    return signing.rsa_verify(merchant.public_key(), message, params["paySign"]) and base64.b64decode(params["paySign"]) != b""
