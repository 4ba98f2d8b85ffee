"""The one checkout: every way to buy (cart, group-buy, live room, points mall, pickup, the
auction winner's order) ends here, so the rules of every component hold whichever mutation
a frontend used. See :mod:`core.checkout` for the contract components implement.

``preview`` and ``place`` run the very same steps; ``preview`` on a read session that is
never committed, ``place`` in the write transaction, which then holds stock, writes the
order and its lines, lets components write their rows (``placed``) and only then announces
``order.created`` (and pays a zero-total order), so every in-transaction handler finds
everything the checkout wrote.
"""

from __future__ import annotations

import inspect
import json
from datetime import timedelta
from typing import Any

from components.orders.attribution import check_vouched, proven_source
from components.orders.models import Order, OrderLine
from components.orders.shipping import ADDRESS_ATTRIBUTE
from core.checkout import CheckoutRequest, Draft, DraftLine, LineRequest  # noqa: F401 (LineRequest: service.py and checkout_graphql.py import it from here)
from core.errors import DomainError
from core.transaction import Transaction


def participants(tx: Transaction) -> list[tuple[str, Any]]:
    return [(p.component, p.participant) for p in tx.kernel.contributions.checkout_participants]


async def _call(method: Any, *args: Any) -> Any:
    result = method(*args)
    if inspect.isawaitable(result):
        result = await result
    return result


