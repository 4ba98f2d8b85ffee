"""Becoming a promoter (apply, approve, reject) and binding customers to promoters.

States of a promoter::

    (apply) ─everyone / spend reached─▶ active
       └─approved applicants─▶ pending ─approve─▶ active
                                  └─reject─▶ rejected ─apply again─▶ pending

Bindings: one row per customer, changed only under the brand's binding mode (rules.may_rebind),
never to the customer themself and never into a loop (rules.bind_refusal)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from components.distribution.models import Binding, Promoter, Spend
from components.distribution.rules import bind_refusal, bound_now, may_rebind
from core.clock import as_utc
from core.errors import DomainError
from core.transaction import Transaction

MAX_CHAIN = 64  # deeper uplines are not walked: two levels pay, the walk only has to find loops


class Promoters:
    def __init__(self, service: Any) -> None:
        self.service = service

    @property
    def settings(self) -> Any:
        return self.service.config

    async def of_member(self, session: Any, member_id: int) -> Promoter | None:
        return await session.scalar(select(Promoter).where(Promoter.member_id == member_id).execution_options(populate_existing=True))

    async def get(self, session: Any, promoter_id: int, *, field: str = "input.promoterId") -> Promoter:
        promoter = await session.get(Promoter, promoter_id, populate_existing=True)
        if promoter is None:
            raise DomainError("DISTRIBUTION_NOT_FOUND", "No such promoter.", field=field)
        return promoter

    async def active(self, session: Any, member_id: int) -> Promoter | None:
        promoter = await self.of_member(session, member_id)
        return promoter if promoter is not None and promoter.status == "active" else None

    async def spend(self, session: Any, member_id: int) -> int:
        row = await session.get(Spend, member_id)
        return int(row.paid_minor) if row is not None else 0

    # -- applying ----------------------------------------------------------------------------------
    async def apply(self, tx: Transaction, member_id: int) -> Promoter:
        """A member asks to become a promoter; the brand's ``eligibility`` decides what happens."""
        existing = await self.of_member(tx.session, member_id)
        if existing is not None and existing.status in ("active", "pending"):
            raise DomainError(
                "DISTRIBUTION_ALREADY_APPLIED",
                "You are already a promoter or your application is waiting.",
                field="input",
                status=existing.status.upper(),
            )
        mode = self.settings.eligibility
        if mode == "spend":
            spent = await self.spend(tx.session, member_id)
            if spent < self.settings.spend_threshold_minor:
                raise DomainError(
                    "DISTRIBUTION_SPEND_TOO_LOW",
                    "You have not spent enough yet to become a promoter.",
                    field="input",
                    thresholdMinor=self.settings.spend_threshold_minor,
                    spentMinor=spent,
                )
        status = "pending" if mode == "approved" else "active"
        now = tx.now()
        if existing is not None:  # a rejected applicant tries again
            existing.status, existing.reason, existing.applied_at = status, None, now
            existing.decided_at = now if status == "active" else None
            await tx.session.flush()
            return existing
        promoter = Promoter(
            member_id=member_id,
            status=status,
            applied_at=now,
            decided_at=now if status == "active" else None,
            frozen_minor=0,
            available_minor=0,
            withdrawn_minor=0,
        )
        try:
            async with tx.session.begin_nested():
                tx.session.add(promoter)
        except IntegrityError:  # the same member applied twice at once: the first one counts
            raise DomainError("DISTRIBUTION_ALREADY_APPLIED", "Your application is already in.", field="input") from None
        return promoter

    async def decide(self, tx: Transaction, promoter_id: int, *, approve: bool, reason: str | None = None) -> Promoter:
        """Staff approve or reject a pending application (a conditional update: decided once)."""
        if not approve and (not reason or not reason.strip() or len(reason) > 500):
            raise DomainError("DISTRIBUTION_INVALID_INPUT", "A rejection gives a reason of at most 500 characters.", field="input.reason")
        changed = await tx.session.execute(
            update(Promoter)
            .where(Promoter.id == promoter_id, Promoter.status == "pending")
            .values(status="active" if approve else "rejected", reason=None if approve else reason.strip(), decided_at=tx.now())
            .execution_options(synchronize_session=False)
        )
        promoter = await self.get(tx.session, promoter_id)
        if changed.rowcount != 1:
            raise DomainError(
                "DISTRIBUTION_NOT_PENDING", "This application was already decided.", field="input.promoterId", status=promoter.status.upper()
            )
        return promoter

    # -- binding -----------------------------------------------------------------------------------
    async def binding(self, session: Any, member_id: int) -> Binding | None:
        return await session.scalar(select(Binding).where(Binding.member_id == member_id).execution_options(populate_existing=True))

    async def referrer(self, session: Any, member_id: int, now: datetime) -> int | None:
        """The member id of the active promoter this member is bound to now, if any."""
        row = await self.binding(session, member_id)
        if row is None or not bound_now(self.settings.binding, expires_at=_utc(row.expires_at), now=now):
            return None
        return row.promoter_member_id if await self.active(session, row.promoter_member_id) else None

    async def upline(self, session: Any, member_id: int) -> list[int]:
        """Whom ``member_id`` is bound to, and whom they are bound to, … (for the loop check)."""
        chain: list[int] = []
        current = member_id
        while len(chain) < MAX_CHAIN:
            row = await self.binding(session, current)
            if row is None or row.promoter_member_id in chain:
                break
            chain.append(row.promoter_member_id)
            current = row.promoter_member_id
        return chain

    async def bind(self, tx: Transaction, member_id: int, promoter_member_id: int, *, strict: bool, _retry: bool = True) -> Binding | None:
        """Bind a customer to a promoter after a proven click. ``strict`` (the member's own
        ``bindPromoter``) answers a refusal with a typed error; at checkout a refusal is silent,
        the order goes ahead. Returns the binding as it stands."""

        def refuse(code: str, message: str) -> None:
            if strict:
                raise DomainError(code, message, field="input.shareCode")

        current = await self.binding(tx.session, member_id)
        if await self.active(tx.session, promoter_member_id) is None:
            refuse("DISTRIBUTION_NOT_A_PROMOTER", "That code belongs to no active promoter.")
            return current
        why = bind_refusal(buyer_id=member_id, promoter_id=promoter_member_id, chain=await self.upline(tx.session, promoter_member_id))
        if why == "SELF":
            refuse("DISTRIBUTION_SELF_BINDING", "You cannot be your own customer.")
            return current
        if why == "LOOP":
            refuse("DISTRIBUTION_BINDING_LOOP", "That promoter is your own customer (directly or through theirs).")
            return current
        now = tx.now()
        mode = self.settings.binding
        expires = now + self.settings.binding_period if mode == "time_limited" else None
        if current is None:
            row = Binding(member_id=member_id, promoter_member_id=promoter_member_id, bound_at=now, expires_at=expires)
            try:
                async with tx.session.begin_nested():
                    tx.session.add(row)
            except IntegrityError:  # a concurrent first click committed first: decide again against it
                if _retry:
                    return await self.bind(tx, member_id, promoter_member_id, strict=strict, _retry=False)
                raise
            return row
        if not may_rebind(
            mode, current_promoter=current.promoter_member_id, expires_at=_utc(current.expires_at), now=now, new_promoter=promoter_member_id
        ):
            if current.promoter_member_id != promoter_member_id:
                refuse("DISTRIBUTION_ALREADY_BOUND", "You are already another promoter's customer.")
            return current
        if current.promoter_member_id != promoter_member_id:
            current.bound_at = now
        current.promoter_member_id, current.expires_at = promoter_member_id, expires
        await tx.session.flush()
        return current


def _utc(value: datetime | None) -> datetime | None:
    return as_utc(value) if value is not None else None
