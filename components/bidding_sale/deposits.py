"""Deposits (保证金) as real money.

A deposit is an order of kind ``auction_deposit`` (placed by ``payLotDeposit``, see
checkout.py), paid through the orders payment-provider interface like any order — the sandbox,
WeChat Pay or whatever provider the brand installed — and given back through the same provider
by refunding that order. This module never talks to a provider itself: money moves only through
the orders service, and the ledger is written from orders' own ``order.paid`` /
``order.refunded`` events, so it is a record of what the provider actually did.

States of a bidder's deposit (``Bidder.deposit_state``)::

    none ─payLotDeposit─▶ pending ─order paid─▶ frozen ─close, lost─▶ released (refunded)
      ▲                      │                    │   ─close, won──▶ applied ─winner defaults─▶ forfeited
      └──order cancelled─────┘                    │                     └─winner's order refunded─▶ returned (refunded)
                                                  └─unsold / cancelled lot─▶ released (refunded)

A deposit paid after the lot stopped taking bids is refunded at once (released).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from components.bidding_sale.checkout import DEPOSIT_INPUT, DEPOSIT_KIND, deposit_lot_of
from components.bidding_sale.models import Bidder, DepositEntry, Lot
from core.clock import as_utc
from core.errors import DomainError
from core.transaction import Event, Transaction

HELD = ("frozen", "applied", "forfeited")  # states in which the brand holds the deposit money


def takes_bids(lot: Lot, now: Any) -> bool:
    return lot.status == "scheduled" and now < as_utc(lot.ends_at)


class Deposits:
    def __init__(self, kernel: Any) -> None:
        self.kernel = kernel

    @property
    def orders(self) -> Any:
        return self.kernel.service("orders")

    async def bidder(self, tx: Transaction, lot: Lot, member_id: int) -> Bidder:
        bidder = await tx.session.scalar(select(Bidder).where(Bidder.lot_id == lot.id, Bidder.member_id == member_id))
        if bidder is None:
            bidder = Bidder(lot_id=lot.id, member_id=member_id, max_amount=0, deposit_state="none")
            tx.session.add(bidder)
            await tx.session.flush()
        return bidder

    # -- paying ------------------------------------------------------------------------------------
    async def request(self, tx: Transaction, lot: Lot, member_id: int) -> Bidder:
        """The member's deposit order for this lot (placed now, or the one still waiting for
        payment): pay it with ``payOrder``. Asking again never makes a second order."""
        if lot.status == "draft":
            raise DomainError("BIDDING_SALE_LOT_NOT_OPEN", "This lot is not scheduled yet.", field="input.lotId")
        if not takes_bids(lot, tx.now()):
            raise DomainError("BIDDING_SALE_LOT_CLOSED", "This lot no longer takes bids.", field="input.lotId")
        if not lot.deposit:
            raise DomainError("BIDDING_SALE_NO_DEPOSIT", "This lot asks no deposit; bid right away.", field="input.lotId")
        bidder = await self.bidder(tx, lot, member_id)
        if bidder.deposit_state in ("pending", "frozen"):
            return bidder
        bidder.deposit_order_id = await self.orders.create_order(
            tx, member_id=member_id, lines=[(lot.sku_id, 1)], line_inputs=[{DEPOSIT_INPUT: {"lotId": lot.id}}], placed_by_system=True
        )
        bidder.deposit_state, bidder.deposit_ref = "pending", f"order:{bidder.deposit_order_id}"
        await tx.session.flush()
        return bidder

    async def _bidder_of_order(self, tx: Transaction, event: Event) -> tuple[Lot, Bidder] | None:
        lot_id = deposit_lot_of(event.payload)
        if lot_id is None:
            return None
        lot = await tx.session.get(Lot, lot_id, with_for_update=tx.kernel.db.is_postgresql)
        bidder = await tx.session.scalar(select(Bidder).where(Bidder.deposit_order_id == event.payload["orderId"]))
        return (lot, bidder) if lot is not None and bidder is not None else None

    async def on_paid(self, tx: Transaction, event: Event) -> None:
        """The provider confirmed a deposit (in the payment's transaction): the bidder may bid.
        A deposit that arrives after the lot stopped taking bids goes straight back."""
        found = await self._bidder_of_order(tx, event)
        if found is None:
            return
        lot, bidder = found
        await self._entry(tx, lot, bidder, "paid", int(event.payload["totalMinor"]))
        if bidder.deposit_state == "pending" and takes_bids(lot, tx.now()):
            bidder.deposit_state = "frozen"
            await tx.emit(
                "bidding_sale.deposit_frozen", {"lotId": lot.id, "memberId": bidder.member_id, "amountMinor": int(event.payload["totalMinor"])}
            )
            return
        bidder.deposit_state = "released"
        await self.orders.refund(tx, bidder.deposit_order_id, reason="bidding_sale: the lot closed before the deposit was paid")

    async def on_cancelled(self, tx: Transaction, event: Event) -> None:
        """An unpaid deposit order was cancelled (timeout, the member): nothing is held."""
        found = await self._bidder_of_order(tx, event)
        if found is not None and found[1].deposit_state == "pending":
            found[1].deposit_state = "none"

    async def on_refunded(self, tx: Transaction, event: Event) -> None:
        """Every refund of a deposit order enters the ledger, whoever made it (this component
        releasing it, or staff through after-sale: then the deposit no longer counts)."""
        found = await self._bidder_of_order(tx, event)
        if found is None:
            return
        lot, bidder = found
        await self._entry(tx, lot, bidder, "refunded", int(event.payload.get("amountMinor") or 0))
        if bidder.deposit_state in HELD:
            bidder.deposit_state = "returned"

    # -- the close and after -----------------------------------------------------------------------
    async def settle_at_close(self, tx: Transaction, lot: Lot, winner: int | None) -> None:
        """Losers' deposits go back through the provider; the winner's is applied to the price.
        Deposit orders nobody paid are cancelled (a payment landing later is refunded by orders)."""
        bidders = (
            await tx.session.scalars(
                select(Bidder).where(Bidder.lot_id == lot.id, Bidder.deposit_state.in_(("pending", "frozen"))).order_by(Bidder.id)
            )
        ).all()
        for bidder in bidders:
            if bidder.deposit_state == "pending":
                if await self.orders.cancel_unless_busy(tx, bidder.deposit_order_id, reason="bidding_sale: the lot closed"):
                    bidder.deposit_state = "none"
            elif bidder.member_id == winner:
                bidder.deposit_state = "applied"
                await self._entry(tx, lot, bidder, "applied", min(lot.deposit, lot.current_price or 0))
            else:
                bidder.deposit_state = "released"
                await self.orders.refund(tx, bidder.deposit_order_id, reason="bidding_sale: deposit released")

    async def forfeit(self, tx: Transaction, lot: Lot, member_id: int) -> int:
        """The winner defaulted: the brand keeps the applied deposit. Returns the amount kept."""
        bidder = await tx.session.scalar(select(Bidder).where(Bidder.lot_id == lot.id, Bidder.member_id == member_id))
        if bidder is None or bidder.deposit_state != "applied":
            return 0
        bidder.deposit_state = "forfeited"
        await self._entry(tx, lot, bidder, "forfeited", lot.deposit)
        return lot.deposit

    async def give_back(self, tx: Transaction, lot: Lot, member_id: int) -> int:
        """The winner's order was refunded whole: the deposit applied to it goes back too,
        through the provider. Returns the amount."""
        bidder = await tx.session.scalar(select(Bidder).where(Bidder.lot_id == lot.id, Bidder.member_id == member_id))
        if bidder is None or bidder.deposit_state != "applied":
            return 0
        await self.orders.refund(tx, bidder.deposit_order_id, reason="bidding_sale: the winner's order was refunded")
        return lot.deposit

    async def _entry(self, tx: Transaction, lot: Lot, bidder: Bidder, kind: str, amount: int) -> None:
        tx.session.add(
            DepositEntry(
                lot_id=lot.id, member_id=bidder.member_id, order_id=bidder.deposit_order_id, kind=kind, amount_minor=amount, created_at=tx.now()
            )
        )
        await tx.session.flush()

    # -- the ledger ---------------------------------------------------------------------------------
    async def ledger(self, session: Any, lot_id: int) -> list[DepositEntry]:
        return list((await session.scalars(select(DepositEntry).where(DepositEntry.lot_id == lot_id).order_by(DepositEntry.id))).all())

    async def reconcile(self, tx: Transaction, lot_id: int) -> list[str]:
        """Every way the deposit ledger of a lot disagrees with the deposit orders' payments
        (empty: it reconciles). Per deposit order: the ledger's paid entries equal what the
        order took, its refunded entries what the order gave back, and what is left held
        matches the bidder's state (held: the lot's deposit; otherwise nothing)."""
        lot = await tx.session.get(Lot, lot_id)
        problems: list[str] = []
        entries = await self.ledger(tx.session, lot_id)
        bidders = (await tx.session.scalars(select(Bidder).where(Bidder.lot_id == lot_id, Bidder.deposit_order_id.is_not(None)))).all()
        # Every deposit order the ledger or a bidder knows (a deposit staff gave back may have been
        # paid again, with a new order).
        order_ids = sorted({e.order_id for e in entries} | {b.deposit_order_id for b in bidders})
        held_by: dict[int, int] = {}
        for order_id in order_ids:
            mine = [e for e in entries if e.order_id == order_id]
            paid = sum(e.amount_minor for e in mine if e.kind == "paid")
            refunded = sum(e.amount_minor for e in mine if e.kind == "refunded")
            order = await self.orders.snapshot(tx, order_id)
            took = order["totalMinor"] if order and order["status"] not in ("pending_payment", "cancelled") else 0
            gave_back = order["refundedMinor"] if order else 0
            if paid != took:
                problems.append(f"order {order_id}: the ledger says {paid} paid, the order took {took}")
            if refunded != gave_back:
                problems.append(f"order {order_id}: the ledger says {refunded} refunded, the order gave back {gave_back}")
            if order is not None:
                held_by[order["memberId"]] = held_by.get(order["memberId"], 0) + paid - refunded
        for bidder in bidders:
            held = lot.deposit if bidder.deposit_state in HELD else 0
            if held_by.get(bidder.member_id, 0) != held:
                problems.append(
                    f"member {bidder.member_id}: {held_by.get(bidder.member_id, 0)} held for a {bidder.deposit_state} deposit of {lot.deposit}"
                )
        return problems

    async def guard(self, tx: Transaction, order: Any) -> str | None:
        """Orders' fulfilment guard: a deposit is money, not goods, so it is never shipped."""
        return "A deposit is not shipped." if order.kind == DEPOSIT_KIND else None
