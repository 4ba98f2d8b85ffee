"""Live room rules: rooms and their status machine here; the shelf (shelf.py), the audience
(audience.py), results (results.py) and reservations (reservations.py) are mixed in or held.

Status::

    scheduled ──start──▶ live ◀──resume/pause──▶ paused
        │                  └────────end─────────────┴──▶ ended
        ├──cancel──▶ cancelled
        └──(scheduled end passes, never started)──▶ expired

Every transition is a conditional UPDATE on the current status, so a host pressing "end"
while the overdue timer fires ends the room once. Counters (viewers, likes, comments) are
changed by ``UPDATE … SET n = n + k`` on the room row, never read-modify-write, so racing
viewers cannot lose a count; whether a viewer counts is decided by flipping their own row's
``watching`` flag with a conditional UPDATE, so a join and a sweep cannot both count one
viewer. Transactions that lock both take a viewer row before the room row, never the other
way round (PostgreSQL would deadlock).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Mapping

from sqlalchemy import update

from components.live_room.audience import Audience
from components.live_room.checkout import RoomCheckout
from components.live_room.models import Room
from components.live_room.quota import LiveQuota
from components.live_room.reservations import Reservations
from components.live_room.results import Results, RoomResults
from components.live_room.shelf import Shelf, ShelfEntry
from components.live_room.states import FOREVER, JOINABLE, RUNNING, channel, comment_message, room_message
from core.auth import Actor
from core.clock import as_utc
from core.errors import DomainError, NotAuthenticated, NotAuthorized
from core.transaction import Transaction
from core.units import parse_duration

OVERDUE_JOB = "live_room.overdue"
SWEEP_JOB = "live_room.sweep_viewers"
MANAGE = "live_room.manage"
HOST = "live_room.host"
URL_MAX = 500


class LiveRoomService(Shelf, Audience, RoomResults):
    def __init__(self, kernel: Any, settings: Mapping[str, Any]) -> None:
        self.kernel = kernel
        self.comment_max_length = int(settings.get("comment_max_length", 140))
        self.comment_interval = parse_duration(settings.get("comment_interval", "3s"))
        self.like_interval = parse_duration(settings.get("like_interval", "1s"))
        self.like_batch_max = int(settings.get("like_batch_max", 30))
        self.heartbeat_timeout = parse_duration(settings.get("heartbeat_timeout", "60s"))
        self.overdue_grace = parse_duration(settings.get("overdue_grace", "2h"))
        self.sweep_every = parse_duration(settings.get("sweep_every", "30s"))
        self.shelf_max = int(settings.get("shelf_max", 100))
        self.live_price_for = settings.get("live_price_for", "joined")
        self.reminder_before = parse_duration(settings.get("reservation_reminder_before", "15m"))
        self.checkout = RoomCheckout(self)
        self.reservations = Reservations(self)
        self.quota = LiveQuota(self)

    # -- who may run a room ------------------------------------------------------------------------
    def may_run(self, actor: Actor, room: Room) -> bool:
        """The room's host, or staff who manage live rooms."""
        if not actor.is_staff:
            return False
        if actor.id == room.host_staff_id and (actor.is_admin or actor.has_role("live_host")):
            return True
        perm = self.kernel.contributions.permissions[MANAGE]
        return actor.is_admin or any(role in actor.roles for role in perm.roles)

    def require_runner(self, actor: Actor, room: Room) -> None:
        if actor.kind == "anonymous":
            raise NotAuthenticated("Sign in as the room's host first.")
        if not actor.is_staff:
            raise NotAuthorized("Only the room's host or staff who manage live rooms can do this.")
        if not self.may_run(actor, room):
            raise DomainError("LIVE_ROOM_NOT_HOST", "Only the room's host (or a live-room manager) can do this.", field="input.roomId")

    # -- rooms --------------------------------------------------------------------------------------
    async def create_room(
        self,
        tx: Transaction,
        actor: Actor,
        *,
        title: str,
        host_staff_id: int | None,
        scheduled_start_at: datetime,
        scheduled_end_at: datetime,
        store_id: int | None = None,
        cover_url: str | None = None,
        push_url: str | None = None,
        play_url: str | None = None,
        replay_url: str | None = None,
        comments_enabled: bool = True,
        likes_enabled: bool = True,
        replay_enabled: bool = True,
        shelf: list[ShelfEntry] | None = None,
        store_field: str = "input.storeId",
    ) -> int:
        manager = self._is_manager(actor)
        if not manager and not actor.has_role("live_host"):
            raise NotAuthorized("Creating a live room needs the live_host role or live_room.manage.")
        host_id = actor.id if host_staff_id is None else host_staff_id
        if not manager and host_id != actor.id:
            raise NotAuthorized("A host schedules rooms for themself; a live-room manager may name another host.", field="input.hostId")
        host = await self.kernel.service("members").staff(tx.session, host_id)
        if host is None or not host.active or not ({"live_host", "admin"} & set(host.roles or [])):
            raise DomainError("LIVE_ROOM_INVALID_ROOM", "The host must be active staff with the live_host role.", field="input.hostId")
        title = self._title(title)
        if store_id is not None and not 1 <= store_id <= 2**31 - 1:
            raise DomainError("LIVE_ROOM_INVALID_ROOM", "A store id is a positive number.", field=store_field)
        self._check_times(scheduled_start_at, scheduled_end_at, tx.now())
        room = Room(
            title=title,
            cover_url=self._url(cover_url, "coverUrl"),
            host_staff_id=host_id,
            store_id=store_id,
            scheduled_start_at=scheduled_start_at,
            scheduled_end_at=scheduled_end_at,
            push_url=self._url(push_url, "pushUrl"),
            play_url=self._url(play_url, "playUrl"),
            replay_url=self._url(replay_url, "replayUrl"),
            comments_enabled=comments_enabled,
            likes_enabled=likes_enabled,
            replay_enabled=replay_enabled,
            muted_all=False,
            status="scheduled",
            like_count=0,
            comment_count=0,
            viewer_count=0,
            peak_viewers=0,
            created_at=tx.now(),
        )
        tx.session.add(room)
        await tx.session.flush()
        for index, entry in enumerate(shelf or []):
            await self._put_on_shelf(tx, room, entry, field=f"input.shelf[{index}]")
        # Expires the room if it never goes live; moved to end + grace when it starts.
        await tx.schedule(OVERDUE_JOB, str(room.id), scheduled_end_at)
        await tx.emit("live_room.scheduled", {"roomId": room.id, "hostStaffId": host_id})
        return room.id

    def _is_manager(self, actor: Actor) -> bool:
        perm = self.kernel.contributions.permissions[MANAGE]
        return actor.is_staff and (actor.is_admin or any(role in actor.roles for role in perm.roles))

    @staticmethod
    def _title(title: str) -> str:
        title = (title or "").strip()
        if not 1 <= len(title) <= 100:
            raise DomainError("LIVE_ROOM_INVALID_ROOM", "A title has 1 to 100 characters.", field="input.title")
        return title

    @staticmethod
    def _url(url: str | None, field: str) -> str | None:
        if url is None or url == "":
            return None
        if len(url) > URL_MAX or not url.startswith(("https://", "http://", "rtmp://", "rtmps://", "webrtc://")):
            raise DomainError(
                "LIVE_ROOM_INVALID_ROOM",
                "A URL starts with https://, http://, rtmp:// or webrtc:// and has at most 500 characters.",
                field=f"input.{field}",
            )
        return url

    @staticmethod
    def _check_times(start: datetime, end: datetime, now: datetime) -> None:
        if start.tzinfo is None or end.tzinfo is None:
            raise DomainError("LIVE_ROOM_INVALID_ROOM", "Times need a time zone offset.", field="input.scheduledStartAt")
        if end <= start:
            raise DomainError("LIVE_ROOM_INVALID_ROOM", "The room must end after it starts.", field="input.scheduledEndAt")
        if end <= now:
            raise DomainError("LIVE_ROOM_INVALID_ROOM", "The scheduled end has already passed.", field="input.scheduledEndAt")
        if end - start > timedelta(days=2):
            raise DomainError("LIVE_ROOM_INVALID_ROOM", "A session lasts at most 48 hours.", field="input.scheduledEndAt")

    async def room(self, tx: Transaction, room_id: int, *, lock: bool = False) -> Room:
        room = await tx.session.get(Room, room_id, populate_existing=True, with_for_update=lock and tx.kernel.db.is_postgresql)
        if room is None:
            raise DomainError("KERNEL_NOT_FOUND", "No such live room.", field="input.roomId")
        return room

    async def update_room(self, tx: Transaction, actor: Actor, room_id: int, changes: Mapping[str, Any]) -> None:
        """Title, cover, URLs and the comment/like/replay switches; times only before going live."""
        room = await self.room(tx, room_id, lock=True)
        self.require_runner(actor, room)
        if room.status in ("cancelled", "expired"):
            raise DomainError("LIVE_ROOM_ILLEGAL_STATE", f"A {room.status} room cannot be changed.", field="input.roomId")
        if "title" in changes:
            room.title = self._title(changes["title"])
        for key, column in (("coverUrl", "cover_url"), ("pushUrl", "push_url"), ("playUrl", "play_url"), ("replayUrl", "replay_url")):
            if key in changes:
                setattr(room, column, self._url(changes[key], key))
        if "scheduledStartAt" in changes or "scheduledEndAt" in changes:
            if room.status != "scheduled":
                raise DomainError("LIVE_ROOM_ILLEGAL_STATE", "Times change only before the room goes live.", field="input.scheduledStartAt")
            start = changes.get("scheduledStartAt") or as_utc(room.scheduled_start_at)
            end = changes.get("scheduledEndAt") or as_utc(room.scheduled_end_at)
            self._check_times(start, end, tx.now())
            room.scheduled_start_at, room.scheduled_end_at = start, end
            await tx.schedule(OVERDUE_JOB, str(room.id), end)
            await self.reservations.schedule_reminder(tx, room, only_if_pending=True)
        switches = {}
        for key, column in (("commentsEnabled", "comments_enabled"), ("likesEnabled", "likes_enabled"), ("replayEnabled", "replay_enabled")):
            if key in changes and changes[key] is not None:
                setattr(room, column, bool(changes[key]))
                switches[key] = bool(changes[key])
        await tx.session.flush()
        if switches:
            self._publish(tx, room, "settings")

    # -- the status machine -----------------------------------------------------------------------
    async def _move(self, tx: Transaction, room: Room, allowed: tuple[str, ...], to: str, **values: Any) -> None:
        moved = await tx.session.execute(
            update(Room).where(Room.id == room.id, Room.status.in_(allowed)).values(status=to, **values).execution_options(synchronize_session=False)
        )
        if moved.rowcount != 1:
            current = (await self.room(tx, room.id)).status
            raise DomainError("LIVE_ROOM_ILLEGAL_STATE", f"A {current} room cannot become {to}.", field="input.roomId", status=current)
        await tx.session.refresh(room)

    async def start(self, tx: Transaction, actor: Actor, room_id: int) -> None:
        room = await self.room(tx, room_id, lock=True)
        self.require_runner(actor, room)
        if room.status == "scheduled" and as_utc(room.scheduled_end_at) <= tx.now():
            raise DomainError("LIVE_ROOM_ILLEGAL_STATE", "The room's scheduled end has passed; schedule a new room.", field="input.roomId")
        await self._move(tx, room, ("scheduled",), "live", started_at=tx.now())
        # From now on the timer ends a room its host forgot, a grace period after its scheduled end.
        await tx.schedule(OVERDUE_JOB, str(room.id), as_utc(room.scheduled_end_at) + self.overdue_grace)
        await tx.emit("live_room.started", {"roomId": room.id})
        self._publish(tx, room, "status")

    async def pause(self, tx: Transaction, actor: Actor, room_id: int) -> None:
        room = await self.room(tx, room_id, lock=True)
        self.require_runner(actor, room)
        await self._move(tx, room, ("live",), "paused")
        self._publish(tx, room, "status")

    async def resume(self, tx: Transaction, actor: Actor, room_id: int) -> None:
        room = await self.room(tx, room_id, lock=True)
        self.require_runner(actor, room)
        await self._move(tx, room, ("paused",), "live")
        self._publish(tx, room, "status")

    async def end(self, tx: Transaction, actor: Actor | None, room_id: int, *, reason: str = "host") -> None:
        room = await self.room(tx, room_id, lock=True)
        if actor is not None:
            self.require_runner(actor, room)
        await self._move(tx, room, RUNNING, "ended", ended_at=tx.now(), presented_product_id=None)
        await tx.cancel_timer(OVERDUE_JOB, str(room.id))
        # Nobody is watching a session that is over (peak and unique viewers keep the figures).
        # Viewer rows are left as they are: locking them here, after the room, would take the
        # two locks in the opposite order to a comment or a join (viewer, then room) and
        # deadlock on PostgreSQL; nothing reads `watching` of a room that is no longer joinable.
        await tx.session.execute(update(Room).where(Room.id == room.id).values(viewer_count=0))
        await tx.session.refresh(room)
        await tx.emit("live_room.ended", {"roomId": room.id, "reason": reason})
        self._publish(tx, room, "status")

    async def cancel(self, tx: Transaction, actor: Actor, room_id: int) -> None:
        room = await self.room(tx, room_id, lock=True)
        self.require_runner(actor, room)
        await self._move(tx, room, ("scheduled",), "cancelled", ended_at=tx.now(), viewer_count=0)
        await tx.cancel_timer(OVERDUE_JOB, str(room.id))
        await self.reservations.cancel_reminder(tx, room)
        await tx.emit("live_room.cancelled", {"roomId": room.id})
        self._publish(tx, room, "status")

    async def on_overdue(self, tx: Transaction, timer: Any) -> None:
        """The timer: a scheduled room whose end passed expires; a running one overdue ends."""
        room = await tx.session.get(Room, int(timer.key), populate_existing=True)
        if room is None:
            return
        now = tx.now()
        if room.status == "scheduled" and as_utc(room.scheduled_end_at) <= now:
            # Members waiting in a room that never went live stop counting, as at the end.
            await self._move(tx, room, ("scheduled",), "expired", ended_at=now, viewer_count=0)
            await tx.emit("live_room.expired", {"roomId": room.id})
            self._publish(tx, room, "status")
        elif room.status in RUNNING and as_utc(room.scheduled_end_at) + self.overdue_grace <= now:
            await self.end(tx, None, room.id, reason="overdue")

    # -- the stream --------------------------------------------------------------------------------
    def _publish(self, tx: Transaction, room: Room, kind: str, **extra: Any) -> None:
        tx.publish(channel(room.id), {**room_message(room, kind), **extra})


__all__ = ["FOREVER", "JOINABLE", "RUNNING", "LiveRoomService", "ShelfEntry", "Results", "channel", "room_message", "comment_message"]
