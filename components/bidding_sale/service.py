"""Auction rules. Bids on one lot are serialised by locking the lot row (SQLite's single
writer does the same), and every check re-reads the lot inside that lock: the accepted bids
form a strictly increasing sequence and a losing race learns the new price."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any, Mapping

from sqlalchemy import select

from components.bidding_sale.checkout import ACTIVITY, LOT_INPUT, AuctionCheckout, lot_of
from components.bidding_sale.models import Bid, Bidder, Lot
from core.clock import as_utc
from core.errors import DomainError
from core.gql.relay import to_global_id
from core.transaction import Event, Transaction
from core.units import parse_duration

CLOSE_JOB = "bidding_sale.close"


def channel(lot_id: int) -> str:
    return f"bidding_sale:lot:{lot_id}"


def increment_at(lot: Lot, price: int) -> int:
    step = lot.increments[0][1]
    for threshold, size in lot.increments:
        if price >= threshold:
            step = size
    return step


def mask(member_id: int | None) -> str | None:
    """What other bidders see of the leader: enough to tell bidders apart, not who they are."""
    if member_id is None:
        return None
    text = f"{member_id:04d}"
    return f"{text[0]}***{text[-1]}"


class AuctionService:
    def __init__(self, kernel: Any, settings: Mapping[str, Any]) -> None:
        self.kernel = kernel
        self.payment_due = parse_duration(settings.get("payment_due", "24h"))
        self.extend_window = parse_duration(settings.get("extend_window", "60s"))
        self.extend_by = parse_duration(settings.get("extend_by", "120s"))
        self.max_extensions = int(settings.get("max_extensions", 10))
        self.checkout = AuctionCheckout()

    # -- staff -------------------------------------------------------------------------------------
    async def create_lot(
        self, tx: Transaction, *, sku_id: int, start_price: int, increments: list[tuple[int, int]], starts_at: datetime,
        ends_at: datetime, reserve_price: int | None = None, buy_now_price: int | None = None, deposit: int = 0,
        schedule: bool = True,
    ) -> int:
        if (await self.kernel.service("catalog").skus(tx.session, [sku_id])).get(sku_id) is None:
            raise DomainError("KERNEL_NOT_FOUND", "No such SKU.", field="input.skuId")
        if start_price <= 0:
            raise DomainError("BIDDING_SALE_INVALID_LOT", "The start price must be positive.", field="input.startPrice")
        if not increments or any(step <= 0 for _, step in increments) or [t for t, _ in increments] != sorted(t for t, _ in increments):
            raise DomainError("BIDDING_SALE_INVALID_LOT", "Increments are positive steps by ascending price.", field="input.increments")
        if ends_at <= starts_at or ends_at <= tx.now():
            raise DomainError("BIDDING_SALE_INVALID_LOT", "The lot must end after it starts, in the future.", field="input.endsAt")
        if buy_now_price is not None and buy_now_price <= start_price:
            raise DomainError("BIDDING_SALE_INVALID_LOT", "Buy-now must be above the start price.", field="input.buyNowPrice")
        if deposit < 0:
            raise DomainError("BIDDING_SALE_INVALID_LOT", "The deposit cannot be negative.", field="input.deposit")
        if deposit > start_price:
            # A deposit is a pledge toward the price, never more than the least the lot can sell for.
            raise DomainError("BIDDING_SALE_INVALID_LOT", "The deposit cannot exceed the start price.", field="input.deposit")
        if reserve_price is not None and buy_now_price is not None and reserve_price > buy_now_price:
            raise DomainError("BIDDING_SALE_INVALID_LOT", "The reserve cannot exceed the buy-now price.", field="input.reservePrice")
        lot = Lot(
            sku_id=sku_id, quantity=1, start_price=start_price, increments=[[int(t), int(s)] for t, s in increments],
            reserve_price=reserve_price, buy_now_price=buy_now_price, deposit=deposit, starts_at=starts_at, ends_at=ends_at,
            extend_window_s=int(self.extend_window.total_seconds()), extend_by_s=int(self.extend_by.total_seconds()),
            max_extensions=self.max_extensions, extensions=0, status="scheduled" if schedule else "draft", bid_count=0, seq=0,
            created_at=tx.now(),
        )
        tx.session.add(lot)
        await tx.session.flush()
        if schedule:
            await self._hold_stock(tx, lot)
            await tx.schedule(CLOSE_JOB, str(lot.id), ends_at)
        return lot.id

    async def _hold_stock(self, tx: Transaction, lot: Lot) -> None:
        """Hold the lot's units from scheduling to the close: an auction must not sell what
        the shop has meanwhile sold elsewhere, and the close must always be able to make the
        winner's order. Short stock refuses the scheduling (INVENTORY_OUT_OF_STOCK)."""
        lot.reservation_id = await self.kernel.service("inventory").reserve(
            tx, lot.sku_id, lot.quantity, reason="auction", ref=f"auction_lot:{lot.id}", field="input.skuId")

    async def _free_stock(self, tx: Transaction, lot: Lot) -> None:
        if lot.reservation_id is not None:
            await self.kernel.service("inventory").release(tx, lot.reservation_id)

    async def schedule(self, tx: Transaction, lot_id: int) -> None:
        lot = await self._lot(tx, lot_id)
        if lot.status != "draft":
            raise DomainError("BIDDING_SALE_ILLEGAL_STATE", f"A {lot.status} lot cannot be scheduled.", field="input.lotId")
        if as_utc(lot.ends_at) <= tx.now():
            raise DomainError("BIDDING_SALE_INVALID_LOT", "The lot's end has passed; create a new lot.", field="input.lotId")
        lot.status = "scheduled"
        await self._hold_stock(tx, lot)
        await tx.schedule(CLOSE_JOB, str(lot.id), as_utc(lot.ends_at))
        self._publish(tx, lot)

    async def cancel(self, tx: Transaction, lot_id: int) -> None:
        lot = await self._lot(tx, lot_id)
        if lot.status not in ("draft", "scheduled"):
            raise DomainError("BIDDING_SALE_ILLEGAL_STATE", f"A {lot.status} lot cannot be cancelled.", field="input.lotId")
        if lot.status == "scheduled" and as_utc(lot.ends_at) <= tx.now():
            # The end is a fact, not the close timer's doing: the winner keeps the lot.
            raise DomainError("BIDDING_SALE_ILLEGAL_STATE", "This lot has ended; it closes with its result.",
                              field="input.lotId", status="ended")
        lot.status, lot.closed_at = "cancelled", tx.now()
        await tx.cancel_timer(CLOSE_JOB, str(lot.id))
        await self._free_stock(tx, lot)
        await self._release_deposits(tx, lot, keep=None)
        await tx.emit("bidding_sale.cancelled", {"lotId": lot.id})
        self._publish(tx, lot)

    # -- bidding -----------------------------------------------------------------------------------------
    async def _lot(self, tx: Transaction, lot_id: int) -> Lot:
        lot = await tx.session.get(Lot, lot_id, with_for_update=tx.kernel.db.is_postgresql, populate_existing=True)
        if lot is None:
            raise DomainError("KERNEL_NOT_FOUND", "No such lot.", field="input.lotId")
        return lot

    def is_open(self, lot: Lot, now: datetime) -> bool:
        return lot.status == "scheduled" and as_utc(lot.starts_at) <= now < as_utc(lot.ends_at)

    def minimum_bid(self, lot: Lot) -> int:
        if lot.current_price is None:
            return lot.start_price
        return lot.current_price + increment_at(lot, lot.current_price)

    async def _bidder(self, tx: Transaction, lot: Lot, member_id: int) -> Bidder:
        bidder = await tx.session.scalar(select(Bidder).where(Bidder.lot_id == lot.id, Bidder.member_id == member_id))
        if bidder is None:
            bidder = Bidder(lot_id=lot.id, member_id=member_id, max_amount=0, deposit_state="none")
            tx.session.add(bidder)
            await tx.session.flush()
        return bidder

    async def pay_deposit(self, tx: Transaction, lot_id: int, member_id: int) -> Bidder:
        """Freeze the lot's deposit for a member (sandbox: held at once; a real provider would
        confirm asynchronously — see README)."""
        lot = await self._lot(tx, lot_id)
        if lot.status == "draft":
            raise DomainError("BIDDING_SALE_LOT_NOT_OPEN", "This lot is not scheduled yet.", field="input.lotId")
        if lot.status != "scheduled" or tx.now() >= as_utc(lot.ends_at):
            raise DomainError("BIDDING_SALE_LOT_CLOSED", "This lot no longer takes bids.", field="input.lotId")
        bidder = await self._bidder(tx, lot, member_id)
        if lot.deposit and bidder.deposit_state != "frozen":
            bidder.deposit_state, bidder.deposit_ref = "frozen", f"sandbox-deposit-{secrets.token_hex(6)}"
            await tx.emit("bidding_sale.deposit_frozen", {"lotId": lot.id, "memberId": member_id, "amountMinor": lot.deposit})
        return bidder

    async def buy_now(self, tx: Transaction, lot_id: int, member_id: int) -> dict[str, Any]:
        """Buy at the buy-now price. Checked under the lot's lock, like a bid: a bid that lands
        first withdraws the offer (BIDDING_SALE_BUY_NOW_UNAVAILABLE), never turns this into a bid."""
        lot = await self._lot(tx, lot_id)
        if lot.buy_now_price is None or lot.bid_count > 0:
            raise DomainError("BIDDING_SALE_BUY_NOW_UNAVAILABLE", "Buy-now is not offered (or bidding has begun).",
                              field="input.lotId", currentPrice=lot.current_price)
        return await self.place_bid(tx, lot_id, member_id, lot.buy_now_price, lot=lot)

    async def place_bid(self, tx: Transaction, lot_id: int, member_id: int, amount: int, maximum: int | None = None,
                        *, lot: Lot | None = None) -> dict[str, Any]:
        lot = lot or await self._lot(tx, lot_id)
        now = tx.now()
        if lot.status == "scheduled" and now < as_utc(lot.starts_at) or lot.status == "draft":
            raise DomainError("BIDDING_SALE_LOT_NOT_OPEN", "Bidding has not started.", field="input.lotId")
        if not self.is_open(lot, now):
            raise DomainError("BIDDING_SALE_LOT_CLOSED", "Bidding has ended.", field="input.lotId", currentPrice=lot.current_price)
        if maximum is not None and maximum < amount:
            raise DomainError("BIDDING_SALE_INVALID_MAXIMUM", "Your maximum must be at least your bid.", field="input.maximum")
        bidder = await self._bidder(tx, lot, member_id)
        if lot.deposit and bidder.deposit_state != "frozen":
            raise DomainError("BIDDING_SALE_DEPOSIT_REQUIRED", "Pay the lot's deposit before bidding.", field="input.lotId",
                              depositMinor=lot.deposit)
        if lot.leader_member_id == member_id:
            # The leader cannot bid against themselves, only raise their maximum.
            if maximum is None or maximum <= (lot.leader_max or 0):
                raise DomainError("BIDDING_SALE_ALREADY_LEADING", "You are already the highest bidder; you may raise your maximum.",
                                  field="input.amount", currentPrice=lot.current_price)
            lot.leader_max = bidder.max_amount = maximum
            await self._apply_reserve(tx, lot)
            self._publish(tx, lot)
            return {"lotId": lot.id, "leading": True}
        minimum = self.minimum_bid(lot)
        if amount < minimum:
            raise DomainError("BIDDING_SALE_BID_TOO_LOW", f"The next bid must be at least {minimum}.", field="input.amount",
                              currentPrice=lot.current_price, minimumBid=minimum)
        if bidder.first_bid_at is None:
            bidder.first_bid_at = now
        if lot.buy_now_price is not None and lot.bid_count == 0 and amount >= lot.buy_now_price:
            # Before the ladder check: the buy-now price need not be a whole number of steps.
            bidder.max_amount = lot.buy_now_price
            await self._record(tx, lot, member_id, lot.buy_now_price, "buy_now")
            lot.leader_member_id, lot.leader_max = member_id, lot.buy_now_price
            await self._close(tx, lot)
            return {"lotId": lot.id, "leading": True}
        step = increment_at(lot, lot.current_price if lot.current_price is not None else lot.start_price)
        if (amount - minimum) % step:
            raise DomainError("BIDDING_SALE_BID_NOT_ON_LADDER", f"Bids go up in steps of {step}.", field="input.amount",
                              currentPrice=lot.current_price, minimumBid=minimum, step=step)

        mine = max(amount, maximum or amount)
        bidder.max_amount = max(bidder.max_amount, mine)
        leader_max = lot.leader_max
        if lot.leader_member_id is None or mine > leader_max:
            previous_leader = lot.leader_member_id
            price = amount if previous_leader is None else max(amount, min(mine, leader_max + increment_at(lot, leader_max)))
            lot.leader_member_id, lot.leader_max = member_id, mine
            await self._record(tx, lot, member_id, price, "bid")
            leading = True
        else:
            # The leader's maximum answers at once (proxy bidding); equal maxima: the earlier leads.
            await self._record(tx, lot, member_id, amount, "bid")
            answer = min(leader_max, mine + increment_at(lot, mine))
            if answer > amount:
                await self._record(tx, lot, lot.leader_member_id, answer, "proxy")
            leading = False
        await self._apply_reserve(tx, lot)
        await self._soft_close(tx, lot, now)
        self._publish(tx, lot)
        return {"lotId": lot.id, "leading": leading}

    async def _apply_reserve(self, tx: Transaction, lot: Lot) -> None:
        """A leader whose maximum covers the reserve is taken to the reserve at once (recorded as
        a proxy bid, so the history explains every price the lot showed)."""
        if lot.reserve_price and lot.current_price is not None and lot.current_price < lot.reserve_price <= (lot.leader_max or 0):
            await self._record(tx, lot, lot.leader_member_id, lot.reserve_price, "proxy")

    async def _record(self, tx: Transaction, lot: Lot, member_id: int, price: int, kind: str) -> None:
        lot.seq += 1
        lot.bid_count += 1
        lot.current_price = price
        tx.session.add(Bid(lot_id=lot.id, seq=lot.seq, member_id=member_id, amount=price, kind=kind, created_at=tx.now()))
        await tx.session.flush()

    async def _soft_close(self, tx: Transaction, lot: Lot, now: datetime) -> None:
        ends = as_utc(lot.ends_at)
        new_end = now + timedelta(seconds=lot.extend_by_s)
        # Never shortens the lot (extend_by may be smaller than extend_window).
        if ends - now <= timedelta(seconds=lot.extend_window_s) and lot.extensions < lot.max_extensions and new_end > ends:
            lot.ends_at = new_end
            lot.extensions += 1
            await tx.schedule(CLOSE_JOB, str(lot.id), new_end)
            await tx.emit("bidding_sale.extended", {"lotId": lot.id, "endsAt": new_end.isoformat(), "extensions": lot.extensions})

    # -- closing -------------------------------------------------------------------------------------------
    async def close_due(self, tx: Transaction, timer: Any) -> None:
        lot = await self._lot(tx, int(timer.key))
        if lot.status != "scheduled":
            return
        if tx.now() < as_utc(lot.ends_at):  # a late bid moved the end: close then instead
            await tx.schedule(CLOSE_JOB, str(lot.id), as_utc(lot.ends_at))
            return
        await self._close(tx, lot)

    async def _close(self, tx: Transaction, lot: Lot) -> None:
        lot.closed_at = tx.now()
        reserve_met = lot.reserve_price is None or (lot.current_price or 0) >= lot.reserve_price
        if lot.leader_member_id is None or not reserve_met:
            lot.status = "unsold"  # 流拍
            await self._free_stock(tx, lot)
            await self._release_deposits(tx, lot, keep=None)
            await tx.cancel_timer(CLOSE_JOB, str(lot.id))
            await tx.emit("bidding_sale.closed", {"lotId": lot.id, "status": "unsold", "reserveMet": reserve_met})
            self._publish(tx, lot)
            return
        lot.status = "sold"
        await tx.cancel_timer(CLOSE_JOB, str(lot.id))
        price = lot.current_price
        winner = lot.leader_member_id
        # The held unit passes to the order inside this transaction: released and re-reserved
        # under the same stock-row lock, so no other buyer can take it in between. The lot's
        # quantity becomes its activity stock, which the order's line then holds under
        # (bidding_sale, lot) like any activity line.
        await self._free_stock(tx, lot)
        await self.kernel.service("inventory").define_activity(tx, ACTIVITY, str(lot.id), lot.sku_id, lot.quantity)
        # Through the one checkout, as the system: the participant claims the line, prices it
        # from the lot and writes the LotOrder row (see checkout.py).
        order_id = await self.kernel.service("orders").create_order(
            tx, member_id=winner, lines=[(lot.sku_id, lot.quantity)], line_inputs=[{LOT_INPUT: {"lotId": lot.id}}],
            placed_by_system=True, payment_timeout=self.payment_due,
        )
        await self._release_deposits(tx, lot, keep=winner)
        await tx.emit("bidding_sale.closed", {"lotId": lot.id, "status": "sold", "winnerMemberId": winner,
                                              "priceMinor": price, "orderId": order_id})
        self._publish(tx, lot)

    async def _release_deposits(self, tx: Transaction, lot: Lot, keep: int | None) -> None:
        bidders = (await tx.session.scalars(select(Bidder).where(Bidder.lot_id == lot.id, Bidder.deposit_state == "frozen"))).all()
        for bidder in bidders:
            bidder.deposit_state = "applied" if bidder.member_id == keep else "released"

    async def on_order(self, tx: Transaction, event: Event) -> None:
        """The winner paid (lot paid) or let the payment deadline pass (defaulted, deposit forfeited)."""
        lot_id = lot_of(event.payload)
        if lot_id is None:
            return
        lot = await tx.session.get(Lot, lot_id)
        if lot is None or lot.status != "sold":
            return
        if event.name == "order.paid":
            lot.status = "paid"
        elif event.name == "order.cancelled":
            lot.status = "defaulted"
            bidder = await tx.session.scalar(select(Bidder).where(Bidder.lot_id == lot.id, Bidder.member_id == lot.leader_member_id))
            if bidder is not None and bidder.deposit_state == "applied":
                bidder.deposit_state = "forfeited"
            await tx.emit("bidding_sale.defaulted", {"lotId": lot.id, "memberId": lot.leader_member_id, "depositMinor": lot.deposit})
        self._publish(tx, lot)

    async def on_order_refunded(self, tx: Transaction, event: Event) -> None:
        """The winner's order was refunded whole (after-sale, staff): the lot is closed as
        refunded, and a deposit that was applied to the price goes back with the refund (the
        order's refund returned only what was paid on top of it)."""
        lot_id = lot_of(event.payload)
        if lot_id is None or not event.payload.get("full"):
            return
        lot = await tx.session.get(Lot, lot_id)
        if lot is None or lot.status not in ("sold", "paid"):
            return
        lot.status = "refunded"
        bidder = await tx.session.scalar(select(Bidder).where(Bidder.lot_id == lot.id, Bidder.member_id == lot.leader_member_id))
        if bidder is not None and bidder.deposit_state == "applied":
            bidder.deposit_state = "released"
        await tx.emit("bidding_sale.refunded", {"lotId": lot.id, "memberId": lot.leader_member_id,
                                                "depositReturnedMinor": lot.deposit if bidder is not None else 0})
        self._publish(tx, lot)

    def _publish(self, tx: Transaction, lot: Lot) -> None:
        tx.publish(channel(lot.id), lot_message(lot, tx.now()))


def lot_message(lot: Lot, now: datetime) -> dict[str, Any]:
    status = lot.status
    # Past its end a lot stays OPEN (refusing bids) until its close timer has run: it never
    # goes back to looking scheduled.
    if status == "scheduled" and as_utc(lot.starts_at) <= now:
        status = "open"
    return {"lotId": to_global_id("AuctionLot", lot.id), "status": status, "currentPrice": lot.current_price, "seq": lot.seq,
            "leader": mask(lot.leader_member_id), "endsAt": as_utc(lot.ends_at).isoformat(), "bidCount": lot.bid_count}
