"""What a lot looks like on its live channel (the subscription and every publish)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from components.bidding_sale import rules
from components.bidding_sale.models import Lot
from core.clock import as_utc
from core.gql.relay import to_global_id


def channel(lot_id: int) -> str:
    return f"bidding_sale:lot:{lot_id}"


def mask(member_id: int | None) -> str | None:
    """What other bidders see of the leader: enough to tell bidders apart, not who they are."""
    if member_id is None:
        return None
    text = f"{member_id:04d}"
    return f"{text[0]}***{text[-1]}"


def lot_message(lot: Lot, now: datetime) -> dict[str, Any]:
    """Everything the lot node shows, so a subscriber builds the node from the message alone
    (no read per subscriber per publish). Never the reserve itself: only whether it is met."""
    status = lot.status
    # Past its end a lot stays OPEN (refusing bids) until its close timer has run: it never
    # goes back to looking scheduled.
    if status == "scheduled" and as_utc(lot.starts_at) <= now:
        status = "open"
    return {
        "lotId": to_global_id("AuctionLot", lot.id),
        "status": status,
        "currentPrice": lot.current_price,
        "seq": lot.seq,
        "leader": mask(lot.leader_member_id),
        "endsAt": as_utc(lot.ends_at).isoformat(),
        "bidCount": lot.bid_count,
        "lotPk": lot.id,
        "skuPk": lot.sku_id,
        "startPrice": lot.start_price,
        "nextMinimumBid": rules.minimum_bid(lot.increments, lot.start_price, lot.current_price) if status == "open" else None,
        "buyNowPrice": lot.buy_now_price if lot.bid_count == 0 else None,
        "deposit": lot.deposit,
        "startsAt": as_utc(lot.starts_at).isoformat(),
        "reserveMet": None if lot.reserve_price is None else (lot.current_price or 0) >= lot.reserve_price,
        "extensions": lot.extensions,
        "extendWindowSeconds": lot.extend_window_s,
        "extendBySeconds": lot.extend_by_s,
        "maxExtensions": lot.max_extensions,
        # null: the blueprint's payment_due (lots made before it was per lot)
        "paymentDueSeconds": lot.payment_due_s,
    }
