"""The share page's stream (groupBuyProgress): the group as it is, then every change until it succeeds or fails."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, AsyncGenerator

import strawberry

from components.group_buy import models
from components.group_buy.graphql import GroupBuyGroup, group_from_message
from components.group_buy.graphql_types import GroupBuyGroupStatus
from components.group_buy.service import channel, progress_message
from core.gql import Context, decode_id
from core.gql.relay import to_global_id
from core.gql.stream import StreamPosition, no_position, snapshot_position, stream_position


@strawberry.type(description="One change on a group's share page.")
class GroupBuyProgress:
    group: GroupBuyGroup = strawberry.field(description="The group as it stands now: the node a normalised client cache merges by its `id`.")
    group_id: strawberry.ID = strawberry.field(deprecation_reason="Use `group { id }`.", description="The group's global id.")
    status: GroupBuyGroupStatus = strawberry.field(deprecation_reason="Use `group { status }`.", description="The group's status.")
    seats_filled: int = strawberry.field(deprecation_reason="Use `group { seatsFilled }`.", description="Seats taken (paid and placeholders).")
    seats_left: int = strawberry.field(deprecation_reason="Use `group { seatsLeft }`.", description="Seats still open.")
    deadline: datetime | None = strawberry.field(deprecation_reason="Use `group { deadline }`.", description="When the group fails unless full.")
    stream: StreamPosition = strawberry.field(default_factory=no_position, description="Where this payload stands in the live stream.")


def progress_node(data: dict) -> GroupBuyProgress:
    group = group_from_message(data)
    return GroupBuyProgress(
        group=group,
        group_id=strawberry.ID(to_global_id("GroupBuyGroup", data["groupId"])),
        status=group.status,
        seats_filled=group.seats_filled,
        seats_left=group.seats_left,
        deadline=group.deadline,
    )


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="A group's seats and status as they change (the share page; public). Starts with the group as it is; "
        "completes when the group SUCCEEDED or FAILED, and at once, after that first payload, for a group already over."
    )
    async def group_buy_progress(
        self, info: strawberry.Info, group_id: Annotated[strawberry.ID, strawberry.argument(description="The group's global id.")]
    ) -> AsyncGenerator[GroupBuyProgress, None]:
        ctx: Context = info.context
        pk = decode_id(group_id, "GroupBuyGroup", field="groupId")
        async with ctx.kernel.broadcast.subscribe(channel(pk)) as messages:
            async with ctx.kernel.db.read() as session:
                row = await session.get(models.Group, pk)
            if row is None:
                return
            snapshot = progress_node(progress_message(row))  # the state now, then every change
            snapshot.stream = snapshot_position(ctx.kernel.broadcast, channel(pk))
            yield snapshot
            if row.status != "forming":
                return
            async for message in messages:
                progress = progress_node(message)
                progress.stream = stream_position(message)
                yield progress
                if message["status"] != "forming":
                    return
