from core.units import DURATION_SCHEMA
from registry.manifest import Manifest

manifest = Manifest(
    name="live_room",
    version="1.0.0",
    summary="直播间: live selling rooms with a shelf, live-only prices, comments, likes, viewers, attribution and results",
    titles={"zh": "直播间", "en": "Live room"},
    summaries={
        "zh": "直播卖货：货架、直播专享价、评论、点赞、观看人数、成交归因与战报",
        "en": "Live selling rooms with a shelf, live-only prices, comments, likes, viewers, attribution and results",
    },
    hooks="components.live_room.hooks",
    kernel=">=0.1,<1",
    # Who may call each root field, and the mutations that move money, stock or points (dougong check).
    access={
        "cancelLiveRoom": "live_room.host",
        "createLiveRoom": "live_room.host",
        "createLiveRoomOrder": "member",
        "endLiveRoom": "live_room.host",
        "heartbeatLiveRoom": "member",
        "joinLiveRoom": "member",
        "leaveLiveRoom": "member",
        "likeLiveRoom": "member",
        "liveRoom": "public",
        "liveRoomEvents": "public",
        "liveRooms": "public",
        "muteLiveRoom": "live_room.host",
        "muteLiveRoomViewer": "live_room.host",
        "pauseLiveRoom": "live_room.host",
        "presentLiveRoomProduct": "live_room.host",
        "resumeLiveRoom": "live_room.host",
        "sendLiveRoomComment": "member",
        "reserveLiveRoom": "member",
        "cancelLiveRoomReservation": "member",
        "liveRoomReservations": "public",
        "liveRoomReservationBoard": "staff",
        "setLiveRoomShelfItem": "live_room.host",
        "startLiveRoom": "live_room.host",
        "updateLiveRoom": "live_room.host",
    },
    moves={
        "createLiveRoomOrder": "money+stock",
    },
    depends={"orders": ">=1.0,<2", "catalog": ">=1.0,<2", "members": ">=1.0,<2"},
    settings_schema={
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "comment_max_length": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 140, "description": "characters a comment may have"},
            "comment_interval": {**DURATION_SCHEMA, "default": "3s", "description": "a member may comment once per this interval in a room"},
            "like_interval": {
                **DURATION_SCHEMA,
                "default": "1s",
                "description": "a member's like taps are accepted once per this interval (batched by the client)",
            },
            "like_batch_max": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 30, "description": "most taps one like call may carry"},
            "heartbeat_timeout": {
                **DURATION_SCHEMA,
                "default": "60s",
                "description": "a viewer without a heartbeat this long no longer counts as watching",
            },
            "overdue_grace": {
                **DURATION_SCHEMA,
                "default": "2h",
                "description": "a live or paused room still running this long after its scheduled end is ended by the timer",
            },
            "sweep_every": {**DURATION_SCHEMA, "default": "30s", "description": "how often silent viewers are swept out of the viewer count"},
            "live_price_for": {
                "enum": ["joined", "anyone"],
                "default": "joined",
                "description": "joined: the live price is honoured only for members who joined the room "
                "(opened it); anyone: for any order naming the live room",
            },
            "reservation_reminder_before": {
                **DURATION_SCHEMA,
                "default": "15m",
                "description": "the reminder event for members who reserved a room fires this long before its scheduled start",
            },
            "shelf_max": {"type": "integer", "minimum": 1, "maximum": 500, "default": 100, "description": "products a room's shelf may hold"},
        },
    },
)
