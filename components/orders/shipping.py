"""Shipping: the address chosen at checkout, the delivery fee, and shipments with tracking.

The orders component joins its own checkout like any other component: the address field is
an input extension it declares on its own ``CheckoutInput``, read by its own participant, and
the fee is a price adjuster at stage ``delivery``.
"""

from __future__ import annotations

from typing import Any, Mapping

from sqlalchemy import update

from components.orders.addresses import Addresses, snapshot
from components.orders.models import Order, OrderLine, Shipment
from core.checkout import Draft
from core.errors import DomainError
from core.gql.relay import from_global_id, parse_key
from core.transaction import Transaction
from core.units import parse_money

ADDRESS_ATTRIBUTE = "shippingAddress"  # carried on the draft, stored in its own column


def address_key(value: Any) -> int:
    try:
        type_name, pk = from_global_id(str(value))
    except DomainError:
        type_name, pk = None, None
    key = parse_key(pk) if type_name == "ShippingAddress" and pk is not None else None
    if key is None:
        raise DomainError("KERNEL_INVALID_ID", "expected the id of a ShippingAddress", field="input.shippingAddressId")
    return key


class ShippingCheckout:
    """Snapshots the chosen address onto a shipping order; says when one is still needed."""

    def __init__(self, required: bool) -> None:
        self.required = required
        self.addresses = Addresses()

    async def prepare(self, tx: Transaction, draft: Draft) -> None:
        chosen = draft.input("shippingAddressId")
        if draft.delivery_type != "shipping":
            if chosen is not None:
                raise DomainError("ORDERS_ADDRESS_NOT_ALLOWED", "A pickup order has no shipping address.", field="input.shippingAddressId")
            return
        if chosen is None:
            if self.required and not draft.placed_by_system:
                draft.need("orders", "input.shippingAddressId", "Choose a shipping address.")
            return
        address = await self.addresses.own(tx.session, draft.member_id, address_key(chosen), field="input.shippingAddressId")
        draft.attributes[ADDRESS_ATTRIBUTE] = snapshot(address)


def delivery_fee(settings: Mapping[str, Any], currency: str) -> Any:
    """The price adjuster for the brand's shipping fee, or None when the brand charges none."""
    rule = settings.get("shipping_fee")
    if not rule:
        return None
    flat = parse_money(rule["flat"], currency)
    free_over = parse_money(rule["free_over"], currency) if rule.get("free_over") else None

    def adjuster(tx: Transaction, draft: Draft) -> None:
        if draft.delivery_type != "shipping" or flat == 0:
            return
        goods = sum(line.own_total_minor for line in draft.lines) + draft.order_adjustments_minor
        if free_over is not None and goods >= free_over:
            return
        draft.adjust(flat, "运费 shipping fee")

    return adjuster


async def ship(tx: Transaction, orders: Any, order_id: int, *, carrier: str, tracking_number: str, lines: list[tuple[int, int]] | None) -> Shipment:
    """Hand units to a carrier. When nothing unrefunded is left to ship, the order is fulfilled."""
    carrier, tracking_number = carrier.strip(), tracking_number.strip()
    if not carrier or len(carrier) > 50:
        raise DomainError("KERNEL_INVALID_INPUT", "Name the carrier (at most 50 characters).", field="input.carrier")
    if not tracking_number or len(tracking_number) > 50 or not tracking_number.isascii():
        raise DomainError("KERNEL_INVALID_INPUT", "A tracking number has 1 to 50 ASCII characters.", field="input.trackingNumber")
    order: Order = await orders.get(tx, order_id)
    if order.status != "paid":
        raise DomainError(
            "ORDERS_ILLEGAL_TRANSITION", f"An order that is {order.status} cannot be shipped.", field="input.orderId", status=order.status
        )
    if order.delivery_type != "shipping":
        raise DomainError(
            "ORDERS_ILLEGAL_TRANSITION", "A pickup order is handed over at its store, not shipped.", field="input.orderId", status=order.status
        )
    refusal = await orders.fulfilment_refusal(tx, order)
    if refusal:
        raise DomainError("ORDERS_FULFILMENT_BLOCKED", refusal, field="input.orderId")
    order_lines = {line.id: line for line in await orders.lines(tx, order.id)}

    def left(line: OrderLine) -> int:
        # Refunds use up the unshipped units first (see units_back_on_shelf).
        return max(line.quantity - line.refunded_quantity - (line.shipped_quantity or 0), 0)

    wanted = lines if lines is not None else [(lid, left(line)) for lid, line in order_lines.items() if left(line) > 0]
    shipped = []
    for index, (line_id, quantity) in enumerate(wanted):
        line = order_lines.get(line_id)
        if line is None:
            raise DomainError("ORDERS_UNKNOWN_LINE", "That line is not part of this order.", field=f"input.lines[{index}].lineId")
        if line.open_request_id is not None:
            raise DomainError(
                "ORDERS_REFUND_REQUEST_OPEN", "This line has an open refund request; settle it first.", field=f"input.lines[{index}].lineId"
            )
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= left(line):
            raise DomainError(
                "ORDERS_INVALID_QUANTITY", f"Between 1 and {left(line)} units of this line can be shipped.", field=f"input.lines[{index}].quantity"
            )
        line.shipped_quantity = (line.shipped_quantity or 0) + quantity
        shipped.append({"lineId": line.id, "quantity": quantity})
    if not shipped:
        raise DomainError("ORDERS_NOTHING_TO_SHIP", "Everything in this order was shipped or refunded.", field="input.orderId")
    shipment = Shipment(order_id=order.id, carrier=carrier, tracking_number=tracking_number, lines=shipped, shipped_at=tx.now())
    tx.session.add(shipment)
    await tx.session.flush()
    if all(left(line) == 0 for line in order_lines.values()):
        moved = await tx.session.execute(
            update(Order).where(Order.id == order.id, Order.status == "paid").values(status="fulfilled", fulfilled_at=tx.now())
        )
        if moved.rowcount == 1:
            await tx.session.refresh(order)
            await orders.after_fulfilment(tx, order)
    return shipment
