"""Live-room mutations: scheduling and host controls, the shelf, muting, viewers joining, commenting
and liking, and ordering from the room. Resolvers are thin; rules are in service.py."""

from __future__ import annotations

from typing import Annotated

import strawberry

from components.live_room.checkout import EXPECT_LIVE_PRICE, LINE_FIELD
from components.live_room.graphql import load_rooms
from components.live_room.graphql_inputs import (
    CreateLiveRoomInput,
    CreateLiveRoomOrderInput,
    JoinLiveRoomInput,
    LikeLiveRoomInput,
    LikeLiveRoomPayload,
    LiveRoomIdInput,
    LiveRoomPayload,
    LiveRoomShelfItemInput,
    LiveRoomViewerPayload,
    MuteLiveRoomInput,
    MuteLiveRoomViewerInput,
    PresentLiveRoomProductInput,
    SendLiveRoomCommentInput,
    SendLiveRoomCommentPayload,
    SetLiveRoomShelfItemInput,
    UpdateLiveRoomInput,
    store_pk,
)
from components.live_room.graphql_types import comment_node
from components.live_room.service import ShelfEntry, comment_message
from components.orders.graphql import OrderPayload, load_orders
from core.errors import DomainError
from core.gql import Context, decode_id, minor_from_input, run_mutation
from core.gql.relay import to_global_id

# The one argument each mutation takes, described (`input: …Input!`).
RoomArg = Annotated[LiveRoomIdInput, strawberry.argument(description="The room to act on.")]
CreateArg = Annotated[CreateLiveRoomInput, strawberry.argument(description="The room to schedule.")]
UpdateArg = Annotated[UpdateLiveRoomInput, strawberry.argument(description="The room and what to change.")]
ShelfArg = Annotated[SetLiveRoomShelfItemInput, strawberry.argument(description="The room and the shelf item to set.")]
PresentArg = Annotated[PresentLiveRoomProductInput, strawberry.argument(description="The room and the product to present.")]
MuteViewerArg = Annotated[MuteLiveRoomViewerInput, strawberry.argument(description="The room, the viewer and how long.")]
MuteArg = Annotated[MuteLiveRoomInput, strawberry.argument(description="The room and whether every viewer is muted.")]
JoinArg = Annotated[JoinLiveRoomInput, strawberry.argument(description="The room and who shared it.")]
CommentArg = Annotated[SendLiveRoomCommentInput, strawberry.argument(description="The room and the comment.")]
LikeArg = Annotated[LikeLiveRoomInput, strawberry.argument(description="The room and the taps.")]
OrderArg = Annotated[CreateLiveRoomOrderInput, strawberry.argument(description="The room, the lines and the delivery.")]


def _service(ctx: Context):  # noqa: ANN202
    return ctx.kernel.service("live_room")


def _room_id(value: strawberry.ID) -> int:
    return decode_id(value, "LiveRoom", field="input.roomId")


async def _room_payload(ctx: Context, result: dict | None, errors: list) -> LiveRoomPayload:
    if errors:
        return LiveRoomPayload(user_errors=errors)
    return LiveRoomPayload(room=(await load_rooms(ctx, [result["roomId"]]))[0])


def _shelf_entry(ctx: Context, item: LiveRoomShelfItemInput, field: str) -> ShelfEntry:
    currency = ctx.kernel.blueprint.brand.currency
    # Left out: the live prices stay; an empty list clears them.
    prices = (
        None
        if item.live_prices is None
        else tuple(
            (
                decode_id(p.sku_id, "Sku", field=f"{field}.livePrices[{i}].skuId"),
                minor_from_input(p.price, currency, f"{field}.livePrices[{i}].price", allow_zero=False),
            )
            for i, p in enumerate(item.live_prices)
        )
    )
    if item.position is not None and not 0 <= item.position <= 10_000:
        raise DomainError("KERNEL_INVALID_INPUT", "A position is 0 to 10000.", field=f"{field}.position")
    return ShelfEntry(
        product_id=decode_id(item.product_id, "Product", field=f"{field}.productId"),
        on_shelf=item.on_shelf,
        live_prices=prices,
        position=item.position,
        live_stock=item.live_stock,
        per_member_limit=item.per_member_limit,
    )


def _host_control(name: str, description: str):  # noqa: ANN202
    """A host action that takes only the room id (start, pause, resume, end, cancel)."""

    async def resolver(self, info: strawberry.Info, input: RoomArg) -> LiveRoomPayload:  # noqa: A002, ANN001
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require_staff()
            room_id = _room_id(input.room_id)
            await getattr(_service(ctx), name)(tx, ctx.actor, room_id)
            return {"roomId": room_id}

        return await _room_payload(ctx, *await run_mutation(ctx, work))

    return strawberry.mutation(resolver=resolver, description=description)


