"""Demo data: the first member is an active promoter with the second as a customer (and the
third bound under the second, who is a promoter too, for two-level brands); the fourth has
applied and waits for review; the first SKU pays a fixed ¥3 per unit at level one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from components.distribution.models import Promoter


async def seed(kernel: Any, tx: Any) -> None:
    service = kernel.service("distribution")
    members = await kernel.service("members").member_ids(tx.session, limit=4)
    if len(members) < 4:
        return
    first, second, third, fourth = members
    for member_id in (first, second):
        promoter = await service.promoters.apply(tx, member_id)
        if promoter.status == "pending":
            await tx.session.execute(update(Promoter).where(Promoter.id == promoter.id).values(status="active", decided_at=tx.now()))
    await service.promoters.bind(tx, second, first, strict=True)
    await service.promoters.bind(tx, third, second, strict=True)
    if (await service.promoters.of_member(tx.session, fourth)) is None and service.config.eligibility != "spend":
        await service.promoters.apply(tx, fourth)
    skus = await kernel.service("catalog").sku_ids(tx.session, limit=1)
    if skus:
        await service.rules.set(tx, skus[0], 1, "fixed", 300)
