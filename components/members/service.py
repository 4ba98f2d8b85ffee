"""Members and staff. Identity providers (WeChat login, …) plug in through a hook."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from components.members.models import Member, Staff
from core.auth import STAFF_ROLES, Actor
from core.errors import DomainError
from core.transaction import Transaction

PHONE = re.compile(r"^\+?[0-9]{6,15}$")


def mask_phone(phone: str | None) -> str | None:
    """138****0001: enough for a clerk to confirm, not enough to call."""
    if not phone:
        return None
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"


class MembersService:
    async def create_member(
        self, tx: Transaction, *, phone: str | None = None, open_id: str | None = None, nickname: str = "",
        source_channel: str | None = None, source_guide_id: int | None = None, source_store_id: int | None = None,
    ) -> int:
        if phone is not None and not PHONE.match(phone):
            raise DomainError("MEMBERS_INVALID_PHONE", "A phone number is 6 to 15 digits.", field="input.phone")
        if len(nickname) > 50:
            raise DomainError("MEMBERS_INVALID_NICKNAME", "A nickname has at most 50 characters.", field="input.nickname")
        member = Member(phone=phone, open_id=open_id, nickname=nickname, source_channel=source_channel,
                        source_guide_id=source_guide_id, source_store_id=source_store_id, created_at=tx.now())
        tx.session.add(member)
        await tx.session.flush()
        await tx.emit("member.registered", {"memberId": member.id, "channel": source_channel})
        return member.id

    async def member_by_phone(self, session: AsyncSession, phone: str) -> Member | None:
        return await session.scalar(select(Member).where(Member.phone == phone))

    async def member_by_open_id(self, session: AsyncSession, open_id: str) -> Member | None:
        return await session.scalar(select(Member).where(Member.open_id == open_id))

    async def member(self, session: AsyncSession, member_id: int) -> Member | None:
        return await session.get(Member, member_id)

    async def create_staff(self, tx: Transaction, *, name: str, roles: list[str] | tuple[str, ...], store_ids: tuple[int, ...] = (), phone: str | None = None) -> int:
        unknown = [r for r in roles if r not in STAFF_ROLES]
        if unknown or not roles:
            raise DomainError("MEMBERS_INVALID_ROLE", f"Roles are {', '.join(STAFF_ROLES)}.", field="input.roles")
        staff = Staff(name=name, phone=phone, roles=list(roles), store_ids=list(store_ids), active=True)
        tx.session.add(staff)
        await tx.session.flush()
        return staff.id

    async def staff_actor(self, session: AsyncSession, staff_id: int) -> Actor | None:
        staff = await session.get(Staff, staff_id)
        if staff is None or not staff.active:
            return None
        return Actor("staff", staff.id, frozenset(staff.roles or []), frozenset(int(s) for s in staff.store_ids or []))
