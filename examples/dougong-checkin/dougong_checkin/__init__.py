"""dougong-checkin: a member checks in once a day (at a store, at home in the app) and keeps a streak.

The manifest: read by dougong without running any of the component's code.
"""

from registry.manifest import Manifest

manifest = Manifest(
    name="checkin",
    version="0.1.0",
    summary="每日签到: members check in once a day and keep a streak",
    titles={"zh": "每日签到", "en": "Daily check-in"},
    summaries={"zh": "会员每天签到一次，累积连续签到天数", "en": "Members check in once a day and keep a streak"},
    hooks="dougong_checkin.hooks",
    kernel=">=0.1,<1",
    depends={"members": ">=1.0,<2"},
    settings_schema={
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "streak_goal": {"type": "integer", "minimum": 2, "maximum": 365, "default": 7,
                            "description": "consecutive days that complete a streak; the streak starts again after it"},
            "max_note_length": {"type": "integer", "minimum": 0, "maximum": 500, "default": 140,
                                "description": "the longest note a check-in may carry, in characters (0: no notes)"},
        },
    },
    access={"myCheckins": "member", "myCheckinStreak": "member", "checkIn": "member"},
    moves={},  # a check-in moves no money, stock or points; it still takes an idempotencyKey (a retried tap)
)
