"""The checkout's and the cart's GraphQL output types, and how a priced draft or the cart's
rows become them. The inputs, queries and mutations are in ``checkout_graphql``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from sqlalchemy import select

from components.catalog.graphql import Sku
from components.orders import models
from components.orders.enums import CartLineAvailability
from components.orders.graphql import DeliveryType, PriceAdjustment, adjustment_nodes
from core.checkout import Draft
from core.gql import Context, Money, Node, Payload, money

_GONE = "Use {}; removed in the next release."


@strawberry.type(description="The activity a line belongs to, and the component that owns it.")
class LineActivity:
    component: str = strawberry.field(description="The component that owns the activity (group_buy, live_room, …).")
    ref: str = strawberry.field(description="The component's own reference of the activity (an offer, a lot, a room).")


@strawberry.type(description="A line as checkout would place it.")
class CheckoutLine:
    index: int = strawberry.field(description="The line's position in the checkout input, from 0 (errors name it as input.lines[index]).")
    title: str = strawberry.field(description="The SKU's title.")
    quantity: int = strawberry.field(description="Units.")
    list_unit_price: Money = strawberry.field(description="The catalogue price of one unit, before any adjustment.")
    unit_price: Money = strawberry.field(description="The price of one unit after the line's own adjustments.")
    adjustments: list[PriceAdjustment] = strawberry.field(description="The line's own adjustments, stage by stage.")
    total: Money = strawberry.field(description="What is paid for this line, its share of order-level amounts included.")
    activity: LineActivity | None = strawberry.field(description="The activity the line is bought in; null for a plain line.")
    sku_pk: strawberry.Private[int]

    @strawberry.field(description="The SKU as it is now; null if withdrawn from sale.")
    async def sku(self, info: strawberry.Info) -> Sku | None:
        return await info.context.loader("catalog.skus").load(self.sku_pk)


@strawberry.type(description="A pickup slot with room left.")
class DeliverySlot:
    id: strawberry.ID = strawberry.field(description="The PickupSlot's global id (send it as pickup.slotId).")
    starts_at: datetime = strawberry.field(description="When the slot opens (ISO 8601, UTC).")
    ends_at: datetime = strawberry.field(description="When the slot closes (ISO 8601, UTC).")
    remaining: int = strawberry.field(description="Orders the slot still takes.", deprecation_reason=_GONE.format("capacityLeft"))
    capacity_left: int = strawberry.field(description="Orders the slot still takes.")


@strawberry.type(description="A store the order could be collected at.")
class DeliveryStore:
    id: strawberry.ID = strawberry.field(description="The PickupStore's global id (send it as pickup.storeId).")
    name: str = strawberry.field(description="The store's name.")
    address: str | None = strawberry.field(description="The store's address; null if the brand gave none.")
    distance_meters: int | None = strawberry.field(description="Metres from the member when the offering component knows it; null when unknown.")
    slots: list[DeliverySlot] = strawberry.field(description="Upcoming slots with room left, soonest first; empty when none is open.")


@strawberry.type(description="A way this order can reach the member.")
class DeliveryOption:
    type: DeliveryType = strawberry.field(description="The delivery type this option is for.")
    component: str = strawberry.field(description="The component offering it (orders for shipping, store_pickup for pickup).")
    stores: list[DeliveryStore] = strawberry.field(description="For pickup: the stores that can hand the order over; empty for shipping.")


@strawberry.type(description="Something a component still needs from the buyer.")
class CheckoutNeed:
    component: str = strawberry.field(description="The component that needs it.")
    field: str = strawberry.field(description="The input path to fill (input.pickup.storeId, …).")
    message: str = strawberry.field(description="What to ask the buyer, in words.")


@strawberry.type(description="Exactly what placeOrder would write now, without writing anything.")
class CheckoutPreview:
    lines: list[CheckoutLine] = strawberry.field(description="The lines as they would be placed.")
    subtotal: Money = strawberry.field(description="The lines at their catalogue prices.")
    order_adjustments: list[PriceAdjustment] = strawberry.field(description="Adjustments made to the whole order (spread over lines).")
    total: Money = strawberry.field(description="What the member would pay, in minor units; send it as placeOrder's expectedTotal.")
    delivery_options: list[DeliveryOption] = strawberry.field(description="The ways this order can reach the member.")
    needs: list[CheckoutNeed] = strawberry.field(description="What is still missing before placeOrder can succeed; empty when complete.")
    # Components that extend CheckoutPreview (registrar.extend) read the priced draft from here.
    draft: strawberry.Private[Any] = None


@strawberry.type(description="The answer of previewCheckout.")
class CheckoutPreviewPayload(Payload):
    preview: CheckoutPreview | None = strawberry.field(default=None, description="The preview; null when userErrors say why not.")


@strawberry.type(description="One checkout input field a cart line was added with, as text.")
class CheckoutFieldValue:
    field: str = strawberry.field(description="The CheckoutLineInput field's path: liveRoomId, or groupBuy.offerId for a nested one.")
    value: str = strawberry.field(description="The value as sent (an id, a code, a number), as text.")


def field_values(inputs: dict[str, Any] | None, prefix: str = "") -> list[CheckoutFieldValue]:
    """A line's checkout inputs flattened to one entry per value (a list gives one per item)."""
    out: list[CheckoutFieldValue] = []
    for name, value in (inputs or {}).items():
        path = prefix + name
        if isinstance(value, dict):
            out.extend(field_values(value, path + "."))
        elif isinstance(value, list):
            out.extend(CheckoutFieldValue(field=path, value=str(item)) for item in value)
        elif value is not None:
            out.append(CheckoutFieldValue(field=path, value=str(value)))
    return out


