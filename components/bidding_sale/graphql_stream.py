"""A lot's live stream (auctionLotUpdates): the lot as it is, then every change until bidding is over."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, AsyncGenerator

import strawberry

from components.bidding_sale import models
from components.bidding_sale.graphql import AuctionLot, lot_from_message
from components.bidding_sale.graphql_types import BIDDING, AuctionLotStatus
from components.bidding_sale.messages import channel, lot_message
from core.gql import Context, Money, decode_id
from core.gql.stream import StreamPosition, no_position, snapshot_position, stream_position


def over(status: str) -> bool:
    """Bidding is over (sold, unsold, cancelled, or later): nothing more for a bidder's page to stream."""
    return AuctionLotStatus(status) not in BIDDING


@strawberry.type(description="A lot's price, leader, end and status at one moment.")
class AuctionLotUpdate:
    lot: AuctionLot = strawberry.field(description="The lot as it stands now: the node a normalised client cache merges by its `id`.")
    lot_id: strawberry.ID = strawberry.field(deprecation_reason="Use `lot { id }`.", description="The lot's global id.")
    status: AuctionLotStatus = strawberry.field(deprecation_reason="Use `lot { status }`.", description="The lot's status.")
    current_price: Money | None = strawberry.field(deprecation_reason="Use `lot { currentPrice }`.", description="The price now.")
    leader: str | None = strawberry.field(deprecation_reason="Use `lot { leader }`.", description="The masked leader.")
    ends_at: datetime = strawberry.field(deprecation_reason="Use `lot { endsAt }`.", description="When the lot ends.")
    bid_count: int = strawberry.field(deprecation_reason="Use `lot { bidCount }`.", description="Accepted bids so far.")
    seq: int = strawberry.field(description="The lot's change counter: a payload with a lower seq than one already applied is stale.")
    stream: StreamPosition = strawberry.field(default_factory=no_position, description="Where this payload stands in the live stream.")


def update_node(data: dict, ctx: Context) -> AuctionLotUpdate:
    lot = lot_from_message(data, ctx)
    return AuctionLotUpdate(
        lot=lot,
        lot_id=strawberry.ID(data["lotId"]),
        status=lot.status,
        current_price=lot.current_price,
        leader=lot.leader,
        ends_at=lot.ends_at,
        bid_count=lot.bid_count,
        seq=data["seq"],
    )


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="A lot's price, leader, end and status as they change (public). Starts with the lot as it is; completes when "
        "bidding is over — SOLD, UNSOLD or CANCELLED — and at once, after that first payload, for a lot already past bidding "
        "(its payment, default or refund is read from auctionLot(id) or the winner's order)."
    )
    async def auction_lot_updates(
        self, info: strawberry.Info, lot_id: Annotated[strawberry.ID, strawberry.argument(description="The lot's global id.")]
    ) -> AsyncGenerator[AuctionLotUpdate, None]:
        ctx: Context = info.context
        pk = decode_id(lot_id, "AuctionLot", field="lotId")
        async with ctx.kernel.broadcast.subscribe(channel(pk)) as messages:
            async with ctx.kernel.db.read() as session:
                row = await session.get(models.Lot, pk)
            if row is None or row.status == "draft":
                return
            first = lot_message(row, ctx.kernel.clock.now())
            snapshot = update_node(first, ctx)
            snapshot.stream = snapshot_position(ctx.kernel.broadcast, channel(pk))
            yield snapshot
            if over(first["status"]):
                return  # bidding is over: the stream completes after the lot's state
            last_seq = first["seq"]
            async for message in messages:
                if message["seq"] < last_seq:
                    continue  # older than what the client already has
                last_seq = message["seq"]
                update = update_node(message, ctx)
                update.stream = stream_position(message)
                yield update
                if over(message["status"]):
                    return
