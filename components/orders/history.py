"""Paid orders and refunds as they happened, for components that keep their own figures.

An after-commit handler may run long after its event (or never, for orders placed before the
component was installed). A component that aggregates money (insights) therefore rebuilds its
rows from here rather than from events alone: what was paid when, and what went back when,
read from orders' own tables in pages. Only this module reads them for others.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from components.orders.models import Order, OrderLine, Refund


def _narrowed(stmt: Any, order_column: Any, order_ids: list[int] | None, moment: Any, start: datetime | None, end: datetime | None) -> Any:
    """Only these orders, only moments in [start, end): each bound only when given."""
    if order_ids is not None:
        stmt = stmt.where(order_column.in_(order_ids))
    if start is not None:
        stmt = stmt.where(moment >= start)
    if end is not None:
        stmt = stmt.where(moment < end)
    return stmt


class OrderHistory:
    """Read-only pages of paid orders and refunds (``kernel.service("orders.history")``)."""

    async def paid_orders(
        self,
        session: Any,
        *,
        order_ids: list[int] | None = None,
        paid_from: datetime | None = None,
        paid_before: datetime | None = None,
        after_id: int = 0,
        limit: int = 1000,
    ) -> list[dict[str, Any]]:
        """Orders that were paid (whatever happened to them since), by id, with their lines.

        Each is ``{orderId, memberId, paidAt, totalMinor, storeId, source, kind, lines: [{lineId,
        totalMinor, activity}]}``; ``paid_from``/``paid_before`` bound ``paidAt`` (half-open)."""
        # Columns, not ORM objects: a rebuild pages through a million of them.
        stmt = (
            select(Order.id, Order.member_id, Order.paid_at, Order.total_minor, Order.store_id, Order.source, Order.kind)
            .where(Order.paid_at.is_not(None), Order.id > after_id)
            .order_by(Order.id)
            .limit(limit)
        )
        orders = (await session.execute(_narrowed(stmt, Order.id, order_ids, Order.paid_at, paid_from, paid_before))).all()
        lines: dict[int, list[dict[str, Any]]] = {o.id: [] for o in orders}
        if orders:
            rows = await session.execute(
                select(OrderLine.order_id, OrderLine.id, OrderLine.total_minor, OrderLine.activity_component, OrderLine.activity_ref)
                .where(OrderLine.order_id.in_(list(lines)))
                .order_by(OrderLine.id)
            )
            for order_id, line_id, total, component, ref in rows.all():
                activity = None if component is None else {"component": component, "ref": ref or ""}
                lines[order_id].append({"lineId": line_id, "totalMinor": total, "activity": activity})
        return [
            {
                "orderId": o.id,
                "memberId": o.member_id,
                "paidAt": o.paid_at,
                "totalMinor": o.total_minor,
                "storeId": o.store_id,
                "source": dict(o.source or {}),
                "kind": o.kind,
                "lines": lines[o.id],
            }
            for o in orders
        ]

    async def refunds(
        self,
        session: Any,
        *,
        order_ids: list[int] | None = None,
        refunded_from: datetime | None = None,
        refunded_before: datetime | None = None,
        after_id: int = 0,
        limit: int = 1000,
    ) -> list[dict[str, Any]]:
        """Money that went back for paid orders' lines, by refund id.

        Each is ``{refundId, orderId, memberId, at, amountMinor, storeId, source, lines: [{lineId,
        amountMinor, activity}]}``. A payment handed back whole because the order could no longer
        take it is not a refund of anything sold: it comes with no lines (``lines == []``), kept
        in the page so that paging by ``refundId`` stays simple; a reader skips it."""
        stmt = (
            select(Refund, Order.member_id, Order.store_id, Order.source)
            .join(Order, Order.id == Refund.order_id)
            .where(Order.paid_at.is_not(None), Refund.id > after_id)
            .order_by(Refund.id)
            .limit(limit)
        )
        stmt = _narrowed(stmt, Refund.order_id, order_ids, Refund.created_at, refunded_from, refunded_before)
        found = []
        for refund, member_id, store_id, source in (await session.execute(stmt)).all():
            found.append(
                {
                    "refundId": refund.id,
                    "orderId": refund.order_id,
                    "memberId": member_id,
                    "at": refund.created_at,
                    "amountMinor": refund.amount_minor,
                    "storeId": store_id,
                    "source": dict(source or {}),
                    "lines": [
                        {"lineId": line.get("lineId"), "amountMinor": int(line.get("amountMinor") or 0), "activity": line.get("activity")}
                        for line in refund.lines
                    ],
                }
            )
        return found
