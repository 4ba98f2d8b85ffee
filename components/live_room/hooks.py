import strawberry

from components.live_room import graphql, graphql_mutations, graphql_stream, graphql_types, models, reservation_graphql
from components.live_room.checkout import LINE_DESCRIPTION, LINE_FIELD
from components.live_room.examples import dougong_examples  # noqa: F401  (a hook of this plugin)
from components.live_room.reservations import REMIND_JOB
from components.live_room.service import HOST, MANAGE, OVERDUE_JOB, SWEEP_JOB, LiveRoomService
from core.hookspecs import hookimpl


@hookimpl
def dougong_tables(registrar):
    for model in (
        models.Room,
        models.ShelfItem,
        models.LivePrice,
        models.Viewer,
        models.Comment,
        models.RoomOrder,
        models.Reservation,
        models.Purchase,
    ):
        registrar.table(model)


@hookimpl
def dougong_services(registrar):
    registrar.service("live_room", LiveRoomService(registrar.kernel, registrar.settings))


@hookimpl
def dougong_schema(registrar):
    registrar.query(graphql.Query)
    registrar.mutation(graphql_mutations.Mutation)
    registrar.subscription(graphql_stream.Subscription)
    registrar.query(reservation_graphql.Query)
    registrar.mutation(reservation_graphql.Mutation)
    registrar.type(reservation_graphql.LiveRoomReservationBoard)
    registrar.node(graphql.LiveRoom, graphql.load_rooms)
    registrar.node(graphql_types.LiveRoomComment, graphql_types.load_comments)
    registrar.extend("Order", "liveRoom", graphql.order_live_room, "The live room the order was placed from; null for an order from no room.")


@hookimpl
def dougong_dataloaders(registrar):
    registrar.dataloader("live_room.host_names", graphql.load_host_names)
    registrar.dataloader("live_room.rooms_of_orders", graphql.load_rooms_of_orders)


@hookimpl
def dougong_checkout(registrar):
    registrar.extend_input("CheckoutLineInput", LINE_FIELD, strawberry.ID, LINE_DESCRIPTION)
    # prepare checks the room; placed writes the attribution row with the order.
    registrar.checkout_participant(registrar.kernel.service("live_room").checkout)


@hookimpl
def dougong_price_adjusters(registrar):
    registrar.price_adjuster("activity", registrar.kernel.service("live_room").checkout.price)


@hookimpl
def dougong_event_handlers(registrar):
    service = registrar.kernel.service("live_room")
    # In the order's own transaction: the attribution row follows its order's status exactly.
    for name in ("order.paid", "order.cancelled", "order.refunded"):
        registrar.on(name, service.on_order_changed, in_transaction=True)


@hookimpl
def dougong_jobs(registrar):
    service = registrar.kernel.service("live_room")
    registrar.job(OVERDUE_JOB, service.on_overdue)
    registrar.every(SWEEP_JOB, service.sweep_every.total_seconds(), service.sweep)
    registrar.job(REMIND_JOB, service.reservations.remind)


@hookimpl
def dougong_permissions(registrar):
    registrar.permission(MANAGE, "Schedule rooms for any host, run any room, see every room's results", roles=("admin",))
    registrar.permission(HOST, "Schedule and run one's own live rooms", roles=("admin", "live_host"))


@hookimpl
def dougong_error_codes(registrar):
    for code, text in {
        "LIVE_ROOM_INVALID_ROOM": "The room's settings are inconsistent (times, title, host, URLs).",
        "LIVE_ROOM_INVALID_PRICE": "A live price is not for one of the product's SKUs, or not between zero and the SKU's price.",
        "LIVE_ROOM_SHELF_FULL": "The shelf holds its maximum number of products.",
        "LIVE_ROOM_NOT_ON_SHELF": "Only a product on the shelf can be presented.",
        "LIVE_ROOM_ILLEGAL_STATE": "The room's status does not allow this; details carry the status.",
        "LIVE_ROOM_NOT_HOST": "Only the room's host (or a live-room manager) can do this.",
        "LIVE_ROOM_NOT_LIVE": "The room is not live (comments, likes, live prices).",
        "LIVE_ROOM_CLOSED": "The room has ended, was cancelled or expired.",
        "LIVE_ROOM_NOT_JOINED": "The member has not joined the room.",
        "LIVE_ROOM_COMMENTS_OFF": "Comments are switched off in the room.",
        "LIVE_ROOM_LIKES_OFF": "Likes are switched off in the room.",
        "LIVE_ROOM_MUTED": "The member, or the whole room, is muted.",
        "LIVE_ROOM_COMMENT_TOO_LONG": "The comment is longer than the room allows; details carry maxLength.",
        "LIVE_ROOM_COMMENT_INVALID": "The comment is empty.",
        "LIVE_ROOM_COMMENT_TOO_FAST": "Over the comment rate limit; details carry retryAfterSeconds.",
        "LIVE_ROOM_LIKE_TOO_FAST": "Likes are accepted once per interval; details carry retryAfterSeconds.",
        "LIVE_ROOM_INVALID_LIKE": "The number of taps is out of range.",
        "LIVE_ROOM_LIVE_STOCK_SOLD_OUT": "The product's units at the live price are sold out.",
        "LIVE_ROOM_LIMIT_REACHED": "The member bought the most units allowed at the live price; details carry limit and bought.",
        "LIVE_ROOM_NOT_RESERVABLE": "Only an upcoming (scheduled) room can be reserved; details carry the status.",
        "LIVE_ROOM_NOT_RESERVED": "The member has no reservation of this room to cancel.",
        "LIVE_ROOM_ONE_ROOM_PER_ORDER": "Lines of one order name different live rooms; an order is attributed to one room.",
    }.items():
        registrar.error_code(code, text)


@hookimpl
async def dougong_seed_demo(kernel, tx):
    from components.live_room import demo

    await demo.seed(kernel, tx)


@hookimpl
def dougong_events(registrar):
    room = {"roomId": "int"}
    registrar.event("live_room.scheduled", "A live room was scheduled", payload={**room, "hostStaffId": "int"})
    registrar.event("live_room.started", "The host went live", payload=room)
    registrar.event("live_room.ended", "A live session ended", payload={**room, "reason": "str"})
    registrar.event("live_room.cancelled", "A scheduled room was cancelled", payload=room)
    registrar.event("live_room.expired", "A room was never started and expired", payload=room)
    registrar.event(
        "live_room.reservation_reminder",
        "An upcoming room a member reserved starts soon (once per reservation)",
        payload={
            **room,
            "memberId": "int",
            "storeId": "int | None: the store credited with the reservation",
            "title": "str",
            "scheduledStartAt": "str: ISO 8601 UTC",
        },
    )
    registrar.event("live_room.presenting", "The host presents a product", payload={**room, "productId": "int | None"})


@hookimpl
def dougong_page_blocks(registrar):
    from components.live_room import blocks

    blocks.register(registrar)
