"""How many members a brand can reach, and by what (``kernel.service("members.reach")``).

Counts only, in one aggregate query: a report (insights) asks how many members are connected
through WeChat or can be texted, never who they are.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from components.members.models import Member


class MemberReach:
    async def counts(self, session: Any) -> dict[str, int]:
        """``members`` (all), ``wechat`` (signed in through the mini-program: an openid),
        ``unionid`` (known across the brand's WeChat apps), ``phone`` (a phone number bound)."""
        row = (
            await session.execute(
                select(
                    func.count(Member.id),
                    func.count(Member.open_id),
                    func.count(Member.union_id),
                    func.count(Member.phone),
                )
            )
        ).one()
        return {"members": int(row[0]), "wechat": int(row[1]), "unionid": int(row[2]), "phone": int(row[3])}