class Checkout:
    def __init__(self, max_lines: int, max_quantity: int) -> None:
        self.max_lines = max_lines
        self.max_quantity = max_quantity

    # -- the steps preview and place share ------------------------------------------------------
    async def draft(self, tx: Transaction, request: CheckoutRequest, *, previewing: bool) -> Draft:
        kernel = tx.kernel
        lines = request.lines
        if not lines:
            raise DomainError("ORDERS_EMPTY", "An order needs at least one line.", field="input.lines")
        if len(lines) > self.max_lines:
            raise DomainError("ORDERS_TOO_MANY_LINES", f"An order has at most {self.max_lines} lines.", field="input.lines")
        if request.delivery_type not in ("shipping", "pickup"):
            raise DomainError("KERNEL_INVALID_INPUT", "Delivery is shipping or pickup.", field="input.deliveryType")
        for index, line in enumerate(lines):
            quantity = line.quantity
            if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= self.max_quantity:
                raise DomainError(
                    "ORDERS_INVALID_QUANTITY", f"A quantity is a whole number from 1 to {self.max_quantity}.", field=f"input.lines[{index}].quantity"
                )
        if await kernel.service("members").member(tx.session, request.member_id) is None:
            raise DomainError("KERNEL_NOT_FOUND", "No such member.", field="memberId")
        source = await proven_source(tx, request.member_id, request.source)
        skus = await kernel.service("catalog").skus(tx.session, [line.sku_id for line in lines])
        draft_lines = []
        for index, line in enumerate(lines):
            sku = skus.get(line.sku_id)
            if sku is None or not sku.on_sale:
                raise DomainError("ORDERS_SKU_UNAVAILABLE", "That product is not on sale.", field=f"input.lines[{index}].skuId")
            draft_lines.append(
                DraftLine(
                    line.sku_id,
                    f"{sku.product_title} · {sku.title}",
                    line.quantity,
                    sku.price_minor,
                    sku.price_minor,
                    inputs=dict(line.inputs),
                    index=index,
                )
            )
        draft = Draft(
            member_id=request.member_id,
            kind=request.kind,
            currency=kernel.blueprint.brand.currency,
            delivery_type=request.delivery_type,
            store_id=None,
            source=source,
            attributes=dict(request.attributes),
            lines=draft_lines,
            inputs=dict(request.inputs),
            previewing=previewing,
            placed_by_system=request.placed_by_system,
            payment_timeout=request.payment_timeout,
        )
        for line in draft.lines:
            line._draft = draft
        for component, participant in participants(tx):
            prepare = getattr(participant, "prepare", None)
            if prepare is not None:
                draft.current = (component, "prepare")
                await _call(prepare, tx, draft)
        draft.current = ("", "")
        check_vouched(draft, request.source)
        self._check_delivery(draft)
        if draft.needs and not previewing:
            need = draft.needs[0]
            raise DomainError("ORDERS_CHECKOUT_INCOMPLETE", need["message"], field=need["field"], needs=draft.needs)
        if len(draft.lines) > 1:
            for line in draft.lines:
                if line.exclusive:
                    raise DomainError(
                        "ORDERS_NEEDS_OWN_ORDER",
                        f"This {line.activity[0] if line.activity else 'activity'} line needs an order of its own.",
                        field=f"input.lines[{line.index}]",
                    )
        await self._price(tx, draft)
        return draft

    @staticmethod
    def _check_delivery(draft: Draft) -> None:
        if draft.delivery_type == "pickup":
            if draft.delivery_claimed_by is None:
                raise DomainError("ORDERS_STORE_REQUIRED", "This brand offers no store pickup.", field="input.deliveryType")
            if draft.store_id is None and not draft.needs:
                raise DomainError("ORDERS_STORE_REQUIRED", "Pickup orders choose a store.", field="input.pickup")
        elif draft.store_id is not None or draft.delivery_claimed_by is not None:
            # A shipping order has no store: attaching one would hand it to that store's clerks.
            raise DomainError("ORDERS_STORE_NOT_ALLOWED", "Only pickup orders name a store.", field="input.pickup")

    @staticmethod
    async def _price(tx: Transaction, draft: Draft) -> None:
        for adjuster in tx.kernel.contributions.adjusters_in_order():
            draft.current = (adjuster.component, adjuster.stage)
            await _call(adjuster.adjuster, tx, draft)
        draft.current = ("", "")
        for line in draft.lines:
            if line.own_total_minor < 0:
                raise DomainError("ORDERS_NEGATIVE_TOTAL", "Adjustments took a line below zero.", field=f"input.lines[{line.index}]")
        if draft.total_minor < 0:
            raise DomainError("ORDERS_NEGATIVE_TOTAL", "Adjustments took the order below zero.")
        draft.apportion()

    # -- preview -----------------------------------------------------------------------------------
    async def preview(self, tx: Transaction, request: CheckoutRequest) -> tuple[Draft, list[dict[str, Any]]]:
        """The draft and the delivery options; the caller's session is never committed."""
        draft = await self.draft(tx, request, previewing=True)
        options: list[dict[str, Any]] = [{"type": "shipping", "component": "orders", "stores": []}]
        for component, participant in participants(tx):
            offer = getattr(participant, "delivery_options", None)
            if offer is not None:
                for option in await _call(offer, tx, draft) or []:
                    options.append({"component": component, **option})
        return draft, options

    # -- place -------------------------------------------------------------------------------------
    async def place(
        self, tx: Transaction, request: CheckoutRequest, *, default_timeout: timedelta, pay_free: Any, schedule_timeout: Any, event_of: Any
    ) -> int:
        draft = await self.draft(tx, request, previewing=False)
        if request.expected_total_minor is not None and request.expected_total_minor != draft.total_minor:
            raise DomainError(
                "ORDERS_PRICE_CHANGED",
                "The price changed since the preview; check the new total and place the order again.",
                field="input.expectedTotal",
                expectedMinor=request.expected_total_minor,
                totalMinor=draft.total_minor,
                lines=[{"index": l.index, "unitPriceMinor": l.unit_price_minor, "totalMinor": l.total_minor} for l in draft.lines],
            )
        now = tx.now()
        order = Order(
            member_id=draft.member_id,
            status="pending_payment",
            kind=draft.kind,
            currency=draft.currency,
            subtotal_minor=draft.subtotal_minor,
            adjustments_minor=draft.total_minor - draft.subtotal_minor,
            total_minor=draft.total_minor,
            refunded_minor=0,
            delivery_type=draft.delivery_type,
            store_id=draft.store_id,
            location_id=draft.location_id,
            source=draft.source,
            attributes=draft.attributes,
            order_adjustments=draft.order_adjustments,
            idempotency_key=request.idempotency_key,
            shipping_address=draft.attributes.pop(ADDRESS_ATTRIBUTE, None),
            payment_due_at=now + (draft.payment_timeout or default_timeout),
            created_at=now,
        )
        tx.session.add(order)
        await tx.session.flush()
        inventory = tx.kernel.service("inventory")
        # Hold stock in one global order (by SKU): two buyers of the same SKUs listed in
        # opposite orders would otherwise lock each other's rows on PostgreSQL (deadlock).
        reservations: dict[int, int | None] = {}
        for line in sorted(draft.lines, key=lambda l: (l.sku_id, l.index)):
            if not line.holds_stock:  # a line that sells no goods (an auction deposit)
                reservations[line.index] = None
                continue
            reservations[line.index] = await inventory.reserve(
                tx,
                line.sku_id,
                line.quantity,
                reason=f"order:{draft.kind}",
                ref=f"order:{order.id}",
                location_id=draft.location_id,
                activity=line.activity if line.activity_stock else None,
                field=f"input.lines[{line.index}]",
            )
        for line in draft.lines:
            adjustments = list(line.adjustments)
            if line.share_minor:
                adjustments.append(
                    {
                        "component": "orders",
                        "stage": "apportioned",
                        "kind": "share",
                        "label": "订单优惠/费用分摊 share of order-level adjustments",
                        "amountMinor": line.share_minor,
                    }
                )
            tx.session.add(
                OrderLine(
                    order_id=order.id,
                    sku_id=line.sku_id,
                    title=line.title,
                    quantity=line.quantity,
                    list_unit_price_minor=line.list_unit_price_minor,
                    unit_price_minor=line.unit_price_minor,
                    adjustments=adjustments,
                    total_minor=line.total_minor,
                    refunded_quantity=0,
                    refunded_minor=0,
                    reservation_id=reservations[line.index],
                    activity_component=line.activity[0] if line.activity else None,
                    activity_ref=line.activity[1] if line.activity else None,
                    inputs=_jsonable(line.inputs),
                )
            )
        await tx.session.flush()
        for component, participant in participants(tx):
            placed = getattr(participant, "placed", None)
            if placed is not None:
                await _call(placed, tx, draft, order.id)
        await tx.emit("order.created", await event_of(tx, order))
        if order.total_minor == 0:
            await pay_free(tx, order.id)  # fully covered (points, a free leader): nothing to wait for
        else:
            await schedule_timeout(tx, order)
        return order.id


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    """Line inputs as stored: strawberry inputs become plain dicts."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if hasattr(value, "__dataclass_fields__"):
            value = {k: getattr(value, k) for k in value.__dataclass_fields__ if not k.startswith("_")}
        out[key] = value
    return json.loads(json.dumps(out, default=str))
