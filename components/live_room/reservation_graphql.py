"""预约 in GraphQL: reserve / cancel a reservation, and the staff's warm-up board (thin: the rules
are in reservations.py)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from components.live_room import models
from components.live_room.graphql import LiveRoom, load_rooms
from components.live_room.graphql_inputs import STORE_NUMBER_GONE, store_pk
from core.errors import DomainError
from core.gql import Context, Payload, decode_id, run_mutation
from core.gql.relay import to_global_id

RoomIdArg = Annotated[strawberry.ID, strawberry.argument(description="The room's global id.")]


@strawberry.type(description="One store's reservations of an upcoming room.")
class LiveRoomStoreReservations:
    store_id: int | None = strawberry.field(
        description="The store credited, as a number (null: no store's link brought them).", deprecation_reason=STORE_NUMBER_GONE
    )
    reservations: int = strawberry.field(description="Active reservations this store brought.")

    @strawberry.field(description="The store credited (a PickupStore global id); null for the reservations no store's link brought.")
    def pickup_store_id(self) -> strawberry.ID | None:
        return strawberry.ID(to_global_id("PickupStore", self.store_id)) if self.store_id is not None else None


@strawberry.type(description="The warm-up board: a room's reservations in total and per store, most first.")
class LiveRoomReservationBoard:
    total: int = strawberry.field(description="Active reservations of the room.")
    stores: list[LiveRoomStoreReservations] = strawberry.field(
        description="Per store, most first; the reservations no store brought come last (pickupStoreId null)."
    )


@strawberry.input(description="Reserve an upcoming room (预约), credited to the store and clerk whose link brought the member.")
class ReserveLiveRoomInput:
    room_id: strawberry.ID = strawberry.field(description="The room (global id); only a scheduled room may be reserved.")
    pickup_store_id: strawberry.ID | None = strawberry.field(
        default=None, description="The store whose link or poster brought the member (a PickupStore global id), credited on the board."
    )
    store_id: int | None = strawberry.field(default=None, description="The store as a number.", deprecation_reason=STORE_NUMBER_GONE)
    guide_id: strawberry.ID | None = strawberry.field(default=None, description="The clerk who shared it (a Staff id).")


@strawberry.input(description="Cancel one's reservation of a room.")
class CancelLiveRoomReservationInput:
    room_id: strawberry.ID = strawberry.field(description="The room (global id).")


@strawberry.type(description="A room's reservations as the signed-in member sees them, or why a change was refused.")
class LiveRoomReservationPayload(Payload):
    room: LiveRoom | None = strawberry.field(default=None, description="The room; null when refused or unknown.")
    reserved: bool | None = strawberry.field(default=None, description="Whether the member now holds a reservation.")
    reservation_count: int | None = strawberry.field(default=None, description="Active reservations of the room; null when refused.")


async def _payload(ctx: Context, result: dict | None, errors: list) -> LiveRoomReservationPayload:
    if errors:
        return LiveRoomReservationPayload(user_errors=errors)
    session = await ctx.session()
    service = ctx.kernel.service("live_room").reservations
    return LiveRoomReservationPayload(
        room=(await load_rooms(ctx, [result["roomId"]]))[0],
        reserved=await service.is_reserved(session, result["roomId"], result["memberId"]),
        reservation_count=await service.count(session, result["roomId"]),
    )


ReserveArg = Annotated[ReserveLiveRoomInput, strawberry.argument(description="The room and who brought the member.")]
CancelArg = Annotated[CancelLiveRoomReservationInput, strawberry.argument(description="The room.")]


@strawberry.type
class Query:
    @strawberry.field(
        description="Staff: an upcoming room's reservations per store (the warm-up board); any staff "
        "member sees it, so stores can follow the competition. Null, with an error at its path, for anyone else."
    )
    async def live_room_reservation_board(self, info: strawberry.Info, room_id: RoomIdArg) -> LiveRoomReservationBoard | None:
        ctx: Context = info.context
        ctx.require_staff()
        pk = decode_id(room_id, "LiveRoom", field="roomId")
        session = await ctx.session()
        if await session.get(models.Room, pk) is None:
            raise DomainError("KERNEL_NOT_FOUND", "No such live room.", field="roomId")
        rows = await ctx.kernel.service("live_room").reservations.board(session, pk)
        return LiveRoomReservationBoard(
            total=sum(n for _, n in rows), stores=[LiveRoomStoreReservations(store_id=s, reservations=n) for s, n in rows]
        )

    @strawberry.field(description="How many members reserved the room, and whether the signed-in member did (public).")
    async def live_room_reservations(self, info: strawberry.Info, room_id: RoomIdArg) -> LiveRoomReservationPayload:
        ctx: Context = info.context
        pk = decode_id(room_id, "LiveRoom", field="roomId")
        session = await ctx.session()
        service = ctx.kernel.service("live_room").reservations
        mine = ctx.actor.is_member and await service.is_reserved(session, pk, ctx.actor.id)
        return LiveRoomReservationPayload(
            room=(await load_rooms(ctx, [pk]))[0], reserved=bool(mine), reservation_count=await service.count(session, pk)
        )


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Member: reserve an upcoming room (预约); reminded shortly before it starts. "
        "Reserving again changes nothing (the first store keeps the credit)."
    )
    async def reserve_live_room(self, info: strawberry.Info, input: ReserveArg) -> LiveRoomReservationPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            member = ctx.require_member()
            room_id = decode_id(input.room_id, "LiveRoom", field="input.roomId")
            guide = decode_id(input.guide_id, "Staff", field="input.guideId") if input.guide_id else None
            store = store_pk(input.pickup_store_id, input.store_id, "input.pickupStoreId")
            store_field = "input.pickupStoreId" if input.pickup_store_id is not None else "input.storeId"
            await ctx.kernel.service("live_room").reservations.reserve(tx, room_id, member, store_id=store, guide_id=guide, store_field=store_field)
            return {"roomId": room_id, "memberId": member}

        return await _payload(ctx, *await run_mutation(ctx, work))

    @strawberry.mutation(description="Member: cancel one's reservation of a room.")
    async def cancel_live_room_reservation(self, info: strawberry.Info, input: CancelArg) -> LiveRoomReservationPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            member = ctx.require_member()
            room_id = decode_id(input.room_id, "LiveRoom", field="input.roomId")
            await ctx.kernel.service("live_room").reservations.cancel(tx, room_id, member)
            return {"roomId": room_id, "memberId": member}

        return await _payload(ctx, *await run_mutation(ctx, work))
