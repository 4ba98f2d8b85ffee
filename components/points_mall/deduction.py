"""Paying part of an order with points at checkout (积分抵现), the kernel's ``points`` price stage.

The buyer offers points on the checkout input (``usePoints``: the most they will spend). The
stage takes off what those points are worth at the brand's rate, capped by the brand's share of
the order and points per order (:func:`~components.points_mall.rules.deduction`), split over the
lines in proportion to what each costs, each line recording its own part. ``placed`` takes the
points in the placing transaction; the order's attributes keep each line's points, so a refund
gives back each line's points in proportion to the units refunded, and a cancelled (unpaid)
order gives them all back. Given-back points keep the expiry they had.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from sqlalchemy import func, select

from components.points_mall.checkout import LINE_FIELD
from components.points_mall.models import Entry
from components.points_mall.rules import deduction, returned_for, split_over_lines
from core.checkout import Draft
from core.errors import DomainError
from core.transaction import Transaction

if TYPE_CHECKING:
    from components.points_mall.service import PointsService

INPUT_FIELD = "usePoints"
INPUT_DESCRIPTION = (
    "Points mall (积分抵现): the most points to pay with; the checkout uses as many as the brand's rate "
    "and caps allow, and the preview shows the points used and the amount taken off each line."
)
ATTRIBUTE = "pointsPayment"
PAY, RETURNED = "order_pay", "order_pay_returned"


class PointsPayment:
    """A checkout participant (``prepare``, ``placed``) and the ``points`` price adjuster."""

    def __init__(self, service: PointsService, settings: Mapping[str, Any]) -> None:
        self.service = service
        self.enabled = bool(settings.get("enabled", False))
        self.points_per_unit = int(settings.get("points_per_unit", 100))
        self.max_percent = int(settings.get("max_percent", 50))
        self.max_points = settings.get("max_points")

    # -- checkout ------------------------------------------------------------------------------------
    async def prepare(self, tx: Transaction, draft: Draft) -> None:
        asked = draft.input(INPUT_FIELD)
        if asked is None:
            return
        field = f"input.{INPUT_FIELD}"
        if isinstance(asked, bool) or not isinstance(asked, int) or not 0 < asked <= 10**12:
            raise DomainError("POINTS_MALL_INVALID_QUANTITY", "Offer a positive whole number of points.", field=field)
        if not self.enabled:
            raise DomainError("POINTS_MALL_POINTS_PAYMENT_OFF", "This brand does not take points as payment.", field=field)
        if any(line.input(LINE_FIELD) is not None for line in draft.lines):
            raise DomainError("POINTS_MALL_POINTS_PAYMENT_OFF", "A redemption is already paid with points.", field=field)
        if not draft.previewing:
            # Lock the balance now (account → inventory → item), so the points the price stage
            # counts on are still there when ``placed`` takes them.
            await self.service.lock_account(tx, draft.member_id)

    async def price(self, tx: Transaction, draft: Draft) -> None:
        asked = draft.input(INPUT_FIELD)
        if asked is None:
            return
        balance = await self.service.checkout.spendable(tx, draft.member_id)
        points, minor = deduction(
            asked,
            balance=balance,
            due_minor=draft.total_minor,
            points_per_unit=self.points_per_unit,
            minor_per_unit=self.service.minor_per_unit,
            max_percent=self.max_percent,
            max_points=self.max_points,
        )
        weights = [line.own_total_minor for line in draft.lines]
        line_points = split_over_lines(points, weights) if points else [0] * len(draft.lines)
        line_minor = split_over_lines(-minor, weights) if minor else [0] * len(draft.lines)
        for line, taken, used in zip(draft.lines, line_minor, line_points):
            if taken:
                line.adjust(taken, f"积分抵现 {used} points")
        draft.attributes[ATTRIBUTE] = {"points": points, "minor": minor, "lines": line_points}

    async def placed(self, tx: Transaction, draft: Draft, order_id: int) -> None:
        paid = draft.attributes.get(ATTRIBUTE) or {}
        if not paid.get("points"):
            return
        await self.service.debit(
            tx,
            draft.member_id,
            int(paid["points"]),
            reason=PAY,
            reference=f"order:{order_id}",
            key=f"pay:{order_id}",
            field=f"input.{INPUT_FIELD}",
            note=f"{paid['minor']} minor paid with points",
        )

    # -- giving back -------------------------------------------------------------------------------------
    async def give_back(self, tx: Transaction, order: Mapping[str, Any], *, everything: bool) -> int:
        """Return each line's points in proportion to its refunded units (all of them when
        ``everything``: an unpaid order cancelled). State-based, so a replayed event returns
        nothing twice; returns the points given back now."""
        paid = (order.get("attributes") or {}).get(ATTRIBUTE) or {}
        if not paid.get("points"):
            return 0
        member_id, order_id = order["memberId"], order["orderId"]
        spent = await self.service.entry_by_key(tx.session, member_id, f"pay:{order_id}")
        if spent is None:
            return 0
        await self.service.lock_account(tx, member_id)
        lines = sorted(order.get("lines") or (), key=lambda line: line["lineId"])  # placed in draft order
        done = [await self._returned(tx, member_id, f"order_line:{line['lineId']}") for line in lines]
        already, total = sum(done), 0  # `already`: which portions of the spend came back before
        for line, line_points, line_done in zip(lines, paid.get("lines") or (), done):
            refunded = line["quantity"] if everything else line["refundedQuantity"]
            target = returned_for(int(line_points), line["quantity"], refunded)
            if target <= line_done:
                continue
            await self.service.give_back(
                tx,
                spent,
                target - line_done,
                already=already,
                reason=RETURNED,
                reference=f"order_line:{line['lineId']}",
                key=f"pay_return:{line['lineId']}:{target}",
            )
            already += target - line_done
            total += target - line_done
        return total

    @staticmethod
    async def _returned(tx: Transaction, member_id: int, reference: str) -> int:
        """Points of one order line already given back."""
        return int(
            await tx.session.scalar(
                select(func.coalesce(func.sum(Entry.delta), 0)).where(
                    Entry.member_id == member_id, Entry.reason == RETURNED, Entry.reference == reference
                )
            )
        )
