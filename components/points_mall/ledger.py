"""The points ledger: every change of a balance, the lots behind it, and their expiry.

Invariant: a member's balance equals the sum of their ledger entries and the sum of the
remainders of their unexpired lots (a debt under the `allow_negative` refund policy is a lot
with a negative remainder). Every change goes through :meth:`Ledger.credit` or
:meth:`Ledger.debit`, which write the entry, the balance and the lots together;
:meth:`Ledger.verify` checks the invariant for real (it raises, it is not an ``assert`` that
``python -O`` would strip).

Concurrency: every change first locks the member's account row (``FOR UPDATE`` on PostgreSQL;
SQLite's single writer already serialises), and the balance itself only moves through a
conditional ``UPDATE … WHERE balance >= :n``. Locks are always taken in the order account →
inventory → mall item (a redemption placed through checkout holds the SKU's stock before its
participant takes the item's), and nothing takes a mall item before inventory, so
redemptions, returns and refunds cannot deadlock each other.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from components.points_mall.models import Account, Entry, Lot
from components.points_mall.rules import LotView, ledger_disagreement, spend_plan
from core.clock import as_utc
from core.errors import DomainError
from core.models import TimerRow
from core.transaction import Transaction

MAX_POINTS = 10**12
EXPIRE_JOB = "points_mall.expire_due"
EXPIRE_MORE_JOB = "points_mall.expire_more"
EXPIRE_BATCH = 200  # members per expiry transaction; the rest are chained at once


class LedgerError(RuntimeError):
    """The ledger does not add up: a bug to stop at, never a member's mistake to answer."""


def _iso(value: datetime | None) -> str | None:
    return as_utc(value).isoformat() if value is not None else None


