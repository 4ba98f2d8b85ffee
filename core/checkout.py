"""The checkout contract: how components compose into one order.

The orders component owns the checkout (``previewCheckout`` → ``placeOrder``); every other
component joins it through three declared extension points, never by writing orders itself:

1. **Inputs.** ``registrar.extend_input("CheckoutInput", "pickup", PickupChoiceInput)`` or
   ``registrar.extend_input("CheckoutLineInput", "groupBuy", GroupBuyLineInput)`` adds an
   optional field; the component reads it in ``prepare`` as ``draft.input("pickup")`` or
   ``line.input("groupBuy")``.
2. **A participant.** ``registrar.checkout_participant(obj)``; each method is optional:

   ``async prepare(tx, draft)``
       Before pricing, in dependency order. Validate this component's inputs, claim lines
       (``line.claim(component, ref, exclusive=...)`` — activity stock is then held under
       ``(component, ref)``), set ``draft.kind``/``attributes``/``store_id``/``location_id``,
       say what it needs from the buyer (``draft.need(...)``) and refuse with a
       :class:`~core.errors.DomainError`. Must not write: a preview runs it on a read session
       (``draft.previewing``) and nothing may change.
   ``async delivery_options(tx, draft) -> list[dict]``
       Preview only: the delivery choices this component offers (stores and free slots).
   ``async placed(tx, draft, order_id)``
       In the placing transaction, after the order, its lines and its stock holds exist and
       before ``order.created`` is emitted or a zero-total order is paid: write this
       component's own rows (a group membership, a redemption, a pickup) keyed by the order.
3. **Prices.** ``registrar.price_adjuster(stage, fn)`` runs ``fn(tx, draft)`` stage by stage,
   in the kernel's order (:data:`core.pricing.STAGES`); each adjustment is recorded on its line
   with the component, stage and label. Order-level amounts (a delivery fee, a threshold
   discount) are then apportioned to the lines, so the lines always add up to the total.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from core.apportion import apportion
from core.errors import DomainError


@dataclass
class DraftLine:
    """One line of an order being priced: a SKU, a quantity, and who changed its price why."""

    sku_id: int
    title: str
    quantity: int
    list_unit_price_minor: int
    unit_price_minor: int
    adjustments: list[dict[str, Any]] = field(default_factory=list)
    inputs: dict[str, Any] = field(default_factory=dict)  # extension field -> what the client sent
    activity: tuple[str, str] | None = None  # (component, ref): the offer, lot, room or item it belongs to
    exclusive: bool = False  # the activity needs an order of its own
    activity_stock: bool = True  # the activity keeps its own quantity (inventory's activity counter)
    holds_stock: bool = True  # False: the line sells no goods (an auction deposit), so no stock is held
    share_minor: int = 0  # this line's part of order-level adjustments (see apportion)
    index: int = 0
    _draft: Any = field(default=None, repr=False)

    def input(self, name: str) -> Any:
        return self.inputs.get(name)

    def claim(self, component: str, ref: str, *, exclusive: bool = False, activity_stock: bool = True, holds_stock: bool = True) -> None:
        """Mark the line as part of an activity; two components claiming one line is refused.

        With ``activity_stock`` (a group-buy offer's or a lot's own quantity, defined with
        ``inventory.define_activity``) the line's stock is held under that counter too; an
        activity that counts its quantity itself (a points-mall item) claims without it. A line
        that sells no goods (an auction's deposit, paid like any order) claims with
        ``holds_stock=False``: no stock is reserved for it, and none comes back on refund."""
        if self.activity is not None and self.activity[0] != component:
            raise DomainError(
                "KERNEL_CHECKOUT_CONFLICT",
                f"This line is already part of {self.activity[0]}; it cannot also be part of {component}.",
                field=f"input.lines[{self.index}]",
            )
        self.activity = (component, str(ref))
        self.exclusive = self.exclusive or exclusive
        self.activity_stock = activity_stock
        self.holds_stock = holds_stock

    def set_unit_price(self, unit_price_minor: int, label: str) -> None:
        """Replace the unit price (an activity price); recorded as an adjustment of the difference."""
        if unit_price_minor < 0:
            raise ValueError("a unit price cannot be negative")
        delta = (unit_price_minor - self.unit_price_minor) * self.quantity
        self.unit_price_minor = unit_price_minor
        self._record(delta, label, kind="unit_price")

    def adjust(self, amount_minor: int, label: str) -> None:
        """Add ``amount_minor`` to the line (negative for a discount)."""
        self._record(amount_minor, label, kind="amount")

    def _record(self, amount: int, label: str, kind: str) -> None:
        component, stage = self._draft.current if self._draft else ("?", "?")
        self.adjustments.append({"component": component, "stage": stage, "label": label, "amountMinor": amount, "kind": kind})

    @property
    def own_total_minor(self) -> int:
        """The line before its share of order-level adjustments."""
        return self.unit_price_minor * self.quantity + sum(a["amountMinor"] for a in self.adjustments if a["kind"] == "amount")

    @property
    def total_minor(self) -> int:
        return self.own_total_minor + self.share_minor


@dataclass
class Draft:
    """An order being checked out: what components read and change in ``prepare`` and pricing."""

    member_id: int
    kind: str
    currency: str
    delivery_type: str
    store_id: int | None
    source: dict[str, Any]
    attributes: dict[str, Any]
    lines: list[DraftLine]
    order_adjustments: list[dict[str, Any]] = field(default_factory=list)
    inputs: dict[str, Any] = field(default_factory=dict)
    location_id: int = 0
    previewing: bool = False
    placed_by_system: bool = False  # a job places it for the member (the auction winner's order)
    payment_timeout: timedelta | None = None
    needs: list[dict[str, Any]] = field(default_factory=list)
    delivery_claimed_by: str | None = None
    current: tuple[str, str] = ("", "")
    vouched: set[str] = field(default_factory=set)  # source keys an owner checked (see vouch)

    def input(self, name: str) -> Any:
        return self.inputs.get(name)

    def vouch(self, source_key: str) -> None:
        """The component owning ``source[source_key]`` (a live room, a group) checked it
        against its own state; a key the buyer sent that nobody vouches for refuses the order."""
        self.vouched.add(source_key)

    def own_order_line(self, field_name: str, what: str) -> DraftLine | None:
        """The line naming the line input ``field_name`` (a flash-sale item, a mall item), or None.
        An activity that needs an order of its own refuses, before any reading, an order where
        such a line has company (``ORDERS_NEEDS_OWN_ORDER``)."""
        named = next((line for line in self.lines if line.input(field_name) is not None), None)
        if named is not None and len(self.lines) > 1:
            raise DomainError("ORDERS_NEEDS_OWN_ORDER", f"{what} needs an order of its own.", field=f"input.lines[{named.index}].{field_name}")
        return named

    def need(self, component: str, field_name: str, message: str) -> None:
        """Tell the buyer what this component still needs (shown by the preview)."""
        self.needs.append({"component": component, "field": field_name, "message": message})

    def claim_delivery(self, component: str) -> None:
        """A component takes charge of delivering this order (store pickup)."""
        if self.delivery_claimed_by not in (None, component):
            raise DomainError("KERNEL_CHECKOUT_CONFLICT", "Two components claim this order's delivery.", field="input.deliveryType")
        self.delivery_claimed_by = component

    def adjust(self, amount_minor: int, label: str) -> None:
        """An order-level adjustment (a delivery fee, a threshold discount)."""
        component, stage = self.current
        self.order_adjustments.append({"component": component, "stage": stage, "label": label, "amountMinor": amount_minor})

    @property
    def subtotal_minor(self) -> int:
        return sum(line.list_unit_price_minor * line.quantity for line in self.lines)

    @property
    def order_adjustments_minor(self) -> int:
        return sum(a["amountMinor"] for a in self.order_adjustments)

    @property
    def total_minor(self) -> int:
        return sum(line.own_total_minor for line in self.lines) + self.order_adjustments_minor

    def apportion(self) -> None:
        """Spread order-level adjustments over the lines (largest remainder on minor units), so
        each line's total is what was paid for it and the lines add up to the order total."""
        shares = apportion(
            self.order_adjustments_minor, [line.own_total_minor for line in self.lines], fallback=[line.quantity for line in self.lines]
        )
        for line, share in zip(self.lines, shares, strict=True):
            line.share_minor = share


@dataclass
class LineRequest:
    """One line a buyer asks for; ``inputs`` are the line's extension fields, keyed by GraphQL name."""

    sku_id: int
    quantity: int
    inputs: dict[str, Any] = field(default_factory=dict)


@dataclass
class CheckoutRequest:
    """What a buyer (or a job acting for one) asks for; the same for preview and place."""

    member_id: int
    lines: list[LineRequest]
    delivery_type: str = "shipping"
    inputs: dict[str, Any] = field(default_factory=dict)
    source: dict[str, Any] = field(default_factory=dict)
    kind: str = "plain"
    attributes: dict[str, Any] = field(default_factory=dict)
    placed_by_system: bool = False
    payment_timeout: timedelta | None = None
    idempotency_key: str | None = None
    expected_total_minor: int | None = None
