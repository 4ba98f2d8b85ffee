"""The points ledger and the mall.

Invariant, checked by the tests at every step: a member's balance equals the sum of their
ledger entries and the sum of the remainders of their unexpired lots (a debt under the
`allow_negative` refund policy is a lot with a negative remainder). Every change goes through
:meth:`PointsService.credit` or :meth:`PointsService.debit`, which write the entry, the balance
and the lots together.

Concurrency: every change first locks the member's account row (``FOR UPDATE`` on PostgreSQL;
SQLite's single writer already serialises), and the balance itself only moves through a
conditional ``UPDATE … WHERE balance >= :n``. Locks are always taken in the order account →
inventory → mall item (a redemption placed through checkout holds the SKU's stock before its
participant takes the item's), and nothing takes a mall item before inventory, so
redemptions, returns and refunds cannot deadlock each other.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from core.checkout import CheckoutRequest, LineRequest
from components.points_mall.checkout import LINE_FIELD, MAX_REDEEM, MallCheckout
from components.points_mall.models import Account, Entry, Item, Lot, Redemption
from core.clock import as_utc
from core.errors import DomainError
from core.models import TimerRow
from core.transaction import Event, Transaction
from core.units import CURRENCY_EXPONENT, parse_duration

MAX_POINTS = 10**12
EXPIRE_JOB = "points_mall.expire_due"
EXPIRE_MORE_JOB = "points_mall.expire_more"
GRANT_JOB = "points_mall.grant"
EXPIRE_BATCH = 200  # members per expiry transaction; the rest are chained at once


def _iso(value: datetime | None) -> str | None:
    return as_utc(value).isoformat() if value is not None else None


def _from_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class PointsService:
    def __init__(self, kernel: Any, settings: Mapping[str, Any]) -> None:
        self.kernel = kernel
        self.earn_per_yuan = int(settings.get("earn_per_yuan", 1))
        self.grant_on = settings.get("grant_on", "paid")
        self.freeze = timedelta(days=int(settings.get("freeze_days", 0)))
        self.activity_orders_earn = bool(settings.get("activity_orders_earn", True))
        expiry = settings.get("expiry") or {}
        self.expiry_rule = expiry.get("rule", "end_of_next_year")
        self.expiry_days = int(expiry.get("days", 365))
        self.expiry_check_every = parse_duration(settings.get("expiry_check_every", "1h"))
        self.sign_in_rewards = list(settings.get("sign_in_rewards") or [5])
        self.refund_shortfall = settings.get("refund_shortfall", "deduct_available")
        self.zone = ZoneInfo(kernel.blueprint.brand.timezone)
        self.checkout = MallCheckout(self)

    # == the ledger ==================================================================================
    def expires_at(self, earned_at: datetime) -> datetime | None:
        if self.expiry_rule == "never":
            return None
        if self.expiry_rule == "days":
            return earned_at + timedelta(days=self.expiry_days)
        # End of the following calendar year in the brand's time zone: points earned any time in
        # 2026 (Shanghai time) last until 2027-12-31 24:00 Shanghai time (16:00 UTC).
        local_year = earned_at.astimezone(self.zone).year
        return datetime.combine(date(local_year + 2, 1, 1), time(0), tzinfo=self.zone).astimezone(timezone.utc)

    async def lock_account(self, tx: Transaction, member_id: int) -> Account:
        """The member's account, created on first use and locked for this transaction."""
        stmt = select(Account).where(Account.member_id == member_id).execution_options(populate_existing=True)
        if tx.kernel.db.is_postgresql:
            stmt = stmt.with_for_update()
        account = await tx.session.scalar(stmt)
        if account is None:
            if await self.kernel.service("members").member(tx.session, member_id) is None:
                raise DomainError("KERNEL_NOT_FOUND", "No such member.", field="input.memberId")
            try:
                async with tx.session.begin_nested():
                    tx.session.add(Account(member_id=member_id, balance=0, tier=0, streak=0))
            except IntegrityError:
                pass  # a concurrent first change created it; the select below waits for its lock
            account = await tx.session.scalar(stmt)
        return account

    async def _balance(self, tx: Transaction, member_id: int) -> int:
        return int(await tx.session.scalar(select(Account.balance).where(Account.member_id == member_id)) or 0)

    async def entry_by_key(self, session: Any, member_id: int, key: str | None) -> Entry | None:
        if key is None:
            return None
        return await session.scalar(select(Entry).where(Entry.member_id == member_id, Entry.idempotency_key == key))

    async def _write_entry(self, tx: Transaction, member_id: int, delta: int, reason: str, reference: str | None,
                           key: str | None, *, note: str | None = None, shortfall: int = 0,
                           consumed: list[dict[str, Any]] | None = None) -> Entry:
        balance = await self._balance(tx, member_id)
        entry = Entry(member_id=member_id, delta=delta, reason=reason, reference=reference, balance_after=balance,
                      shortfall=shortfall, consumed=consumed, note=note, idempotency_key=key, created_at=tx.now())
        tx.session.add(entry)
        await tx.session.flush()
        tx.publish(f"points_mall:member:{member_id}", {"balance": balance, "delta": delta, "reason": reason})
        return entry

    @staticmethod
    def _check_points(points: Any, field: str) -> None:
        if isinstance(points, bool) or not isinstance(points, int) or not 0 < points <= MAX_POINTS:
            raise DomainError("POINTS_MALL_INVALID_QUANTITY", "Points must be a positive whole number.", field=field)

    async def credit(self, tx: Transaction, member_id: int, points: int, *, reason: str, reference: str | None = None,
                     key: str | None = None, note: str | None = None,
                     lots: list[tuple[int, datetime | None]] | None = None, field: str = "input.points") -> Entry:
        """Add points; the public way for any component to grant points.

        They form a new lot expiring by the brand's rule (or the given ``lots``: portions with
        their own expiry, for points given back). A debt is paid first. A replay of ``key``
        returns the first entry and adds nothing."""
        self._check_points(points, field)
        replayed = await self.entry_by_key(tx.session, member_id, key)
        if replayed is not None:
            return replayed
        await self.lock_account(tx, member_id)
        now = tx.now()
        portions = sorted(lots or [(points, self.expires_at(now))],
                          key=lambda p: (p[1] is None, as_utc(p[1]) if p[1] else now))
        assert sum(n for n, _ in portions) == points
        await tx.session.execute(update(Account).where(Account.member_id == member_id)
                                 .values(balance=Account.balance + points).execution_options(synchronize_session=False))
        entry = await self._write_entry(tx, member_id, points, reason, reference, key, note=note)
        # A debt (negative lot) is paid from the soonest-expiring portions first.
        debt = await tx.session.scalar(select(Lot).where(Lot.member_id == member_id, Lot.remaining < 0))
        owed = -debt.remaining if debt is not None else 0
        for amount, expires in portions:
            paid = min(owed, amount)
            owed -= paid
            if debt is not None:
                debt.remaining += paid
            tx.session.add(Lot(member_id=member_id, entry_id=entry.id, earned=amount, remaining=amount - paid,
                               expires_at=expires, created_at=now))
        await tx.session.flush()
        if any(expires is not None and as_utc(expires) <= now for _, expires in portions):
            await self.expire_member(tx, member_id)  # points given back whose lot expired meanwhile
        for expires in {expires for _, expires in portions if expires is not None and as_utc(expires) > now}:
            await self._watch_expiry(tx, expires)
        return entry

    async def debit(self, tx: Transaction, member_id: int, points: int, *, reason: str, reference: str | None = None,
                    key: str | None = None, shortfall: str = "refuse", note: str | None = None,
                    field: str = "input") -> Entry:
        """Take points, soonest-expiring lots first, after writing off what has expired.

        ``shortfall`` says what happens when the balance does not cover it: ``refuse``
        (POINTS_MALL_NOT_ENOUGH_POINTS, nothing changes), ``allow_negative`` (a debt lot), or
        ``deduct_available`` (take what is there; the entry records the rest as its shortfall
        and a ``points_mall.shortfall`` event announces it)."""
        self._check_points(points, "input.points")
        replayed = await self.entry_by_key(tx.session, member_id, key)
        if replayed is not None:
            return replayed
        await self.lock_account(tx, member_id)
        await self.expire_member(tx, member_id)
        taken = await tx.session.execute(
            update(Account).where(Account.member_id == member_id, Account.balance >= points)
            .values(balance=Account.balance - points).execution_options(synchronize_session=False)
        )
        amount, missing = points, 0
        if taken.rowcount != 1:
            balance = await self._balance(tx, member_id)
            if shortfall == "allow_negative":
                note = f"{note + '; ' if note else ''}balance went negative: {points - max(balance, 0)} points owed"
            elif shortfall == "deduct_available":
                amount = max(balance, 0)
                missing = points - amount
                note = f"{note + '; ' if note else ''}shortfall: {missing} points had already been spent"
            else:
                raise DomainError("POINTS_MALL_NOT_ENOUGH_POINTS", f"You have {balance} points; this needs {points}.",
                                  field=field, balance=balance, needed=points)
            if amount:
                await tx.session.execute(update(Account).where(Account.member_id == member_id)
                                         .values(balance=Account.balance - amount).execution_options(synchronize_session=False))
        consumed = await self._consume_lots(tx, member_id, amount)
        entry = await self._write_entry(tx, member_id, -amount, reason, reference, key, note=note, shortfall=missing,
                                        consumed=consumed)
        if missing:
            await tx.emit("points_mall.shortfall", {"memberId": member_id, "entryId": entry.id, "reference": reference,
                                                    "reason": reason, "missing": missing})
        return entry

    async def _consume_lots(self, tx: Transaction, member_id: int, points: int) -> list[dict[str, Any]]:
        left, consumed = points, []
        lots = (await tx.session.scalars(
            select(Lot).where(Lot.member_id == member_id, Lot.remaining > 0)
            .order_by(Lot.expires_at.is_(None), Lot.expires_at, Lot.id)
        )).all()
        for lot in lots:
            if left <= 0:
                break
            used = min(lot.remaining, left)
            lot.remaining -= used
            left -= used
            consumed.append({"expiresAt": _iso(lot.expires_at), "points": used})
        if left > 0:
            # Only `allow_negative` gets here: what no lot covers is owed, as a debt lot.
            debt = await tx.session.scalar(select(Lot).where(Lot.member_id == member_id, Lot.remaining < 0))
            if debt is None:
                tx.session.add(Lot(member_id=member_id, earned=0, remaining=-left, expires_at=None, created_at=tx.now()))
            else:
                debt.remaining -= left
        await tx.session.flush()
        return consumed

    async def give_back(self, tx: Transaction, spent: Entry, points: int, *, already: int, reason: str,
                        reference: str | None, key: str) -> Entry:
        """Return ``points`` of a spend (after ``already`` were returned before) with the
        expiries they had: the latest-expiring portions come back first."""
        portions: list[tuple[int, datetime | None]] = []
        skip, left = already, points
        for portion in reversed(spent.consumed or []):
            size = int(portion["points"])
            if skip >= size:
                skip -= size
                continue
            size -= skip
            skip = 0
            take = min(size, left)
            portions.append((take, _from_iso(portion["expiresAt"])))
            left -= take
            if not left:
                break
        if left:
            portions.append((left, self.expires_at(tx.now())))
        return await self.credit(tx, spent.member_id, points, reason=reason, reference=reference, key=key, lots=portions)

    # == expiry ==========================================================================================
    async def expire_member(self, tx: Transaction, member_id: int) -> int:
        """Write `expire` entries for the member's lots past their expiry; returns the points."""
        await self.lock_account(tx, member_id)
        now = tx.now()
        lots = (await tx.session.scalars(
            select(Lot).where(Lot.member_id == member_id, Lot.remaining > 0, Lot.expires_at <= now)
            .order_by(Lot.expires_at, Lot.id)
        )).all()
        total = 0
        for lot in lots:
            amount = lot.remaining
            lot.remaining = 0
            total += amount
            await tx.session.execute(update(Account).where(Account.member_id == member_id)
                                     .values(balance=Account.balance - amount).execution_options(synchronize_session=False))
            local = as_utc(lot.expires_at).astimezone(self.zone)
            await self._write_entry(tx, member_id, -amount, "expire", f"lot:{lot.id}", f"expire:lot:{lot.id}",
                                    note=f"{amount} of {lot.earned} points earned by entry {lot.entry_id} "
                                         f"expired at {local.isoformat()}")
        return total

    async def _watch_expiry(self, tx: Transaction, expires_at: datetime) -> None:
        """Make sure a timer fires at (or before) ``expires_at``, so points expire on the dot
        rather than at the next hourly sweep. Brands with one expiry instant a year (the
        end-of-next-year rule) keep a single pending timer."""
        waiting = await tx.session.scalar(
            select(TimerRow.id).where(TimerRow.job == EXPIRE_MORE_JOB, TimerRow.state == "pending",
                                      TimerRow.due_at > tx.now(), TimerRow.due_at <= expires_at).limit(1))
        if waiting is not None:
            return
        try:
            async with tx.session.begin_nested():
                await tx.schedule(EXPIRE_MORE_JOB, f"at:{_iso(expires_at)}", expires_at)
        except IntegrityError:
            pass  # a concurrent credit scheduled the same instant

    async def expire_due(self, tx: Transaction, _timer: Any = None) -> None:
        """The expiry job (on the dot, and hourly as a sweep): write off expired lots, a batch
        of members per transaction, then make sure the next expiry has its timer."""
        now = tx.now()
        members = (await tx.session.scalars(
            select(Lot.member_id).where(Lot.remaining > 0, Lot.expires_at <= now)
            .group_by(Lot.member_id).order_by(Lot.member_id).limit(EXPIRE_BATCH + 1)
        )).all()
        for member_id in members[:EXPIRE_BATCH]:
            await self.expire_member(tx, member_id)
        if len(members) > EXPIRE_BATCH:
            # New Year's Day expires everybody at once: chain the next batch now, not in an hour.
            # (A fresh key: the timer running now is marked done when this returns.)
            await tx.schedule(EXPIRE_MORE_JOB, f"more:{_iso(now)}:{members[EXPIRE_BATCH - 1]}", now)
            return
        upcoming = await tx.session.scalar(select(func.min(Lot.expires_at)).where(Lot.remaining > 0, Lot.expires_at > now))
        if upcoming is not None:
            await self._watch_expiry(tx, as_utc(upcoming))

    # == earning and reversing =============================================================================
    def _earns(self, payload: Mapping[str, Any]) -> bool:
        if payload.get("kind") in ("group_buy", "auction", "bidding_sale") and not self.activity_orders_earn:
            return False
        return True

    def points_for(self, amount_minor: int) -> int:
        unit = 10 ** CURRENCY_EXPONENT.get(self.kernel.blueprint.brand.currency, 2)
        return (max(amount_minor, 0) // unit) * self.earn_per_yuan

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
        async with kernel.transaction() as tx:
            if wait:
                await tx.schedule(GRANT_JOB, f"order:{payload['orderId']}", tx.now() + wait,
                                  {"orderId": payload["orderId"]})
            else:
                await self.grant_for_order(tx, payload["orderId"])

    async def pending_points(self, session: Any, member_id: int) -> int:
        """Points the member's paid orders will earn once granted (shown, not yet spendable)."""
        pending = 0
        for order in await self.kernel.service("orders").orders_of_member(session, member_id, ("paid", "fulfilled", "completed")):
            if not self._earns(order) or await self.entry_by_key(session, member_id, f"earn:{order['orderId']}") is not None:
                continue
            pending += self.points_for(order["totalMinor"] - order["refundedMinor"])
        return pending

    async def on_grant_due(self, tx: Transaction, timer: Any) -> None:
        await self.grant_for_order(tx, int(timer.payload["orderId"]))

    async def _order(self, tx: Transaction, order_id: int) -> Mapping[str, Any] | None:
        """The order as it is now (a frozen grant runs long after the event that asked for it)."""
        return await self.kernel.service("orders").snapshot(tx, order_id)

    async def grant_for_order(self, tx: Transaction, order_id: int) -> Entry | None:
        order = await self._order(tx, order_id)
        if order is None or order["status"] in ("cancelled", "refunded", "pending_payment"):
            return None  # refunded in full before a frozen grant came due: nothing was earned
        points = self.points_for(order["totalMinor"])
        if points <= 0:
            return None
        entry = await self.credit(tx, order["memberId"], points, reason="order_earn", reference=f"order:{order_id}",
                                  key=f"earn:{order_id}", note=f"{order['totalMinor']} {order['currency']} minor paid")
        if order["refundedMinor"]:
            await self.reverse_for_order(tx, order_id)  # refunded in part while the points were frozen
        return entry

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
        done = int(await tx.session.scalar(
            select(func.coalesce(func.sum(Entry.shortfall - Entry.delta), 0))
            .where(Entry.member_id == member_id, Entry.reason == "order_earn_reversed",
                   Entry.reference == f"order:{order_id}")
        ))
        if target <= done:
            return None
        return await self.debit(tx, member_id, target - done, reason="order_earn_reversed",
                                reference=f"order:{order_id}", key=f"reverse:{order_id}:{target}",
                                shortfall=self.refund_shortfall,
                                note=f"{refunded} of {total} {order['currency']} minor refunded")

    async def on_order_refunded(self, kernel: Any, event: Event) -> None:
        async with kernel.transaction() as tx:
            if event.payload.get("kind") == "points":
                await self.return_redemption(tx, event.payload["orderId"])
            await self.reverse_for_order(tx, event.payload["orderId"])

    async def on_order_cancelled(self, kernel: Any, event: Event) -> None:
        """A points + cash order cancelled or not paid in time gives points and stock back."""
        if event.payload.get("kind") != "points":
            return
        async with kernel.transaction() as tx:
            await self.return_redemption(tx, event.payload["orderId"], cancelled=True)

    async def return_redemption(self, tx: Transaction, order_id: int, *, cancelled: bool = False) -> None:
        """Give back the points and item stock of the units of a points order that were
        refunded (or all of them when it was cancelled). Idempotent: it compares with what was
        already given back."""
        redemption = await tx.session.scalar(select(Redemption).where(Redemption.order_id == order_id))
        if redemption is None:
            return
        await self.lock_account(tx, redemption.member_id)
        await tx.session.refresh(redemption)
        if cancelled:
            units = redemption.quantity
        else:
            order = await self._order(tx, order_id)
            units = sum(line["refundedQuantity"] for line in (order or {}).get("lines", ())
                        if (line.get("activity") or {}).get("component") == "points_mall")
        units = min(units, redemption.quantity) - redemption.returned_quantity
        if units <= 0:
            return
        await self._return_units(tx, redemption, units, status="cancelled" if cancelled else "returned")

    async def _return_units(self, tx: Transaction, redemption: Redemption, units: int, *, status: str) -> None:
        unit_points = redemption.points // redemption.quantity
        already = redemption.returned_quantity * unit_points
        redemption.returned_quantity += units
        if redemption.returned_quantity >= redemption.quantity:
            redemption.status = status
        await tx.session.execute(update(Item).where(Item.id == redemption.item_id)
                                 .values(stock_left=Item.stock_left + units).execution_options(synchronize_session=False))
        spent = await self.entry_by_key(tx.session, redemption.member_id, f"redeem:{redemption.id}")
        await self.give_back(tx, spent, unit_points * units, already=already, reason="redeem_returned",
                             reference=f"redemption:{redemption.id}",
                             key=f"return:{redemption.id}:{redemption.returned_quantity}")
        await tx.emit("points_mall.redemption_returned", {
            "redemptionId": redemption.id, "memberId": redemption.member_id, "itemId": redemption.item_id,
            "units": units, "points": unit_points * units, "orderId": redemption.order_id, "status": redemption.status,
        })

    # == sign-in ===========================================================================================
    async def sign_in(self, tx: Transaction, member_id: int) -> tuple[Entry | None, int]:
        account = await self.lock_account(tx, member_id)
        today = tx.now().astimezone(self.zone).date()
        if account.last_sign_in == today:
            raise DomainError("POINTS_MALL_ALREADY_SIGNED_IN", "You already signed in today.", field="input")
        streak = account.streak + 1 if account.last_sign_in == today - timedelta(days=1) else 1
        # Conditional on the date, so two sign-ins racing on SQLite's old snapshot cannot both pay.
        moved = await tx.session.execute(
            update(Account).where(Account.member_id == member_id,
                                  (Account.last_sign_in.is_(None)) | (Account.last_sign_in != today))
            .values(last_sign_in=today, streak=streak).execution_options(synchronize_session=False)
        )
        if moved.rowcount != 1:
            raise DomainError("POINTS_MALL_ALREADY_SIGNED_IN", "You already signed in today.", field="input")
        reward = self.sign_in_rewards[min(streak, len(self.sign_in_rewards)) - 1]
        entry = None
        if reward:
            entry = await self.credit(tx, member_id, reward, reason="sign_in", reference=f"day:{today.isoformat()}",
                                      key=f"sign_in:{today.isoformat()}", note=f"day {streak} of a streak")
        return entry, streak

    # == staff ==============================================================================================
    async def adjust(self, tx: Transaction, *, member_id: int, delta: int, note: str, key: str | None) -> Entry:
        if not note or not note.strip():
            raise DomainError("POINTS_MALL_REASON_REQUIRED", "Say why the points change.", field="input.note")
        if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0 or abs(delta) > MAX_POINTS:
            raise DomainError("POINTS_MALL_INVALID_QUANTITY", "The change is a non-zero whole number.", field="input.delta")
        if delta > 0:
            return await self.credit(tx, member_id, delta, reason="staff_adjust", key=key, note=note.strip(),
                                     field="input.delta")
        return await self.debit(tx, member_id, -delta, reason="staff_adjust", key=key, note=note.strip(),
                                field="input.delta")

    async def set_tier(self, tx: Transaction, member_id: int, tier: int) -> Account:
        if isinstance(tier, bool) or not isinstance(tier, int) or not 0 <= tier <= 100:
            raise DomainError("KERNEL_INVALID_INPUT", "A tier is a whole number from 0 to 100.", field="input.tier")
        account = await self.lock_account(tx, member_id)
        account.tier = tier
        return account

    # == the mall ===========================================================================================
    def _check_item(self, *, title: str, points_price: int, cash_price_minor: int, stock: int, per_member_limit: int,
                    min_tier: int, sku_id: int | None, starts_at: datetime | None, ends_at: datetime | None) -> None:
        def bad(message: str, field: str) -> DomainError:
            return DomainError("POINTS_MALL_INVALID_ITEM", message, field=field)

        if not title or not title.strip():
            raise bad("An item needs a title.", "input.title")
        if not 0 < points_price <= MAX_POINTS:
            raise bad("The points price must be positive.", "input.pointsPrice")
        if cash_price_minor < 0:
            raise bad("The cash price cannot be negative.", "input.cashPrice")
        if cash_price_minor and sku_id is None:
            raise bad("A cash price is paid through an order, which needs a SKU.", "input.cashPrice")
        if stock < 0:
            raise bad("Stock cannot be negative.", "input.stock")
        if per_member_limit < 1:
            raise bad("The per-member limit is at least 1.", "input.perMemberLimit")
        if not 0 <= min_tier <= 100:
            raise bad("A tier is 0 to 100.", "input.minTier")
        if starts_at and ends_at and as_utc(ends_at) <= as_utc(starts_at):
            raise bad("The window ends before it starts.", "input.endsAt")

    async def create_item(self, tx: Transaction, *, title: str, points_price: int, stock: int, sku_id: int | None = None,
                          cash_price_minor: int = 0, per_member_limit: int = 1, min_tier: int = 0, description: str = "",
                          starts_at: datetime | None = None, ends_at: datetime | None = None) -> int:
        self._check_item(title=title, points_price=points_price, cash_price_minor=cash_price_minor, stock=stock,
                         per_member_limit=per_member_limit, min_tier=min_tier, sku_id=sku_id, starts_at=starts_at,
                         ends_at=ends_at)
        if sku_id is not None and (await self.kernel.service("catalog").skus(tx.session, [sku_id])).get(sku_id) is None:
            raise DomainError("KERNEL_NOT_FOUND", "No such SKU.", field="input.skuId")
        item = Item(title=title.strip(), description=description, sku_id=sku_id, points_price=points_price,
                    cash_price_minor=cash_price_minor, stock_left=stock, per_member_limit=per_member_limit,
                    min_tier=min_tier, starts_at=starts_at, ends_at=ends_at, active=True)
        tx.session.add(item)
        await tx.session.flush()
        return item.id

    async def update_item(self, tx: Transaction, item_id: int, **changes: Any) -> Item:
        """Change an item; ``None`` leaves a field as it is. Stock is set absolutely."""
        stmt = select(Item).where(Item.id == item_id)
        if tx.kernel.db.is_postgresql:
            stmt = stmt.with_for_update()
        item = await tx.session.scalar(stmt)
        if item is None:
            raise DomainError("KERNEL_NOT_FOUND", "No such item.", field="input.itemId")
        merged = {
            "title": item.title, "points_price": item.points_price, "cash_price_minor": item.cash_price_minor,
            "stock": item.stock_left, "per_member_limit": item.per_member_limit, "min_tier": item.min_tier,
            "sku_id": item.sku_id, "starts_at": item.starts_at, "ends_at": item.ends_at,
        }
        merged.update({k: v for k, v in changes.items() if v is not None and k in merged})
        self._check_item(**merged)
        item.title, item.points_price, item.cash_price_minor = merged["title"].strip(), merged["points_price"], merged["cash_price_minor"]
        item.stock_left, item.per_member_limit, item.min_tier = merged["stock"], merged["per_member_limit"], merged["min_tier"]
        item.starts_at, item.ends_at = merged["starts_at"], merged["ends_at"]
        if changes.get("description") is not None:
            item.description = changes["description"]
        if changes.get("active") is not None:
            item.active = bool(changes["active"])
        await tx.session.flush()
        return item

    async def redeemed_by(self, session: Any, item_id: int, member_id: int) -> int:
        """Units of an item the member holds (returned and cancelled units do not count)."""
        return int(await session.scalar(
            select(func.coalesce(func.sum(Redemption.quantity - Redemption.returned_quantity), 0))
            .where(Redemption.item_id == item_id, Redemption.member_id == member_id)
        ))

    async def redeem(self, tx: Transaction, *, member_id: int, item_id: int, quantity: int = 1,
                     delivery_type: str = "shipping", store_id: int | None = None,
                     slot_id: str | None = None) -> Redemption:
        """Redeem an item, all or nothing, in ``tx``.

        An item with a SKU is delivered by an order, so it is redeemed through the one checkout
        (a line naming ``pointsMallItemId``; see :mod:`components.points_mall.checkout`), where
        the rules are checked and the redemption written. A reward without a SKU (a class, a
        service) has nothing to deliver and is redeemed here, by the same rules."""
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_REDEEM:
            raise DomainError("POINTS_MALL_INVALID_QUANTITY", f"Redeem between 1 and {MAX_REDEEM} at a time.",
                              field="input.quantity")
        if delivery_type not in ("shipping", "pickup"):
            raise DomainError("KERNEL_INVALID_INPUT", "Delivery is shipping or pickup.", field="input.deliveryType")
        if delivery_type == "pickup":
            if not self.kernel.has_component("store_pickup"):
                raise DomainError("POINTS_MALL_PICKUP_UNAVAILABLE", "This brand does not offer store pickup.",
                                  field="input.deliveryType")
            if store_id is None:
                raise DomainError("POINTS_MALL_STORE_REQUIRED", "Choose the store to pick it up at.", field="input.storeId")
        elif store_id is not None or slot_id is not None:
            raise DomainError("KERNEL_INVALID_INPUT", "A store is only chosen for pickup.",
                              field="input.storeId" if store_id is not None else "input.slotId")
        item = await tx.session.get(Item, item_id, populate_existing=True)
        if item is None or not item.active:
            raise DomainError("KERNEL_NOT_FOUND", "No such item.", field="input.itemId")
        if item.sku_id is None:
            if delivery_type == "pickup":
                raise DomainError("POINTS_MALL_PICKUP_UNAVAILABLE", "This reward is not a thing to pick up.",
                                  field="input.deliveryType")
            return await self._redeem_reward(tx, member_id, item, quantity)
        request = CheckoutRequest(
            member_id=member_id, lines=[LineRequest(item.sku_id, quantity, {LINE_FIELD: str(item.id)})],
            delivery_type=delivery_type, inputs=self._pickup_input(store_id, slot_id),
        )
        try:
            order_id = await self.kernel.service("orders").place(tx, request)
        except DomainError as error:
            error.field = REDEEM_FIELDS.get(error.field, error.field)  # name this mutation's own input fields
            raise
        return await tx.session.scalar(select(Redemption).where(Redemption.order_id == order_id))

    @staticmethod
    def _pickup_input(store_id: int | None, slot_id: str | None) -> dict[str, Any]:
        """store_pickup's checkout input: it checks the store, the slot and the store's stock."""
        if store_id is None:
            return {}
        choice = {"storeId": str(store_id)}
        if slot_id is not None:
            choice["slotId"] = slot_id
        return {"pickup": choice}

    async def _redeem_reward(self, tx: Transaction, member_id: int, item: Item, quantity: int) -> Redemption:
        """A reward without a SKU: no order, only the redemption (shown to staff to claim it)."""
        await self.lock_account(tx, member_id)  # serialises the member's redemptions (limit, balance)
        await self.checkout.check(tx, member_id, item, quantity, item_field="input.itemId", quantity_field="input.quantity",
                                  balance_field="input")
        points = item.points_price * quantity
        redemption = Redemption(item_id=item.id, member_id=member_id, quantity=quantity, returned_quantity=0, points=points,
                                cash_minor=0, status="active", created_at=tx.now(), delivery_type=None, store_id=None)
        tx.session.add(redemption)
        await tx.session.flush()
        await self.debit(tx, member_id, points, reason="redeem", reference=f"redemption:{redemption.id}",
                         key=f"redeem:{redemption.id}", field="input", note=f"{quantity} × {item.title}")
        await self.take_stock(tx, item.id, quantity, field="input.itemId")
        await self.announce(tx, redemption)
        return redemption

    async def take_stock(self, tx: Transaction, item_id: int, quantity: int, *, field: str) -> None:
        """The item's own stock, by a conditional update: racing redemptions never oversell."""
        taken = await tx.session.execute(
            update(Item).where(Item.id == item_id, Item.stock_left >= quantity).values(stock_left=Item.stock_left - quantity)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:
            raise DomainError("POINTS_MALL_SOLD_OUT", "This item is sold out.", field=field)

    async def announce(self, tx: Transaction, redemption: Redemption) -> None:
        await tx.emit("points_mall.redeemed", {
            "redemptionId": redemption.id, "memberId": redemption.member_id, "itemId": redemption.item_id,
            "quantity": redemption.quantity, "points": redemption.points, "cashMinor": redemption.cash_minor,
            "orderId": redemption.order_id, "deliveryType": redemption.delivery_type, "storeId": redemption.store_id,
        })


# What the checkout calls the fields of the one line redeemPointsItem sends, and what that
# mutation calls them.
REDEEM_FIELDS = {
    f"input.lines[0].{LINE_FIELD}": "input.itemId", "input.lines[0].skuId": "input.itemId",
    "input.lines[0].quantity": "input.quantity", "input.lines[0]": "input", "input.pickup": "input.storeId",
    "input.pickup.storeId": "input.storeId", "input.pickup.slotId": "input.slotId",
}
