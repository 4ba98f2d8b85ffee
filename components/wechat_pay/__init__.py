from core.units import DURATION_SCHEMA
from registry.manifest import Manifest

SECRET = {"type": "string", "minLength": 1, "writeOnly": True}
MERCHANT = ("mch_id", "app_id", "merchant_serial_no", "private_key", "api_v3_key", "platform_public_key", "platform_public_key_id", "notify_url")

manifest = Manifest(
    name="wechat_pay",
    version="1.0.0",
    summary="WeChat Pay (API v3) for mini-program payments: prepay, verified callbacks, refunds, reconciliation",
    titles={"zh": "微信支付", "en": "WeChat Pay"},
    summaries={
        "zh": "微信支付 APIv3：小程序下单、验签解密回调、退款与退款回调、对账补单",
        "en": "WeChat Pay (API v3) for mini-program payments: prepay, verified callbacks, refunds, reconciliation",
    },
    hooks="components.wechat_pay.hooks",
    kernel=">=0.1,<1",
    depends={"orders": ">=1.0,<2", "members": ">=1.0,<2"},
    settings_schema={
        "type": "object",
        "additionalProperties": False,
        # Unconfigured (no merchant settings at all) the component loads but offers no provider,
        # like members' WeChat sign-in; any one merchant setting needs all the others.
        "dependentRequired": {key: [k for k in MERCHANT if k != key] for key in MERCHANT},
        "properties": {
            "mch_id": {"type": "string", "minLength": 1, "description": "商户号, e.g. 1230000109"},
            "app_id": {"type": "string", "minLength": 1, "description": "the mini-program's AppID the payments are made in"},
            "merchant_serial_no": {"type": "string", "minLength": 1, "description": "商户API证书序列号"},
            "private_key": {**SECRET, "description": "商户API私钥 (apiclient_key.pem); write it as ${WECHAT_PAY_PRIVATE_KEY}"},
            "api_v3_key": {
                **SECRET,
                "minLength": 32,
                "maxLength": 32,
                "description": "APIv3密钥 (32 characters); write it as ${WECHAT_PAY_API_V3_KEY}",
            },
            "platform_public_key": {
                "type": "string",
                "minLength": 1,
                "description": "微信支付公钥 PEM (or a platform certificate PEM) that signs callbacks and responses",
            },
            "platform_public_key_id": {"type": "string", "minLength": 1, "description": "its id (PUB_KEY_ID_…), or the certificate's serial number"},
            "notify_url": {
                "type": "string",
                "pattern": "^https?://",
                "description": "where WeChat posts callbacks: https://<host>/webhooks/wechat_pay/notify",
            },
            "endpoint": {
                "type": "string",
                "pattern": "^https?://",
                "default": "https://api.mch.weixin.qq.com",
                "description": "WeChat Pay's API base URL (a local fake in tests and staging)",
            },
            "timeout_seconds": {
                "type": "number",
                "exclusiveMinimum": 0,
                "maximum": 30,
                "default": 5,
                "description": "how long one call to WeChat Pay may take before it counts as failed",
            },
            "callback_tolerance": {
                **DURATION_SCHEMA,
                "default": "5m",
                "description": "a callback signed longer ago than this is a replay and refused",
            },
            "reconcile_after": {**DURATION_SCHEMA, "default": "2m", "description": "a payment still pending this long is asked about at WeChat"},
            "reconcile_every": {
                "type": "integer",
                "minimum": 5,
                "maximum": 3600,
                "default": 60,
                "description": "seconds between reconciliation runs",
            },
            "close_unpaid_after": {
                **DURATION_SCHEMA,
                "default": "2h",
                "description": "a payment WeChat still calls unpaid this long after it began is closed",
            },
        },
    },
)
