"""Bidding-sale's part in the one checkout: the winner's order and the bidders' deposits.

Two kinds of order, both placed only by this component, as the system (``placed_by_system``):

- **The winner's order**: the close places it with one line carrying ``auctionLot: {lotId}``,
  priced from the lot row (hammer price, minus the winner's deposit when it was applied).
- **A deposit order** (kind ``auction_deposit``): ``payLotDeposit`` places it with one line
  carrying ``auctionDeposit: {lotId}``, priced at the lot's deposit. It is paid through the
  orders payment-provider interface like any order (``payOrder``), holds no stock (the line
  sells no goods) and is refunded through the same provider when the deposit is released.

Neither key is a GraphQL field: no client can send them, and should one reach a checkout some
other way (a stored cart, a service call acting for a member) ``prepare`` refuses it unless the
system places the order, so nobody buys a lot's SKU at the hammer price through ``placeOrder``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from components.bidding_sale.models import Bidder, Lot, LotOrder
from core.checkout import Draft, DraftLine
from core.errors import DomainError
from core.transaction import Transaction

ACTIVITY = "bidding_sale"
LOT_INPUT = "auctionLot"
DEPOSIT_INPUT = "auctionDeposit"
DEPOSIT_KIND = "auction_deposit"
DEPOSIT_REF = "deposit:"  # a deposit line's activity ref: "deposit:<lot id>"


def _ours(draft: Draft, deposit: bool) -> list[DraftLine]:
    return [
        line
        for line in draft.lines
        if line.activity is not None and line.activity[0] == ACTIVITY and line.activity[1].startswith(DEPOSIT_REF) == deposit
    ]


def lot_lines(draft: Draft) -> list[DraftLine]:
    return _ours(draft, deposit=False)


def deposit_lines(draft: Draft) -> list[DraftLine]:
    return _ours(draft, deposit=True)


class AuctionCheckout:
    async def prepare(self, tx: Transaction, draft: Draft) -> None:
        for line in draft.lines:
            for name in (LOT_INPUT, DEPOSIT_INPUT):
                choice = line.input(name)
                if choice is None:
                    continue
                field = f"input.lines[{line.index}]"
                if not draft.placed_by_system:
                    raise DomainError(
                        "BIDDING_SALE_LOT_NOT_FOR_CHECKOUT", "An auction lot and its deposit are sold only by the auction itself.", field=field
                    )
                lot_id = choice.get("lotId") if isinstance(choice, dict) else None
                lot = await tx.session.get(Lot, lot_id) if isinstance(lot_id, int) else None
                if name == LOT_INPUT:
                    self._claim_lot(draft, line, lot, field)
                else:
                    self._claim_deposit(draft, line, lot, field)

    @staticmethod
    def _claim_lot(draft: Draft, line: DraftLine, lot: Lot | None, field: str) -> None:
        if (
            lot is None
            or lot.status != "sold"
            or lot.leader_member_id != draft.member_id
            or (line.sku_id, line.quantity) != (lot.sku_id, lot.quantity)
        ):
            raise DomainError("BIDDING_SALE_ILLEGAL_STATE", "This line is not the winning lot of this member.", field=field)
        line.claim(ACTIVITY, str(lot.id), exclusive=True)
        draft.kind = "auction"
        draft.attributes.update({"auctionLotId": lot.id, "finalPriceMinor": lot.current_price, "depositMinor": lot.deposit})

    @staticmethod
    def _claim_deposit(draft: Draft, line: DraftLine, lot: Lot | None, field: str) -> None:
        if lot is None or not lot.deposit or (line.sku_id, line.quantity) != (lot.sku_id, 1):
            raise DomainError("BIDDING_SALE_ILLEGAL_STATE", "This line is not the deposit of this lot.", field=field)
        # The deposit sells no goods: no stock is held for it, and it is never shipped (see the
        # fulfilment guard in hooks).
        line.claim(ACTIVITY, f"{DEPOSIT_REF}{lot.id}", exclusive=True, activity_stock=False, holds_stock=False)
        draft.kind = DEPOSIT_KIND
        draft.attributes.update({"auctionLotId": lot.id, "depositMinor": lot.deposit})

    async def price(self, tx: Transaction, draft: Draft) -> None:
        for line in deposit_lines(draft):
            lot = await tx.session.get(Lot, int(line.activity[1][len(DEPOSIT_REF) :]))
            line.set_unit_price(lot.deposit, "保证金 deposit")
        for line in lot_lines(draft):
            lot = await tx.session.get(Lot, int(line.activity[1]))
            line.set_unit_price(lot.current_price, "成交价 hammer price")
            # Only a deposit the winner actually paid counts (a runner-up offered the lot after
            # a default had theirs released at the close). Never more than the price: a line
            # below zero would refuse the order, and the close (a timer) would fail on every retry.
            applied = await tx.session.scalar(
                select(Bidder.id).where(Bidder.lot_id == lot.id, Bidder.member_id == draft.member_id, Bidder.deposit_state == "applied")
            )
            deposit = min(lot.deposit, lot.current_price) if applied is not None else 0
            if deposit:
                line.adjust(-deposit, "保证金抵扣 deposit applied")

    async def placed(self, tx: Transaction, draft: Draft, order_id: int) -> None:
        for line in lot_lines(draft):
            lot = await tx.session.get(Lot, int(line.activity[1]))
            existing = await tx.session.get(LotOrder, lot.id)
            if existing is not None and lot.runner_up_member_id == draft.member_id:
                # The lot offered to the runner-up after a default: the row now names their order
                # (still one row per lot, so a close racing a close can never make two orders).
                existing.order_id, existing.price = order_id, lot.current_price
            else:
                tx.session.add(LotOrder(lot_id=lot.id, order_id=order_id, price=lot.current_price))
            await tx.session.flush()  # the primary key on lot_id refuses a second order


def _activity_refs(payload: dict[str, Any]) -> list[str]:
    return [
        str((line.get("activity") or {}).get("ref"))
        for line in payload.get("lines") or []
        if (line.get("activity") or {}).get("component") == ACTIVITY
    ]


def lot_of(payload: dict[str, Any]) -> int | None:
    """The lot whose winner's order an order event is about, if any."""
    for ref in _activity_refs(payload):
        if not ref.startswith(DEPOSIT_REF):
            return int(ref)
    return None


def deposit_lot_of(payload: dict[str, Any]) -> int | None:
    """The lot whose deposit order an order event is about, if any."""
    for ref in _activity_refs(payload):
        if ref.startswith(DEPOSIT_REF):
            return int(ref[len(DEPOSIT_REF) :])
    return None
