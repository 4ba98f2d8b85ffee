"""Orders: attributed as they are placed, counted when paid, reduced line by line when refunded.

The attribution row is written by the checkout participant's ``placed`` (same transaction as
the order, so an order never exists without its reason). Payments and refunds arrive after
commit, at least once: a payment counts once because it flips ``paid_minor`` from NULL with a
conditional UPDATE; a refund counts once because its lines are keyed by the event's id.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from components.guide_attribution import figures
from components.guide_attribution.bindings import Bindings
from components.guide_attribution.models import Attribution, RefundLine
from components.guide_attribution.precedence import Claims, attribute
from core.checkout import Draft
from core.errors import DomainError
from core.gql.relay import from_global_id, parse_key
from core.transaction import Transaction

PLACED_BY = "guideAttribution.placedBy"  # a draft attribute only this component's mutation sets


def _local_id(value: Any, type_name: str) -> int | None:
    """An id orders already proved (a global id in the source); anything else is no claim."""
    if value is None:
        return None
    try:
        kind, key = from_global_id(str(value))
    except DomainError:  # a malformed id credits nobody rather than failing an order
        return None
    return parse_key(key) if kind == type_name else None


class Crediting:
    def __init__(self, kernel: Any, bindings: Bindings) -> None:
        self.kernel = kernel
        self.bindings = bindings

    async def claims(self, tx: Transaction, draft: Draft) -> Claims:
        source = draft.source or {}
        code_guide, code_sharer = _local_id(source.get("guideId"), "Staff"), _local_id(source.get("sharerMemberId"), "Member")
        room_guide = room_sharer = None
        room = _local_id(source.get("liveRoomId"), "LiveRoom")
        if room is not None and code_guide is None and code_sharer is None and self.kernel.has_component("live_room"):
            # The live room keeps who each viewer joined through; its service answers (never its tables).
            viewer = await self.kernel.service("live_room").viewer(tx, room, draft.member_id)
            room_guide = getattr(viewer, "guide_id", None)
            room_sharer = getattr(viewer, "sharer_member_id", None)
            if room_sharer == draft.member_id:
                room_sharer = None
        binding = await self.bindings.of_member(tx.session, draft.member_id)
        placed_by = draft.attributes.get(PLACED_BY)
        return Claims(
            placed_by_guide=int(placed_by) if placed_by is not None else None,
            code_guide=code_guide,
            code_sharer=code_sharer,
            room_guide=room_guide,
            room_sharer=room_sharer,
            bound_guide=binding.guide_id if binding else None,
            bound_store=binding.store_id if binding else None,
            pickup_store=draft.store_id,
        )

    async def placed(self, tx: Transaction, draft: Draft, order_id: int) -> None:
        claims = await self.claims(tx, draft)
        guides = {g for g in (claims.placed_by_guide, claims.code_guide, claims.room_guide, claims.bound_guide) if g is not None}
        credit = attribute(claims, {g: await self.bindings.guide_store(tx.session, g) for g in guides})
        tx.session.add(
            Attribution(
                order_id=order_id,
                member_id=draft.member_id,
                reason=credit.reason.value,
                guide_id=credit.guide_id,
                store_id=credit.store_id,
                sharer_member_id=credit.sharer_member_id,
                placed_by_staff_id=claims.placed_by_guide,
                paid_minor=None,
                refunded_minor=0,
                created_at=tx.now(),
            )
        )
        await tx.session.flush()

    async def on_order_paid(self, kernel: Any, event: Any) -> None:
        order_id, total = int(event.payload["orderId"]), int(event.payload.get("totalMinor") or 0)
        async with kernel.transaction() as tx:
            counted = await tx.session.execute(
                update(Attribution)
                .where(Attribution.order_id == order_id, Attribution.paid_minor.is_(None))
                .values(paid_minor=total)
                .execution_options(synchronize_session=False)
            )
            if not counted.rowcount:
                return  # counted already (a redelivery), or an order placed before this component was loaded
            row = await tx.session.get(Attribution, order_id, populate_existing=True)
            assert row is not None
            day = figures.brand_day(tx.now(), self.bindings.zone)
            await figures.bump(tx, day, [(figures.GUIDE, row.guide_id), (figures.STORE, row.store_id)], orders=1, gmv_minor=total)

    async def on_order_refunded(self, kernel: Any, event: Any) -> None:
        order_id = int(event.payload["orderId"])
        lines = [(int(line["lineId"]), int(line.get("amountMinor") or 0)) for line in event.payload.get("lines") or ()]
        async with kernel.transaction() as tx:
            row = await tx.session.get(Attribution, order_id, populate_existing=True)
            if row is None or not lines:
                return
            seen = await tx.session.scalar(select(RefundLine.line_id).where(RefundLine.event_id == event.id).limit(1))
            if seen is not None:
                return  # this refund was counted by an earlier delivery
            for line_id, amount in lines:
                tx.session.add(RefundLine(event_id=event.id, line_id=line_id, order_id=order_id, amount_minor=amount))
            amount = sum(a for _, a in lines)
            await tx.session.execute(
                update(Attribution)
                .where(Attribution.order_id == order_id)
                .values(refunded_minor=Attribution.refunded_minor + amount)
                .execution_options(synchronize_session=False)
            )
            day = figures.brand_day(tx.now(), self.bindings.zone)
            await figures.bump(tx, day, [(figures.GUIDE, row.guide_id), (figures.STORE, row.store_id)], refunds_minor=amount)

    async def of_order(self, session: Any, order_id: int) -> Attribution | None:
        return await session.get(Attribution, order_id)
