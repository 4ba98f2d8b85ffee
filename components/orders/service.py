"""Order rules: creation through the price pipeline, the state machine, payments (refunds: refunding.py).

States::

    pending_payment ──pay──▶ paid ──fulfil──▶ fulfilled ──complete──▶ completed
          │                   │                   │
          └─cancel/timeout─▶ cancelled            └──────refund──────▶ refunded
                              paid ──refund (all lines)──▶ refunded

Every transition is a conditional UPDATE on the current status, so two racing requests (a
payment callback and the timeout timer) cannot both win.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Awaitable, Callable, Mapping

from sqlalchemy import select, update

from components.orders.addresses import Addresses
from components.orders.aftersale import AfterSale
from components.orders.cart import Cart
from components.orders.checkout import Checkout, CheckoutRequest, LineRequest
from components.orders.gateway import PaymentGateway, order_charge, order_description
from components.orders.intents import PaymentIntents
from components.orders.jobs import AUTO_COMPLETE_JOB, TIMEOUT_JOB
from components.orders.models import Order, OrderLine, Payment, Refund
from components.orders.payments import SandboxProvider, new_reference
from components.orders.refunding import Refunding, line_activity
from components.orders.shipping import ship
from core.auth import Actor
from core.checkout import Draft
from core.errors import DomainError
from core.transaction import Transaction
from core.units import parse_duration

FulfilmentGuard = Callable[[Transaction, Order], Awaitable[str | None]]


class OrdersService(Refunding):
    def __init__(self, kernel: Any, settings: Mapping[str, Any]) -> None:
        self.kernel = kernel
        self.payment_timeout = parse_duration(settings.get("payment_timeout", "30m"))
        self.max_lines = int(settings.get("max_lines", 50))
        self.max_quantity = int(settings.get("max_quantity", 999))
        self.auto_complete_after = parse_duration(settings.get("auto_complete_after", "10d"))
        self.after_sale_window = parse_duration(settings.get("after_sale_window", "7d"))
        self._guards: list[tuple[str, FulfilmentGuard]] = []
        self.checkout = Checkout(self.max_lines, self.max_quantity)
        self.cart = Cart(self.max_quantity)
        self.addresses = Addresses()
        self.after_sale = AfterSale(self)
        self.gateway = PaymentGateway(self)  # what provider components call (callbacks, reconciliation)
        self.intents = PaymentIntents(self)  # payments that are not goods orders (deposits)

    def add_fulfilment_guard(self, name: str | FulfilmentGuard, guard: FulfilmentGuard | None = None) -> None:
        """``await guard(tx, order)`` returns a refusal message, or None to let fulfilment go on
        (group_buy refuses to ship a group order before its group succeeded).

        Called as ``add_fulfilment_guard(fn)`` (the shared contract's form) or
        ``add_fulfilment_guard("group_buy", fn)``; the name only labels the guard in logs."""
        if guard is None:
            if not callable(name):
                raise TypeError("add_fulfilment_guard needs a guard function")
            name, guard = getattr(name, "__qualname__", repr(name)), name
        self._guards.append((str(name), guard))

    async def fulfilment_refusal(self, tx: Transaction, order: Order) -> str | None:
        for _name, guard in self._guards:
            refusal = await guard(tx, order)
            if refusal:
                return refusal
        return None

    # -- creation: the one checkout ----------------------------------------------------------------
    async def preview(self, tx: Transaction, request: CheckoutRequest) -> tuple[Draft, list[dict[str, Any]]]:
        """Price ``request`` exactly as :meth:`place` would, writing nothing."""
        return await self.checkout.preview(tx, request)

    async def place(self, tx: Transaction, request: CheckoutRequest) -> int:
        """Place an order through the one checkout; returns its id."""

        async def pay_free(tx: Transaction, order_id: int) -> None:
            await self.mark_paid(tx, order_id, provider="none", provider_ref=f"free:{order_id}", amount_minor=0)

        async def schedule_timeout(tx: Transaction, order: Order) -> None:
            await tx.schedule(TIMEOUT_JOB, str(order.id), order.payment_due_at, {"orderId": order.id})

        return await self.checkout.place(
            tx, request, default_timeout=self.payment_timeout, pay_free=pay_free, schedule_timeout=schedule_timeout, event_of=self.event_with_lines
        )

    async def create_order(
        self,
        tx: Transaction,
        *,
        member_id: int,
        lines: list[tuple[int, int]],
        delivery_type: str = "shipping",
        inputs: Mapping[str, Any] | None = None,
        line_inputs: list[Mapping[str, Any]] | None = None,
        source: Mapping[str, Any] | None = None,
        kind: str = "plain",
        attributes: Mapping[str, Any] | None = None,
        placed_by_system: bool = False,
        payment_timeout: timedelta | None = None,
        idempotency_key: str | None = None,
    ) -> int:
        """:meth:`place` for callers holding plain values (services, jobs, demo data)."""
        line_inputs = line_inputs or [{} for _ in lines]
        request = CheckoutRequest(
            member_id=member_id,
            lines=[LineRequest(sku, quantity, dict(extra)) for (sku, quantity), extra in zip(lines, line_inputs, strict=True)],
            delivery_type=delivery_type,
            inputs=dict(inputs or {}),
            source=dict(source or {}),
            kind=kind,
            attributes=dict(attributes or {}),
            placed_by_system=placed_by_system,
            payment_timeout=payment_timeout,
            idempotency_key=idempotency_key,
        )
        return await self.place(tx, request)

    async def set_delivery(self, tx: Transaction, order_id: int, *, delivery_type: str, store_id: int | None) -> bool:
        """Change how an unpaid order reaches its member (store pickup chosen after an auction
        or group-buy order was placed). Only while unpaid; returns False otherwise."""
        moved = await tx.session.execute(
            update(Order)
            .where(Order.id == order_id, Order.status == "pending_payment")
            .values(delivery_type=delivery_type, store_id=store_id)
            .execution_options(synchronize_session=False)
        )
        return moved.rowcount == 1

    async def has_open_refund_request(self, tx: Transaction, order_id: int) -> bool:
        """Whether an after-sale request of this order waits for staff (goods must not leave then)."""
        found = await tx.session.scalar(select(OrderLine.id).where(OrderLine.order_id == order_id, OrderLine.open_request_id.isnot(None)).limit(1))
        return found is not None

    # -- reading ---------------------------------------------------------------------------------
    async def get(self, tx: Transaction, order_id: int, *, lock: bool = True) -> Order:
        order = await tx.session.get(Order, order_id, with_for_update=lock and tx.kernel.db.is_postgresql, populate_existing=True)
        if order is None:
            raise DomainError("KERNEL_NOT_FOUND", "No such order.", field="input.orderId")
        return order

    async def lines(self, tx: Transaction, order_id: int) -> list[OrderLine]:
        return list((await tx.session.scalars(select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.id))).all())

    async def lock_orders(self, tx: Transaction, order_ids: Any) -> None:
        """Lock these orders' rows (PostgreSQL; SQLite's single writer already serialises), in id
        order. For a component that must take its orders before its own rows, in the order a
        payment takes them (order, then the component's row), so the two never deadlock."""
        ids = sorted({int(i) for i in order_ids})
        if ids and tx.kernel.db.is_postgresql:
            await tx.session.execute(select(Order.id).where(Order.id.in_(ids)).order_by(Order.id).with_for_update())

    async def orders_of_member(self, session: Any, member_id: int, statuses: tuple[str, ...], *, limit: int = 200) -> list[dict[str, Any]]:
        """A member's most recent orders in these statuses, as event payloads without lines."""
        rows = await session.scalars(
            select(Order).where(Order.member_id == member_id, Order.status.in_(statuses)).order_by(Order.id.desc()).limit(limit)
        )
        return [self.event(order) for order in rows.all()]

    async def snapshot(self, tx: Transaction, order_id: int) -> dict[str, Any] | None:
        """The order as it is now, in the shape of its events (:meth:`event_with_lines`), or None.

        For components that look at an order later than an event told them about it (a frozen
        points grant, the units refunded so far) without reading orders' tables."""
        order = await tx.session.scalar(select(Order).where(Order.id == order_id).execution_options(populate_existing=True))
        return None if order is None else await self.event_with_lines(tx, order)

    def event(self, order: Order, **extra: Any) -> dict[str, Any]:
        """The keys every ``order.*`` event carries, so a handler rarely has to read the order
        back (it may run in another process, after the order changed again)."""
        return {
            "orderId": order.id,
            "memberId": order.member_id,
            "kind": order.kind,
            "status": order.status,
            "subtotalMinor": order.subtotal_minor,
            "totalMinor": order.total_minor,
            "refundedMinor": order.refunded_minor,
            "currency": order.currency,
            "deliveryType": order.delivery_type,
            "storeId": order.store_id,
            "source": dict(order.source or {}),
            "attributes": dict(order.attributes or {}),
            **extra,
        }

    async def event_with_lines(self, tx: Transaction, order: Order, **extra: Any) -> dict[str, Any]:
        """:meth:`event` plus every line: what a handler needs to give back what it took per SKU
        (seats, activity stock, points) without a second query."""
        lines = [
            {
                "lineId": line.id,
                "skuId": line.sku_id,
                "quantity": line.quantity,
                "unitPriceMinor": line.unit_price_minor,
                "totalMinor": line.total_minor,
                "refundedQuantity": line.refunded_quantity,
                "activity": line_activity(line),
            }
            for line in await self.lines(tx, order.id)
        ]
        return self.event(order, lines=lines, **extra)

    async def _move(self, tx: Transaction, order: Order, allowed: tuple[str, ...], to: str, **values: Any) -> None:
        """Change status only if it is still one of ``allowed`` (a conditional update)."""
        moved = await tx.session.execute(update(Order).where(Order.id == order.id, Order.status.in_(allowed)).values(status=to, **values))
        if moved.rowcount != 1:
            current = (await tx.session.execute(select(Order.status).where(Order.id == order.id))).scalar()
            raise DomainError(
                "ORDERS_ILLEGAL_TRANSITION",
                f"An order that is {current} cannot become {to}.",
                field="input.orderId",
                status=current,
            )
        await tx.session.refresh(order)

    # -- payments -----------------------------------------------------------------------------------
    async def start_payment(self, tx: Transaction, order_id: int, provider_name: str) -> Payment:
        payment, _client = await self.begin_payment(tx, order_id, provider_name)
        return payment

    async def begin_payment(self, tx: Transaction, order_id: int, provider_name: str) -> tuple[Payment, dict[str, Any]]:
        """Open a payment attempt; returns it and what the provider says the client needs
        (WeChat Pay's prepay parameters), which must reach the frontend unchanged."""
        order = await self.get(tx, order_id)
        if order.status != "pending_payment":
            why = f" ({order.cancel_reason})" if order.status == "cancelled" and order.cancel_reason else ""
            raise DomainError(
                "ORDERS_ILLEGAL_TRANSITION",
                f"An order that is {order.status} cannot be paid{why}.",
                field="input.orderId",
                status=order.status,
                cancelReason=order.cancel_reason,
            )
        provider = self.provider(provider_name)
        payment = Payment(
            order_id=order.id,
            provider=provider_name,
            provider_ref=new_reference(provider, provider_name),
            amount_minor=order.total_minor,
            status="pending",
            created_at=tx.now(),
        )
        tx.session.add(payment)
        await tx.session.flush()
        client = await provider.start(tx, order_charge(order, payment, await order_description(tx.session, order.id)))
        return payment, dict(client or {})

    def provider(self, name: str) -> Any:
        if name == "sandbox":
            if self.kernel.blueprint.production or not self.kernel.settings("orders").get("sandbox_payments", True):
                raise DomainError("ORDERS_UNKNOWN_PROVIDER", "The sandbox provider is off for this brand.", field="input.provider")
            return SandboxProvider()
        found = self.kernel.pm.hook.dougong_payment_provider(kernel=self.kernel, provider=name)
        if found is None:
            raise DomainError("ORDERS_UNKNOWN_PROVIDER", f"No payment provider named {name!r} is installed.", field="input.provider")
        return found

    async def payment_failed(self, tx: Transaction, provider: str, provider_ref: str) -> None:
        await tx.session.execute(
            update(Payment)
            .where(Payment.provider == provider, Payment.provider_ref == provider_ref, Payment.status == "pending")
            .values(status="failed", settled_at=tx.now())
        )

    async def mark_paid(self, tx: Transaction, order_id: int, *, provider: str, provider_ref: str, amount_minor: int) -> bool:
        """A provider confirmed payment. Idempotent per (provider, provider_ref): a replayed
        callback changes nothing. Returns False when the order could not take the money (it
        was cancelled meanwhile): the payment is then refunded at once, never kept."""
        order = await self.get(tx, order_id)
        # populate_existing: a caller may have loaded this payment before the order's lock was
        # taken (the sandbox callback does); a twin callback that committed meanwhile must be
        # seen here, or the stale "pending" would refund a payment that already succeeded.
        payment = await tx.session.scalar(
            select(Payment).where(Payment.provider == provider, Payment.provider_ref == provider_ref).execution_options(populate_existing=True)
        )
        if payment is not None and payment.status in ("succeeded", "refunded"):
            return payment.status == "succeeded"
        if payment is None:
            payment = Payment(
                order_id=order.id, provider=provider, provider_ref=provider_ref, amount_minor=amount_minor, status="pending", created_at=tx.now()
            )
            tx.session.add(payment)
        if payment.order_id != order.id:
            raise DomainError("ORDERS_PAYMENT_MISMATCH", "That payment belongs to another order.", field="input.paymentId")
        if amount_minor != order.total_minor:
            raise DomainError(
                "ORDERS_PAYMENT_MISMATCH",
                "The amount paid differs from the order total.",
                field="input.paymentId",
                expectedMinor=order.total_minor,
                paidMinor=amount_minor,
            )
        payment.settled_at = tx.now()
        if order.status != "pending_payment":
            payment.status = "refunded"
            tx.session.add(
                Refund(
                    order_id=order.id,
                    amount_minor=amount_minor,
                    lines=[],
                    created_at=tx.now(),
                    reason=f"payment arrived for a {order.status} order",
                    provider_ref=provider_ref,
                )
            )
            await tx.emit("order.payment_returned", self.event(order, amountMinor=amount_minor))
            return False
        payment.status = "succeeded"
        await self._move(tx, order, ("pending_payment",), "paid", paid_at=tx.now())
        inventory = self.kernel.service("inventory")
        for line in await self.lines(tx, order.id):
            if line.reservation_id is not None:
                await inventory.commit(tx, line.reservation_id)
        await tx.cancel_timer(TIMEOUT_JOB, str(order.id))
        await tx.emit("order.paid", await self.event_with_lines(tx, order, provider=provider, providerRef=provider_ref))
        return True

    # -- cancel, refund, fulfil, complete ---------------------------------------------------------------
    async def cancel(self, tx: Transaction, order_id: int, *, reason: str, by: Actor | None = None) -> None:
        order = await self.get(tx, order_id)
        if by is not None and by.is_member and by.id != order.member_id:
            raise DomainError("KERNEL_NOT_FOUND", "No such order.", field="input.orderId")
        await self._move(tx, order, ("pending_payment",), "cancelled", cancelled_at=tx.now(), cancel_reason=reason[:100])
        inventory = self.kernel.service("inventory")
        for line in await self.lines(tx, order.id):
            if line.reservation_id is not None:
                await inventory.release(tx, line.reservation_id)
        await tx.cancel_timer(TIMEOUT_JOB, str(order.id))
        await tx.emit("order.cancelled", await self.event_with_lines(tx, order, reason=reason))

    async def cancel_unless_busy(self, tx: Transaction, order_id: int, *, reason: str) -> bool:
        """Cancel an unpaid order unless another transaction holds it right now (a payment in
        flight): skipped, not waited for, so a component cancelling many orders from inside a
        payment cannot deadlock with those orders' own payments. Returns whether it cancelled."""
        if tx.kernel.db.is_postgresql:
            locked = await tx.session.scalar(select(Order.id).where(Order.id == order_id).with_for_update(skip_locked=True))
            if locked is None:
                return False
        order = await self.get(tx, order_id)
        if order.status != "pending_payment":
            return False
        await self.cancel(tx, order_id, reason=reason)
        return True

    async def fulfil(self, tx: Transaction, order_id: int) -> None:
        order = await self.get(tx, order_id)
        if order.status == "paid":
            refusal = await self.fulfilment_refusal(tx, order)
            if refusal:
                raise DomainError("ORDERS_FULFILMENT_BLOCKED", refusal, field="input.orderId")
        await self._move(tx, order, ("paid",), "fulfilled", fulfilled_at=tx.now())
        # Whatever was not refunded has left now (shipped, or handed over at a store).
        await tx.session.execute(
            update(OrderLine).where(OrderLine.order_id == order.id).values(shipped_quantity=OrderLine.quantity - OrderLine.refunded_quantity)
        )
        await self.after_fulfilment(tx, order)

    async def ship(self, tx: Transaction, order_id: int, *, carrier: str, tracking_number: str, lines: list[tuple[int, int]] | None = None) -> Any:
        """Ship units with a carrier and tracking number (see components/orders/shipping.py)."""
        return await ship(tx, self, order_id, carrier=carrier, tracking_number=tracking_number, lines=lines)

    async def after_fulfilment(self, tx: Transaction, order: Order) -> None:
        """Announce a fulfilled order and start its auto-completion clock."""
        await tx.emit("order.fulfilled", await self.event_with_lines(tx, order))
        await tx.schedule(AUTO_COMPLETE_JOB, str(order.id), tx.now() + self.auto_complete_after, {"orderId": order.id})

    async def complete(self, tx: Transaction, order_id: int, *, by: Actor | None = None) -> None:
        order = await self.get(tx, order_id)
        if by is not None and by.is_member and by.id != order.member_id:
            raise DomainError("KERNEL_NOT_FOUND", "No such order.", field="input.orderId")
        await self._move(tx, order, ("fulfilled",), "completed", completed_at=tx.now())
        await tx.cancel_timer(AUTO_COMPLETE_JOB, str(order.id))
        await tx.emit("order.completed", await self.event_with_lines(tx, order))

    async def on_auto_complete(self, tx: Transaction, timer: Any) -> None:
        """The member never confirmed receipt: the order completes by itself (if still fulfilled)."""
        order = await tx.session.get(Order, int(timer.key), with_for_update=tx.kernel.db.is_postgresql)
        if order is not None and order.status == "fulfilled":
            await self.complete(tx, order.id)

    async def on_payment_timeout(self, tx: Transaction, timer: Any) -> None:
        order = await tx.session.get(Order, int(timer.key), with_for_update=tx.kernel.db.is_postgresql)
        if order is not None and order.status == "pending_payment":
            await self.cancel(tx, order.id, reason="payment_timeout")
