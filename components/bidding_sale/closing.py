"""A lot's close and what follows it: the winner's order, its payment or default, the runner-up
offer after a default, a refunded winner's order.

States of a lot::

    draft ─schedule─▶ scheduled (OPEN inside its window) ─close─▶ sold ─winner pays─▶ paid ─refund─▶ refunded
      │                   │                               │   └─payment due passes─▶ defaulted
      │                   │                               │          └─(offer_runner_up) sold to the runner-up
      │                   │                               └─no bids / reserve not met─▶ unsold
      └───────cancel──────┴──▶ cancelled   (not once the end time has passed: the lot has ended)

Past its end time a scheduled lot takes no bids and cannot be cancelled even before the close
timer runs: the end is a fact, and the close only records its result.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from components.bidding_sale import rules
from components.bidding_sale.checkout import ACTIVITY, DEPOSIT_KIND, LOT_INPUT, lot_of
from components.bidding_sale.models import Bid, Bidder, Lot
from core.clock import as_utc
from core.transaction import Event, Transaction

CLOSE_JOB = "bidding_sale.close"


class Closing:
    def __init__(self, service: Any) -> None:
        self.service = service
        self.kernel = service.kernel

    @property
    def deposits(self) -> Any:
        return self.service.deposits

    async def close_due(self, tx: Transaction, timer: Any) -> None:
        """The close timer (its row is held by this transaction already: see service's lock order)."""
        await self.service.lock_for_close(tx, int(timer.key))
        lot = await self.service.lot(tx, int(timer.key))
        if lot.status != "scheduled":
            return
        if tx.now() < as_utc(lot.ends_at):  # a late bid moved the end: close then instead
            await tx.schedule(CLOSE_JOB, str(lot.id), as_utc(lot.ends_at))
            return
        await self.close(tx, lot)

    async def close(self, tx: Transaction, lot: Lot) -> None:
        lot.closed_at = tx.now()
        reserve_met = lot.reserve_price is None or (lot.current_price or 0) >= lot.reserve_price
        await tx.cancel_timer(CLOSE_JOB, str(lot.id))
        if lot.leader_member_id is None or not reserve_met:
            lot.status = "unsold"  # 流拍
            await self.service.free_stock(tx, lot)
            await self.deposits.settle_at_close(tx, lot, winner=None)
            await tx.emit("bidding_sale.closed", {"lotId": lot.id, "status": "unsold", "reserveMet": reserve_met})
            self.service.publish(tx, lot)
            return
        lot.status = "sold"
        winner = lot.leader_member_id
        # The held unit passes to the order inside this transaction: released and re-reserved
        # under the same stock-row lock, so no other buyer can take it in between. The lot's
        # quantity becomes its activity stock, which the order's line then holds under
        # (bidding_sale, lot) like any activity line.
        await self.service.free_stock(tx, lot)
        await self.kernel.service("inventory").define_activity(tx, ACTIVITY, str(lot.id), lot.sku_id, lot.quantity)
        # The winner's deposit is applied before the order is priced (checkout reads it).
        await self.deposits.settle_at_close(tx, lot, winner=winner)
        order_id = await self._place_order(tx, lot, winner)
        await tx.emit(
            "bidding_sale.closed", {"lotId": lot.id, "status": "sold", "winnerMemberId": winner, "priceMinor": lot.current_price, "orderId": order_id}
        )
        self.service.publish(tx, lot)

    async def _place_order(self, tx: Transaction, lot: Lot, member_id: int) -> int:
        # Through the one checkout, as the system: the participant claims the line, prices it
        # from the lot and writes the LotOrder row (see checkout.py).
        return await self.kernel.service("orders").create_order(
            tx,
            member_id=member_id,
            lines=[(lot.sku_id, lot.quantity)],
            line_inputs=[{LOT_INPUT: {"lotId": lot.id}}],
            placed_by_system=True,
            payment_timeout=self.service.payment_due_of(lot),
        )

    # -- order events ---------------------------------------------------------------------------------
    async def on_order(self, tx: Transaction, event: Event) -> None:
        """A deposit order paid or cancelled (deposits.py), or the winner's order paid (lot
        paid) or cancelled unpaid (defaulted: deposit forfeited; the runner-up offered the lot)."""
        if event.payload.get("kind") == DEPOSIT_KIND:
            handler = self.deposits.on_paid if event.name == "order.paid" else self.deposits.on_cancelled
            await handler(tx, event)
            return
        lot_id = lot_of(event.payload)
        if lot_id is None:
            return
        lot = await tx.session.get(Lot, lot_id)
        if lot is None or lot.status != "sold":
            return
        if event.name == "order.paid":
            lot.status = "paid"
        elif event.name == "order.cancelled":
            member = lot.leader_member_id
            lot.status = "defaulted"
            kept = await self.deposits.forfeit(tx, lot, member)
            await tx.emit("bidding_sale.defaulted", {"lotId": lot.id, "memberId": member, "depositMinor": kept})
            if self.service.offer_runner_up and lot.runner_up_member_id is None:
                await self._offer_runner_up(tx, lot, member)
        self.service.publish(tx, lot)

    async def _offer_runner_up(self, tx: Transaction, lot: Lot, defaulter: int) -> None:
        """Offer the lot to the runner-up at their own highest bid, if it meets the reserve: an
        order placed for them (pay it or let it lapse; nobody else is asked after them)."""
        maxima = (
            await tx.session.execute(
                select(Bidder.member_id, Bidder.max_amount)
                .where(Bidder.lot_id == lot.id, Bidder.first_bid_at.is_not(None))
                .order_by(Bidder.first_bid_at, Bidder.id)
            )
        ).all()
        member = rules.runner_up([(m, a) for m, a in maxima], defaulter)
        if member is None:
            return
        price = await tx.session.scalar(select(func.max(Bid.amount)).where(Bid.lot_id == lot.id, Bid.member_id == member))
        if price is None or (lot.reserve_price is not None and price < lot.reserve_price):
            return
        lot.status, lot.runner_up_member_id = "sold", member
        lot.leader_member_id, lot.current_price = member, price
        order_id = await self._place_order(tx, lot, member)
        await tx.emit("bidding_sale.runner_up_offered", {"lotId": lot.id, "memberId": member, "priceMinor": price, "orderId": order_id})

    async def on_order_refunded(self, tx: Transaction, event: Event) -> None:
        """A deposit order's refund enters the ledger. The winner's order refunded whole
        (after-sale, staff) closes the lot as refunded, and the deposit applied to the price goes
        back too, through the provider (the order's refund returned only what was paid on top)."""
        if event.payload.get("kind") == DEPOSIT_KIND:
            await self.deposits.on_refunded(tx, event)
            return
        lot_id = lot_of(event.payload)
        if lot_id is None or not event.payload.get("full"):
            return
        lot = await tx.session.get(Lot, lot_id)
        if lot is None or lot.status not in ("sold", "paid"):
            return
        lot.status = "refunded"
        returned = await self.deposits.give_back(tx, lot, lot.leader_member_id)
        await tx.emit("bidding_sale.refunded", {"lotId": lot.id, "memberId": lot.leader_member_id, "depositReturnedMinor": returned})
        self.service.publish(tx, lot)
