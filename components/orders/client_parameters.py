"""What a frontend hands to the payment provider's SDK after ``payOrder``, typed.

WeChat Pay (components/wechat_pay, ``signing.request_payment``) answers the parameters of the
mini-program's ``wx.requestPayment`` (its ``appId`` is left out: the mini-program pays as
itself); the sandbox answers its own reference. One object with nullable fields rather than a
union per provider: a third-party provider's keys that match these names arrive typed too, and
a client reads the fields its provider fills.
"""

from __future__ import annotations

from typing import Any

import strawberry

_WECHAT = "For WeChat Pay: wx.requestPayment's `{}`"


@strawberry.type(description="What the client passes to its payment provider's SDK; each provider fills its own fields, the rest are null.")
class PaymentClientParameters:
    provider: str = strawberry.field(description="The provider these parameters are for (sandbox, wechat_pay, …).")
    time_stamp: str | None = strawberry.field(default=None, description=_WECHAT.format("timeStamp") + " (Unix seconds, as a string).")
    nonce_str: str | None = strawberry.field(default=None, description=_WECHAT.format("nonceStr") + ".")
    package: str | None = strawberry.field(default=None, description=_WECHAT.format("package") + " (`prepay_id=…`).")
    sign_type: str | None = strawberry.field(default=None, description=_WECHAT.format("signType") + " (RSA).")
    pay_sign: str | None = strawberry.field(default=None, description=_WECHAT.format("paySign") + ".")
    sandbox: bool | None = strawberry.field(default=None, description="True for the development sandbox; settle it with sandboxSettlePayment.")
    provider_ref: str | None = strawberry.field(default=None, description="For the sandbox: our reference of the payment attempt.")


_FIELDS = {
    "timeStamp": "time_stamp",
    "nonceStr": "nonce_str",
    "package": "package",
    "signType": "sign_type",
    "paySign": "pay_sign",
}


def client_parameters(provider: str, data: dict[str, Any] | None) -> PaymentClientParameters | None:
    """The typed form of what the provider's ``start`` returned; keys it does not name are
    dropped here (the deprecated ``clientPayload`` still carries them for one release)."""
    if data is None:
        return None
    values: dict[str, Any] = {attr: str(data[key]) for key, attr in _FIELDS.items() if data.get(key) is not None}
    if "sandbox" in data:
        values["sandbox"] = bool(data["sandbox"])
    if data.get("providerRef") is not None:
        values["provider_ref"] = str(data["providerRef"])
    return PaymentClientParameters(provider=provider, **values)
