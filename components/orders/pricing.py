"""The price pipeline: a draft order that adjusters change stage by stage.

An adjuster is ``adjuster(tx, draft)`` (sync or async) registered with
``registrar.price_adjuster(stage, adjuster)``. It changes prices only through the draft's
methods, which record who changed what at which stage, so every line explains its price.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

from core.errors import DomainError


@dataclass
class DraftLine:
    sku_id: int
    title: str
    quantity: int
    list_unit_price_minor: int
    unit_price_minor: int
    adjustments: list[dict[str, Any]] = field(default_factory=list)
    _draft: Any = field(default=None, repr=False)

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
    def total_minor(self) -> int:
        return self.unit_price_minor * self.quantity + sum(a["amountMinor"] for a in self.adjustments if a["kind"] == "amount")


@dataclass
class Draft:
    member_id: int
    kind: str
    currency: str
    delivery_type: str
    store_id: int | None
    source: dict[str, Any]
    attributes: dict[str, Any]
    lines: list[DraftLine]
    order_adjustments: list[dict[str, Any]] = field(default_factory=list)
    current: tuple[str, str] = ("", "")

    def adjust(self, amount_minor: int, label: str) -> None:
        """An order-level adjustment (a delivery fee, a threshold discount)."""
        component, stage = self.current
        self.order_adjustments.append({"component": component, "stage": stage, "label": label, "amountMinor": amount_minor})

    @property
    def subtotal_minor(self) -> int:
        return sum(line.list_unit_price_minor * line.quantity for line in self.lines)

    @property
    def total_minor(self) -> int:
        return sum(line.total_minor for line in self.lines) + sum(a["amountMinor"] for a in self.order_adjustments)


async def run_pipeline(tx: Any, draft: Draft) -> Draft:
    for line in draft.lines:
        line._draft = draft
    for adjuster in tx.kernel.contributions.adjusters_in_order():
        draft.current = (adjuster.component, adjuster.stage)
        result = adjuster.adjuster(tx, draft)
        if inspect.isawaitable(result):
            await result
    draft.current = ("", "")
    for index, line in enumerate(draft.lines):
        if line.total_minor < 0:
            raise DomainError("ORDERS_NEGATIVE_TOTAL", "Adjustments took a line below zero.", field=f"input.lines[{index}]")
    if draft.total_minor < 0:
        raise DomainError("ORDERS_NEGATIVE_TOTAL", "Adjustments took the order below zero.")
    return draft
