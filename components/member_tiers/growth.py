"""Growth value (成长值): the append-only ledger, earning from paid lines, reversing on refunds.

Mixed into :class:`~components.member_tiers.service.TiersService`. The order handlers run after
commit (at least once): each writes under a key (``line:<id>:paid``, ``line:<id>:refund:<event>``)
that the ledger holds once, so a replayed event changes nothing. Every change of growth takes
the member's account row first, so concurrent payments and refunds of one member queue and the
balance always equals the sum of the entries.
"""

from __future__ import annotations

from typing import Any, Mapping

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from components.member_tiers.models import Account, Entry, Line
from components.member_tiers.rules import line_growth, line_reversal, raised_tier
from core.errors import DomainError
from core.transaction import Event, Transaction
from core.units import CURRENCY_EXPONENT

MAX_ADJUST = 10**9
GROWING = ("paid", "fulfilled", "completed", "refunded")  # an order in these states was paid


class Growth:
    kernel: Any
    growth_per_yuan: int
    no_growth_kinds: frozenset[str]

    @property
    def minor_per_yuan(self) -> int:
        return 10 ** CURRENCY_EXPONENT.get(self.kernel.blueprint.brand.currency, 2)

    # -- the account ---------------------------------------------------------------------------
    async def lock_account(self, tx: Transaction, member_id: int) -> Account:
        """The member's account, locked for this transaction. Made on first use: the insert
        comes first (a concurrent first change makes the loser's insert fail, harmlessly), then
        one locking read that waits for whoever holds the row."""
        if await tx.session.get(Account, member_id) is None:
            if await self.kernel.service("members").member(tx.session, member_id) is None:
                raise DomainError("KERNEL_NOT_FOUND", "No such member.", field="input.memberId")
            try:
                async with tx.session.begin_nested():
                    tx.session.add(Account(member_id=member_id, growth=0, tier=0))
            except IntegrityError:
                pass
        locking = select(Account).where(Account.member_id == member_id).execution_options(populate_existing=True)
        return await tx.session.scalar(locking.with_for_update() if tx.kernel.db.is_postgresql else locking)

    async def entry_by_key(self, session: Any, key: str) -> Entry | None:
        return await session.scalar(select(Entry).where(Entry.key == key))

    async def write(
        self,
        tx: Transaction,
        account: Account,
        delta: int,
        *,
        reason: str,
        key: str,
        note: str = "",
        order_id: int | None = None,
        line_id: int | None = None,
    ) -> Entry:
        """Append one entry and move the balance with it (the account is locked by the caller)."""
        account.growth += delta
        entry = Entry(
            member_id=account.member_id,
            delta=delta,
            growth_after=account.growth,
            reason=reason,
            key=key,
            note=note[:300],
            order_id=order_id,
            line_id=line_id,
            created_at=tx.now(),
        )
        tx.session.add(entry)
        await tx.session.flush()
        return entry

    # -- earning ----------------------------------------------------------------------------------
    def _earns(self, order: Mapping[str, Any]) -> bool:
        return order.get("kind") not in self.no_growth_kinds

    async def on_order_paid(self, kernel: Any, event: Event) -> None:
        async with kernel.transaction() as tx:
            await self.grant_for_order(tx, int(event.payload["orderId"]))

    async def grant_for_order(self, tx: Transaction, order_id: int) -> bool:
        """Credit the growth of every line of a paid order, once per line. Returns whether
        anything was written. Reads the order as it is now: a refund handled before the
        payment (events retried out of order) still finds the lines to reverse."""
        order = await self.kernel.service("orders").snapshot(tx, order_id)
        if order is None or order["status"] not in GROWING or not self._earns(order):
            return False
        lines = order.get("lines") or []
        account = await self.lock_account(tx, int(order["memberId"]))
        done = set((await tx.session.scalars(select(Line.line_id).where(Line.order_id == order_id))).all())
        if done:
            return False  # the whole order is credited in one transaction: a line seen means all were
        shares = line_growth([int(line["totalMinor"]) for line in lines], growth_per_yuan=self.growth_per_yuan, minor_per_yuan=self.minor_per_yuan)
        for line, share in zip(lines, shares, strict=True):
            tx.session.add(
                Line(
                    line_id=line["lineId"],
                    order_id=order_id,
                    member_id=account.member_id,
                    paid_minor=int(line["totalMinor"]),
                    growth=share,
                    refunded_minor=0,
                    reversed=0,
                )
            )
            if share:
                await self.write(
                    tx,
                    account,
                    share,
                    reason="order_paid",
                    key=f"line:{line['lineId']}:paid",
                    order_id=order_id,
                    line_id=line["lineId"],
                    note=f"{line['totalMinor']} {order['currency']} minor paid",
                )
        await tx.session.flush()
        await self.after_growth(tx, account, cause=f"order:{order_id}")
        return True

    # -- reversing ---------------------------------------------------------------------------------
    async def on_order_refunded(self, kernel: Any, event: Event) -> None:
        async with kernel.transaction() as tx:
            await self.grant_for_order(tx, int(event.payload["orderId"]))  # no-op unless the payment's event lags
            await self.reverse_refund(tx, event)

    async def reverse_refund(self, tx: Transaction, event: Event) -> int:
        """Take back, line by line, the growth this refund event's amounts call for. Returns the
        growth taken back. Each (line, event) is applied once."""
        refunded = [line for line in event.payload.get("lines") or [] if line.get("lineId") is not None]
        if not refunded:
            return 0
        order_id = int(event.payload["orderId"])
        rows = {
            r.line_id: r
            for r in (
                await tx.session.scalars(
                    select(Line).where(Line.line_id.in_([int(line["lineId"]) for line in refunded])).execution_options(populate_existing=True)
                )
            ).all()
        }
        if not rows:
            return 0  # the order earned nothing (a kind without growth, or unpaid)
        account = await self.lock_account(tx, next(iter(rows.values())).member_id)
        snapshot = await self.kernel.service("orders").snapshot(tx, order_id)
        left = {int(line["lineId"]): int(line["quantity"]) - int(line["refundedQuantity"]) for line in (snapshot or {}).get("lines") or []}
        taken = 0
        for line in refunded:
            row = rows.get(int(line["lineId"]))
            key = f"line:{line['lineId']}:refund:{event.id}"
            if row is None or await self.entry_by_key(tx.session, key) is not None:
                continue
            await tx.session.refresh(row)  # the account lock is held: this is the line as it is now
            row.refunded_minor += int(line.get("amountMinor") or 0)
            target = line_reversal(row.growth, row.paid_minor, row.refunded_minor, fully_refunded=left.get(row.line_id, 1) == 0)
            delta = target - row.reversed
            row.reversed = target
            # Written even when zero: the key marks this refund as counted for the line.
            await self.write(
                tx,
                account,
                -delta,
                reason="order_refunded",
                key=key,
                order_id=order_id,
                line_id=row.line_id,
                note=f"{line.get('amountMinor', 0)} minor refunded",
            )
            taken += delta
        return taken

    # -- staff --------------------------------------------------------------------------------------
    async def adjust(self, tx: Transaction, member_id: int, delta: int, reason: str, *, staff_id: int | None) -> Entry:
        """A staff correction with a reason. A decrease never takes growth below zero; like a
        refund, it lowers the tier only at the next review."""
        note = (reason or "").strip()
        if not note:
            raise DomainError("MEMBER_TIERS_REASON_REQUIRED", "Say why the growth changes.", field="input.reason")
        if len(note) > 200:
            raise DomainError("MEMBER_TIERS_REASON_REQUIRED", "A reason has at most 200 characters.", field="input.reason")
        if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0 or abs(delta) > MAX_ADJUST:
            raise DomainError("MEMBER_TIERS_INVALID_DELTA", f"A change is a non-zero whole number within ±{MAX_ADJUST}.", field="input.delta")
        account = await self.lock_account(tx, member_id)
        if account.growth + delta < 0:
            raise DomainError(
                "MEMBER_TIERS_INVALID_DELTA",
                f"The member has {account.growth} growth; it cannot go below zero.",
                field="input.delta",
                growth=account.growth,
            )
        count = len((await tx.session.scalars(select(Entry.id).where(Entry.member_id == member_id, Entry.reason == "staff_adjust"))).all())
        entry = await self.write(
            tx, account, delta, reason="staff_adjust", key=f"adjust:{member_id}:{count + 1}", note=f"staff {staff_id}: {note}" if staff_id else note
        )
        await self.after_growth(tx, account, cause=f"adjust:{entry.id}")
        return entry

    # -- tiers ----------------------------------------------------------------------------------------
    async def after_growth(self, tx: Transaction, account: Account, *, cause: str) -> None:
        """Raise the tier at once when the growth reached a higher threshold (never lower it)."""
        target = raised_tier(account.tier, account.growth, self.tiers)
        if target > account.tier:
            await self.move_tier(tx, account, target, cause=cause)
