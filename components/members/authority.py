"""The people directory behind ``dougong_authority``: who a token's subject is, right now.

One statement per request (a primary-key read of one row); the kernel calls it for every
signed-in HTTP request and websocket connection (see :mod:`core.authority`).
"""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from components.members.models import Member, Staff
from core.auth import Actor, TokenError

# Built once, executed with the id as a parameter: this runs for every signed-in request, and
# table columns (not mapped attributes) keep it out of the ORM's compile and result machinery.
MEMBER = Member.__table__
STAFF = Staff.__table__
MEMBER_EXISTS = select(MEMBER.c.id).where(MEMBER.c.id == bindparam("id"))
STAFF_RIGHTS = select(STAFF.c.roles, STAFF.c.store_ids, STAFF.c.active).where(STAFF.c.id == bindparam("id"))


class PeopleDirectory:
    async def current(self, session: AsyncSession, claimed: Actor) -> Actor:
        if claimed.is_member:
            if (await session.execute(MEMBER_EXISTS, {"id": claimed.id})).first() is None:
                raise TokenError("the token names a member who does not exist here", "TOKEN_UNKNOWN_SUBJECT")
            return Actor("member", claimed.id)
        row = (await session.execute(STAFF_RIGHTS, {"id": claimed.id})).first()
        if row is None:
            raise TokenError("the token names a staff member who does not exist here", "TOKEN_UNKNOWN_SUBJECT")
        if not row.active:
            raise TokenError("this staff account is deactivated", "STAFF_INACTIVE")
        return Actor("staff", claimed.id, frozenset(row.roles or []), frozenset(int(s) for s in row.store_ids or []))
