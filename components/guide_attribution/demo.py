"""Demo data: the demo's shopping guide has two customers bound through her code."""

from __future__ import annotations

from typing import Any

from components.guide_attribution.bindings import Touch


async def seed(kernel: Any, tx: Any) -> None:
    service = kernel.service("guide_attribution")
    staff = await kernel.service("members").active_staff(tx.session)
    guides = [s for s in staff if "guide" in (s.roles or [])]
    if not guides:
        return
    guide = guides[0]
    store = await service.bindings.guide_store(tx.session, guide.id)
    for member_id in await kernel.service("members").member_ids(tx.session, limit=2):
        await service.bindings.bind(tx, member_id, Touch(guide.id, store, "guide_code"))
