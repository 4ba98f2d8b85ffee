"""Verification by a clerk: a code typed or a QR code scanned, the same checks and the same
atomic guess limit either way; the signed QR payload."""

from __future__ import annotations

import hashlib
import hmac
import re
from contextvars import ContextVar
from typing import Any

from sqlalchemy import case, func, select, update

from components.store_pickup.models import OPEN_STATES, Attempt, Pickup
from components.store_pickup.window import EXPIRE_JOB, REMIND_JOB
from core.auth import Actor
from core.errors import DomainError
from core.transaction import Transaction

# The order whose pickup verify() is handing over right now: the one time an awaiting pickup's
# order may be fulfilled (see StorePickupService.fulfilment_guard).
_HANDING_OVER: ContextVar[int | None] = ContextVar("store_pickup_handing_over", default=None)
QR_PREFIX = "DGP1"


class Verification:
    """Mixed into :class:`~components.store_pickup.service.StorePickupService`."""

    # -- QR payloads -------------------------------------------------------------------------------
    def qr_payload(self, pickup: Pickup) -> str:
        body = f"{QR_PREFIX}.{pickup.store_id}.{pickup.order_id}.{pickup.code}"
        return f"{body}.{self._sign(body)}"

    def _sign(self, body: str) -> str:
        return hmac.new(self._qr_key, body.encode(), hashlib.sha256).hexdigest()[:32]

    def read_qr(self, payload: str) -> tuple[int, int, str]:
        """(store id, order id, code) of a QR payload whose signature holds."""
        parts = str(payload).strip().split(".")
        if len(parts) != 5 or parts[0] != QR_PREFIX or not parts[1].isdigit() or not parts[2].isdigit():
            raise DomainError("STORE_PICKUP_INVALID_QR", "This is not a pickup QR code.", field="input.qrPayload")
        body = ".".join(parts[:4])
        if not hmac.compare_digest(self._sign(body), parts[4]):
            raise DomainError("STORE_PICKUP_INVALID_QR", "This QR code's signature does not hold.", field="input.qrPayload")
        return int(parts[1]), int(parts[2]), parts[3]

    # -- verification by a clerk -----------------------------------------------------------------------
    async def verify(
        self,
        actor: Actor,
        *,
        store_id: int,
        code: str | None = None,
        qr_payload: str | None = None,
        confirm: bool = False,
        idempotency_key: str | None = None,
    ) -> int:
        """Preview (``confirm=False``) or confirm a pickup; returns the pickup id.

        Every attempt by a clerk is recorded, refused ones included: the check runs in a
        savepoint that a refusal rolls back, and the attempt row commits either way."""
        if actor.kind == "anonymous":
            raise DomainError("KERNEL_UNAUTHENTICATED", "Sign in as staff first.")
        if not actor.is_staff or actor.id is None:
            raise DomainError("KERNEL_FORBIDDEN", "Only a store's clerks verify its pickups.")
        step = "confirm" if confirm else "preview"
        via = "qr" if qr_payload else "code"
        seen: dict[str, int] = {}
        refused: DomainError | None = None
        async with self.kernel.transaction() as tx:
            scope = "store_pickup.confirm"
            request = [store_id, code, qr_payload]
            if confirm and idempotency_key:
                previous = await tx.replay(scope, actor.key, idempotency_key, request)
                if previous is not None:
                    return int(previous["pickupId"])
            # Count and record as one step: concurrent guesses by a clerk, or at a store, queue here.
            await tx.serialize(f"store_pickup.clerk:{actor.id}", f"store_pickup.store:{store_id}")
            try:
                await self._check_rate(tx, actor.id, store_id)  # reads only: no savepoint needed yet
                # A savepoint: a refusal undoes whatever the check touched, yet the attempt
                # row below still commits with the outer transaction.
                async with tx.session.begin_nested():
                    pickup = await self._verify(tx, actor, store_id, code, qr_payload, confirm, seen)
            except DomainError as error:
                refused = error
                outcome = "rate_limited" if error.code == "STORE_PICKUP_RATE_LIMITED" else "refused"
                tx.session.add(
                    Attempt(
                        staff_id=actor.id,
                        store_id=store_id,
                        step=step,
                        via=via,
                        outcome=outcome,
                        error_code=error.code,
                        pickup_id=seen.get("pickup"),
                        created_at=tx.now(),
                    )
                )
            else:
                tx.session.add(
                    Attempt(staff_id=actor.id, store_id=store_id, step=step, via=via, outcome="ok", pickup_id=pickup.id, created_at=tx.now())
                )
                if confirm and idempotency_key:
                    await tx.remember(scope, actor.key, idempotency_key, {"pickupId": pickup.id})
        if refused is not None:
            raise refused
        return pickup.id

    async def _verify(
        self, tx: Transaction, actor: Actor, store_id: int, code: str | None, qr_payload: str | None, confirm: bool, seen: dict[str, int]
    ) -> Pickup:
        clerk = await self.kernel.service("members").staff_actor(tx.session, actor.id)
        # The database, not the token, says where a clerk works: a transfer takes effect at once.
        if clerk is None or store_id not in clerk.store_ids or store_id not in actor.store_ids:
            raise DomainError("STORE_PICKUP_NOT_YOUR_STORE", "You verify pickups only at your own stores.", field="input.storeId")
        order_id = None
        if qr_payload:
            qr_store, order_id, code = self.read_qr(qr_payload)
            if qr_store != store_id:
                raise DomainError("STORE_PICKUP_WRONG_STORE", "This pickup is to be collected at another store.", field="input.qrPayload")
        if not code or not re.fullmatch(r"[0-9]{%d}" % self.code_digits, str(code).strip()):
            raise DomainError("STORE_PICKUP_WRONG_CODE", "No pickup at this store has that code.", field="input.code")
        code = str(code).strip()
        # A live pickup first; otherwise the latest that had this code (to say it was used).
        stmt = (
            select(Pickup)
            .where(Pickup.store_id == store_id, Pickup.code == code)
            .order_by(case((Pickup.state.in_(OPEN_STATES), 0), else_=1), Pickup.id.desc())
            .limit(1)
        )
        if self.kernel.db.is_postgresql:
            stmt = stmt.with_for_update()
        pickup = await tx.session.scalar(stmt.execution_options(populate_existing=True))
        if pickup is None or (order_id is not None and pickup.order_id != order_id):
            raise DomainError("STORE_PICKUP_WRONG_CODE", "No pickup at this store has that code.", field="input.code")
        seen["pickup"] = pickup.id
        refusals = {
            "picked_up": ("STORE_PICKUP_ALREADY_PICKED_UP", "This pickup was already collected."),
            "expired": ("STORE_PICKUP_EXPIRED", "This pickup's window has passed; the order was refunded."),
            "cancelled": ("STORE_PICKUP_NOT_PAID", "This order was cancelled before it was paid."),
            "refunded": ("STORE_PICKUP_REFUNDED", "This order was refunded."),
            "pending_payment": ("STORE_PICKUP_NOT_PAID", "This order has not been paid."),
        }
        if pickup.state in refusals:
            refusal_code, message = refusals[pickup.state]
            raise DomainError(refusal_code, message, field="input.code", state=pickup.state)
        orders = self.kernel.service("orders")
        order = await orders.get(tx, pickup.order_id)
        handing_over = _HANDING_OVER.set(order.id)
        try:
            return await self._hand_over(tx, actor, pickup, order, confirm)
        finally:
            _HANDING_OVER.reset(handing_over)

    async def _hand_over(self, tx: Transaction, actor: Actor, pickup: Pickup, order: Any, confirm: bool) -> Pickup:
        orders = self.kernel.service("orders")
        if order.status == "pending_payment":
            raise DomainError("STORE_PICKUP_NOT_PAID", "This order has not been paid.", field="input.code")
        if order.status == "refunded":
            raise DomainError("STORE_PICKUP_REFUNDED", "This order was refunded.", field="input.code")
        if await orders.has_open_refund_request(tx, order.id):
            # A settled partial refund leaves the rest collectable; an open request does not.
            raise DomainError(
                "STORE_PICKUP_REFUND_IN_PROGRESS", "A refund request of this order waits for staff; settle it first.", field="input.code"
            )
        if order.status != "paid":
            raise DomainError("STORE_PICKUP_ALREADY_PICKED_UP", f"This order is already {order.status}.", field="input.code")
        refusal = await orders.fulfilment_refusal(tx, order)
        if refusal:
            code_ = "STORE_PICKUP_GROUP_NOT_FORMED" if order.kind == "group_buy" else "STORE_PICKUP_ON_HOLD"
            raise DomainError(code_, refusal, field="input.code")
        if not confirm:
            return pickup
        handed = await tx.session.execute(
            update(Pickup)
            .where(Pickup.id == pickup.id, Pickup.state == "awaiting_pickup")
            .values(state="picked_up", picked_up_at=tx.now(), picked_up_by=actor.id, closed_at=tx.now())
            .execution_options(synchronize_session=False)
        )
        if handed.rowcount != 1:  # another clerk confirmed it a moment ago
            raise DomainError("STORE_PICKUP_ALREADY_PICKED_UP", "This pickup was already collected.", field="input.code")
        await orders.fulfil(tx, order.id)
        await orders.complete(tx, order.id)
        await tx.cancel_timer(EXPIRE_JOB, str(pickup.id))
        await tx.cancel_timer(REMIND_JOB, str(pickup.id))
        await tx.session.refresh(pickup)
        await tx.emit("store_pickup.picked_up", {**self.event(pickup), "clerkId": actor.id})
        return pickup

    async def _check_rate(self, tx: Transaction, staff_id: int, store_id: int) -> None:
        since = tx.now() - self.rate_window
        # One statement for both budgets (each side of the OR has its own index).
        mine = Attempt.staff_id == staff_id
        # A clerk knocking at a store that is not theirs must not lock that store's own clerks out.
        store_side = (Attempt.store_id == store_id) & (Attempt.error_code != "STORE_PICKUP_NOT_YOUR_STORE")
        by_clerk, by_store = (
            await tx.session.execute(
                select(func.coalesce(func.sum(case((mine, 1), else_=0)), 0), func.coalesce(func.sum(case((store_side, 1), else_=0)), 0)).where(
                    Attempt.outcome == "refused", Attempt.created_at > since, mine | store_side
                )
            )
        ).one()
        if int(by_clerk or 0) >= self.per_clerk or int(by_store or 0) >= self.per_store:
            raise DomainError(
                "STORE_PICKUP_RATE_LIMITED",
                "Too many refused attempts; wait a while and try again.",
                field="input.code",
                retryAfterSeconds=int(self.rate_window.total_seconds()),
            )
