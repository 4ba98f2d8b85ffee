"""Earning points from orders, and taking them back when the money goes back.

Mixed into :class:`~components.points_mall.service.PointsService`. After-commit event handlers
here are idempotent: each compares with what the ledger already holds.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Mapping

from sqlalchemy import func, select, update

from components.points_mall.models import Account, Entry
from components.points_mall.rules import capped, multiplier_percent, order_kind_earns, points_earned
from core.clock import as_utc
from core.errors import DomainError
from core.transaction import Event, Transaction
from core.units import CURRENCY_EXPONENT

GRANT_JOB = "points_mall.grant"
POINTS_PAYMENT = "pointsPayment"  # the order attribute the points stage writes (see deduction.py)


class Earning:
    def _earns(self, payload: Mapping[str, Any]) -> bool:
        return order_kind_earns(payload.get("kind"), activity_orders_earn=self.activity_orders_earn)

    @property
    def minor_per_unit(self) -> int:
        return 10 ** CURRENCY_EXPONENT.get(self.kernel.blueprint.brand.currency, 2)

    def points_for(self, amount_minor: int, percent: int = 100) -> int:
        return points_earned(amount_minor, minor_per_unit=self.minor_per_unit, earn_per_unit=self.earn_per_yuan, percent=percent)

    async def on_order_event(self, kernel: Any, event: Event) -> None:
        """``order.paid`` / ``order.completed`` (after commit): grant the order's points once.

        Only what was paid in cash earns: a points order's total is its cash part, so the
        points part of a redemption never earns points."""
        wanted = "order.paid" if self.grant_on == "paid" else "order.completed"
        payload = event.payload
        if event.name != wanted or not self._earns(payload) or self.points_for(payload.get("totalMinor", 0)) <= 0:
            return
        # after_sale: once the order's after-sale window has closed, a refund can no longer take
        # the points back, so nobody spends points of an order that is refunded later.
        wait = self.freeze + (self.kernel.service("orders").after_sale_window if self.grant_on == "after_sale" else timedelta(0))
        # The multiplier's day is the day of the event that decided the grant (payment or
        # completion), not the day a frozen grant comes due.
        day = as_utc(event.created_at).astimezone(self.zone).date().isoformat()
        async with kernel.transaction() as tx:
            if wait:
                await tx.schedule(GRANT_JOB, f"order:{payload['orderId']}", tx.now() + wait, {"orderId": payload["orderId"], "day": day})
            else:
                await self.grant_for_order(tx, payload["orderId"], day=day)

    async def pending_points(self, session: Any, member_id: int) -> int:
        """Points the member's paid orders will earn once granted (shown, not yet spendable)."""
        pending = 0
        for order in await self.kernel.service("orders").orders_of_member(session, member_id, ("paid", "fulfilled", "completed")):
            if not self._earns(order) or await self.entry_by_key(session, member_id, f"earn:{order['orderId']}") is not None:
                continue
            pending += self.points_for(order["totalMinor"] - order["refundedMinor"])
        return pending

    async def on_grant_due(self, tx: Transaction, timer: Any) -> None:
        await self.grant_for_order(tx, int(timer.payload["orderId"]), day=timer.payload.get("day"))

    async def _order(self, tx: Transaction, order_id: int) -> Mapping[str, Any] | None:
        """The order as it is now (a frozen grant runs long after the event that asked for it)."""
        return await self.kernel.service("orders").snapshot(tx, order_id)

    async def grant_for_order(self, tx: Transaction, order_id: int, *, day: str | None = None) -> Entry | None:
        """Grant an order's points once: the earn rate, the best multiplier for the member's tier
        and the day, then the brand's daily and monthly caps on order points."""
        order = await self._order(tx, order_id)
        if order is None or order["status"] in ("cancelled", "refunded", "pending_payment"):
            return None  # refunded in full before a frozen grant came due: nothing was earned
        member_id, key = order["memberId"], f"earn:{order_id}"
        done = await self.entry_by_key(tx.session, member_id, key)
        if done is not None:
            return done  # the outbox delivers at least once
        if self.points_for(order["totalMinor"]) <= 0:
            return None
        account = await self.lock_account(tx, member_id)  # serialises the member's earnings against the caps
        today = tx.now().astimezone(self.zone).date()
        tier, tier_percent = await self.standing(tx.session, member_id, account.tier)
        percent = max(tier_percent, multiplier_percent(self.earn_multipliers, tier=tier, day=date.fromisoformat(day) if day else today))
        points = self.points_for(order["totalMinor"], percent)
        earned_today, earned_month = await self._earned_since(tx, member_id, today)
        granted = capped(
            points,
            earned_today=earned_today,
            earned_this_month=earned_month,
            per_day=self.earn_caps.get("per_day"),
            per_month=self.earn_caps.get("per_month"),
        )
        note = f"{order['totalMinor']} {order['currency']} minor paid"
        if percent != 100:
            note += f"; ×{percent}%"
        if granted < points:
            note += f"; {points - granted} over the earning cap"
        if granted <= 0:
            # Recorded, not skipped: the member sees why this order earned nothing, and the key
            # marks the grant as done (nothing is left pending, a replay grants nothing).
            return await self._write_entry(tx, member_id, 0, "order_earn", f"order:{order_id}", key, note=note)
        entry = await self.credit(tx, member_id, granted, reason="order_earn", reference=f"order:{order_id}", key=key, note=note)
        if order["refundedMinor"]:
            await self.reverse_for_order(tx, order_id)  # refunded in part while the points were frozen
        return entry

    async def _earned_since(self, tx: Transaction, member_id: int, today: date) -> tuple[int, int]:
        """Order points granted to the member today and this month (brand calendar), gross of
        later reversals: a refund does not reopen the cap."""

        def start(day: date) -> datetime:
            return datetime.combine(day, time(0), tzinfo=self.zone).astimezone(timezone.utc)

        async def since(moment: datetime) -> int:
            return int(
                await tx.session.scalar(
                    select(func.coalesce(func.sum(Entry.delta), 0)).where(
                        Entry.member_id == member_id, Entry.reason == "order_earn", Entry.created_at >= moment
                    )
                )
            )

        return await since(start(today)), await since(start(today.replace(day=1)))

    async def reverse_for_order(self, tx: Transaction, order_id: int) -> Entry | None:
        """Bring the reversal of an order's points up to what its refunds call for.

        State-based, so it is idempotent and order-independent: the points to reverse are
        ``earned × refunded / total`` (all of them once fully refunded), less what earlier
        reversals already took or recorded as shortfall."""
        order = await self._order(tx, order_id)
        if order is None:
            return None
        member_id, total, refunded = order["memberId"], order["totalMinor"], order["refundedMinor"]
        earned = await self.entry_by_key(tx.session, member_id, f"earn:{order_id}")
        if earned is None or not total:
            return None  # nothing earned (yet): a frozen grant looks at refunds when it runs
        await self.lock_account(tx, member_id)
        full = order["status"] == "refunded" or refunded >= total
        target = earned.delta if full else earned.delta * refunded // total
        done = int(
            await tx.session.scalar(
                select(func.coalesce(func.sum(Entry.shortfall - Entry.delta), 0)).where(
                    Entry.member_id == member_id, Entry.reason == "order_earn_reversed", Entry.reference == f"order:{order_id}"
                )
            )
        )
        if target <= done:
            return None
        return await self.debit(
            tx,
            member_id,
            target - done,
            reason="order_earn_reversed",
            reference=f"order:{order_id}",
            key=f"reverse:{order_id}:{target}",
            shortfall=self.refund_shortfall,
            note=f"{refunded} of {total} {order['currency']} minor refunded",
        )

    async def on_order_refunded(self, kernel: Any, event: Event) -> None:
        async with kernel.transaction() as tx:
            if event.payload.get("kind") == "points":
                await self.return_redemption(tx, event.payload["orderId"])
            await self.reverse_for_order(tx, event.payload["orderId"])
            if (event.payload.get("attributes") or {}).get(POINTS_PAYMENT):
                order = await self._order(tx, event.payload["orderId"])  # units refunded so far, per line
                await self.payment.give_back(tx, order, everything=False)

    async def on_order_cancelled(self, kernel: Any, event: Event) -> None:
        """A cancelled order (or one not paid in time) gives back its points: a points + cash
        redemption's points and stock, and the points offered at checkout (积分抵现)."""
        async with kernel.transaction() as tx:
            if event.payload.get("kind") == "points":
                await self.return_redemption(tx, event.payload["orderId"], cancelled=True)
            if (event.payload.get("attributes") or {}).get(POINTS_PAYMENT):
                await self.payment.give_back(tx, event.payload, everything=True)

    async def sign_in(self, tx: Transaction, member_id: int) -> tuple[Entry | None, int]:
        account = await self.lock_account(tx, member_id)
        today = tx.now().astimezone(self.zone).date()
        if account.last_sign_in == today:
            raise DomainError("POINTS_MALL_ALREADY_SIGNED_IN", "You already signed in today.", field="input")
        streak = account.streak + 1 if account.last_sign_in == today - timedelta(days=1) else 1
        # Conditional on the date, so two sign-ins racing on SQLite's old snapshot cannot both pay.
        moved = await tx.session.execute(
            update(Account)
            .where(Account.member_id == member_id, (Account.last_sign_in.is_(None)) | (Account.last_sign_in != today))
            .values(last_sign_in=today, streak=streak)
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount != 1:
            raise DomainError("POINTS_MALL_ALREADY_SIGNED_IN", "You already signed in today.", field="input")
        reward = self.sign_in_rewards[min(streak, len(self.sign_in_rewards)) - 1]
        entry = None
        if reward:
            entry = await self.credit(
                tx,
                member_id,
                reward,
                reason="sign_in",
                reference=f"day:{today.isoformat()}",
                key=f"sign_in:{today.isoformat()}",
                note=f"day {streak} of a streak",
            )
        return entry, streak
