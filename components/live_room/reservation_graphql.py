"""预约 in GraphQL: reserve / cancel a reservation, and the staff's warm-up board (thin: the rules
are in reservations.py)."""

from __future__ import annotations

import strawberry

from components.live_room import models
from components.live_room.graphql import LiveRoom, load_rooms
from core.errors import DomainError
from core.gql import Context, Payload, decode_id, run_mutation


@strawberry.type(description="One store's reservations of an upcoming room.")
class LiveRoomStoreReservations:
    store_id: int | None = strawberry.field(description="The store credited (null: no store's link brought them).")
    reservations: int


@strawberry.type(description="The warm-up board: a room's reservations in total and per store, most first.")
class LiveRoomReservationBoard:
    total: int
    stores: list[LiveRoomStoreReservations]


@strawberry.input
class ReserveLiveRoomInput:
    room_id: strawberry.ID
    store_id: int | None = strawberry.field(
        default=None, description="The store whose link or poster brought the member (credited on the board); a store number, as on LiveRoom.storeId."
    )
    guide_id: strawberry.ID | None = strawberry.field(default=None, description="The clerk who shared it (a Staff id).")


@strawberry.input
class CancelLiveRoomReservationInput:
    room_id: strawberry.ID


@strawberry.type
class LiveRoomReservationPayload(Payload):
    room: LiveRoom | None = None
    reserved: bool | None = strawberry.field(default=None, description="Whether the member now holds a reservation.")
    reservation_count: int | None = None


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


@strawberry.type
class Query:
    @strawberry.field(
        description="Staff: an upcoming room's reservations per store (the warm-up board); any staff "
        "member sees it, so stores can follow the competition."
    )
    async def live_room_reservation_board(self, info: strawberry.Info, room_id: strawberry.ID) -> LiveRoomReservationBoard:
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

    @strawberry.field(description="How many members reserved the room, and whether the signed-in member did.")
    async def live_room_reservations(self, info: strawberry.Info, room_id: strawberry.ID) -> LiveRoomReservationPayload:
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
    async def reserve_live_room(self, info: strawberry.Info, input: ReserveLiveRoomInput) -> LiveRoomReservationPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            member = ctx.require_member()
            room_id = decode_id(input.room_id, "LiveRoom", field="input.roomId")
            guide = decode_id(input.guide_id, "Staff", field="input.guideId") if input.guide_id else None
            await ctx.kernel.service("live_room").reservations.reserve(tx, room_id, member, store_id=input.store_id, guide_id=guide)
            return {"roomId": room_id, "memberId": member}

        return await _payload(ctx, *await run_mutation(ctx, work))

    @strawberry.mutation(description="Member: cancel one's reservation of a room.")
    async def cancel_live_room_reservation(self, info: strawberry.Info, input: CancelLiveRoomReservationInput) -> LiveRoomReservationPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            member = ctx.require_member()
            room_id = decode_id(input.room_id, "LiveRoom", field="input.roomId")
            await ctx.kernel.service("live_room").reservations.cancel(tx, room_id, member)
            return {"roomId": room_id, "memberId": member}

        return await _payload(ctx, *await run_mutation(ctx, work))
