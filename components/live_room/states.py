"""What every part of the live room shares: the status groups and the stream's messages."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from components.live_room.models import Comment, Room
from core.clock import as_utc

RUNNING = ("live", "paused")  # the session is on: interaction is open, orders count as in-session
JOINABLE = ("scheduled", "live", "paused")
FOREVER = datetime(2999, 1, 1, tzinfo=timezone.utc)  # a mute for the rest of the session


def channel(room_id: int) -> str:
    return f"live_room:room:{room_id}"


def room_message(room: Room, kind: str) -> dict[str, Any]:
    """What every stream message carries: the room's state at that moment, so a client that
    missed a message is right again at the next one. It carries every field of the room node
    but the host's push URL (a secret; the channel is public), so a subscriber builds the node
    from the message alone."""
    iso = lambda at: as_utc(at).isoformat() if at else None  # noqa: E731
    return {
        "kind": kind,
        "roomId": room.id,
        "hostStaffId": room.host_staff_id,
        "status": room.status,
        "viewerCount": room.viewer_count,
        "peakViewers": room.peak_viewers,
        "likeCount": int(room.like_count),
        "commentCount": room.comment_count,
        "presentedProductId": room.presented_product_id,
        "commentsEnabled": room.comments_enabled,
        "likesEnabled": room.likes_enabled,
        "mutedAll": room.muted_all,
        "title": room.title,
        "coverUrl": room.cover_url,
        "storeId": room.store_id,
        "scheduledStartAt": iso(room.scheduled_start_at),
        "scheduledEndAt": iso(room.scheduled_end_at),
        "startedAt": iso(room.started_at),
        "endedAt": iso(room.ended_at),
        "playUrl": room.play_url,
        "replayUrl": room.replay_url,
        "replayEnabled": room.replay_enabled,
    }


def comment_message(comment: Comment) -> dict[str, Any]:
    return {
        "id": comment.id,
        "memberId": comment.member_id,
        "author": comment.author,
        "text": comment.text,
        "createdAt": as_utc(comment.created_at).isoformat(),
    }
