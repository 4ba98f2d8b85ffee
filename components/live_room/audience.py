"""The audience: viewers joining, leaving and sweeping out; comments, likes and mutes.

Counters are changed by ``UPDATE … SET n = n + k`` on the room row, never read-modify-write;
whether a viewer counts is decided by flipping their own row's ``watching`` flag with a
conditional UPDATE. Transactions that lock both take a viewer row before the room row.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, or_, select, update
from sqlalchemy.exc import IntegrityError

from components.live_room.models import Comment, Room, Viewer
from components.live_room.states import FOREVER, JOINABLE, RUNNING, comment_message
from core.auth import Actor
from core.clock import as_utc
from core.errors import DomainError
from core.transaction import Transaction


class Audience:
    """Mixed into :class:`~components.live_room.service.LiveRoomService`."""

    # -- viewers ---------------------------------------------------------------------------------------
    async def join(
        self,
        tx: Transaction,
        room_id: int,
        member_id: int,
        *,
        sharer_member_id: int | None = None,
        guide_id: int | None = None,
        share_code: str | None = None,
    ) -> int:
        room = await self.room(tx, room_id)
        if room.status not in JOINABLE:
            raise DomainError("LIVE_ROOM_CLOSED", f"The room is {room.status}; watch its replay instead.", field="input.roomId", status=room.status)
        # Who brought the viewer is recorded only from proof (a share code the brand issued, an
        # active guide): the room's later orders are credited from this row.
        credit = await tx.kernel.service("members.share_codes").credit(
            tx.session, buyer_id=member_id, share_code=share_code, sharer_member_id=sharer_member_id, guide_id=guide_id
        )
        sharer_member_id, guide_id = credit.sharer_member_id, credit.guide_id
        now = tx.now()
        viewer = await self.viewer(tx, room.id, member_id)
        if viewer is None:
            try:
                async with tx.session.begin_nested():
                    tx.session.add(
                        Viewer(
                            room_id=room.id,
                            member_id=member_id,
                            watching=False,
                            first_joined_at=now,
                            last_seen_at=now,
                            likes=0,
                            sharer_member_id=sharer_member_id,
                            guide_id=guide_id,
                        )
                    )
            except IntegrityError:
                pass  # the same member joined from a second device at the same instant
        await self._start_watching(tx, room, member_id, now)
        return room.viewer_count

    async def viewer(self, tx: Transaction, room_id: int, member_id: int) -> Viewer | None:
        return await tx.session.scalar(
            select(Viewer).where(Viewer.room_id == room_id, Viewer.member_id == member_id).execution_options(populate_existing=True)
        )

    async def _start_watching(self, tx: Transaction, room: Room, member_id: int, now: datetime) -> None:
        flipped = await tx.session.execute(
            update(Viewer)
            .where(Viewer.room_id == room.id, Viewer.member_id == member_id, Viewer.watching.is_(False))
            .values(watching=True, last_seen_at=now)
            .execution_options(synchronize_session=False)
        )
        if flipped.rowcount:
            await self._count_viewers(tx, room, +1)
        else:
            await tx.session.execute(
                update(Viewer)
                .where(Viewer.room_id == room.id, Viewer.member_id == member_id)
                .values(last_seen_at=now)
                .execution_options(synchronize_session=False)
            )

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
            update(Viewer)
            .where(Viewer.room_id == room.id, Viewer.member_id == member_id, Viewer.watching.is_(True))
            .values(watching=False)
            .execution_options(synchronize_session=False)
        )
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
                update(Viewer)
                .where(Viewer.room_id == room.id, Viewer.watching.is_(True), Viewer.last_seen_at < cutoff)
                .values(watching=False)
                .execution_options(synchronize_session=False)
            )
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
            raise DomainError(
                "LIVE_ROOM_COMMENT_TOO_LONG",
                f"A comment has at most {self.comment_max_length} characters.",
                field="input.text",
                maxLength=self.comment_max_length,
            )
        viewer = await self._joined_viewer(tx, room, member_id, "Comments", room.comments_enabled, "LIVE_ROOM_COMMENTS_OFF")
        now = tx.now()
        if room.muted_all:
            raise DomainError("LIVE_ROOM_MUTED", "The host has muted the room.", field="input.roomId", roomWide=True)
        if viewer.muted_until is not None and as_utc(viewer.muted_until) > now:
            raise DomainError("LIVE_ROOM_MUTED", "You are muted in this room.", field="input.roomId", roomWide=False)
        # The slot is taken by a conditional UPDATE: two comments racing from one member
        # cannot both pass the rate limit.
        took = await tx.session.execute(
            update(Viewer)
            .where(Viewer.id == viewer.id, or_(Viewer.last_comment_at.is_(None), Viewer.last_comment_at <= now - self.comment_interval))
            .values(last_comment_at=now, last_seen_at=now)
            .execution_options(synchronize_session=False)
        )
        if took.rowcount != 1:
            await tx.session.refresh(viewer)
            wait = self.comment_interval - (now - as_utc(viewer.last_comment_at))
            raise DomainError(
                "LIVE_ROOM_COMMENT_TOO_FAST",
                "Slow down: one comment per interval.",
                field="input.text",
                retryAfterSeconds=max(1, int(wait.total_seconds() + 0.999)),
            )
        member = await self.kernel.service("members").member(tx.session, member_id)
        author = (member.nickname if member and member.nickname else f"会员{member_id % 10000:04d}")[:50]
        comment = Comment(room_id=room.id, member_id=member_id, author=author, text=text, created_at=now)
        tx.session.add(comment)
        await tx.session.execute(
            update(Room).where(Room.id == room.id).values(comment_count=Room.comment_count + 1).execution_options(synchronize_session=False)
        )
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
            update(Viewer)
            .where(Viewer.id == viewer.id, or_(Viewer.last_like_at.is_(None), Viewer.last_like_at <= now - self.like_interval))
            .values(last_like_at=now, last_seen_at=now, likes=Viewer.likes + taps)
            .execution_options(synchronize_session=False)
        )
        if took.rowcount != 1:
            raise DomainError(
                "LIVE_ROOM_LIKE_TOO_FAST",
                "Likes are accepted once per interval; batch the taps.",
                field="input.taps",
                retryAfterSeconds=max(1, int(self.like_interval.total_seconds())),
            )
        await tx.session.execute(
            update(Room).where(Room.id == room.id).values(like_count=Room.like_count + taps).execution_options(synchronize_session=False)
        )
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
            raise DomainError(
                "KERNEL_INVALID_INPUT", "A mute lasts 1 minute to 7 days (or omit minutes for the whole session).", field="input.minutes"
            )
        else:
            viewer.muted_until = tx.now() + timedelta(minutes=minutes)
        await tx.session.flush()

    async def mute_room(self, tx: Transaction, actor: Actor, room_id: int, muted: bool) -> None:
        room = await self.room(tx, room_id, lock=True)
        self.require_runner(actor, room)
        room.muted_all = muted
        await tx.session.flush()
        self._publish(tx, room, "settings")