def _viewer_control(name: str, description: str):  # noqa: ANN202
    """A viewer action that takes only the room id (leave, heartbeat) and answers the count."""

    async def resolver(self, info: strawberry.Info, input: RoomArg) -> LiveRoomViewerPayload:  # noqa: A002, ANN001
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            member = ctx.require_member()
            room_id = _room_id(input.room_id)
            return {"roomId": room_id, "viewerCount": await getattr(_service(ctx), name)(tx, room_id, member)}

        return await _viewer_payload(ctx, *await run_mutation(ctx, work))

    return strawberry.mutation(resolver=resolver, description=description)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Host or live-room manager: schedule a room with its shelf.")
    async def create_live_room(self, info: strawberry.Info, input: CreateArg) -> LiveRoomPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            actor = ctx.require_staff()
            shelf = [_shelf_entry(ctx, item, f"input.shelf[{i}]") for i, item in enumerate(input.shelf or [])]
            room_id = await _service(ctx).create_room(
                tx,
                actor,
                title=input.title,
                host_staff_id=decode_id(input.host_id, "Staff", field="input.hostId") if input.host_id else None,
                scheduled_start_at=input.scheduled_start_at,
                scheduled_end_at=input.scheduled_end_at,
                store_id=store_pk(input.pickup_store_id, input.store_id, "input.pickupStoreId"),
                store_field="input.pickupStoreId" if input.pickup_store_id is not None else "input.storeId",
                cover_url=input.cover_url,
                push_url=input.push_url,
                play_url=input.play_url,
                replay_url=input.replay_url,
                comments_enabled=input.comments_enabled,
                likes_enabled=input.likes_enabled,
                replay_enabled=input.replay_enabled,
                shelf=shelf,
            )
            return {"roomId": room_id}

        return await _room_payload(ctx, *await run_mutation(ctx, work))

    @strawberry.mutation(description="Host: change the title, cover, URLs, switches (comments/likes/replay), or times before going live.")
    async def update_live_room(self, info: strawberry.Info, input: UpdateArg) -> LiveRoomPayload:  # noqa: A002
        ctx: Context = info.context
        names = {
            "title": "title",
            "scheduled_start_at": "scheduledStartAt",
            "scheduled_end_at": "scheduledEndAt",
            "cover_url": "coverUrl",
            "push_url": "pushUrl",
            "play_url": "playUrl",
            "replay_url": "replayUrl",
            "comments_enabled": "commentsEnabled",
            "likes_enabled": "likesEnabled",
            "replay_enabled": "replayEnabled",
        }
        changes = {key: getattr(input, attr) for attr, key in names.items() if getattr(input, attr) is not None}

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require_staff()
            room_id = _room_id(input.room_id)
            await _service(ctx).update_room(tx, ctx.actor, room_id, changes)
            return {"roomId": room_id}

        return await _room_payload(ctx, *await run_mutation(ctx, work))

    start_live_room = _host_control("start", "Host: go live (scheduled → live).")
    pause_live_room = _host_control("pause", "Host: pause (live → paused); live prices stop until resumed.")
    resume_live_room = _host_control("resume", "Host: resume (paused → live).")
    end_live_room = _host_control("end", "Host: end the session (live or paused → ended).")
    cancel_live_room = _host_control("cancel", "Host: cancel a room that has not gone live.")

    @strawberry.mutation(description="Host: put a product on or off the shelf, with its live prices and position.")
    async def set_live_room_shelf_item(self, info: strawberry.Info, input: ShelfArg) -> LiveRoomPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require_staff()
            room_id = _room_id(input.room_id)
            await _service(ctx).set_shelf_item(tx, ctx.actor, room_id, _shelf_entry(ctx, input.item, "input.item"))
            return {"roomId": room_id}

        return await _room_payload(ctx, *await run_mutation(ctx, work))

    @strawberry.mutation(description="Host: present (讲解) a product on the shelf, or stop presenting with null.")
    async def present_live_room_product(self, info: strawberry.Info, input: PresentArg) -> LiveRoomPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require_staff()
            room_id = _room_id(input.room_id)
            product = decode_id(input.product_id, "Product", field="input.productId") if input.product_id else None
            await _service(ctx).present(tx, ctx.actor, room_id, product)
            return {"roomId": room_id}

        return await _room_payload(ctx, *await run_mutation(ctx, work))

    @strawberry.mutation(description="Host: mute one viewer (for some minutes or the session), or unmute.")
    async def mute_live_room_viewer(self, info: strawberry.Info, input: MuteViewerArg) -> LiveRoomPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require_staff()
            room_id = _room_id(input.room_id)
            member = decode_id(input.member_id, "Member", field="input.memberId")
            await _service(ctx).mute(tx, ctx.actor, room_id, member, minutes=input.minutes, unmute=input.unmute)
            return {"roomId": room_id}

        return await _room_payload(ctx, *await run_mutation(ctx, work))

    @strawberry.mutation(description="Host: mute or unmute every viewer at once.")
    async def mute_live_room(self, info: strawberry.Info, input: MuteArg) -> LiveRoomPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require_staff()
            room_id = _room_id(input.room_id)
            await _service(ctx).mute_room(tx, ctx.actor, room_id, input.muted)
            return {"roomId": room_id}

        return await _room_payload(ctx, *await run_mutation(ctx, work))

    @strawberry.mutation(description="Member: enter a room (counted as watching until leave or a missed heartbeat).")
    async def join_live_room(self, info: strawberry.Info, input: JoinArg) -> LiveRoomViewerPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            member = ctx.require_member()
            room_id = _room_id(input.room_id)
            sharer = decode_id(input.sharer_member_id, "Member", field="input.sharerMemberId") if input.sharer_member_id else None
            guide = decode_id(input.guide_id, "Staff", field="input.guideId") if input.guide_id else None
            count = await _service(ctx).join(tx, room_id, member, sharer_member_id=sharer, guide_id=guide, share_code=input.share_code)
            return {"roomId": room_id, "viewerCount": count}

        return await _viewer_payload(ctx, *await run_mutation(ctx, work))

    leave_live_room = _viewer_control("leave", "Member: leave a room.")
    heartbeat_live_room = _viewer_control("heartbeat", "Member: still watching (send every ~20 s; silence past the timeout stops counting).")

    @strawberry.mutation(description="Member: say something in the room (rate- and length-limited).")
    async def send_live_room_comment(self, info: strawberry.Info, input: CommentArg) -> SendLiveRoomCommentPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            member = ctx.require_member()
            comment = await _service(ctx).comment(tx, _room_id(input.room_id), member, input.text)
            return {"comment": comment_message(comment)}

        result, errors = await run_mutation(ctx, work)
        if errors:
            return SendLiveRoomCommentPayload(user_errors=errors)
        return SendLiveRoomCommentPayload(comment=comment_node(result["comment"]))

    @strawberry.mutation(description="Member: like (taps batched by the client; accepted once per interval).")
    async def like_live_room(self, info: strawberry.Info, input: LikeArg) -> LikeLiveRoomPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            member = ctx.require_member()
            return {"likeCount": await _service(ctx).like(tx, _room_id(input.room_id), member, input.taps)}

        result, errors = await run_mutation(ctx, work)
        if errors:
            return LikeLiveRoomPayload(user_errors=errors)
        return LikeLiveRoomPayload(like_count=result["likeCount"])

    @strawberry.mutation(description="Member: order from the room — live prices while it is live, attributed to the room and its sharer.")
    async def create_live_room_order(self, info: strawberry.Info, input: OrderArg) -> OrderPayload:  # noqa: A002
        ctx: Context = info.context
        request = {
            "room": str(input.room_id),
            "lines": [(str(l.sku_id), l.quantity) for l in input.lines],
            "delivery": input.delivery_type.value,
            "store": str(input.pickup_store_id) if input.pickup_store_id is not None else input.store_id,
            "sharer": input.sharer_member_id,
            "code": input.share_code,
            "expect": input.expect_live_price,
        }

        async def work(tx):  # noqa: ANN001, ANN202
            member = ctx.require_member()
            room_id = _room_id(input.room_id)
            store = store_pk(input.pickup_store_id, input.store_id, "input.pickupStoreId")
            if input.sharer_member_id:
                decode_id(input.sharer_member_id, "Member", field="input.sharerMemberId")
            lines = [(decode_id(l.sku_id, "Sku", field=f"input.lines[{i}].skuId"), l.quantity) for i, l in enumerate(input.lines)]
            source = {"liveRoomId": to_global_id("LiveRoom", room_id), "sharerMemberId": input.sharer_member_id, "shareCode": input.share_code}
            # A convenience over the one checkout: the same as placeOrder with every line's
            # liveRoomId set, plus "refuse rather than charge more once the room is not live".
            order_id = await ctx.kernel.service("orders").create_order(
                tx,
                member_id=member,
                lines=lines,
                delivery_type=input.delivery_type.value,
                inputs={"pickup": {"storeId": to_global_id("PickupStore", store)}} if store is not None else None,
                line_inputs=[{LINE_FIELD: to_global_id("LiveRoom", room_id)} for _ in lines],
                source={k: str(v) for k, v in source.items() if v is not None},
                attributes={EXPECT_LIVE_PRICE: True} if input.expect_live_price else None,
                idempotency_key=input.idempotency_key,
            )
            return {"orderId": order_id}

        result, errors = await run_mutation(ctx, work, idempotency=("live_room.order", input.idempotency_key, request))
        if errors:
            return OrderPayload(user_errors=errors)
        return OrderPayload(order=(await load_orders(ctx, [result["orderId"]]))[0])


async def _viewer_payload(ctx: Context, result: dict | None, errors: list) -> LiveRoomViewerPayload:
    if errors:
        return LiveRoomViewerPayload(user_errors=errors)
    return LiveRoomViewerPayload(room=(await load_rooms(ctx, [result["roomId"]]))[0], viewer_count=result["viewerCount"])
