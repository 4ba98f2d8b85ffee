"""What the orders mutations share: reading ids from inputs (global ids, and the bare numbers
accepted for one release), choosing between a new input field and its deprecated alias, and
finding the order a caller may act on."""

from __future__ import annotations

from typing import Any

from components.orders import models
from components.orders.graphql import MANAGE, OrderPayload, OrderSourceInput, load_orders, staff_may_touch
from core.errors import DomainError, refuse_both
from core.gql import Context, decode_id
from core.gql.relay import parse_key


def node_key(value: Any, type_name: str, field: str) -> int:
    """The key behind a global id of ``type_name``; a bare number is still accepted for one
    release (order lines, payments, cart lines and payment intents had raw row ids before)."""
    bare = parse_key(str(value))
    return bare if bare is not None else decode_id(str(value), type_name, field=field)


def line_text(value: Any) -> str:
    """An order line id as an idempotency fingerprint holds it: the row number whichever form
    was sent, so a retry that switched to the global id is the same request (garbage as sent)."""
    try:
        return str(node_key(value, "OrderLine", "lineId"))
    except DomainError:
        return str(value)


def one_of(new: Any, old: Any, new_field: str, old_field: str) -> Any:
    """The value of a renamed input field or of its deprecated alias; both is a typed error."""
    refuse_both(new, old, new_name=new_field, old_name=old_field, field=old_field)
    return new if new is not None else old


def _orders(ctx: Context) -> Any:
    return ctx.kernel.service("orders")


async def _order_payload(ctx: Context, result: dict | None, errors: list) -> OrderPayload:
    if errors:
        return OrderPayload(user_errors=errors)
    return OrderPayload(order=(await load_orders(ctx, [result["orderId"]]))[0])


async def _own_order(ctx: Context, tx: Any, order_id: int) -> models.Order:
    """The order if the caller is its member (or staff who may manage orders); else not found."""
    order = await _orders(ctx).get(tx, order_id)
    if ctx.actor.is_member and order.member_id == ctx.actor.id:
        return order
    if ctx.actor.is_staff:
        ctx.require(MANAGE)  # staff without it are told so, not that the order is missing
        return order
    if ctx.actor.kind == "anonymous":
        ctx.require_member()
    raise DomainError("KERNEL_NOT_FOUND", "No such order.", field="input.orderId")


async def _staff_order(ctx: Context, tx: Any, order_id: int, permission: str) -> models.Order:
    """The order if the staff caller holds ``permission`` and (store clerks) it is at their store."""
    ctx.require(permission)
    order = await _orders(ctx).get(tx, order_id)
    if not staff_may_touch(ctx, order.store_id, permission):
        raise DomainError("KERNEL_NOT_FOUND", "No such order.", field="input.orderId")
    return order


def _source_input(source: OrderSourceInput | None) -> dict[str, Any]:
    if source is None:
        return {}
    data = {
        "liveRoomId": source.live_room_id,
        "groupId": source.group_id,
        "guideId": source.guide_id,
        "shareCode": source.share_code,
        "sharerMemberId": source.sharer_member_id,
    }
    if source.share_code is not None and len(source.share_code) > 64:
        raise DomainError("KERNEL_INVALID_INPUT", "A share code has at most 64 characters.", field="input.source.shareCode")
    return {k: str(v) for k, v in data.items() if v is not None}


# The four connection arguments, described once for every orders connection.
