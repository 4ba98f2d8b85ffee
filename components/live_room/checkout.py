"""Live rooms in the one checkout: live prices and attribution.

A line names its room with ``liveRoomId`` (a line extension), so one cart can hold a line
bought in a room next to plain lines; an order whose ``source.liveRoomId`` names a room (older
clients, ``createLiveRoomOrder``) puts every line in that room. Rules, as before:

- the live price applies to a line in a room that is **live**, for a SKU on the room's shelf
  with a live price, and only in plain orders, to lines no activity claimed (a group-buy,
  auction or points line prices itself);
- an order is attributed to one room (the room's results count orders, not lines), so lines
  naming two different rooms are refused;
- ``placed`` writes the attribution row with the order, in the placing transaction.

Lines are not claimed (``line.claim``): a room has no quantity of its own to hold stock
under, and claiming would stop a room's viewer from joining a group-buy line in the room.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, select

from components.live_room.models import LivePrice, Room, RoomOrder, ShelfItem
from components.live_room.quota import LIVE_LINES
from core.checkout import Draft
from core.errors import DomainError
from core.gql.relay import decode_id, to_global_id
from core.transaction import Transaction

if TYPE_CHECKING:
    from components.live_room.service import LiveRoomService

LINE_FIELD = "liveRoomId"
LINE_DESCRIPTION = "Live room: the room this line is bought in (its live price applies while the room is live)."
RUNNING = ("live", "paused")
# Set by createLiveRoomOrder: "the room is no longer live" refuses instead of silently charging more.
EXPECT_LIVE_PRICE = "liveRoomExpectLivePrice"
LIVE_PRICED = "liveRoomLivePriced"


class RoomCheckout:
    def __init__(self, service: LiveRoomService) -> None:
        self.service = service

    # -- which room ------------------------------------------------------------------------------------
    @staticmethod
    def room_of_line(line: Any) -> int | None:
        value = line.input(LINE_FIELD)
        return decode_id(str(value), "LiveRoom", field=f"input.lines[{line.index}].{LINE_FIELD}") if value is not None else None

    # -- prepare ------------------------------------------------------------------------------------------
    async def prepare(self, tx: Transaction, draft: Draft) -> None:
        source = draft.source.get("liveRoomId")
        room_id = decode_id(str(source), "LiveRoom", field="input.source.liveRoomId") if source is not None else None
        field = "input.source.liveRoomId"
        for line in draft.lines:
            named = self.room_of_line(line)
            if named is None:
                continue
            if room_id is not None and named != room_id:
                raise DomainError(
                    "LIVE_ROOM_ONE_ROOM_PER_ORDER",
                    "An order is bought in one live room; place one order per room.",
                    field=f"input.lines[{line.index}].{LINE_FIELD}",
                )
            if room_id is None:
                room_id, field = named, f"input.lines[{line.index}].{LINE_FIELD}"
        if room_id is None:
            return
        if await tx.session.get(Room, room_id) is None:
            raise DomainError("KERNEL_NOT_FOUND", "No such live room.", field=field)
        draft.vouch("liveRoomId")  # the room exists: the order may name it (orders refuses unchecked rooms)
        if source is not None:
            # The order's source puts every line in its room: each line then carries it, as if
            # the client had named it per line (stored with the line).
            for line in draft.lines:
                line.inputs.setdefault(LINE_FIELD, to_global_id("LiveRoom", room_id))
        # The order's attribution names the room, whichever way the buyer named it.
        draft.source["liveRoomId"] = to_global_id("LiveRoom", room_id)

    @staticmethod
    def order_room(draft: Draft) -> int | None:
        """The room of an order prepare accepted (one room per order)."""
        value = draft.source.get("liveRoomId")
        return decode_id(str(value), "LiveRoom") if value is not None else None

    # -- price stage "activity" -------------------------------------------------------------------------
    async def price(self, tx: Transaction, draft: Draft) -> None:
        if draft.kind != "plain":
            return  # a group-buy, auction or points order prices itself
        lines = [line for line in draft.lines if line.activity is None and line.input(LINE_FIELD) is not None]
        if not lines:
            return
        room_id = self.order_room(draft)  # one room per order (prepare)
        # FOR SHARE on PostgreSQL: the host's "end" waits for orders already pricing at the live
        # price, and no order prices live after the end has committed.
        room = await tx.session.get(
            Room, room_id, populate_existing=True, with_for_update={"read": True} if tx.kernel.db.is_postgresql and not draft.previewing else False
        )
        rows = (
            await tx.session.execute(
                select(LivePrice.sku_id, LivePrice.price_minor, LivePrice.product_id)
                .join(ShelfItem, and_(ShelfItem.room_id == LivePrice.room_id, ShelfItem.product_id == LivePrice.product_id))
                .where(LivePrice.room_id == room.id, LivePrice.sku_id.in_([line.sku_id for line in lines]), ShelfItem.on_shelf.is_(True))
            )
        ).all()
        prices = {sku: price for sku, price, _ in rows}
        products = {sku: product for sku, _, product in rows}
        if not prices:
            return
        if room.status != "live":
            if draft.attributes.get(EXPECT_LIVE_PRICE):
                raise DomainError(
                    "LIVE_ROOM_NOT_LIVE",
                    f"The room is {room.status}: its live prices are not available now.",
                    field="input.roomId",
                    status=room.status,
                )
            return
        if self.service.live_price_for == "joined" and await self.service.viewer(tx, room.id, draft.member_id) is None:
            # A live price is for the room's audience, not for anyone who learns the room's id.
            if draft.attributes.get(EXPECT_LIVE_PRICE):
                raise DomainError("LIVE_ROOM_NOT_JOINED", "Join the live room first: its live prices are for its viewers.", field="input.roomId")
            return
        for line in lines:
            if line.sku_id in prices and prices[line.sku_id] < line.unit_price_minor:
                line.set_unit_price(prices[line.sku_id], "直播价 live price")
                draft.attributes[LIVE_PRICED] = True
                draft.attributes.setdefault(LIVE_LINES, {})[str(line.index)] = products[line.sku_id]
        if draft.previewing and draft.attributes.get(LIVE_LINES):
            # The preview tells what placing will refuse (sold out, over the limit), writing nothing.
            await self.service.quota.check(tx, draft, room.id)

    # -- placed ------------------------------------------------------------------------------------------
    async def placed(self, tx: Transaction, draft: Draft, order_id: int) -> None:
        """The attribution row, with the order: to the room, and to whoever shared it."""
        room_id = self.order_room(draft)
        if room_id is None:
            return
        room = await tx.session.get(Room, room_id)
        # The source's sharer and guide were proven by orders (members.share_codes); without
        # them, the credit is what the viewer row recorded when the member joined through a code.
        source = draft.source
        sharer = _int_id(source.get("sharerMemberId"), "Member")
        guide = _int_id(source.get("guideId"), "Staff")
        if sharer is None or guide is None:
            viewer = await self.service.viewer(tx, room.id, draft.member_id)
            if viewer is not None:
                sharer = sharer if sharer is not None else viewer.sharer_member_id
                guide = guide if guide is not None else viewer.guide_id
        if sharer == draft.member_id:
            sharer = None  # buying through one's own share link credits nobody
        tx.session.add(
            RoomOrder(
                order_id=order_id,
                room_id=room.id,
                member_id=draft.member_id,
                sharer_member_id=sharer,
                guide_id=guide,
                in_session=room.status in RUNNING,
                live_priced=bool(draft.attributes.get(LIVE_PRICED)),
                status="pending_payment",
                total_minor=draft.total_minor,
                paid_minor=0,
                refunded_minor=0,
                created_at=tx.now(),
            )
        )
        await tx.session.flush()
        await self.service.quota.take(tx, draft, order_id, room.id)  # live-only stock, per-member limits


def _int_id(value: Any, type_name: str) -> int | None:
    """A sharer or guide named in an order's source: a global id, or a bare number. Anything
    else credits nobody (attribution must never fail an order)."""
    if value is None:
        return None
    text = str(value)
    if text.isdigit() and len(text) <= 18:
        return int(text)
    try:
        return decode_id(text, type_name)
    except DomainError:
        return None
