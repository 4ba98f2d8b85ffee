"""The commission ledger: the only code that moves a promoter's balances.

Every change appends one :class:`Entry` and moves the matching counter on the promoter's row
in the same transaction, so at every commit

    frozen_minor    = Σ entry.amount_minor where bucket = frozen
    available_minor = Σ entry.amount_minor where bucket = available

An entry's ``key`` is unique: posting the same key twice (a replayed job) writes nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from components.distribution.models import Entry, Promoter
from core.transaction import Transaction

BUCKETS = ("frozen", "available")
COLUMN = {"frozen": Promoter.frozen_minor, "available": Promoter.available_minor}


async def post(
    tx: Transaction,
    promoter_id: int,
    bucket: str,
    kind: str,
    amount_minor: int,
    key: str,
    *,
    commission_id: int | None = None,
    withdrawal_id: int | None = None,
) -> bool:
    """Append an entry and move the balance; False (nothing written) when ``key`` was posted."""
    if amount_minor == 0:
        return False
    try:
        async with tx.session.begin_nested():
            tx.session.add(
                Entry(
                    promoter_id=promoter_id,
                    bucket=bucket,
                    kind=kind,
                    amount_minor=amount_minor,
                    key=key,
                    commission_id=commission_id,
                    withdrawal_id=withdrawal_id,
                    created_at=tx.now(),
                )
            )
    except IntegrityError:
        return False
    column = COLUMN[bucket]
    await tx.session.execute(
        update(Promoter).where(Promoter.id == promoter_id).values({column: column + amount_minor}).execution_options(synchronize_session=False)
    )
    return True


async def take(tx: Transaction, promoter_id: int, amount_minor: int, key: str, *, withdrawal_id: int) -> bool:
    """Take ``amount_minor`` from the available balance if it is there (a conditional UPDATE:
    concurrent withdrawals of one promoter never take more than the balance). False: too little."""
    taken = await tx.session.execute(
        update(Promoter)
        .where(Promoter.id == promoter_id, Promoter.available_minor >= amount_minor)
        .values(available_minor=Promoter.available_minor - amount_minor)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:
        return False
    tx.session.add(
        Entry(
            promoter_id=promoter_id,
            bucket="available",
            kind="withdrawal",
            amount_minor=-amount_minor,
            key=key,
            withdrawal_id=withdrawal_id,
            created_at=tx.now(),
        )
    )
    await tx.session.flush()
    return True


async def sums(session: Any, promoter_id: int) -> dict[str, int]:
    """What the entries add up to, per bucket (the invariant's right-hand side)."""
    rows = (
        await session.execute(
            select(Entry.bucket, func.coalesce(func.sum(Entry.amount_minor), 0)).where(Entry.promoter_id == promoter_id).group_by(Entry.bucket)
        )
    ).all()
    found = {bucket: int(total) for bucket, total in rows}
    return {bucket: found.get(bucket, 0) for bucket in BUCKETS}
