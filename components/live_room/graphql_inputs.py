"""The live room's mutation inputs and payloads (the resolvers are in graphql_mutations.py), and
the one reading of a store given in either form (a PickupStore global id, or the deprecated number)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from components.live_room.graphql import LiveRoom
from components.live_room.graphql_types import LiveRoomComment
from components.orders.graphql import DeliveryType, OrderLineInput
from core.errors import refuse_both
from core.gql import MoneyInput, Payload, decode_id

STORE_NUMBER_GONE = "Use pickupStoreId (a PickupStore global id); removed in the next release."


def store_pk(global_id: strawberry.ID | None, number: int | None, field: str) -> int | None:
    """The store's key from ``pickupStoreId`` (``field``) or the deprecated ``storeId`` number beside it.

    Both given is refused rather than one silently winning: a client migrating field by field
    must not send two stores and get either.
    """
    old_field = field.rsplit(".", 1)[0] + ".storeId" if "." in field else "storeId"
    refuse_both(global_id, number, new_name="pickupStoreId", old_name="storeId", field=old_field)
    if global_id is not None:
        return decode_id(global_id, "PickupStore", field=field)
    return number


@strawberry.input(description="A live-only price for one SKU of the product.")
class LiveRoomPriceInput:
    sku_id: strawberry.ID = strawberry.field(description="A SKU of the shelf item's product (global id).")
    price: MoneyInput = strawberry.field(description="The live price: above zero, at most the SKU's own price (minor units).")


@strawberry.input(description="A product to put on (or take off) a room's shelf, with its live prices and limits.")
class LiveRoomShelfItemInput:
    product_id: strawberry.ID = strawberry.field(description="The product (global id).")
    on_shelf: bool = strawberry.field(default=True, description="false takes it off the shelf (viewers no longer see it).")
    position: int | None = strawberry.field(default=None, description="Display order, 0 to 10000 (lowest first); left out: at the end or unchanged.")
    live_stock: int | None = strawberry.field(default=None, description="Units to sell at the live price (直播专享库存); left out: unchanged.")
    per_member_limit: int | None = strawberry.field(
        default=None, description="Units one member may buy at the live price (限购); 0 removes the limit."
    )
    live_prices: list[LiveRoomPriceInput] | None = strawberry.field(
        default=None,
        description="Replaces the product's live prices in this room when given; an empty list clears them; left out, they stay as they are.",
    )


@strawberry.input(description="A room to schedule.")
class CreateLiveRoomInput:
    title: str = strawberry.field(description="1 to 100 characters.")
    scheduled_start_at: datetime = strawberry.field(description="Planned start (ISO 8601 with an offset).")
    scheduled_end_at: datetime = strawberry.field(description="Planned end: after the start, in the future, at most 48 h after the start.")
    host_id: strawberry.ID | None = strawberry.field(default=None, description="A Staff id; defaults to the caller.")
    pickup_store_id: strawberry.ID | None = strawberry.field(default=None, description="The store the room belongs to (a PickupStore global id).")
    store_id: int | None = strawberry.field(default=None, description="The store as a number.", deprecation_reason=STORE_NUMBER_GONE)
    cover_url: str | None = strawberry.field(default=None, description="The cover picture (https://, ≤ 500 characters).")
    push_url: str | None = strawberry.field(default=None, description="The encoder's URL (rtmp:// …); shown only to the host and managers.")
    play_url: str | None = strawberry.field(default=None, description="Where viewers pull the stream while live.")
    replay_url: str | None = strawberry.field(default=None, description="The replay, shown after the end if replay is on.")
    comments_enabled: bool = strawberry.field(default=True, description="Viewers may comment.")
    likes_enabled: bool = strawberry.field(default=True, description="Viewers may like.")
    replay_enabled: bool = strawberry.field(default=True, description="Show the replay after the session.")
    shelf: list[LiveRoomShelfItemInput] | None = strawberry.field(default=None, description="Products to put on the shelf at once.")


@strawberry.input(description="What to change on a room; fields left out stay as they are.")
class UpdateLiveRoomInput:
    room_id: strawberry.ID = strawberry.field(description="The room (global id).")
    title: str | None = strawberry.field(default=None, description="1 to 100 characters.")
    scheduled_start_at: datetime | None = strawberry.field(default=None, description="New planned start (only before going live).")
    scheduled_end_at: datetime | None = strawberry.field(default=None, description="New planned end.")
    cover_url: str | None = strawberry.field(default=None, description="The cover picture's URL.")
    push_url: str | None = strawberry.field(default=None, description="The encoder's URL.")
    play_url: str | None = strawberry.field(default=None, description="Where viewers pull the stream.")
    replay_url: str | None = strawberry.field(default=None, description="The replay's URL.")
    comments_enabled: bool | None = strawberry.field(default=None, description="Viewers may comment.")
    likes_enabled: bool | None = strawberry.field(default=None, description="Viewers may like.")
    replay_enabled: bool | None = strawberry.field(default=None, description="Show the replay after the session.")


@strawberry.input(description="Names one room.")
class LiveRoomIdInput:
    room_id: strawberry.ID = strawberry.field(description="The room (global id).")


@strawberry.input(description="A shelf change in one room.")
class SetLiveRoomShelfItemInput:
    room_id: strawberry.ID = strawberry.field(description="The room (global id).")
    item: LiveRoomShelfItemInput = strawberry.field(description="The product and what to set for it.")


@strawberry.input(description="The product to present (讲解), or none.")
class PresentLiveRoomProductInput:
    room_id: strawberry.ID = strawberry.field(description="The room (global id).")
    product_id: strawberry.ID | None = strawberry.field(default=None, description="Null stops presenting.")


@strawberry.input(description="Mute or unmute one viewer.")
class MuteLiveRoomViewerInput:
    room_id: strawberry.ID = strawberry.field(description="The room (global id).")
    member_id: strawberry.ID = strawberry.field(description="The viewer (a Member id, as LiveRoomComment.authorMemberId gives it).")
    minutes: int | None = strawberry.field(default=None, description="Omit to mute for the rest of the session.")
    unmute: bool = strawberry.field(default=False, description="true lifts the viewer's mute.")


@strawberry.input(description="Mute or unmute every viewer of a room.")
class MuteLiveRoomInput:
    room_id: strawberry.ID = strawberry.field(description="The room (global id).")
    muted: bool = strawberry.field(description="true mutes every viewer; false lets them speak again.")


@strawberry.input(description="Enter a room, with who shared it.")
class JoinLiveRoomInput:
    room_id: strawberry.ID = strawberry.field(description="The room (global id).")
    share_code: str | None = strawberry.field(
        default=None,
        description="The share code in the link (`myShareCode` of a member or guide): the only proof that credits whoever shared the room.",
    )
    sharer_member_id: strawberry.ID | None = strawberry.field(
        default=None, description="Who shared the room link (a Member id); only with their share code (MEMBERS_UNPROVEN_SHARER)."
    )
    guide_id: strawberry.ID | None = strawberry.field(
        default=None, description="The shopping guide who shared it (a Staff id): active staff with the `guide` role."
    )


@strawberry.input(description="A comment to say in a room.")
class SendLiveRoomCommentInput:
    room_id: strawberry.ID = strawberry.field(description="The room (global id).")
    text: str = strawberry.field(description="1 to comment_max_length characters after trimming.")


@strawberry.input(description="Like taps batched by the client.")
class LikeLiveRoomInput:
    room_id: strawberry.ID = strawberry.field(description="The room (global id).")
    taps: int = strawberry.field(default=1, description="Taps batched by the client since its last call.")


@strawberry.input(description="An order from a room: a convenience over placeOrder with every line naming the room.")
class CreateLiveRoomOrderInput:
    room_id: strawberry.ID = strawberry.field(description="The room (global id).")
    lines: list[OrderLineInput] = strawberry.field(description="What to buy.")
    delivery_type: DeliveryType = strawberry.field(default=DeliveryType.SHIPPING, description="SHIPPING by default; PICKUP needs a store.")
    pickup_store_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="For PICKUP: the store to collect at (a PickupStore global id); placeOrder's pickup {storeId, slotId} also takes a slot.",
    )
    store_id: int | None = strawberry.field(default=None, description="The pickup store as a number.", deprecation_reason=STORE_NUMBER_GONE)
    sharer_member_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Only with that member's share code (MEMBERS_UNPROVEN_SHARER); usually left out: the "
        "room's order is credited to whoever the member joined through.",
    )
    share_code: str | None = strawberry.field(default=None, description="A share code (`myShareCode`) to credit its holder.")
    expect_live_price: bool = strawberry.field(
        default=True, description="Refuse (LIVE_ROOM_NOT_LIVE) rather than charge the normal price if the room is no longer live."
    )
    idempotency_key: str | None = strawberry.field(
        default=None, description="A replay with the same key answers the first result and orders nothing more."
    )


@strawberry.type(description="The room after a host's or manager's change, or why it was refused.")
class LiveRoomPayload(Payload):
    room: LiveRoom | None = strawberry.field(default=None, description="The room as it is now; null when refused.")


@strawberry.type(description="The room and how many watch it, after a viewer joined, left or sent a heartbeat.")
class LiveRoomViewerPayload(Payload):
    room: LiveRoom | None = strawberry.field(default=None, description="The room as it is now; null when refused.")
    viewer_count: int | None = strawberry.field(default=None, description="Watching now; null when refused.")


@strawberry.type(description="The comment said, or why it was refused.")
class SendLiveRoomCommentPayload(Payload):
    comment: LiveRoomComment | None = strawberry.field(default=None, description="The comment; null when refused.")


@strawberry.type(description="The room's like count after the taps, or why they were refused.")
class LikeLiveRoomPayload(Payload):
    like_count: int | None = strawberry.field(default=None, description="Like taps in the room so far; null when refused.")
