"""Auctions' closed sets and small types: a lot's status, a deposit's state and movements, one bid
and one line of the deposit ledger. The lot itself and the queries are in graphql.py.

The component is ``bidding_sale`` (竞价销售, the business it runs) while its GraphQL types are
``Auction*``: the types follow DESIGN.md's naming (``AuctionLot``, ``AuctionBid``), the words a
frontend developer looks for; see the README.
"""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry

from core.gql import Money


@strawberry.enum(description="Where a lot is in its life: draft → scheduled → open → sold → paid; or unsold, cancelled, defaulted, refunded.")
class AuctionLotStatus(enum.Enum):
    DRAFT = strawberry.enum_value("draft", description="Being prepared; seen only by staff who manage lots.")
    SCHEDULED = strawberry.enum_value("scheduled", description="Announced; bidding has not started (deposits may be paid).")
    OPEN = strawberry.enum_value("open", description="Taking bids now (between its start and its close).")
    SOLD = strawberry.enum_value("sold", description="Bidding ended with a winner at or above the reserve; the winner's order awaits payment.")
    PAID = strawberry.enum_value("paid", description="The winner paid the order.")
    UNSOLD = strawberry.enum_value("unsold", description="Bidding ended without a bid, or below the reserve (流拍).")
    CANCELLED = strawberry.enum_value("cancelled", description="Staff cancelled it before it closed; deposits were released.")
    DEFAULTED = strawberry.enum_value("defaulted", description="The winner did not pay in time; their deposit was kept.")
    REFUNDED = strawberry.enum_value("refunded", description="The winner's paid order was refunded whole.")


# Bidding is over in every state but these: the lot's update stream completes on the others.
BIDDING = (AuctionLotStatus.DRAFT, AuctionLotStatus.SCHEDULED, AuctionLotStatus.OPEN)


@strawberry.enum(description="The signed-in member's deposit (保证金) on a lot.")
class AuctionDepositState(enum.Enum):
    NONE = strawberry.enum_value("none", description="No deposit asked for yet (or the deposit order was cancelled unpaid).")
    PENDING = strawberry.enum_value("pending", description="The deposit order is placed, not paid yet.")
    FROZEN = strawberry.enum_value("frozen", description="Paid and held: the member may bid.")
    RELEASED = strawberry.enum_value("released", description="Refunded: the member lost, or the lot was unsold or cancelled.")
    APPLIED = strawberry.enum_value("applied", description="The winner's deposit, counted toward the price.")
    FORFEITED = strawberry.enum_value("forfeited", description="Kept by the brand: the winner did not pay.")
    RETURNED = strawberry.enum_value("returned", description="Given back with the winner's refunded order, or by staff.")


@strawberry.enum(description="How deposit money moved, one ledger line each.")
class AuctionDepositMovement(enum.Enum):
    PAID = strawberry.enum_value("paid", description="The member paid the deposit order (money in, through the provider).")
    REFUNDED = strawberry.enum_value("refunded", description="The deposit order was refunded (money out, through the provider).")
    APPLIED = strawberry.enum_value("applied", description="The winner's deposit was counted toward the price (no money moved).")
    FORFEITED = strawberry.enum_value("forfeited", description="The winner defaulted and the brand kept the deposit (no money moved).")


@strawberry.type(description="One accepted step of a lot's price.")
class AuctionBid:
    seq: int = strawberry.field(description="The step's number on the lot, from 1, strictly increasing.")
    amount: Money = strawberry.field(description="The lot's price after this step (minor units of the brand currency).")
    bidder: str = strawberry.field(description="Masked: who, not which member.")
    is_proxy: bool = strawberry.field(description="Placed automatically up to the bidder's maximum (proxy bidding).")
    is_mine: bool = strawberry.field(description="Placed by the signed-in member; false for everyone else.")
    created_at: datetime = strawberry.field(description="When it was accepted (ISO 8601 UTC).")


@strawberry.type(description="One line of a lot's deposit ledger (staff).")
class AuctionDepositEntry:
    member_id: strawberry.ID = strawberry.field(description="The bidder (a Member global id).")
    order_id: strawberry.ID = strawberry.field(description="The deposit order the money moved through.")
    kind: str = strawberry.field(
        description="paid | refunded (money through the provider) | applied | forfeited",
        deprecation_reason="Use movement; removed in the next release.",
    )
    movement: AuctionDepositMovement = strawberry.field(description="How the deposit money moved.")
    amount: Money = strawberry.field(description="How much (minor units of the brand currency).")
    created_at: datetime = strawberry.field(description="When (ISO 8601 UTC).")
