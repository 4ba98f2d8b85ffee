"""Demo data: member 1 (小雨) is raised past the second tier by a staff correction, member 2
(阿杰) gets a little growth, and each term's catalog SKU exists so the storefront can sell it."""

from __future__ import annotations

from typing import Any


async def seed(kernel: Any, tx: Any) -> None:
    service = kernel.service("member_tiers")
    members = await kernel.service("members").member_ids(tx.session, limit=2)
    if len(service.tiers) > 1 and members:
        await service.adjust(tx, members[0], service.tiers[1].threshold + 200, "demo: opening balance", staff_id=None)
    if len(members) > 1:
        await service.adjust(tx, members[1], 120, "demo: opening balance", staff_id=None)
    for term in service.terms.values():
        await service.sku_of(tx, term)
