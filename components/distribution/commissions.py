"""Commission from order events, inside the order's own transaction.

Why in-transaction (``registrar.on(..., in_transaction=True)``): the ledger must equal the money
at every commit. Commission appears in the transaction that takes the payment, shrinks in the
one that refunds, and an after-commit delivery could run a refund's reversal before the
payment's accrual. Every step is keyed (line + level, event id + line + level), so nothing is
posted twice.

A line's commission is FROZEN until the order's after-sale window has passed (a timer at
completion + ``orders.after_sale_window``), then SETTLED into the available balance. A refund
before that lowers the frozen amount (CANCELLED at zero); after it, a clawback entry takes the
difference from the available balance, which may go negative and is netted from later
commission."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from components.distribution import ledger
from components.distribution.models import Commission, Spend
from components.distribution.rules import Rate, commission, remaining
from core.gql.relay import from_global_id
from core.transaction import Event, Transaction

UNFREEZE_JOB = "distribution.unfreeze"


def member_pk(value: object) -> int:
    """The order's proven ``source.sharerMemberId``: a Member global id (an int from older rows)."""
    return value if isinstance(value, int) else int(from_global_id(str(value))[1])


class Commissions:
    def __init__(self, service: Any) -> None:
        self.service = service

    async def _add_spend(self, tx: Transaction, member_id: int, amount_minor: int) -> None:
        row = await tx.session.get(Spend, member_id)
        if row is None:
            tx.session.add(Spend(member_id=member_id, paid_minor=amount_minor))
        else:
            row.paid_minor = row.paid_minor + amount_minor
        await tx.session.flush()

    async def on_order_paid(self, tx: Transaction, event: Event) -> None:
        payload = event.payload
        buyer = int(payload["memberId"])
        await self._add_spend(tx, buyer, int(payload.get("totalMinor") or 0))
        promoters = self.service.promoters
        sharer = (payload.get("source") or {}).get("sharerMemberId")
        if sharer is not None:  # proven by members.share_codes at checkout: a click on a promoter's link
            await promoters.bind(tx, buyer, member_pk(sharer), strict=False)
        now = tx.now()
        first = await promoters.referrer(tx.session, buyer, now)
        if first is None:
            return
        earners = [(1, first)]
        if self.service.config.levels == 2:
            second = await promoters.referrer(tx.session, first, now)
            if second is not None and second != buyer:
                earners.append((2, second))
        rates = await self.service.rules.rates_for(tx.session, [int(line["skuId"]) for line in payload.get("lines") or ()])
        for level, member_id in earners:
            promoter = await promoters.active(tx.session, member_id)
            for line in payload.get("lines") or ():
                rate = rates.get((int(line["skuId"]), level)) or self.service.config.default_rate(level)
                paid, quantity = int(line["totalMinor"]), int(line["quantity"])
                amount = commission(rate, paid_minor=paid, quantity=quantity)
                # Level one keeps a row even at zero commission: its paid amount is the promoter's sales.
                if (amount <= 0 and level == 2) or await self._find(tx, int(line["lineId"]), level) is not None:
                    continue
                row = Commission(
                    promoter_id=promoter.id,
                    buyer_id=buyer,
                    order_id=int(payload["orderId"]),
                    order_line_id=int(line["lineId"]),
                    sku_id=int(line["skuId"]),
                    level=level,
                    kind=rate.kind,
                    value=rate.value,
                    quantity=quantity,
                    paid_minor=paid,
                    refunded_minor=0,
                    refunded_quantity=0,
                    amount_minor=amount,
                    status="frozen",
                    created_at=now,
                )
                tx.session.add(row)
                await tx.session.flush()
                await ledger.post(tx, promoter.id, "frozen", "commission", amount, f"accrue:{row.order_line_id}:{level}", commission_id=row.id)

    async def _find(self, tx: Transaction, line_id: int, level: int) -> Commission | None:
        return await tx.session.scalar(select(Commission).where(Commission.order_line_id == line_id, Commission.level == level))

    async def on_order_refunded(self, tx: Transaction, event: Event) -> None:
        payload = event.payload
        await self._add_spend(tx, int(payload["memberId"]), -int(payload.get("amountMinor") or 0))
        for line in payload.get("lines") or ():
            rows = (
                await tx.session.scalars(
                    select(Commission)
                    .where(Commission.order_line_id == int(line["lineId"]))
                    .order_by(Commission.level)
                    .with_for_update()
                    .execution_options(populate_existing=True)
                )
            ).all()
            for row in rows:
                row.refunded_minor += int(line.get("amountMinor") or 0)
                row.refunded_quantity += int(line.get("quantity") or 0)
                left = remaining(
                    Rate(row.kind, row.value),
                    paid_minor=row.paid_minor,
                    quantity=row.quantity,
                    refunded_minor=row.refunded_minor,
                    refunded_quantity=row.refunded_quantity,
                )
                delta = row.amount_minor - max(0, min(left, row.amount_minor))
                row.amount_minor -= delta
                key = f"refund:{event.id}:{row.order_line_id}:{row.level}"
                if row.status == "settled":
                    await ledger.post(tx, row.promoter_id, "available", "clawback", -delta, key, commission_id=row.id)
                elif row.status == "frozen":
                    await ledger.post(tx, row.promoter_id, "frozen", "cancelled", -delta, key, commission_id=row.id)
                    if row.amount_minor == 0:
                        row.status = "cancelled"
                await tx.session.flush()

    async def on_order_completed(self, tx: Transaction, event: Event) -> None:
        """The after-sale window starts: unfreeze when it ends (the orders' own setting)."""
        order_id = int(event.payload["orderId"])
        if await tx.session.scalar(select(Commission.id).where(Commission.order_id == order_id).limit(1)) is None:
            return
        window = self.service.kernel.service("orders").after_sale_window
        await tx.schedule(UNFREEZE_JOB, str(order_id), tx.now() + window)

    async def unfreeze(self, tx: Transaction, timer: Any) -> None:
        """The window passed: every still-frozen commission of the order moves to available.
        Tolerates orders refunded meanwhile (their commissions are cancelled or smaller)."""
        await self.settle_order(tx, int(timer.key))

    async def settle_order(self, tx: Transaction, order_id: int) -> int:
        rows = (
            await tx.session.scalars(
                select(Commission)
                .where(Commission.order_id == order_id, Commission.status == "frozen")
                .order_by(Commission.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).all()
        for row in rows:
            key = f"settle:{row.order_line_id}:{row.level}"
            await ledger.post(tx, row.promoter_id, "frozen", "settled", -row.amount_minor, key, commission_id=row.id)
            await ledger.post(tx, row.promoter_id, "available", "settled", row.amount_minor, key + ":in", commission_id=row.id)
            row.status, row.settled_at = "settled", tx.now()
        await tx.session.flush()
        return len(rows)