def _from_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class Ledger:
    """Mixed into :class:`~components.points_mall.service.PointsService`: the ledger's half."""

    def expires_at(self, earned_at: datetime) -> datetime | None:
        if self.expiry_rule == "never":
            return None
        if self.expiry_rule == "days":
            return earned_at + timedelta(days=self.expiry_days)
        # End of the following calendar year in the brand's time zone: points earned any time in
        # 2026 (Shanghai time) last until 2027-12-31 24:00 Shanghai time (16:00 UTC).
        local_year = earned_at.astimezone(self.zone).year
        return datetime.combine(date(local_year + 2, 1, 1), time(0), tzinfo=self.zone).astimezone(timezone.utc)

    async def lock_account(self, tx: Transaction, member_id: int) -> Account:
        """The member's account, created on first use and locked for this transaction."""
        stmt = select(Account).where(Account.member_id == member_id).execution_options(populate_existing=True)
        if tx.kernel.db.is_postgresql:
            stmt = stmt.with_for_update()
        account = await tx.session.scalar(stmt)
        if account is None:
            if await self.kernel.service("members").member(tx.session, member_id) is None:
                raise DomainError("KERNEL_NOT_FOUND", "No such member.", field="input.memberId")
            try:
                async with tx.session.begin_nested():
                    tx.session.add(Account(member_id=member_id, balance=0, tier=0, streak=0))
            except IntegrityError:
                pass  # a concurrent first change created it; the select below waits for its lock
            account = await tx.session.scalar(stmt)
        return account

    async def _balance(self, tx: Transaction, member_id: int) -> int:
        return int(await tx.session.scalar(select(Account.balance).where(Account.member_id == member_id)) or 0)

    async def entry_by_key(self, session: Any, member_id: int, key: str | None) -> Entry | None:
        if key is None:
            return None
        return await session.scalar(select(Entry).where(Entry.member_id == member_id, Entry.idempotency_key == key))

    async def _write_entry(
        self,
        tx: Transaction,
        member_id: int,
        delta: int,
        reason: str,
        reference: str | None,
        key: str | None,
        *,
        note: str | None = None,
        shortfall: int = 0,
        consumed: list[dict[str, Any]] | None = None,
    ) -> Entry:
        balance = await self._balance(tx, member_id)
        entry = Entry(
            member_id=member_id,
            delta=delta,
            reason=reason,
            reference=reference,
            balance_after=balance,
            shortfall=shortfall,
            consumed=consumed,
            note=note,
            idempotency_key=key,
            created_at=tx.now(),
        )
        tx.session.add(entry)
        await tx.session.flush()
        tx.publish(f"points_mall:member:{member_id}", {"balance": balance, "delta": delta, "reason": reason})
        return entry

    async def _replayed(
        self, session: Any, member_id: int, key: str | None, points: int, *, reason: str, reference: str | None, note: str | None, credit: bool
    ) -> Entry | None:
        """The entry a key already wrote, if this is a true replay of it; a key reused for a
        different change (other points, reason, reference or note) is refused, never answered
        with the first change as if it were this one."""
        entry = await self.entry_by_key(session, member_id, key)
        if entry is None:
            return None
        asked = entry.delta if credit else -entry.delta + (entry.shortfall or 0)
        same_direction = entry.delta > 0 if credit else entry.delta <= 0
        # A debit appends what happened to its note ("; shortfall: …"), so compare the start.
        same_note = note is None or entry.note == note or (entry.note or "").startswith(f"{note}; ")
        if not (same_direction and asked == points and entry.reason == reason and entry.reference == reference and same_note):
            raise DomainError(
                "POINTS_MALL_IDEMPOTENCY_CONFLICT",
                "This idempotency key was already used for a different change of points; nothing changed.",
                field="input.idempotencyKey",
                entryId=entry.id,
            )
        return entry

    async def verify(self, session: Any, member_id: int) -> int:
        """Check the ledger's invariant for one member and return the balance; raises
        :class:`LedgerError` when the balance, the entries and the lots disagree.

        Lots count whether expired or not: an expired lot not yet written off is still in the
        balance until its `expire` entry takes it out. Every credit and debit ends with this
        check, inside its transaction, so a bug rolls the change back instead of committing a
        ledger that does not add up."""
        balance = int(await session.scalar(select(Account.balance).where(Account.member_id == member_id)) or 0)
        entries = int(await session.scalar(select(func.coalesce(func.sum(Entry.delta), 0)).where(Entry.member_id == member_id)))
        lots = int(await session.scalar(select(func.coalesce(func.sum(Lot.remaining), 0)).where(Lot.member_id == member_id)))
        problem = ledger_disagreement(balance, entries, lots)
        if problem is not None:
            raise LedgerError(f"member {member_id}: {problem}")
        return balance

    @staticmethod
    def _check_points(points: Any, field: str) -> None:
        if isinstance(points, bool) or not isinstance(points, int) or not 0 < points <= MAX_POINTS:
            raise DomainError("POINTS_MALL_INVALID_QUANTITY", "Points must be a positive whole number.", field=field)

    async def credit(
        self,
        tx: Transaction,
        member_id: int,
        points: int,
        *,
        reason: str,
        reference: str | None = None,
        key: str | None = None,
        note: str | None = None,
        lots: list[tuple[int, datetime | None]] | None = None,
        field: str = "input.points",
    ) -> Entry:
        """Add points; the public way for any component to grant points.

        They form a new lot expiring by the brand's rule (or the given ``lots``: portions with
        their own expiry, for points given back). A debt is paid first. A replay of ``key``
        returns the first entry and adds nothing."""
        self._check_points(points, field)
        replayed = await self._replayed(tx.session, member_id, key, points, reason=reason, reference=reference, note=note, credit=True)
        if replayed is not None:
            return replayed
        await self.lock_account(tx, member_id)
        now = tx.now()
        portions = sorted(lots or [(points, self.expires_at(now))], key=lambda p: (p[1] is None, as_utc(p[1]) if p[1] else now))
        if sum(n for n, _ in portions) != points or any(n <= 0 for n, _ in portions):
            # A caller's bug, not the member's: refuse before the balance moves.
            raise LedgerError(f"credit of {points} points split into portions {[n for n, _ in portions]}")
        await tx.session.execute(
            update(Account)
            .where(Account.member_id == member_id)
            .values(balance=Account.balance + points)
            .execution_options(synchronize_session=False)
        )
        entry = await self._write_entry(tx, member_id, points, reason, reference, key, note=note)
        # A debt (negative lot) is paid from the soonest-expiring portions first.
        debt = await tx.session.scalar(select(Lot).where(Lot.member_id == member_id, Lot.remaining < 0))
        owed = -debt.remaining if debt is not None else 0
        for amount, expires in portions:
            paid = min(owed, amount)
            owed -= paid
            if debt is not None:
                debt.remaining += paid
            tx.session.add(Lot(member_id=member_id, entry_id=entry.id, earned=amount, remaining=amount - paid, expires_at=expires, created_at=now))
        await tx.session.flush()
        if any(expires is not None and as_utc(expires) <= now for _, expires in portions):
            await self.expire_member(tx, member_id)  # points given back whose lot expired meanwhile
        for expires in {expires for _, expires in portions if expires is not None and as_utc(expires) > now}:
            await self._watch_expiry(tx, expires)
        await self.verify(tx.session, member_id)
        return entry

    async def debit(
        self,
        tx: Transaction,
        member_id: int,
        points: int,
        *,
        reason: str,
        reference: str | None = None,
        key: str | None = None,
        shortfall: str = "refuse",
        note: str | None = None,
        field: str = "input",
    ) -> Entry:
        """Take points, soonest-expiring lots first, after writing off what has expired.

        ``shortfall`` says what happens when the balance does not cover it: ``refuse``
        (POINTS_MALL_NOT_ENOUGH_POINTS, nothing changes), ``allow_negative`` (a debt lot), or
        ``deduct_available`` (take what is there; the entry records the rest as its shortfall
        and a ``points_mall.shortfall`` event announces it)."""
        self._check_points(points, "input.points")
        replayed = await self._replayed(tx.session, member_id, key, points, reason=reason, reference=reference, note=note, credit=False)
        if replayed is not None:
            return replayed
        await self.lock_account(tx, member_id)
        await self.expire_member(tx, member_id)
        taken = await tx.session.execute(
            update(Account)
            .where(Account.member_id == member_id, Account.balance >= points)
            .values(balance=Account.balance - points)
            .execution_options(synchronize_session=False)
        )
        amount, missing = points, 0
        if taken.rowcount != 1:
            balance = await self._balance(tx, member_id)
            if shortfall == "allow_negative":
                note = f"{note + '; ' if note else ''}balance went negative: {points - max(balance, 0)} points owed"
            elif shortfall == "deduct_available":
                amount = max(balance, 0)
                missing = points - amount
                note = f"{note + '; ' if note else ''}shortfall: {missing} points had already been spent"
            else:
                raise DomainError(
                    "POINTS_MALL_NOT_ENOUGH_POINTS", f"You have {balance} points; this needs {points}.", field=field, balance=balance, needed=points
                )
            if amount:
                await tx.session.execute(
                    update(Account)
                    .where(Account.member_id == member_id)
                    .values(balance=Account.balance - amount)
                    .execution_options(synchronize_session=False)
                )
        consumed = await self._consume_lots(tx, member_id, amount)
        entry = await self._write_entry(tx, member_id, -amount, reason, reference, key, note=note, shortfall=missing, consumed=consumed)
        if missing:
            await tx.emit(
                "points_mall.shortfall", {"memberId": member_id, "entryId": entry.id, "reference": reference, "reason": reason, "missing": missing}
            )
        await self.verify(tx.session, member_id)
        return entry

    async def _consume_lots(self, tx: Transaction, member_id: int, points: int) -> list[dict[str, Any]]:
        lots = {lot.id: lot for lot in (await tx.session.scalars(select(Lot).where(Lot.member_id == member_id, Lot.remaining > 0))).all()}
        plan, left = spend_plan([LotView(lot.id, lot.remaining, as_utc(lot.expires_at) if lot.expires_at else None) for lot in lots.values()], points)
        consumed = []
        for lot_id, used in plan:
            lot = lots[lot_id]
            lot.remaining -= used
            consumed.append({"expiresAt": _iso(lot.expires_at), "points": used})
        if left > 0:
            # Only `allow_negative` gets here: what no lot covers is owed, as a debt lot.
            debt = await tx.session.scalar(select(Lot).where(Lot.member_id == member_id, Lot.remaining < 0))
            if debt is None:
                tx.session.add(Lot(member_id=member_id, earned=0, remaining=-left, expires_at=None, created_at=tx.now()))
            else:
                debt.remaining -= left
        await tx.session.flush()
        return consumed

    async def give_back(self, tx: Transaction, spent: Entry, points: int, *, already: int, reason: str, reference: str | None, key: str) -> Entry:
        """Return ``points`` of a spend (after ``already`` were returned before) with the
        expiries they had: the latest-expiring portions come back first."""
        portions: list[tuple[int, datetime | None]] = []
        skip, left = already, points
        for portion in reversed(spent.consumed or []):
            size = int(portion["points"])
            if skip >= size:
                skip -= size
                continue
            size -= skip
            skip = 0
            take = min(size, left)
            portions.append((take, _from_iso(portion["expiresAt"])))
            left -= take
            if not left:
                break
        if left:
            portions.append((left, self.expires_at(tx.now())))
        return await self.credit(tx, spent.member_id, points, reason=reason, reference=reference, key=key, lots=portions)

    # == expiry ==========================================================================================
    async def expire_member(self, tx: Transaction, member_id: int) -> int:
        """Write `expire` entries for the member's lots past their expiry; returns the points."""
        await self.lock_account(tx, member_id)
        now = tx.now()
        lots = (
            await tx.session.scalars(
                select(Lot).where(Lot.member_id == member_id, Lot.remaining > 0, Lot.expires_at <= now).order_by(Lot.expires_at, Lot.id)
            )
        ).all()
        total = 0
        for lot in lots:
            amount = lot.remaining
            lot.remaining = 0
            total += amount
            await tx.session.execute(
                update(Account)
                .where(Account.member_id == member_id)
                .values(balance=Account.balance - amount)
                .execution_options(synchronize_session=False)
            )
            local = as_utc(lot.expires_at).astimezone(self.zone)
            await self._write_entry(
                tx,
                member_id,
                -amount,
                "expire",
                f"lot:{lot.id}",
                f"expire:lot:{lot.id}",
                note=f"{amount} of {lot.earned} points earned by entry {lot.entry_id} expired at {local.isoformat()}",
            )
        return total

    async def _watch_expiry(self, tx: Transaction, expires_at: datetime) -> None:
        """Make sure a timer fires at (or before) ``expires_at``, so points expire on the dot
        rather than at the next hourly sweep. Brands with one expiry instant a year (the
        end-of-next-year rule) keep a single pending timer."""
        waiting = await tx.session.scalar(
            select(TimerRow.id)
            .where(TimerRow.job == EXPIRE_MORE_JOB, TimerRow.state == "pending", TimerRow.due_at > tx.now(), TimerRow.due_at <= expires_at)
            .limit(1)
        )
        if waiting is not None:
            return
        try:
            async with tx.session.begin_nested():
                await tx.schedule(EXPIRE_MORE_JOB, f"at:{_iso(expires_at)}", expires_at)
        except IntegrityError:
            pass  # a concurrent credit scheduled the same instant

    async def expire_due(self, tx: Transaction, _timer: Any = None) -> None:
        """The expiry job (on the dot, and hourly as a sweep): write off expired lots, a batch
        of members per transaction, then make sure the next expiry has its timer."""
        now = tx.now()
        members = (
            await tx.session.scalars(
                select(Lot.member_id)
                .where(Lot.remaining > 0, Lot.expires_at <= now)
                .group_by(Lot.member_id)
                .order_by(Lot.member_id)
                .limit(EXPIRE_BATCH + 1)
            )
        ).all()
        for member_id in members[:EXPIRE_BATCH]:
            await self.expire_member(tx, member_id)
        if len(members) > EXPIRE_BATCH:
            # New Year's Day expires everybody at once: chain the next batch now, not in an hour.
            # (A fresh key: the timer running now is marked done when this returns.)
            await tx.schedule(EXPIRE_MORE_JOB, f"more:{_iso(now)}:{members[EXPIRE_BATCH - 1]}", now)
            return
        upcoming = await tx.session.scalar(select(func.min(Lot.expires_at)).where(Lot.remaining > 0, Lot.expires_at > now))
        if upcoming is not None:
            await self._watch_expiry(tx, as_utc(upcoming))
