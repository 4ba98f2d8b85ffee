"""Applying payments and refunds to the aggregates, each exactly once.

One path for live events and for the rebuild: a fact row per payment (``paid:<order>``) and
per refund (``refund:<refund>``) is inserted with ON CONFLICT DO NOTHING, and only the facts
that went in move the daily rows (atomic ``x = x + delta`` upserts) and the customers'.
So an event delivered twice, two workers delivering it at once, or a rebuild overlapping live
traffic, all count a payment once.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from components.insights import rules
from components.insights.models import Customer, Daily, Fact
from core.transaction import Transaction

CHUNK = 1000  # members locked or recomputed per statement (an IN list)


def insert_for(tx: Transaction, model: Any) -> Any:
    """A Core INSERT on the model's table (not the ORM's bulk path: plain executemany batches)."""
    dialect = postgresql if tx.kernel.db.is_postgresql else sqlite
    return dialect.insert(model.__table__)


def _chunks(rows: list[Any], size: int = CHUNK) -> Iterable[list[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


class Ledger:
    def __init__(self, kernel: Any) -> None:
        self.kernel = kernel

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.kernel.blueprint.brand.timezone)

    def facts(self, paid: list[dict[str, Any]], refunds: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Fact rows for the history service's paid orders and refunds (refunds of no line skipped)."""
        rows = [
            {
                "key": f"paid:{o['orderId']}",
                "kind": "paid",
                "member_id": o["memberId"],
                "order_id": o["orderId"],
                "at": o["paidAt"],
                "day": rules.local_day(o["paidAt"], self.zone),
                "amount_minor": int(o["totalMinor"]),
                "referrer_member_id": _referrer(o),
            }
            for o in paid
        ]
        rows += [
            {
                "key": f"refund:{r['refundId']}",
                "kind": "refund",
                "member_id": r["memberId"],
                "order_id": r["orderId"],
                "at": r["at"],
                "day": rules.local_day(r["at"], self.zone),
                "amount_minor": int(r["amountMinor"]),
                "referrer_member_id": None,
            }
            for r in refunds
            if r["lines"]
        ]
        return rows

    async def apply(self, tx: Transaction, paid: list[dict[str, Any]], refunds: list[dict[str, Any]], *, customers: bool = True) -> set[int]:
        """Count what was not counted yet; returns the members whose facts changed.

        ``customers=False`` leaves the per-customer rows to the caller (the rebuild recomputes
        them once at the end instead of once per page)."""
        rows = self.facts(paid, refunds)
        if not rows:
            return set()
        members = sorted({row["member_id"] for row in rows})
        if customers:
            await self.lock_customers(tx, members)  # before the facts: one lock order for everyone
        # executemany: SQLAlchemy batches the rows into few statements (its "insertmanyvalues")
        # and still hands back the keys of the rows that went in.
        stmt = insert_for(tx, Fact).on_conflict_do_nothing(index_elements=["key"]).returning(Fact.__table__.c.key)
        inserted: set[str] = set((await tx.session.execute(stmt, rows)).scalars().all())
        if not inserted:
            return set()
        deltas: rules.Deltas = {}
        for order in paid:
            if f"paid:{order['orderId']}" in inserted:
                rules.add_paid(deltas, rules.local_day(order["paidAt"], self.zone), order)
        for refund in refunds:
            if f"refund:{refund['refundId']}" in inserted:
                rules.add_refund(deltas, rules.local_day(refund["at"], self.zone), refund)
        await self.add_daily(tx, deltas)
        changed = {row["member_id"] for row in rows if row["key"] in inserted}
        if customers:
            await self.recompute_customers(tx, sorted(changed), locked=True)
        return changed

    async def add_daily(self, tx: Transaction, deltas: rules.Deltas) -> None:
        # Sorted: two transactions adding to the same days take the rows in the same order.
        rows = [
            {"day": d, "dimension": dim, "ref": ref, "orders": v[0], "gross_minor": v[1], "refunded_minor": v[2]}
            for (d, dim, ref), v in sorted(deltas.items())
        ]
        if not rows:
            return
        stmt = insert_for(tx, Daily)
        stmt = stmt.on_conflict_do_update(
            index_elements=["day", "dimension", "ref"],
            set_={
                "orders": Daily.__table__.c.orders + stmt.excluded.orders,
                "gross_minor": Daily.__table__.c.gross_minor + stmt.excluded.gross_minor,
                "refunded_minor": Daily.__table__.c.refunded_minor + stmt.excluded.refunded_minor,
            },
        )
        await tx.session.execute(stmt, rows)

    async def lock_customers(self, tx: Transaction, members: list[int]) -> None:
        """Make sure each member has a row and hold it: recomputing a customer from their facts
        must see every fact a concurrent transaction for the same member committed."""
        for chunk in _chunks(members):
            await tx.session.execute(
                insert_for(tx, Customer).on_conflict_do_nothing(index_elements=["member_id"]),
                [{"member_id": m, "orders": 0, "paid_minor": 0, "refunded_minor": 0} for m in chunk],
            )
            if tx.kernel.db.is_postgresql:
                await tx.session.execute(
                    select(Customer.member_id).where(Customer.member_id.in_(chunk)).order_by(Customer.member_id).with_for_update()
                )

    async def recompute_customers(self, tx: Transaction, members: list[int], *, locked: bool = False) -> None:
        """Each member's row from their facts: counts, sums, the first and last payment."""
        for chunk in _chunks(members):
            if not locked:
                await self.lock_customers(tx, chunk)
            paid = Fact.kind == "paid"
            sums = {
                m: (int(n or 0), int(p or 0), int(r or 0), last)
                for m, n, p, r, last in (
                    await tx.session.execute(
                        select(
                            Fact.member_id,
                            func.sum(case((paid, 1), else_=0)),
                            func.sum(case((paid, Fact.amount_minor), else_=0)),
                            func.sum(case((paid, 0), else_=Fact.amount_minor)),
                            func.max(case((paid, Fact.at))),
                        )
                        .where(Fact.member_id.in_(chunk))
                        .group_by(Fact.member_id)
                    )
                ).all()
            }
            rank = func.row_number().over(partition_by=Fact.member_id, order_by=(Fact.at, Fact.order_id)).label("rank")
            ranked = (
                select(Fact.member_id, Fact.order_id, Fact.at, Fact.day, Fact.referrer_member_id, rank)
                .where(paid, Fact.member_id.in_(chunk))
                .subquery()
            )
            first = {row.member_id: row for row in (await tx.session.execute(select(ranked).where(ranked.c.rank == 1))).all()}
            values = []
            for member in chunk:
                n, p, r, last = sums.get(member, (0, 0, 0, None))
                head = first.get(member)
                values.append(
                    {
                        "member_id": member,
                        "orders": n,
                        "paid_minor": p,
                        "refunded_minor": r,
                        "last_paid_at": last,
                        "first_order_id": head.order_id if head else None,
                        "first_paid_at": head.at if head else None,
                        "first_day": head.day if head else None,
                        "referrer_member_id": head.referrer_member_id if head else None,
                    }
                )
            await tx.session.execute(update(Customer), values)

    async def forget(self, tx: Transaction, first: date, last: date) -> set[int]:
        """Drop the facts and daily rows of brand days first..last; returns the members concerned."""
        members = set((await tx.session.scalars(select(Fact.member_id).where(Fact.day.between(first, last)).distinct())).all())
        await tx.session.execute(Fact.__table__.delete().where(Fact.day.between(first, last)))
        await tx.session.execute(Daily.__table__.delete().where(Daily.day.between(first, last)))
        return members


def _referrer(order: dict[str, Any]) -> int | None:
    """The member who brought this order (its proven sharer), never the buyer."""
    referrer = rules.member_pk(order["source"].get("sharerMemberId"))
    return None if referrer == order["memberId"] else referrer
