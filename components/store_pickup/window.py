"""The pickup window: the reminder before it ends, and what its end does (refund or keep)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from components.store_pickup.models import Pickup
from core.clock import as_utc
from core.transaction import Transaction

EXPIRE_JOB = "store_pickup.expire"
REMIND_JOB = "store_pickup.remind_expiry"


class PickupWindow:
    """Mixed into :class:`~components.store_pickup.service.StorePickupService`."""

    async def remind_expiry(self, tx: Transaction, timer: Any) -> None:
        """``expiry_reminder_before`` the end of the window: tell the member (an event for a
        notification component) — only if the pickup still waits; a handed-over, refunded or
        cancelled one says nothing."""
        pickup = await tx.session.get(Pickup, int(timer.key), populate_existing=True)
        if pickup is None or pickup.state != "awaiting_pickup":
            return
        await tx.emit("store_pickup.expiring_soon", {**self.event(pickup), "expiresAt": as_utc(pickup.expires_at).isoformat()})

    async def expire(self, tx: Transaction, timer: Any) -> None:
        stmt = select(Pickup).where(Pickup.id == int(timer.key))
        if self.kernel.db.is_postgresql:
            stmt = stmt.with_for_update()
        pickup = await tx.session.scalar(stmt.execution_options(populate_existing=True))
        if pickup is None or pickup.state != "awaiting_pickup":
            return
        orders = self.kernel.service("orders")
        if self.on_expiry == "keep":
            pickup.overdue_at = tx.now()
            await tx.emit("store_pickup.overdue", self.event(pickup))
            return
        # Expired first, so the refund's own event finds the pickup closed already.
        pickup.state, pickup.closed_at = "expired", tx.now()
        await tx.session.flush()
        order = await orders.get(tx, pickup.order_id)
        refunded = 0
        if order.status == "paid":
            refunded = await orders.refund(tx, order.id, reason="store_pickup: not collected within the pickup window")
        await tx.emit("store_pickup.expired", {**self.event(pickup), "refundedMinor": refunded})
