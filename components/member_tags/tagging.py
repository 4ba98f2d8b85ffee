"""Tags set by staff (MANUAL) and by the channel a member came through (CHANNEL).

Rule tags (RULE) are the service's: they follow the figures, so staff can neither set nor
remove them (``MEMBER_TAGS_NOT_MANUAL``), and a channel tag records a fact of registration.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select

from components.member_tags.models import MemberTag, Tag
from components.member_tags.store import chunks, ensure_profiles, insert_ignoring_duplicates, tag_id
from core.errors import DomainError
from core.transaction import Transaction

MAX_NAME = 40
MAX_DESCRIPTION = 200
MAX_MEMBERS = 500  # per tagMembers / untagMembers call: a page of a segment list, or a pasted list


def unknown_tag() -> DomainError:
    return DomainError("MEMBER_TAGS_UNKNOWN_TAG", "No tag of this brand has that id.", field="input.tagId")


class Tagging:
    def __init__(self, kernel: Any) -> None:
        self.kernel = kernel

    async def create(self, tx: Transaction, name: str, description: str = "") -> int:
        name, description = (name or "").strip(), (description or "").strip()
        if not 0 < len(name) <= MAX_NAME:
            raise DomainError("MEMBER_TAGS_INVALID_NAME", f"A tag's name has 1 to {MAX_NAME} characters.", field="input.name")
        if len(description) > MAX_DESCRIPTION:
            raise DomainError("MEMBER_TAGS_INVALID_NAME", f"A description has at most {MAX_DESCRIPTION} characters.", field="input.description")
        if await tx.session.scalar(select(Tag.id).where(Tag.name == name)) is not None:
            raise DomainError("MEMBER_TAGS_NAME_TAKEN", "A tag with that name exists.", field="input.name")
        # The unique key settles two staff creating one name at the same moment: the loser's
        # insert does nothing, and it is told the name is taken.
        made = (
            await tx.session.execute(
                insert_ignoring_duplicates(tx, Tag)
                .values(key=f"manual:{name}", name=name, kind="manual", description=description, created_at=tx.now())
                .returning(Tag.id)
            )
        ).scalar()
        if made is None:
            raise DomainError("MEMBER_TAGS_NAME_TAKEN", "A tag with that name exists.", field="input.name")
        return made

    async def manual_tag(self, tx: Transaction, tag: int) -> Tag:
        row = await tx.session.get(Tag, tag)
        if row is None:
            raise unknown_tag()
        if row.kind != "manual":
            raise DomainError("MEMBER_TAGS_NOT_MANUAL", f"A {row.kind} tag follows its {row.kind}; staff set manual tags only.", field="input.tagId")
        return row

    async def delete(self, tx: Transaction, tag: int) -> None:
        await self.manual_tag(tx, tag)
        await tx.session.execute(delete(MemberTag).where(MemberTag.tag_id == tag))
        await tx.session.execute(delete(Tag).where(Tag.id == tag))

    async def _members(self, tx: Transaction, member_ids: list[int]) -> list[int]:
        wanted = sorted(set(member_ids))
        if not 0 < len(wanted) <= MAX_MEMBERS:
            raise DomainError("MEMBER_TAGS_TOO_MANY_MEMBERS", f"Name 1 to {MAX_MEMBERS} members at a time.", field="input.memberIds")
        members = self.kernel.service("members")
        for member_id in wanted:
            if await members.member(tx.session, member_id) is None:
                raise DomainError(
                    "MEMBER_TAGS_UNKNOWN_MEMBER", "No member of this brand has that id.", field=f"input.memberIds[{member_ids.index(member_id)}]"
                )
        return wanted

    async def add(self, tx: Transaction, tag: int, member_ids: list[int]) -> int:
        """Staff tag members; members already holding it are left as they are. Returns how many
        gained the tag."""
        await self.manual_tag(tx, tag)
        wanted = await self._members(tx, member_ids)
        await ensure_profiles(tx, wanted)  # so the member shows in lists filtered by this tag
        held = set((await tx.session.scalars(select(MemberTag.member_id).where(MemberTag.tag_id == tag, MemberTag.member_id.in_(wanted)))).all())
        new = [m for m in wanted if m not in held]
        added = 0
        for batch in chunks(new):
            # A concurrent call may have tagged some meanwhile: its rows win, ours do nothing,
            # and RETURNING names only the members this call tagged.
            stmt = (
                insert_ignoring_duplicates(tx, MemberTag)
                .values([{"tag_id": tag, "member_id": m, "tagged_at": tx.now()} for m in batch])
                .returning(MemberTag.member_id)
            )
            mine = sorted((await tx.session.execute(stmt)).scalars().all())
            added += len(mine)
            if mine:
                await tx.emit("member_tags.tagged", {"tagId": tag, "memberIds": mine, "source": "staff"})
        return added

    async def remove(self, tx: Transaction, tag: int, member_ids: list[int]) -> int:
        await self.manual_tag(tx, tag)
        wanted = await self._members(tx, member_ids)
        removed = 0
        for batch in chunks(wanted):
            stmt = delete(MemberTag).where(MemberTag.tag_id == tag, MemberTag.member_id.in_(batch)).returning(MemberTag.member_id)
            mine = sorted((await tx.session.execute(stmt)).scalars().all())
            removed += len(mine)
            if mine:
                await tx.emit("member_tags.untagged", {"tagId": tag, "memberIds": mine, "source": "staff"})
        return removed

    async def tag_channel(self, tx: Transaction, member_id: int, channel: str | None, guide_id: int | None, store_id: int | None) -> None:
        """The channel tags of a new member: the channel, the guide and the store they came through."""
        tags = []
        if channel:
            tags.append(await tag_id(tx, f"channel:{channel}", f"渠道 {channel}", "channel", "Registered through this channel"))
        if guide_id:
            names = await self.kernel.service("members").staff_names(tx.session, [int(guide_id)])
            label = names.get(int(guide_id), f"#{guide_id}")
            tags.append(await tag_id(tx, f"guide:{guide_id}", f"导购 {label}", "channel", "Brought in by this guide's code"))
        if store_id:
            tags.append(await tag_id(tx, f"store:{store_id}", f"门店 #{store_id}", "channel", "Registered at this store"))
        for tag in tags:
            stmt = insert_ignoring_duplicates(tx, MemberTag).values(tag_id=tag, member_id=member_id, tagged_at=tx.now())
            if (await tx.session.execute(stmt.returning(MemberTag.member_id))).first():  # a redelivery tags nobody twice
                await tx.emit("member_tags.tagged", {"tagId": tag, "memberIds": [member_id], "source": "channel"})

    async def holders(self, session: Any, tag_ids: list[int]) -> dict[int, int]:
        if not tag_ids:
            return {}
        stmt = select(MemberTag.tag_id, func.count()).where(MemberTag.tag_id.in_(tag_ids)).group_by(MemberTag.tag_id)
        return {t: int(n) for t, n in await session.execute(stmt)}
