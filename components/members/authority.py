"""The people directory behind ``dougong_authority``: who a token's subject is, right now.

One statement per request (a primary-key read of one row); the kernel calls it for every
signed-in HTTP request and websocket connection (see :mod:`core.authority`).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from components.members.models import Member, Staff
from core.auth import Actor, TokenError


class PeopleDirectory:
    async def current(self, session: AsyncSession, claimed: Actor) -> Actor:
        if claimed.is_member:
            if await session.scalar(select(Member.id).where(Member.id == claimed.id)) is None:
                raise TokenError("the token names a member who does not exist here", "TOKEN_UNKNOWN_SUBJECT")
            return Actor("member", claimed.id)
        row = (await session.execute(select(Staff.roles, Staff.store_ids, Staff.active).where(Staff.id == claimed.id))).first()
        if row is None:
            raise TokenError("the token names a staff member who does not exist here", "TOKEN_UNKNOWN_SUBJECT")
        if not row.active:
            raise TokenError("this staff account is deactivated", "STAFF_INACTIVE")
        return Actor("staff", claimed.id, frozenset(row.roles or []), frozenset(int(s) for s in row.store_ids or []))
