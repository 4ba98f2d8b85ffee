"""After-sale (售后): a member asks for money back for some lines; staff decide.

States of a request::

    requested ─approve (refund only)──────────────▶ refunded
        │     ─approve (return and refund)─▶ approved ─goods received─▶ refunded
        │                                       └─reject─▶ rejected
        ├─reject─▶ rejected
        └─cancel (member)─▶ cancelled

One request is open per line at a time: opening claims each line with a conditional update
(``open_request_id IS NULL``), so two requests racing for one line cannot both open, and a
shipment racing a request is settled by the order row's lock. Every transition is a
conditional update on the request's status: two staff approving at once refund once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from components.orders.models import Order, OrderLine, RefundRequest
from core.clock import as_utc
from core.errors import DomainError
from core.transaction import Transaction

KINDS = ("refund_only", "return_and_refund")
OPEN = ("requested", "approved")
MAX_PHOTOS = 9


class AfterSale:
    def __init__(self, orders: Any) -> None:
        self.orders = orders

    async def get(self, session: Any, request_id: int) -> RefundRequest:
        request = await session.get(RefundRequest, request_id, populate_existing=True)
        if request is None:
            raise DomainError("KERNEL_NOT_FOUND", "No such refund request.", field="input.requestId")
        return request

    # -- the member asks ---------------------------------------------------------------------------
    async def request(
        self, tx: Transaction, *, member_id: int, order_id: int, kind: str, lines: list[tuple[int, int]], reason: str, photos: list[str]
    ) -> RefundRequest:
        order = await self.orders.get(tx, order_id)  # locked: a shipment or a refund waits for us
        if order.member_id != member_id:
            raise DomainError("KERNEL_NOT_FOUND", "No such order.", field="input.orderId")
        if kind not in KINDS:
            raise DomainError("KERNEL_INVALID_INPUT", "A request is refund_only or return_and_refund.", field="input.kind")
        if not reason.strip() or len(reason) > 500:
            raise DomainError("KERNEL_INVALID_INPUT", "Give a reason of at most 500 characters.", field="input.reason")
        if len(photos) > MAX_PHOTOS or any(not p.startswith(("https://", "http://")) or len(p) > 1000 for p in photos):
            raise DomainError("KERNEL_INVALID_INPUT", f"Up to {MAX_PHOTOS} photo URLs (http or https).", field="input.photoUrls")
        self._check_window(tx, order)
        if not lines:
            raise DomainError("ORDERS_EMPTY", "Name the lines to refund.", field="input.lines")
        order_lines = {line.id: line for line in await self.orders.lines(tx, order.id)}
        requested, wanted = 0, []
        for index, (line_id, quantity) in enumerate(lines):
            line = order_lines.get(line_id)
            if line is None:
                raise DomainError("ORDERS_UNKNOWN_LINE", "That line is not part of this order.", field=f"input.lines[{index}].lineId")
            left = line.quantity - line.refunded_quantity
            if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= left:
                raise DomainError(
                    "ORDERS_INVALID_QUANTITY", f"Between 1 and {left} units of this line can be refunded.", field=f"input.lines[{index}].quantity"
                )
            if kind == "return_and_refund" and not (line.shipped_quantity or 0):
                raise DomainError(
                    "ORDERS_NOTHING_TO_RETURN", "Nothing of this line was shipped; ask for a refund only.", field=f"input.lines[{index}].lineId"
                )
            requested += line.total_minor - line.refunded_minor if quantity == left else (line.total_minor // line.quantity) * quantity
            wanted.append({"lineId": line.id, "quantity": quantity})
        record = RefundRequest(
            order_id=order.id,
            member_id=member_id,
            kind=kind,
            status="requested",
            lines=wanted,
            reason=reason.strip(),
            photos=list(photos),
            requested_minor=requested,
            created_at=tx.now(),
        )
        tx.session.add(record)
        await tx.session.flush()
        for index, item in enumerate(wanted):
            claimed = await tx.session.execute(
                update(OrderLine)
                .where(OrderLine.id == item["lineId"], OrderLine.open_request_id.is_(None))
                .values(open_request_id=record.id)
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount != 1:
                raise DomainError("ORDERS_REFUND_REQUEST_OPEN", "This line already has an open refund request.", field=f"input.lines[{index}].lineId")
        await tx.emit("order.refund_requested", self.event(order, record))
        return record

    def _check_window(self, tx: Transaction, order: Order) -> None:
        if order.status in ("paid", "fulfilled"):
            return
        if order.status == "completed" and order.completed_at is not None and as_utc(order.completed_at) + self.orders.after_sale_window > tx.now():
            return
        raise DomainError(
            "ORDERS_AFTER_SALE_CLOSED", "This order can no longer be refunded through after-sale.", field="input.orderId", status=order.status
        )

    # -- staff decide ------------------------------------------------------------------------------
    async def approve(self, tx: Transaction, request_id: int, *, amount_minor: int | None) -> RefundRequest:
        request = await self.get(tx.session, request_id)
        await self.orders.get(tx, request.order_id)  # the order's lock first, as every order change takes it
        if amount_minor is not None and not 0 <= amount_minor <= request.requested_minor:
            raise DomainError(
                "ORDERS_INVALID_AMOUNT", f"Approve between 0 and {request.requested_minor}.", field="input.amount", maxMinor=request.requested_minor
            )
        approved = request.requested_minor if amount_minor is None else amount_minor
        await self._move(tx, request, ("requested",), "approved", approved_minor=approved)
        if request.kind == "refund_only":
            await self._refund(tx, request, goods_returned=False)
        else:
            await tx.emit("order.refund_resolved", self.event(await self.orders.get(tx, request.order_id), request))
        return request

    async def goods_received(self, tx: Transaction, request_id: int) -> RefundRequest:
        request = await self.get(tx.session, request_id)
        await self.orders.get(tx, request.order_id)
        if request.kind != "return_and_refund" or request.status != "approved":
            raise DomainError(
                "ORDERS_REQUEST_NOT_OPEN", "Only an approved return waits for its goods.", field="input.requestId", status=request.status
            )
        await self._refund(tx, request, goods_returned=True)
        return request

    async def reject(self, tx: Transaction, request_id: int, *, note: str) -> RefundRequest:
        if not note.strip() or len(note) > 500:
            raise DomainError("KERNEL_INVALID_INPUT", "Say why, in at most 500 characters.", field="input.reason")
        request = await self.get(tx.session, request_id)
        order = await self.orders.get(tx, request.order_id)
        await self._move(tx, request, OPEN, "rejected", note=note.strip(), resolved_at=tx.now())
        await self._free_lines(tx, request)
        await tx.emit("order.refund_resolved", self.event(order, request))
        return request

    async def cancel(self, tx: Transaction, request_id: int, *, member_id: int) -> RefundRequest:
        request = await self.get(tx.session, request_id)
        if request.member_id != member_id:
            raise DomainError("KERNEL_NOT_FOUND", "No such refund request.", field="input.requestId")
        order = await self.orders.get(tx, request.order_id)
        await self._move(tx, request, ("requested",), "cancelled", resolved_at=tx.now())
        await self._free_lines(tx, request)
        await tx.emit("order.refund_resolved", self.event(order, request))
        return request

    # -- helpers ------------------------------------------------------------------------------------
    async def _refund(self, tx: Transaction, request: RefundRequest, *, goods_returned: bool) -> None:
        await self._free_lines(tx, request)
        refunded = await self.orders.refund(
            tx,
            request.order_id,
            lines=[(item["lineId"], item["quantity"]) for item in request.lines],
            reason=f"after-sale request {request.id}: {request.reason}"[:500],
            goods_returned=goods_returned,
            amount_minor=request.approved_minor,
        )
        await self._move(tx, request, ("approved",), "refunded", refunded_minor=refunded, resolved_at=tx.now())
        await tx.emit("order.refund_resolved", self.event(await self.orders.get(tx, request.order_id), request))

    async def _free_lines(self, tx: Transaction, request: RefundRequest) -> None:
        await tx.session.execute(
            update(OrderLine).where(OrderLine.open_request_id == request.id).values(open_request_id=None).execution_options(synchronize_session=False)
        )

    async def _move(self, tx: Transaction, request: RefundRequest, allowed: tuple[str, ...], to: str, **values: Any) -> None:
        moved = await tx.session.execute(
            update(RefundRequest)
            .where(RefundRequest.id == request.id, RefundRequest.status.in_(allowed))
            .values(status=to, **values)
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount != 1:
            current = (await tx.session.execute(select(RefundRequest.status).where(RefundRequest.id == request.id))).scalar()
            raise DomainError("ORDERS_REQUEST_NOT_OPEN", f"A request that is {current} cannot become {to}.", field="input.requestId", status=current)
        await tx.session.refresh(request)

    def event(self, order: Order, request: RefundRequest) -> dict[str, Any]:
        return self.orders.event(
            order,
            requestId=request.id,
            requestKind=request.kind,
            requestStatus=request.status,
            lines=list(request.lines),
            requestedMinor=request.requested_minor,
            approvedMinor=request.approved_minor,
        )
