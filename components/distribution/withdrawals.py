"""Withdrawals: a promoter asks, staff review, a payout provider pays.

States::

    requested ─approve─▶ paid              (the provider paid at once: the sandbox)
        │        └──────▶ paying ─confirm ok─▶ paid
        │                    └─confirm failed─▶ failed (amount back to the balance)
        │        └──────▶ failed (amount back to the balance)
        └─reject─▶ rejected (amount back to the balance)

The amount leaves the available balance when it is asked for (ledger.take, a conditional
UPDATE), so concurrent requests never take more than the balance; every transition is a
conditional update on the status, so two staff deciding at once decide once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from components.distribution import ledger
from components.distribution.models import Promoter, Withdrawal
from components.distribution.payouts import Payout
from components.distribution.rules import fee
from core.errors import DomainError
from core.transaction import Transaction

MAX_AMOUNT = 10**12


class Withdrawals:
    def __init__(self, service: Any) -> None:
        self.service = service

    async def get(self, session: Any, withdrawal_id: int, *, field: str = "input.withdrawalId") -> Withdrawal:
        row = await session.get(Withdrawal, withdrawal_id, populate_existing=True)
        if row is None:
            raise DomainError("DISTRIBUTION_NOT_FOUND", "No such withdrawal.", field=field)
        return row

    async def request(self, tx: Transaction, member_id: int, amount_minor: int) -> Withdrawal:
        config = self.service.config
        promoter = await self.service.promoters.active(tx.session, member_id)
        if promoter is None:
            raise DomainError("DISTRIBUTION_NOT_A_PROMOTER", "Only active promoters withdraw commission.", field="input")
        if isinstance(amount_minor, bool) or not isinstance(amount_minor, int) or not 0 < amount_minor <= MAX_AMOUNT:
            raise DomainError("DISTRIBUTION_INVALID_AMOUNT", "A withdrawal is a positive amount.", field="input.amount")
        if amount_minor < config.withdrawal_min_minor:
            raise DomainError(
                "DISTRIBUTION_BELOW_MINIMUM",
                "This is less than the smallest withdrawal.",
                field="input.amount",
                minimumMinor=config.withdrawal_min_minor,
            )
        charged = fee(amount_minor, fee_bps=config.fee_bps, fee_min_minor=config.fee_min_minor)
        if charged >= amount_minor:
            raise DomainError("DISTRIBUTION_BELOW_MINIMUM", "The fee would take the whole amount.", field="input.amount", feeMinor=charged)
        row = Withdrawal(
            promoter_id=promoter.id,
            amount_minor=amount_minor,
            fee_minor=charged,
            payout_minor=amount_minor - charged,
            status="requested",
            requested_at=tx.now(),
        )
        tx.session.add(row)
        await tx.session.flush()
        if not await ledger.take(tx, promoter.id, amount_minor, f"withdraw:{row.id}", withdrawal_id=row.id):
            # Raising rolls the request row back with it: nothing is written.
            raise DomainError(
                "DISTRIBUTION_INSUFFICIENT_BALANCE",
                "Your available commission is less than that.",
                field="input.amount",
                availableMinor=int((await self.service.promoters.get(tx.session, promoter.id)).available_minor),
            )
        return row

    async def _move(self, tx: Transaction, row: Withdrawal, from_status: str, to_status: str, **values: Any) -> None:
        moved = await tx.session.execute(
            update(Withdrawal)
            .where(Withdrawal.id == row.id, Withdrawal.status == from_status)
            .values(status=to_status, decided_at=tx.now(), **values)
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount != 1:
            current = await self.get(tx.session, row.id)
            raise DomainError(
                "DISTRIBUTION_NOT_PENDING", "This withdrawal was already decided.", field="input.withdrawalId", status=current.status.upper()
            )

    async def _give_back(self, tx: Transaction, row: Withdrawal, kind: str) -> None:
        await ledger.post(tx, row.promoter_id, "available", kind, row.amount_minor, f"return:{row.id}", withdrawal_id=row.id)

    async def reject(self, tx: Transaction, withdrawal_id: int, reason: str) -> Withdrawal:
        if not reason or not reason.strip() or len(reason) > 500:
            raise DomainError("DISTRIBUTION_INVALID_INPUT", "A rejection gives a reason of at most 500 characters.", field="input.reason")
        row = await self.get(tx.session, withdrawal_id)
        await self._move(tx, row, "requested", "rejected", reason=reason.strip())
        await self._give_back(tx, row, "withdrawal_rejected")
        return await self.get(tx.session, withdrawal_id)

    async def approve(self, tx: Transaction, withdrawal_id: int) -> Withdrawal:
        """Staff approve: claim the request (requested → paying) and ask the provider to pay."""
        row = await self.get(tx.session, withdrawal_id)
        provider = self.service.payout_provider()
        await self._move(tx, row, "requested", "paying", provider=provider.name)
        promoter = await tx.session.get(Promoter, row.promoter_id)
        result = await provider.pay(
            Payout(
                withdrawal_id=row.id,
                member_id=promoter.member_id,
                amount_minor=row.payout_minor,
                currency=self.service.currency,
                reference=f"dgw{row.id:020d}",
            ),
            tx.session,
        )
        await tx.session.execute(
            update(Withdrawal).where(Withdrawal.id == row.id).values(provider_ref=result.provider_ref).execution_options(synchronize_session=False)
        )
        if result.status != "pending":
            await self._finish(tx, row, paid=result.status == "paid")
        return await self.get(tx.session, withdrawal_id)

    async def confirm(self, tx: Transaction, withdrawal_id: int, *, paid: bool) -> Withdrawal:
        """The provider's later answer for a ``paying`` withdrawal (idempotent: a replay of a
        decided one changes nothing)."""
        row = await self.get(tx.session, withdrawal_id)
        if row.status == "paying":
            await self._finish(tx, row, paid=paid)
        return await self.get(tx.session, withdrawal_id)

    async def _finish(self, tx: Transaction, row: Withdrawal, *, paid: bool) -> None:
        await self._move(tx, row, "paying", "paid" if paid else "failed")
        if paid:
            await tx.session.execute(
                update(Promoter)
                .where(Promoter.id == row.promoter_id)
                .values(withdrawn_minor=Promoter.withdrawn_minor + row.payout_minor)
                .execution_options(synchronize_session=False)
            )
        else:
            await self._give_back(tx, row, "withdrawal_failed")
