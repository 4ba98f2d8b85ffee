"""The members component's settings schema (kept import-free: the manifest reads it)."""

DEFAULT_ENDPOINT = "https://api.weixin.qq.com"

WECHAT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["app_id", "app_secret"],
    "description": "WeChat mini-program sign-in (the `wechat` identity provider)",
    "properties": {
        "app_id": {"type": "string", "minLength": 1, "maxLength": 64, "description": "the mini-program's AppID"},
        "app_secret": {"type": "string", "minLength": 1, "writeOnly": True, "description": "write it as ${WECHAT_APP_SECRET}"},
        "endpoint": {
            "type": "string",
            "pattern": "^https?://",
            "default": DEFAULT_ENDPOINT,
            "description": "WeChat's API root; a local fake in tests and staging",
        },
        "timeout_seconds": {
            "type": "number",
            "exclusiveMinimum": 0,
            "maximum": 30,
            "default": 5,
            "description": "how long to wait for WeChat's answer",
        },
    },
}

SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "wechat": WECHAT,
        "phone_search_min_digits": {
            "type": "integer",
            "minimum": 7,
            "maximum": 11,
            "default": 11,
            "description": "staff find a member by phone prefix of at least this many digits (11: the whole number only)",
        },
    },
}
