"""Bidding-sale's part in the one checkout: the winner's order.

The close places it through ``orders.place`` as the system (``placed_by_system``), with one line
carrying ``auctionLot: {lotId}``. That key is not a GraphQL field: no client can send it, and
should one reach a checkout some other way (a stored cart, a service call acting for a member)
``prepare`` refuses it unless the system places the order, so nobody buys a lot's SKU at the
hammer price through ``placeOrder``. The price comes from the lot row, never from the request.
"""

from __future__ import annotations

from typing import Any

from components.bidding_sale.models import Lot, LotOrder
from core.checkout import Draft, DraftLine
from core.errors import DomainError
from core.transaction import Transaction

ACTIVITY = "bidding_sale"
LOT_INPUT = "auctionLot"


def lot_lines(draft: Draft) -> list[DraftLine]:
    return [line for line in draft.lines if line.activity is not None and line.activity[0] == ACTIVITY]


class AuctionCheckout:
    async def prepare(self, tx: Transaction, draft: Draft) -> None:
        for line in draft.lines:
            choice = line.input(LOT_INPUT)
            if choice is None:
                continue
            field = f"input.lines[{line.index}]"
            if not draft.placed_by_system:
                raise DomainError("BIDDING_SALE_LOT_NOT_FOR_CHECKOUT",
                                  "An auction lot is sold only to its winner, by the lot's close.", field=field)
            lot_id = choice.get("lotId") if isinstance(choice, dict) else None
            lot = await tx.session.get(Lot, lot_id) if isinstance(lot_id, int) else None
            if (lot is None or lot.status != "sold" or lot.leader_member_id != draft.member_id
                    or (line.sku_id, line.quantity) != (lot.sku_id, lot.quantity)):
                raise DomainError("BIDDING_SALE_ILLEGAL_STATE", "This line is not the winning lot of this member.", field=field)
            line.claim(ACTIVITY, str(lot.id), exclusive=True)
            draft.kind = "auction"
            draft.attributes.update({"auctionLotId": lot.id, "finalPriceMinor": lot.current_price, "depositMinor": lot.deposit})

    async def price(self, tx: Transaction, draft: Draft) -> None:
        for line in lot_lines(draft):
            lot = await tx.session.get(Lot, int(line.activity[1]))
            line.set_unit_price(lot.current_price, "成交价 hammer price")
            # Never more than the price: a line below zero would refuse the order, and the close
            # (a timer) would then fail on every retry.
            deposit = min(lot.deposit, lot.current_price)
            if deposit:
                line.adjust(-deposit, "保证金抵扣 deposit applied")

    async def placed(self, tx: Transaction, draft: Draft, order_id: int) -> None:
        for line in lot_lines(draft):
            lot = await tx.session.get(Lot, int(line.activity[1]))
            tx.session.add(LotOrder(lot_id=lot.id, order_id=order_id, price=lot.current_price))
            await tx.session.flush()  # the primary key on lot_id refuses a second order


def lot_of(payload: dict[str, Any]) -> int | None:
    """The lot an order event's lines belong to, if any."""
    for line in payload.get("lines") or []:
        activity = line.get("activity") or {}
        if activity.get("component") == ACTIVITY:
            return int(activity["ref"])
    return None
