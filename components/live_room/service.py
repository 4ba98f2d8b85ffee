"""Live room rules: the status machine, the shelf and its live-only prices, interaction
(comments, likes, viewers), attribution of orders and the session's results.

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

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from components.live_room.checkout import RoomCheckout
from components.live_room.models import Comment, LivePrice, Room, RoomOrder, ShelfItem, Viewer
from core.auth import Actor
from core.clock import as_utc
from core.errors import DomainError, NotAuthenticated, NotAuthorized
from core.gql.relay import to_global_id
from core.transaction import Event, Transaction
from core.units import parse_duration

OVERDUE_JOB = "live_room.overdue"
SWEEP_JOB = "live_room.sweep_viewers"
MANAGE = "live_room.manage"
HOST = "live_room.host"
RUNNING = ("live", "paused")  # the session is on: interaction is open, orders count as in-session
JOINABLE = ("scheduled", "live", "paused")
FOREVER = datetime(2999, 1, 1, tzinfo=timezone.utc)  # a mute for the rest of the session
URL_MAX = 500


def channel(room_id: int) -> str:
    return f"live_room:room:{room_id}"


@dataclass(frozen=True)
class ShelfEntry:
    product_id: int
    on_shelf: bool = True
    live_prices: tuple[tuple[int, int], ...] = ()  # (sku_id, price_minor)
    position: int | None = None


@dataclass(frozen=True)
class Results:
    unique_viewers: int
    peak_viewers: int
    comments: int
    likes: int
    orders: int
    paid_orders: int
    paying_members: int
    gmv_minor: int
    refunded_minor: int
    average_order_value_minor: int
    conversion_rate: float
    orders_after_session: int
    gmv_after_session_minor: int


def _round_half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator) if denominator else 0


class LiveRoomService:
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
        self.checkout = RoomCheckout(self)

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
        self, tx: Transaction, actor: Actor, *, title: str, host_staff_id: int | None, scheduled_start_at: datetime,
        scheduled_end_at: datetime, store_id: int | None = None, cover_url: str | None = None, push_url: str | None = None,
        play_url: str | None = None, replay_url: str | None = None, comments_enabled: bool = True,
        likes_enabled: bool = True, replay_enabled: bool = True, shelf: list[ShelfEntry] | None = None,
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
            raise DomainError("LIVE_ROOM_INVALID_ROOM", "A store id is a positive number.", field="input.storeId")
        self._check_times(scheduled_start_at, scheduled_end_at, tx.now())
        room = Room(
            title=title, cover_url=self._url(cover_url, "coverUrl"), host_staff_id=host_id, store_id=store_id,
            scheduled_start_at=scheduled_start_at, scheduled_end_at=scheduled_end_at, push_url=self._url(push_url, "pushUrl"),
            play_url=self._url(play_url, "playUrl"), replay_url=self._url(replay_url, "replayUrl"),
            comments_enabled=comments_enabled, likes_enabled=likes_enabled, replay_enabled=replay_enabled, muted_all=False,
            status="scheduled", like_count=0, comment_count=0, viewer_count=0, peak_viewers=0, created_at=tx.now(),
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
            raise DomainError("LIVE_ROOM_INVALID_ROOM", "A URL starts with https://, http://, rtmp:// or webrtc:// and has at most 500 characters.",
                              field=f"input.{field}")
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
        room = await tx.session.get(Room, room_id, populate_existing=True,
                                    with_for_update=lock and tx.kernel.db.is_postgresql)
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
        switches = {}
        for key, column in (("commentsEnabled", "comments_enabled"), ("likesEnabled", "likes_enabled"),
                            ("replayEnabled", "replay_enabled")):
            if key in changes and changes[key] is not None:
                setattr(room, column, bool(changes[key]))
                switches[key] = bool(changes[key])
        await tx.session.flush()
        if switches:
            self._publish(tx, room, "settings")

    # -- the status machine -----------------------------------------------------------------------
    async def _move(self, tx: Transaction, room: Room, allowed: tuple[str, ...], to: str, **values: Any) -> None:
        moved = await tx.session.execute(
            update(Room).where(Room.id == room.id, Room.status.in_(allowed)).values(status=to, **values)
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount != 1:
            current = (await self.room(tx, room.id)).status
            raise DomainError("LIVE_ROOM_ILLEGAL_STATE", f"A {current} room cannot become {to}.", field="input.roomId",
                              status=current)
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
        await self._move(tx, room, ("scheduled",), "cancelled", ended_at=tx.now())
        await tx.cancel_timer(OVERDUE_JOB, str(room.id))
        await tx.emit("live_room.cancelled", {"roomId": room.id})
        self._publish(tx, room, "status")

    async def on_overdue(self, tx: Transaction, timer: Any) -> None:
        """The timer: a scheduled room whose end passed expires; a running one overdue ends."""
        room = await tx.session.get(Room, int(timer.key), populate_existing=True)
        if room is None:
            return
        now = tx.now()
        if room.status == "scheduled" and as_utc(room.scheduled_end_at) <= now:
            await self._move(tx, room, ("scheduled",), "expired", ended_at=now)
            await tx.emit("live_room.expired", {"roomId": room.id})
            self._publish(tx, room, "status")
        elif room.status in RUNNING and as_utc(room.scheduled_end_at) + self.overdue_grace <= now:
            await self.end(tx, None, room.id, reason="overdue")

    # -- the shelf --------------------------------------------------------------------------------------
    async def set_shelf_item(self, tx: Transaction, actor: Actor, room_id: int, entry: ShelfEntry) -> None:
        room = await self.room(tx, room_id, lock=True)
        self.require_runner(actor, room)
        if room.status not in JOINABLE:
            raise DomainError("LIVE_ROOM_ILLEGAL_STATE", f"The shelf of a {room.status} room is closed.", field="input.roomId")
        await self._put_on_shelf(tx, room, entry, field="input")
        if not entry.on_shelf and room.presented_product_id == entry.product_id:
            room.presented_product_id = None
            self._publish(tx, room, "presenting")
        await tx.session.flush()
        self._publish(tx, room, "shelf")

    async def _put_on_shelf(self, tx: Transaction, room: Room, entry: ShelfEntry, field: str) -> None:
        skus = await self.kernel.service("catalog").product_skus(tx.session, entry.product_id)
        if not skus:
            raise DomainError("KERNEL_NOT_FOUND", "No such product (or it has no SKUs).", field=f"{field}.productId")
        sku_ids = {sku.id: sku for sku in skus}
        item = await tx.session.scalar(select(ShelfItem).where(ShelfItem.room_id == room.id, ShelfItem.product_id == entry.product_id))
        if item is None:
            count = await tx.session.scalar(select(func.count()).select_from(ShelfItem).where(ShelfItem.room_id == room.id))
            if count >= self.shelf_max:
                raise DomainError("LIVE_ROOM_SHELF_FULL", f"A shelf holds at most {self.shelf_max} products.", field=f"{field}.productId")
            item = ShelfItem(room_id=room.id, product_id=entry.product_id, position=count if entry.position is None else entry.position,
                             on_shelf=entry.on_shelf)
            tx.session.add(item)
        else:
            item.on_shelf = entry.on_shelf
            if entry.position is not None:
                item.position = entry.position
        seen: set[int] = set()
        for index, (sku_id, price) in enumerate(entry.live_prices):
            where = f"{field}.livePrices[{index}]"
            if sku_id not in sku_ids:
                raise DomainError("LIVE_ROOM_INVALID_PRICE", "That SKU is not one of the product's.", field=f"{where}.skuId")
            if sku_id in seen:
                raise DomainError("LIVE_ROOM_INVALID_PRICE", "A SKU has one live price.", field=f"{where}.skuId")
            seen.add(sku_id)
            if not 0 < price <= sku_ids[sku_id].price_minor:
                raise DomainError("LIVE_ROOM_INVALID_PRICE", "A live price is above zero and at most the SKU's price.",
                                  field=f"{where}.price")
        if entry.live_prices:
            # The given prices replace the product's live prices in this room.
            existing = {p.sku_id: p for p in (await tx.session.scalars(
                select(LivePrice).where(LivePrice.room_id == room.id, LivePrice.product_id == entry.product_id))).all()}
            for sku_id, price in entry.live_prices:
                if sku_id in existing:
                    existing.pop(sku_id).price_minor = price
                else:
                    tx.session.add(LivePrice(room_id=room.id, product_id=entry.product_id, sku_id=sku_id, price_minor=price))
            for stale in existing.values():
                await tx.session.delete(stale)
        await tx.session.flush()

    async def present(self, tx: Transaction, actor: Actor, room_id: int, product_id: int | None) -> None:
        room = await self.room(tx, room_id, lock=True)
        self.require_runner(actor, room)
        if room.status not in RUNNING:
            raise DomainError("LIVE_ROOM_NOT_LIVE", "Products are presented while the room is live.", field="input.roomId")
        if product_id is not None:
            on_shelf = await tx.session.scalar(select(ShelfItem.id).where(
                ShelfItem.room_id == room.id, ShelfItem.product_id == product_id, ShelfItem.on_shelf.is_(True)))
            if on_shelf is None:
                raise DomainError("LIVE_ROOM_NOT_ON_SHELF", "Only a product on the room's shelf can be presented.", field="input.productId")
        room.presented_product_id = product_id
        await tx.session.flush()
        await tx.emit("live_room.presenting", {"roomId": room.id, "productId": product_id})
        self._publish(tx, room, "presenting")

    # -- viewers ---------------------------------------------------------------------------------------
    async def join(self, tx: Transaction, room_id: int, member_id: int, *, sharer_member_id: int | None = None,
                   guide_id: int | None = None, share_code: str | None = None) -> int:
        room = await self.room(tx, room_id)
        if room.status not in JOINABLE:
            raise DomainError("LIVE_ROOM_CLOSED", f"The room is {room.status}; watch its replay instead.", field="input.roomId",
                              status=room.status)
        # Who brought the viewer is recorded only from proof (a share code the brand issued, an
        # active guide): the room's later orders are credited from this row.
        credit = await tx.kernel.service("members.share_codes").credit(
            tx.session, buyer_id=member_id, share_code=share_code, sharer_member_id=sharer_member_id, guide_id=guide_id)
        sharer_member_id, guide_id = credit.sharer_member_id, credit.guide_id
        now = tx.now()
        viewer = await self.viewer(tx, room.id, member_id)
        if viewer is None:
            try:
                async with tx.session.begin_nested():
                    tx.session.add(Viewer(room_id=room.id, member_id=member_id, watching=False, first_joined_at=now,
                                          last_seen_at=now, likes=0, sharer_member_id=sharer_member_id, guide_id=guide_id))
            except IntegrityError:
                pass  # the same member joined from a second device at the same instant
        await self._start_watching(tx, room, member_id, now)
        return room.viewer_count

    async def viewer(self, tx: Transaction, room_id: int, member_id: int) -> Viewer | None:
        return await tx.session.scalar(select(Viewer).where(Viewer.room_id == room_id, Viewer.member_id == member_id)
                                       .execution_options(populate_existing=True))

    async def _start_watching(self, tx: Transaction, room: Room, member_id: int, now: datetime) -> None:
        flipped = await tx.session.execute(
            update(Viewer).where(Viewer.room_id == room.id, Viewer.member_id == member_id, Viewer.watching.is_(False))
            .values(watching=True, last_seen_at=now).execution_options(synchronize_session=False))
        if flipped.rowcount:
            await self._count_viewers(tx, room, +1)
        else:
            await tx.session.execute(update(Viewer).where(Viewer.room_id == room.id, Viewer.member_id == member_id)
                                     .values(last_seen_at=now).execution_options(synchronize_session=False))

    async def _count_viewers(self, tx: Transaction, room: Room, delta: int) -> None:
        new_count = Room.viewer_count + delta
        values: dict[str, Any] = {"viewer_count": case((new_count < 0, 0), else_=new_count)}
        if delta > 0:
            values["peak_viewers"] = case((new_count > Room.peak_viewers, new_count), else_=Room.peak_viewers)
        await tx.session.execute(update(Room).where(Room.id == room.id).values(**values).execution_options(synchronize_session=False))
        await tx.session.refresh(room)
        self._publish(tx, room, "viewers")

    async def leave(self, tx: Transaction, room_id: int, member_id: int) -> int:
        room = await self.room(tx, room_id)
        if room.status not in JOINABLE:
            return room.viewer_count  # the session is over; nobody counts any more
        left = await tx.session.execute(
            update(Viewer).where(Viewer.room_id == room.id, Viewer.member_id == member_id, Viewer.watching.is_(True))
            .values(watching=False).execution_options(synchronize_session=False))
        if left.rowcount:
            await self._count_viewers(tx, room, -1)
        return room.viewer_count

    async def heartbeat(self, tx: Transaction, room_id: int, member_id: int) -> int:
        """Keeps a viewer counted; a viewer swept out for silence is counted again."""
        room = await self.room(tx, room_id)
        if await self.viewer(tx, room.id, member_id) is None:
            raise DomainError("LIVE_ROOM_NOT_JOINED", "Join the room first.", field="input.roomId")
        if room.status in JOINABLE:
            await self._start_watching(tx, room, member_id, tx.now())
        return room.viewer_count

    async def sweep(self, tx: Transaction, timer: Any = None) -> int:
        """Recurring: viewers silent longer than the heartbeat timeout stop counting."""
        cutoff = tx.now() - self.heartbeat_timeout
        swept = 0
        rooms = (await tx.session.scalars(select(Room).where(Room.status.in_(JOINABLE), Room.viewer_count > 0))).all()
        for room in rooms:
            gone = await tx.session.execute(
                update(Viewer).where(Viewer.room_id == room.id, Viewer.watching.is_(True), Viewer.last_seen_at < cutoff)
                .values(watching=False).execution_options(synchronize_session=False))
            if gone.rowcount:
                swept += gone.rowcount
                await self._count_viewers(tx, room, -gone.rowcount)
        return swept

    # -- comments, likes, mutes ------------------------------------------------------------------------
    async def _joined_viewer(self, tx: Transaction, room: Room, member_id: int, what: str, enabled: bool, off_code: str) -> Viewer:
        """The member's viewer row, if ``what`` (comments, likes) is open to them now: the room
        running, the switch on, the member joined."""
        if room.status not in RUNNING:
            raise DomainError("LIVE_ROOM_NOT_LIVE", f"{what} are open while the room is live.", field="input.roomId", status=room.status)
        if not enabled:
            raise DomainError(off_code, f"{what} are switched off in this room.", field="input.roomId")
        viewer = await self.viewer(tx, room.id, member_id)
        if viewer is None:
            raise DomainError("LIVE_ROOM_NOT_JOINED", "Join the room first.", field="input.roomId")
        return viewer

    async def comment(self, tx: Transaction, room_id: int, member_id: int, text: str) -> Comment:
        room = await self.room(tx, room_id)
        text = (text or "").strip()
        if not text:
            raise DomainError("LIVE_ROOM_COMMENT_INVALID", "A comment cannot be empty.", field="input.text")
        if len(text) > self.comment_max_length:
            raise DomainError("LIVE_ROOM_COMMENT_TOO_LONG", f"A comment has at most {self.comment_max_length} characters.",
                              field="input.text", maxLength=self.comment_max_length)
        viewer = await self._joined_viewer(tx, room, member_id, "Comments", room.comments_enabled, "LIVE_ROOM_COMMENTS_OFF")
        now = tx.now()
        if room.muted_all:
            raise DomainError("LIVE_ROOM_MUTED", "The host has muted the room.", field="input.roomId", roomWide=True)
        if viewer.muted_until is not None and as_utc(viewer.muted_until) > now:
            raise DomainError("LIVE_ROOM_MUTED", "You are muted in this room.", field="input.roomId", roomWide=False)
        # The slot is taken by a conditional UPDATE: two comments racing from one member
        # cannot both pass the rate limit.
        took = await tx.session.execute(
            update(Viewer).where(Viewer.id == viewer.id, or_(Viewer.last_comment_at.is_(None),
                                                             Viewer.last_comment_at <= now - self.comment_interval))
            .values(last_comment_at=now, last_seen_at=now).execution_options(synchronize_session=False))
        if took.rowcount != 1:
            await tx.session.refresh(viewer)
            wait = self.comment_interval - (now - as_utc(viewer.last_comment_at))
            raise DomainError("LIVE_ROOM_COMMENT_TOO_FAST", "Slow down: one comment per interval.", field="input.text",
                              retryAfterSeconds=max(1, int(wait.total_seconds() + 0.999)))
        member = await self.kernel.service("members").member(tx.session, member_id)
        author = (member.nickname if member and member.nickname else f"会员{member_id % 10000:04d}")[:50]
        comment = Comment(room_id=room.id, member_id=member_id, author=author, text=text, created_at=now)
        tx.session.add(comment)
        await tx.session.execute(update(Room).where(Room.id == room.id).values(comment_count=Room.comment_count + 1)
                                 .execution_options(synchronize_session=False))
        await tx.session.flush()
        await tx.session.refresh(room)
        self._publish(tx, room, "comment", comment=comment_message(comment))
        return comment

    async def like(self, tx: Transaction, room_id: int, member_id: int, taps: int) -> int:
        room = await self.room(tx, room_id)
        if isinstance(taps, bool) or not isinstance(taps, int) or not 1 <= taps <= self.like_batch_max:
            raise DomainError("LIVE_ROOM_INVALID_LIKE", f"Send 1 to {self.like_batch_max} taps at a time.", field="input.taps")
        viewer = await self._joined_viewer(tx, room, member_id, "Likes", room.likes_enabled, "LIVE_ROOM_LIKES_OFF")
        now = tx.now()
        took = await tx.session.execute(
            update(Viewer).where(Viewer.id == viewer.id, or_(Viewer.last_like_at.is_(None), Viewer.last_like_at <= now - self.like_interval))
            .values(last_like_at=now, last_seen_at=now, likes=Viewer.likes + taps).execution_options(synchronize_session=False))
        if took.rowcount != 1:
            raise DomainError("LIVE_ROOM_LIKE_TOO_FAST", "Likes are accepted once per interval; batch the taps.", field="input.taps",
                              retryAfterSeconds=max(1, int(self.like_interval.total_seconds())))
        await tx.session.execute(update(Room).where(Room.id == room.id).values(like_count=Room.like_count + taps)
                                 .execution_options(synchronize_session=False))
        await tx.session.refresh(room)
        self._publish(tx, room, "likes")
        return room.like_count

    async def mute(self, tx: Transaction, actor: Actor, room_id: int, member_id: int, *, minutes: int | None, unmute: bool) -> None:
        room = await self.room(tx, room_id)  # not locked: only the viewer's row changes (locks go viewer, then room)
        self.require_runner(actor, room)
        viewer = await self.viewer(tx, room.id, member_id)
        if viewer is None:
            raise DomainError("LIVE_ROOM_NOT_JOINED", "That member has not joined the room.", field="input.memberId")
        if unmute:
            viewer.muted_until = None
        elif minutes is None:
            viewer.muted_until = FOREVER
        elif not 1 <= minutes <= 7 * 24 * 60:
            raise DomainError("KERNEL_INVALID_INPUT", "A mute lasts 1 minute to 7 days (or omit minutes for the whole session).",
                              field="input.minutes")
        else:
            viewer.muted_until = tx.now() + timedelta(minutes=minutes)
        await tx.session.flush()

    async def mute_room(self, tx: Transaction, actor: Actor, room_id: int, muted: bool) -> None:
        room = await self.room(tx, room_id, lock=True)
        self.require_runner(actor, room)
        room.muted_all = muted
        await tx.session.flush()
        self._publish(tx, room, "settings")

    # -- orders: the live price and attribution are in checkout.py; the row follows the order --
    async def on_order_changed(self, tx: Transaction, event: Event) -> None:
        payload = event.payload
        row = await tx.session.get(RoomOrder, payload["orderId"], populate_existing=True)
        if row is None:
            return
        row.status = payload["status"]
        if event.name == "order.paid":
            row.paid_minor = payload["totalMinor"]
        row.refunded_minor = payload.get("refundedMinor") or 0
        await tx.session.flush()

    # -- results -----------------------------------------------------------------------------------
    async def results(self, session: Any, room: Room) -> Results:
        unique = await session.scalar(select(func.count()).select_from(Viewer).where(Viewer.room_id == room.id)) or 0
        paid = RoomOrder.paid_minor > 0
        row = (await session.execute(
            select(
                func.count().filter(RoomOrder.in_session.is_(True)),
                func.count().filter(RoomOrder.in_session.is_(True), paid),
                func.count(func.distinct(case((and_(RoomOrder.in_session.is_(True), paid), RoomOrder.member_id)))),
                func.coalesce(func.sum(case((RoomOrder.in_session.is_(True), RoomOrder.paid_minor), else_=0)), 0),
                func.coalesce(func.sum(case((RoomOrder.in_session.is_(True), RoomOrder.refunded_minor), else_=0)), 0),
                func.count().filter(RoomOrder.in_session.is_(False)),
                func.coalesce(func.sum(case((RoomOrder.in_session.is_(False), RoomOrder.paid_minor), else_=0)), 0),
            ).where(RoomOrder.room_id == room.id))).one()
        orders, paid_orders, paying, gmv, refunded, after, gmv_after = (int(v or 0) for v in row)
        return Results(
            unique_viewers=int(unique), peak_viewers=room.peak_viewers, comments=room.comment_count, likes=int(room.like_count),
            orders=orders, paid_orders=paid_orders, paying_members=paying, gmv_minor=gmv, refunded_minor=refunded,
            average_order_value_minor=_round_half_up(gmv, paid_orders),
            conversion_rate=round(paying / unique, 4) if unique else 0.0,
            orders_after_session=after, gmv_after_session_minor=gmv_after,
        )

    # -- the stream --------------------------------------------------------------------------------
    def _publish(self, tx: Transaction, room: Room, kind: str, **extra: Any) -> None:
        tx.publish(channel(room.id), {**room_message(room, kind), **extra})


def room_message(room: Room, kind: str) -> dict[str, Any]:
    """What every stream message carries: the room's state at that moment, so a client that
    missed a message is right again at the next one."""
    return {
        "kind": kind, "roomId": room.id, "hostStaffId": room.host_staff_id, "status": room.status, "viewerCount": room.viewer_count,
        "peakViewers": room.peak_viewers, "likeCount": int(room.like_count), "commentCount": room.comment_count,
        "presentedProductId": room.presented_product_id, "commentsEnabled": room.comments_enabled,
        "likesEnabled": room.likes_enabled, "mutedAll": room.muted_all,
    }


def comment_message(comment: Comment) -> dict[str, Any]:
    return {"id": comment.id, "memberId": comment.member_id, "author": comment.author, "text": comment.text,
            "createdAt": as_utc(comment.created_at).isoformat()}


__all__ = ["LiveRoomService", "ShelfEntry", "Results", "channel", "room_message", "comment_message", "to_global_id"]
