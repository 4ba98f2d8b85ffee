"""Demo data for a sandbox: the members demo's first member has checked in today."""

from __future__ import annotations

from typing import Any

DEMO_PHONE = "13800000001"  # the first member the members component seeds


async def seed(kernel: Any, tx: Any) -> None:
    member = await kernel.service("members").member_by_phone(tx.session, DEMO_PHONE)
    if member is not None:
        await kernel.service("checkin").check_in(tx, member.id, "第一次签到")
