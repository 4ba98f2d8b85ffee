"""Auction rules: lots (staff) and bids (members). Bids on one lot are serialised by locking
the lot row (SQLite's single writer does the same), and every check re-reads the lot inside
that lock: the accepted bids form a strictly increasing sequence and a losing race learns the
new price. The arithmetic is in rules.py, deposits in deposits.py, the close and what follows
it (payment, default, runner-up, refund) in closing.py.

Lock order on PostgreSQL, the same everywhere so nothing deadlocks: the lot's close timer
(when the transaction may move or run it), then the lot's deposit orders (when it may refund
or cancel them), then the lot."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Mapping

from sqlalchemy import select

from components.bidding_sale import rules
from components.bidding_sale.checkout import AuctionCheckout
from components.bidding_sale.closing import CLOSE_JOB, Closing
from components.bidding_sale.deposits import Deposits
from components.bidding_sale.messages import channel, lot_message, mask
from components.bidding_sale.models import Bid, Bidder, Lot
from core.clock import as_utc
from core.errors import DomainError
from core.transaction import Transaction
from core.units import parse_duration

__all__ = ["AuctionService", "CLOSE_JOB", "channel", "lot_message", "mask"]


class AuctionService:
    def __init__(self, kernel: Any, settings: Mapping[str, Any]) -> None:
        self.kernel = kernel
        self.payment_due = parse_duration(settings.get("payment_due", "24h"))
        self.extend_window = parse_duration(settings.get("extend_window", "60s"))
        self.extend_by = parse_duration(settings.get("extend_by", "120s"))
        self.max_extensions = int(settings.get("max_extensions", 10))
        self.offer_runner_up = bool(settings.get("offer_runner_up", False))
        self.checkout = AuctionCheckout()
        self.deposits = Deposits(kernel)
        self.closing = Closing(self)

    # -- staff -------------------------------------------------------------------------------------
    async def create_lot(
        self,
        tx: Transaction,
        *,
        sku_id: int,
        start_price: int,
        increments: list[tuple[int, int]],
        starts_at: datetime,
        ends_at: datetime,
        reserve_price: int | None = None,
        buy_now_price: int | None = None,
        deposit: int = 0,
        schedule: bool = True,
        extend_window: timedelta | None = None,
        extend_by: timedelta | None = None,
        max_extensions: int | None = None,
        payment_due: timedelta | None = None,
    ) -> int:
        """A lot; per-lot soft-close and payment settings default to the blueprint's."""
        if (await self.kernel.service("catalog").skus(tx.session, [sku_id])).get(sku_id) is None:
            raise DomainError("KERNEL_NOT_FOUND", "No such SKU.", field="input.skuId")
        problem = rules.ladder_problem(increments)
        if problem:
            raise DomainError("BIDDING_SALE_INVALID_LOT", problem, field="input.increments")
        if ends_at <= starts_at or ends_at <= tx.now():
            raise DomainError("BIDDING_SALE_INVALID_LOT", "The lot must end after it starts, in the future.", field="input.endsAt")
        for field, message in rules.lot_problems(start_price=start_price, reserve_price=reserve_price, buy_now_price=buy_now_price, deposit=deposit)[
            :1
        ]:
            raise DomainError("BIDDING_SALE_INVALID_LOT", message, field=field)
        for name, value in (("extendWindow", extend_window), ("extendBy", extend_by), ("paymentDue", payment_due)):
            if value is not None and value <= timedelta(0):
                raise DomainError("BIDDING_SALE_INVALID_LOT", "Durations are above zero.", field=f"input.{name}")
        if max_extensions is not None and not 0 <= max_extensions <= 1000:
            raise DomainError("BIDDING_SALE_INVALID_LOT", "Extensions are 0 to 1000.", field="input.maxExtensions")
        lot = Lot(
            sku_id=sku_id,
            quantity=1,
            start_price=start_price,
            increments=[[int(t), int(s)] for t, s in increments],
            reserve_price=reserve_price,
            buy_now_price=buy_now_price,
            deposit=deposit,
            starts_at=starts_at,
            ends_at=ends_at,
            extend_window_s=int((extend_window or self.extend_window).total_seconds()),
            extend_by_s=int((extend_by or self.extend_by).total_seconds()),
            max_extensions=self.max_extensions if max_extensions is None else max_extensions,
            payment_due_s=int((payment_due or self.payment_due).total_seconds()),
            extensions=0,
            status="scheduled" if schedule else "draft",
            bid_count=0,
            seq=0,
            created_at=tx.now(),
        )
        tx.session.add(lot)
        await tx.session.flush()
        if schedule:
            await self._hold_stock(tx, lot)
            await tx.schedule(CLOSE_JOB, str(lot.id), ends_at)
        return lot.id

    def payment_due_of(self, lot: Lot) -> timedelta:
        return timedelta(seconds=lot.payment_due_s) if lot.payment_due_s else self.payment_due

    async def _hold_stock(self, tx: Transaction, lot: Lot) -> None:
        """Hold the lot's units from scheduling to the close: an auction must not sell what
        the shop has meanwhile sold elsewhere, and the close must always be able to make the
        winner's order. Short stock refuses the scheduling (INVENTORY_OUT_OF_STOCK)."""
        lot.reservation_id = await self.kernel.service("inventory").reserve(
            tx, lot.sku_id, lot.quantity, reason="auction", ref=f"auction_lot:{lot.id}", field="input.skuId"
        )

    async def free_stock(self, tx: Transaction, lot: Lot) -> None:
        if lot.reservation_id is not None:
            await self.kernel.service("inventory").release(tx, lot.reservation_id)

    async def schedule(self, tx: Transaction, lot_id: int) -> None:
        lot = await self.lot(tx, lot_id)
        if lot.status != "draft":
            raise DomainError("BIDDING_SALE_ILLEGAL_STATE", f"A {lot.status} lot cannot be scheduled.", field="input.lotId")
        if as_utc(lot.ends_at) <= tx.now():
            raise DomainError("BIDDING_SALE_INVALID_LOT", "The lot's end has passed; create a new lot.", field="input.lotId")
        lot.status = "scheduled"
        await self._hold_stock(tx, lot)
        await tx.schedule(CLOSE_JOB, str(lot.id), as_utc(lot.ends_at))
        self.publish(tx, lot)

    async def cancel(self, tx: Transaction, lot_id: int) -> None:
        await self.lock_for_close(tx, lot_id)
        lot = await self.lot(tx, lot_id)
        if lot.status not in ("draft", "scheduled"):
            raise DomainError("BIDDING_SALE_ILLEGAL_STATE", f"A {lot.status} lot cannot be cancelled.", field="input.lotId")
        if lot.status == "scheduled" and as_utc(lot.ends_at) <= tx.now():
            # The end is a fact, not the close timer's doing: the winner keeps the lot.
            raise DomainError("BIDDING_SALE_ILLEGAL_STATE", "This lot has ended; it closes with its result.", field="input.lotId", status="ended")
        lot.status, lot.closed_at = "cancelled", tx.now()
        await tx.cancel_timer(CLOSE_JOB, str(lot.id))
        await self.free_stock(tx, lot)
        await self.deposits.settle_at_close(tx, lot, winner=None)
        await tx.emit("bidding_sale.cancelled", {"lotId": lot.id})
        self.publish(tx, lot)

    # -- locks -------------------------------------------------------------------------------------
    async def lot(self, tx: Transaction, lot_id: int) -> Lot:
        lot = await tx.session.get(Lot, lot_id, with_for_update=tx.kernel.db.is_postgresql, populate_existing=True)
        if lot is None:
            raise DomainError("KERNEL_NOT_FOUND", "No such lot.", field="input.lotId")
        return lot

    async def lock_for_close(self, tx: Transaction, lot_id: int) -> None:
        """Before the lot: the deposit orders a close or cancel may refund or cancel, in the
        order a deposit payment takes them (its order, then the lot)."""
        if tx.kernel.db.is_postgresql:
            order_ids = (
                await tx.session.scalars(
                    select(Bidder.deposit_order_id).where(Bidder.lot_id == lot_id, Bidder.deposit_state.in_(("pending", "frozen")))
                )
            ).all()
            await self.kernel.service("orders").lock_orders(tx, [i for i in order_ids if i is not None])

    async def _lock_for_bid(self, tx: Transaction, lot_id: int) -> Lot:
        """The lot, locked for a bid. A bid that may move the close timer (soft close) or close the
        lot (buy-now) first takes what the close takes before the lot; whether it may is known
        from an unlocked look, as the end only moves later and the bid count only grows."""
        if tx.kernel.db.is_postgresql:
            peek = (
                await tx.session.execute(
                    select(Lot.ends_at, Lot.extend_window_s, Lot.extensions, Lot.max_extensions, Lot.bid_count, Lot.buy_now_price).where(
                        Lot.id == lot_id
                    )
                )
            ).first()
            if peek is not None:
                # (A close timer finding its row held by such a bid skips it; the bid either moves
                # it later or leaves it due for the worker's next round.)
                if peek.extensions < peek.max_extensions and as_utc(peek.ends_at) - tx.now() <= timedelta(seconds=peek.extend_window_s):
                    await tx.lock_timer(CLOSE_JOB, str(lot_id))
                if peek.buy_now_price is not None and peek.bid_count == 0:
                    await tx.lock_timer(CLOSE_JOB, str(lot_id))
                    await self.lock_for_close(tx, lot_id)
        return await self.lot(tx, lot_id)

    # -- bidding -----------------------------------------------------------------------------------------
    def is_open(self, lot: Lot, now: datetime) -> bool:
        return lot.status == "scheduled" and as_utc(lot.starts_at) <= now < as_utc(lot.ends_at)

    def minimum_bid(self, lot: Lot) -> int:
        return rules.minimum_bid(lot.increments, lot.start_price, lot.current_price)

    async def request_deposit(self, tx: Transaction, lot_id: int, member_id: int) -> Bidder:
        """The member's deposit order for the lot, to pay through any payment provider."""
        return await self.deposits.request(tx, await self.lot(tx, lot_id), member_id)

    async def buy_now(self, tx: Transaction, lot_id: int, member_id: int) -> dict[str, Any]:
        """Buy at the buy-now price. Checked under the lot's lock, like a bid: a bid that lands
        first withdraws the offer (BIDDING_SALE_BUY_NOW_UNAVAILABLE), never turns this into a bid."""
        lot = await self._lock_for_bid(tx, lot_id)
        if lot.buy_now_price is None or lot.bid_count > 0:
            raise DomainError(
                "BIDDING_SALE_BUY_NOW_UNAVAILABLE",
                "Buy-now is not offered (or bidding has begun).",
                field="input.lotId",
                currentPrice=lot.current_price,
            )
        return await self.place_bid(tx, lot_id, member_id, lot.buy_now_price, lot=lot)

    async def place_bid(
        self, tx: Transaction, lot_id: int, member_id: int, amount: int, maximum: int | None = None, *, lot: Lot | None = None
    ) -> dict[str, Any]:
        lot = lot or await self._lock_for_bid(tx, lot_id)
        now = tx.now()
        if lot.status == "scheduled" and now < as_utc(lot.starts_at) or lot.status == "draft":
            raise DomainError("BIDDING_SALE_LOT_NOT_OPEN", "Bidding has not started.", field="input.lotId")
        if not self.is_open(lot, now):
            # Past its end a lot takes no bids even before its close timer has run.
            raise DomainError("BIDDING_SALE_LOT_CLOSED", "Bidding has ended.", field="input.lotId", currentPrice=lot.current_price)
        if maximum is not None and maximum < amount:
            raise DomainError("BIDDING_SALE_INVALID_MAXIMUM", "Your maximum must be at least your bid.", field="input.maximum")
        bidder = await self.deposits.bidder(tx, lot, member_id)
        if lot.deposit and bidder.deposit_state != "frozen":
            raise DomainError(
                "BIDDING_SALE_DEPOSIT_REQUIRED",
                "Pay the lot's deposit before bidding.",
                field="input.lotId",
                depositMinor=lot.deposit,
                depositState=bidder.deposit_state,
            )
        if lot.leader_member_id == member_id:
            # The leader cannot bid against themselves, only raise their maximum.
            if maximum is None or maximum <= (lot.leader_max or 0):
                raise DomainError(
                    "BIDDING_SALE_ALREADY_LEADING",
                    "You are already the highest bidder; you may raise your maximum.",
                    field="input.amount",
                    currentPrice=lot.current_price,
                )
            lot.leader_max = bidder.max_amount = maximum
            await self._apply_reserve(tx, lot)
            self.publish(tx, lot)
            return {"lotId": lot.id, "leading": True}
        minimum = self.minimum_bid(lot)
        if amount < minimum:
            raise DomainError(
                "BIDDING_SALE_BID_TOO_LOW",
                f"The next bid must be at least {minimum}.",
                field="input.amount",
                currentPrice=lot.current_price,
                minimumBid=minimum,
            )
        if bidder.first_bid_at is None:
            bidder.first_bid_at = now
        if lot.buy_now_price is not None and lot.bid_count == 0 and amount >= lot.buy_now_price:
            # Before the ladder check: the buy-now price need not be a whole number of steps.
            bidder.max_amount = lot.buy_now_price
            await self._record(tx, lot, rules.Step(member_id, lot.buy_now_price, "buy_now"))
            lot.leader_member_id, lot.leader_max = member_id, lot.buy_now_price
            await self.closing.close(tx, lot)
            return {"lotId": lot.id, "leading": True}
        step = rules.increment_at(lot.increments, lot.current_price if lot.current_price is not None else lot.start_price)
        if (amount - minimum) % step:
            raise DomainError(
                "BIDDING_SALE_BID_NOT_ON_LADDER",
                f"Bids go up in steps of {step}.",
                field="input.amount",
                currentPrice=lot.current_price,
                minimumBid=minimum,
                step=step,
            )
        outcome = rules.resolve_bid(
            ladder=lot.increments, leader=lot.leader_member_id, leader_max=lot.leader_max, bidder=member_id, amount=amount, maximum=maximum
        )
        bidder.max_amount = max(bidder.max_amount, amount, maximum or amount)
        lot.leader_member_id, lot.leader_max = outcome.leader, outcome.leader_max
        for accepted in outcome.steps:
            await self._record(tx, lot, accepted)
        await self._apply_reserve(tx, lot)
        if outcome.outbid is not None:
            await tx.emit("bidding_sale.outbid", {"lotId": lot.id, "memberId": outcome.outbid, "priceMinor": lot.current_price})
        await self._soft_close(tx, lot, now)
        self.publish(tx, lot)
        return {"lotId": lot.id, "leading": outcome.leading}

    async def _apply_reserve(self, tx: Transaction, lot: Lot) -> None:
        """A leader whose maximum covers the reserve is taken to the reserve at once (recorded as
        a proxy bid, so the history explains every price the lot showed)."""
        price = rules.reserve_step(reserve=lot.reserve_price, current=lot.current_price, leader_max=lot.leader_max)
        if price is not None:
            await self._record(tx, lot, rules.Step(lot.leader_member_id, price, "proxy"))

    async def _record(self, tx: Transaction, lot: Lot, step: rules.Step) -> None:
        lot.seq += 1
        lot.bid_count += 1
        lot.current_price = step.price
        tx.session.add(Bid(lot_id=lot.id, seq=lot.seq, member_id=step.member_id, amount=step.price, kind=step.kind, created_at=tx.now()))
        await tx.session.flush()

    async def _soft_close(self, tx: Transaction, lot: Lot, now: datetime) -> None:
        new_end = rules.soft_close_end(
            ends_at=as_utc(lot.ends_at),
            now=now,
            window=timedelta(seconds=lot.extend_window_s),
            extend_by=timedelta(seconds=lot.extend_by_s),
            extensions=lot.extensions,
            max_extensions=lot.max_extensions,
        )
        if new_end is not None:
            lot.ends_at = new_end
            lot.extensions += 1
            await tx.schedule(CLOSE_JOB, str(lot.id), new_end)
            await tx.emit("bidding_sale.extended", {"lotId": lot.id, "endsAt": new_end.isoformat(), "extensions": lot.extensions})

    def publish(self, tx: Transaction, lot: Lot) -> None:
        tx.publish(channel(lot.id), lot_message(lot, tx.now()))
