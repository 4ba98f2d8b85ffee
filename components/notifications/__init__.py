from core.units import DURATION_SCHEMA
from registry.manifest import Manifest

SECRET = {"type": "string", "minLength": 1, "writeOnly": True}
TIME = {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$", "description": "HH:MM in the brand's timezone"}

manifest = Manifest(
    name="notifications",
    version="1.0.0",
    summary="Notifications to members: WeChat subscription messages and SMS from other components' events, with consent and retries",
    titles={"zh": "消息通知", "en": "Notifications"},
    summaries={
        "zh": "会员消息通知：按事件发送微信订阅消息与短信，记录订阅授权、失败重试",
        "en": "Notifications to members: WeChat subscription messages and SMS from other components' events, with consent and retries",
    },
    hooks="components.notifications.hooks",
    access={"grantNotificationConsent": "member", "myNotifications": "member", "myNotificationConsents": "member"},
    kernel=">=0.1,<1",
    depends={"members": ">=1.0,<2"},
    settings_schema={
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "rules": {
                "type": "array",
                "maxItems": 100,
                "default": [],
                "description": "when an event happens, which template goes to whom on which channel",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["event", "template"],
                    "properties": {
                        "name": {"type": "string", "minLength": 1, "maxLength": 80, "description": "defaults to '<event>#<index>'"},
                        "event": {
                            "type": "string",
                            "pattern": "^[a-z][a-z0-9_]*\\.[a-z][a-z0-9_.]*$",
                            "description": "a declared event of any loaded component, e.g. group_buy.failed",
                        },
                        "channel": {"enum": ["wechat", "sms"], "default": "wechat", "description": "WeChat subscription message or SMS"},
                        "template": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": 64,
                            "description": "the WeChat subscription template id, or the SMS template code",
                        },
                        "recipients": {
                            "type": "string",
                            "minLength": 1,
                            "default": "memberId",
                            "description": "the payload key naming the member(s): an id or a list of ids",
                        },
                        "fields": {
                            "type": "object",
                            "additionalProperties": {"type": "string", "maxLength": 200},
                            "description": "template field → text with {payloadKey} placeholders ({amountMinor|yuan})",
                        },
                        "page": {"type": "string", "maxLength": 200, "description": "the mini-program page the message opens"},
                        "stale_after": {
                            "type": "string",
                            "minLength": 1,
                            "description": "payload key of an ISO time after which the message is not sent "
                            "(a live reminder held by quiet hours past the start)",
                        },
                    },
                },
            },
            "channels": {
                "type": "object",
                "additionalProperties": False,
                "description": "how messages leave: each channel's provider (sandbox records them, sends nothing)",
                "properties": {
                    "wechat": {
                        "type": "object",
                        "additionalProperties": False,
                        "description": "WeChat subscription messages (订阅消息) from the mini-program's account",
                        "properties": {
                            "provider": {"enum": ["sandbox", "wechat"], "default": "sandbox", "description": "sandbox records, wechat sends"},
                            "app_id": {"type": "string", "description": "the mini-program's AppID"},
                            "app_secret": {**SECRET, "description": "write it as ${WECHAT_APP_SECRET}"},
                            "endpoint": {"type": "string", "pattern": "^https?://", "description": "WeChat's API address (a test fake's in tests)"},
                            "miniprogram_state": {
                                "enum": ["formal", "trial", "developer"],
                                "default": "formal",
                                "description": "which build of the mini-program a message opens",
                            },
                            "timeout_seconds": {
                                "type": "number",
                                "exclusiveMinimum": 0,
                                "maximum": 30,
                                "description": "how long one send may take before it is retried",
                            },
                        },
                    },
                    "sms": {
                        "type": "object",
                        "additionalProperties": False,
                        "description": "SMS through Aliyun (阿里云短信)",
                        "properties": {
                            "provider": {"enum": ["sandbox", "aliyun"], "default": "sandbox", "description": "sandbox records, aliyun sends"},
                            "access_key_id": {"type": "string", "description": "the Aliyun AccessKey id"},
                            "access_key_secret": {**SECRET, "description": "write it as ${ALIYUN_SMS_SECRET}"},
                            "sign_name": {"type": "string", "description": "the approved SMS signature (签名)"},
                            "endpoint": {"type": "string", "pattern": "^https?://", "description": "the SMS API address (a test fake's in tests)"},
                            "timeout_seconds": {
                                "type": "number",
                                "exclusiveMinimum": 0,
                                "maximum": 30,
                                "description": "how long one send may take before it is retried",
                            },
                        },
                    },
                },
            },
            "retry": {
                "type": "object",
                "additionalProperties": False,
                "description": "a failed send is tried again, each wait doubling",
                "properties": {
                    "attempts": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": 20,
                        "default": 5,
                        "description": "tries in all before a delivery is given up",
                    },
                    "base_delay": {**DURATION_SCHEMA, "default": "30s", "description": "the wait before the first retry"},
                },
            },
            "quiet_hours": {
                "type": "object",
                "additionalProperties": False,
                "required": ["start", "end"],
                "description": "no messages between these times (they wait until the end)",
                "properties": {"start": TIME, "end": TIME},
            },
            "per_member_per_hour": {
                "type": "integer",
                "minimum": 1,
                "maximum": 100,
                "description": "at most this many messages to one member in any hour (more wait)",
            },
        },
    },
)