@strawberry.type(description="A line of the member's cart; only its member sees it.")
class CartLine(Node):
    quantity: int = strawberry.field(description="Units in the cart.")
    inputs: strawberry.scalars.JSON = strawberry.field(
        description="The line's checkout inputs (e.g. liveRoomId), as sent.", deprecation_reason=_GONE.format("checkoutFields")
    )
    checkout_fields: list[CheckoutFieldValue] = strawberry.field(
        description="The checkout inputs the line was added with (liveRoomId, groupBuy.offerId, …); checkout from the cart sends them again."
    )
    unavailable_reason: str | None = strawberry.field(
        description="NOT_ON_SALE, OUT_OF_STOCK or NOT_ENOUGH_STOCK; null when buyable.", deprecation_reason=_GONE.format("availability")
    )
    availability: CartLineAvailability = strawberry.field(description="Whether the line can be bought now, and if not, why.")
    sku_pk: strawberry.Private[int]

    @strawberry.field(description="The SKU as it is now; null if it no longer exists.")
    async def sku(self, info: strawberry.Info) -> Sku | None:
        return await info.context.loader("catalog.skus").load(self.sku_pk)


@strawberry.type(description="The signed-in member's cart.")
class Cart:
    lines: list[CartLine] = strawberry.field(description="The lines, oldest first (a cart holds at most 100).")


@strawberry.type(description="The answer of a cart mutation: the whole cart after the change.")
class CartPayload(Payload):
    cart: Cart | None = strawberry.field(default=None, description="The cart after the change; null when userErrors say why not.")


def _activity(line: Any) -> LineActivity | None:
    return LineActivity(component=line.activity[0], ref=line.activity[1]) if line.activity else None


def _slot(t: dict[str, Any]) -> DeliverySlot:
    return DeliverySlot(id=t["id"], starts_at=t["startsAt"], ends_at=t["endsAt"], remaining=t["remaining"], capacity_left=t["remaining"])


def _store(s: dict[str, Any]) -> DeliveryStore:
    slots = [_slot(t) for t in s.get("slots", [])]
    return DeliveryStore(id=s["id"], name=s["name"], address=s.get("address"), distance_meters=s.get("distanceMeters"), slots=slots)


def preview_node(draft: Draft, options: list[dict[str, Any]]) -> CheckoutPreview:
    c = draft.currency
    return CheckoutPreview(
        lines=[
            CheckoutLine(
                index=line.index,
                title=line.title,
                quantity=line.quantity,
                list_unit_price=money(line.list_unit_price_minor, c),
                unit_price=money(line.unit_price_minor, c),
                adjustments=adjustment_nodes(line.adjustments, c),
                total=money(line.total_minor, c),
                activity=_activity(line),
                sku_pk=line.sku_id,
            )
            for line in draft.lines
        ],
        subtotal=money(draft.subtotal_minor, c),
        order_adjustments=adjustment_nodes(draft.order_adjustments, c),
        total=money(draft.total_minor, c),
        delivery_options=[
            DeliveryOption(type=DeliveryType(o["type"]), component=o["component"], stores=[_store(s) for s in o.get("stores", [])]) for o in options
        ],
        needs=[CheckoutNeed(**n) for n in draft.needs],
        draft=draft,
    )


def cart_line_node(row: models.CartLine, reason: str | None) -> CartLine:
    inputs = row.inputs or {}
    return CartLine(
        pk=row.id,
        quantity=row.quantity,
        inputs=inputs,
        checkout_fields=field_values(inputs),
        unavailable_reason=reason,
        availability=CartLineAvailability(reason) if reason else CartLineAvailability.AVAILABLE,
        sku_pk=row.sku_id,
    )


async def cart_node(ctx: Context, member_id: int) -> Cart:
    session = await ctx.session()
    cart = ctx.kernel.service("orders").cart
    rows = await cart.lines(session, member_id)
    reasons = await cart.unavailable_reasons(session, ctx.kernel, rows)
    return Cart(lines=[cart_line_node(r, reasons.get(r.id)) for r in rows])


async def load_cart_lines(ctx: Context, keys: list[int]) -> list[CartLine | None]:
    """node(id) of a cart line: its member only (staff do not browse carts)."""
    if not ctx.actor.is_member:
        return [None for _ in keys]
    session = await ctx.session()
    rows = {r.id: r for r in (await session.scalars(select(models.CartLine).where(models.CartLine.id.in_(keys)))).all()}
    mine = [rows[k] for k in keys if k in rows and rows[k].member_id == ctx.actor.id]
    reasons = await ctx.kernel.service("orders").cart.unavailable_reasons(session, ctx.kernel, mine)
    found = {r.id: cart_line_node(r, reasons.get(r.id)) for r in mine}
    return [found.get(k) for k in keys]
