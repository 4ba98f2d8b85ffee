"""The points ledger and the mall.

Invariant, checked by the tests at every step: a member's balance equals the sum of their
ledger entries and (unless a refund policy let it go negative) the sum of the remaining points
of their unexpired lots. Every change goes through :meth:`PointsService._credit` or
:meth:`PointsService._debit`, which write the entry, the balance and the lots together; the
balance only moves through a conditional UPDATE on the account row, which also serialises a
member's concurrent spends on PostgreSQL.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from components.points_mall.models import Account, Entry, Item, Lot, Redemption
from core.clock import as_utc
from core.errors import DomainError
from core.transaction import Event, Transaction

MAX_POINTS = 10**12


class PointsService:
    def __init__(self, kernel: Any, settings: Mapping[str, Any]) -> None:
        self.kernel = kernel
        self.earn_per_yuan = int(settings.get("earn_per_yuan", 1))
        self.grant_on = settings.get("grant_on", "paid")
        self.activity_orders_earn = bool(settings.get("activity_orders_earn", True))
        expiry = settings.get("expiry") or {}
        self.expiry_rule = expiry.get("rule", "end_of_next_year")
        self.expiry_days = int(expiry.get("days", 365))
        self.sign_in_rewards = list(settings.get("sign_in_rewards") or [5])
        self.refund_shortfall = settings.get("refund_shortfall", "deduct_available")
        self.zone = ZoneInfo(kernel.blueprint.brand.timezone)

    # -- the ledger --------------------------------------------------------------------------------
    def expires_at(self, earned_at: datetime) -> datetime | None:
        if self.expiry_rule == "never":
            return None
        if self.expiry_rule == "days":
            return earned_at + timedelta(days=self.expiry_days)
        # End of the following calendar year in the brand's time zone: points earned any time in
        # 2026 (Shanghai time) last until 2027-12-31 23:59:59.999 Shanghai time.
        local_year = earned_at.astimezone(self.zone).year
        return datetime.combine(date(local_year + 2, 1, 1), time(0), tzinfo=self.zone).astimezone(timezone.utc)

    async def _account(self, tx: Transaction, member_id: int) -> Account:
        account = await tx.session.get(Account, member_id)
        if account is None:
            if await self.kernel.service("members").member(tx.session, member_id) is None:
                raise DomainError("KERNEL_NOT_FOUND", "No such member.", field="input.memberId")
            try:
                async with tx.session.begin_nested():
                    tx.session.add(Account(member_id=member_id, balance=0, tier=0, streak=0))
            except IntegrityError:
                pass  # a concurrent first change created it
            account = await tx.session.get(Account, member_id)
        return account

    async def _replayed(self, tx: Transaction, member_id: int, key: str | None) -> Entry | None:
        if key is None:
            return None
        return await tx.session.scalar(select(Entry).where(Entry.member_id == member_id, Entry.idempotency_key == key))

    async def _entry(self, tx: Transaction, member_id: int, delta: int, reason: str, reference: str | None,
                     key: str | None, note: str | None = None) -> Entry:
        balance = await tx.session.scalar(select(Account.balance).where(Account.member_id == member_id))
        entry = Entry(member_id=member_id, delta=delta, reason=reason, reference=reference, balance_after=balance,
                      note=note, idempotency_key=key, created_at=tx.now())
        tx.session.add(entry)
        await tx.session.flush()
        tx.publish(f"points_mall:member:{member_id}", {"balance": balance})
        return entry

    async def credit(self, tx: Transaction, member_id: int, points: int, *, reason: str, reference: str | None = None,
                     key: str | None = None, expires: bool = True, note: str | None = None) -> Entry:
        """Add points as a new lot. A replay of ``key`` returns the first entry, adding nothing."""
        if points <= 0 or points > MAX_POINTS:
            raise DomainError("KERNEL_INVALID_INPUT", "Points to add must be positive.", field="input.points")
        replayed = await self._replayed(tx, member_id, key)
        if replayed is not None:
            return replayed
        await self._account(tx, member_id)
        await tx.session.execute(update(Account).where(Account.member_id == member_id).values(balance=Account.balance + points))
        now = tx.now()
        tx.session.add(Lot(member_id=member_id, earned=points, remaining=points,
                           expires_at=self.expires_at(now) if expires else None, created_at=now))
        return await self._entry(tx, member_id, points, reason, reference, key, note)

    async def debit(self, tx: Transaction, member_id: int, points: int, *, reason: str, reference: str | None = None,
                    key: str | None = None, shortfall: str = "refuse", note: str | None = None) -> Entry:
        """Take points, oldest lots first. ``shortfall``: ``refuse`` (POINTS_MALL_NOT_ENOUGH_POINTS),
        ``allow_negative`` or ``deduct_available`` (take what is there, record the rest in the note)."""
        if points <= 0 or points > MAX_POINTS:
            raise DomainError("KERNEL_INVALID_INPUT", "Points to take must be positive.", field="input.points")
        replayed = await self._replayed(tx, member_id, key)
        if replayed is not None:
            return replayed
        await self._account(tx, member_id)
        await self._lock(tx, member_id)
        await self.expire_member(tx, member_id)
        taken = await tx.session.execute(
            update(Account).where(Account.member_id == member_id, Account.balance >= points)
            .values(balance=Account.balance - points).execution_options(synchronize_session=False)
        )
        amount = points
        if taken.rowcount != 1:
            balance = int(await tx.session.scalar(select(Account.balance).where(Account.member_id == member_id)) or 0)
            if shortfall == "allow_negative":
                await tx.session.execute(update(Account).where(Account.member_id == member_id).values(balance=Account.balance - points))
            elif shortfall == "deduct_available":
                amount = max(balance, 0)
                missing = points - amount
                note = f"{note + '; ' if note else ''}shortfall: {missing} points had already been spent"
                if amount:
                    await tx.session.execute(update(Account).where(Account.member_id == member_id).values(balance=Account.balance - amount))
                await tx.emit("points_mall.shortfall", {"memberId": member_id, "reference": reference, "missing": missing})
            else:
                raise DomainError("POINTS_MALL_NOT_ENOUGH_POINTS", f"You have {balance} points; this needs {points}.",
                                  field="input", balance=balance, needed=points)
        await self._consume_lots(tx, member_id, amount)
        return await self._entry(tx, member_id, -amount, reason, reference, key, note)

    async def _consume_lots(self, tx: Transaction, member_id: int, points: int) -> None:
        left = points
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
        # Points that no lot covers are a negative balance (allowed by the refund policy).

    async def _lock(self, tx: Transaction, member_id: int) -> None:
        """Serialise a member's spends and expiries (SQLite's single writer already does)."""
        if tx.kernel.db.is_postgresql:
            await tx.session.execute(select(Account.member_id).where(Account.member_id == member_id).with_for_update())

    async def expire_member(self, tx: Transaction, member_id: int) -> int:
        """Write `expire` entries for lots past their expiry; returns the points expired."""
        await self._lock(tx, member_id)
        now = tx.now()
        lots = (await tx.session.scalars(
            select(Lot).where(Lot.member_id == member_id, Lot.remaining > 0, Lot.expires_at <= now).order_by(Lot.expires_at, Lot.id)
        )).all()
        total = 0
        for lot in lots:
            amount = lot.remaining
            lot.remaining = 0
            total += amount
            await tx.session.execute(update(Account).where(Account.member_id == member_id).values(balance=Account.balance - amount))
            await self._entry(tx, member_id, -amount, "expire", f"lot:{lot.id}", f"expire:lot:{lot.id}",
                              note=f"earned {as_utc(lot.created_at).date().isoformat()}")
        return total

    async def expire_due(self, tx: Transaction, _timer: Any = None) -> None:
        members = (await tx.session.scalars(
            select(Lot.member_id).where(Lot.remaining > 0, Lot.expires_at <= tx.now()).distinct().limit(500)
        )).all()
        for member_id in members:
            await self.expire_member(tx, member_id)

    # -- earning and reversing ---------------------------------------------------------------------------
    def _earns(self, payload: Mapping[str, Any]) -> bool:
        if payload["kind"] == "points":
            return False
        if payload["kind"] in ("group_buy", "auction") and not self.activity_orders_earn:
            return False
        return True

    def _points_for(self, amount_minor: int) -> int:
        from core.units import CURRENCY_EXPONENT

        unit = 10 ** CURRENCY_EXPONENT.get(self.kernel.blueprint.brand.currency, 2)
        return (amount_minor // unit) * self.earn_per_yuan

    async def on_order_event(self, kernel: Any, event: Event) -> None:
        """Grant points for a paid (or completed) order, once."""
        wanted = "order.paid" if self.grant_on == "paid" else "order.completed"
        if event.name != wanted or not self._earns(event.payload):
            return
        points = self._points_for(event.payload["totalMinor"])
        if points <= 0:
            return
        async with kernel.transaction() as tx:
            await self.credit(tx, event.payload["memberId"], points, reason="order_earn",
                              reference=f"order:{event.payload['orderId']}", key=f"earn:order:{event.payload['orderId']}")

    async def on_order_refunded(self, kernel: Any, event: Event) -> None:
        payload = event.payload
        async with kernel.transaction() as tx:
            if payload["kind"] == "points":
                await self._return_redemption(tx, payload["orderId"], key=f"return:event:{event.id}")
                return
            earned = await tx.session.scalar(select(Entry).where(
                Entry.member_id == payload["memberId"], Entry.idempotency_key == f"earn:order:{payload['orderId']}"))
            if earned is None or not payload.get("totalMinor"):
                return
            points = earned.delta * payload["amountMinor"] // payload["totalMinor"]
            if points > 0:
                await self.debit(tx, payload["memberId"], points, reason="order_earn_reversed", reference=f"order:{payload['orderId']}",
                                 key=f"reverse:event:{event.id}", shortfall=self.refund_shortfall)

    async def on_order_cancelled(self, tx: Transaction, event: Event) -> None:
        """A points + cash order not paid in time gives everything back (in its own transaction)."""
        if event.payload["kind"] == "points":
            await self._return_redemption(tx, event.payload["orderId"], key=f"return:order:{event.payload['orderId']}")

    async def _return_redemption(self, tx: Transaction, order_id: int, *, key: str) -> None:
        redemption = await tx.session.scalar(select(Redemption).where(Redemption.order_id == order_id))
        if redemption is None or redemption.status != "active":
            return
        redemption.status = "returned"
        await tx.session.execute(update(Item).where(Item.id == redemption.item_id).values(stock_left=Item.stock_left + redemption.quantity))
        await self.credit(tx, redemption.member_id, redemption.points, reason="redeem_returned",
                          reference=f"redemption:{redemption.id}", key=key)

    # -- sign-in ---------------------------------------------------------------------------------------------
    async def sign_in(self, tx: Transaction, member_id: int) -> tuple[Entry, int]:
        account = await self._account(tx, member_id)
        today = tx.now().astimezone(self.zone).date()
        if account.last_sign_in == today:
            raise DomainError("POINTS_MALL_ALREADY_SIGNED_IN", "You already signed in today.", field="input")
        streak = account.streak + 1 if account.last_sign_in == today - timedelta(days=1) else 1
        moved = await tx.session.execute(
            update(Account).where(Account.member_id == member_id, (Account.last_sign_in.is_(None)) | (Account.last_sign_in != today))
            .values(last_sign_in=today, streak=streak).execution_options(synchronize_session=False)
        )
        if moved.rowcount != 1:
            raise DomainError("POINTS_MALL_ALREADY_SIGNED_IN", "You already signed in today.", field="input")
        reward = self.sign_in_rewards[min(streak, len(self.sign_in_rewards)) - 1]
        entry = await self.credit(tx, member_id, reward, reason="sign_in", reference=f"day:{today.isoformat()}",
                                  key=f"sign_in:{today.isoformat()}") if reward else None
        return entry, streak

    # -- the mall -----------------------------------------------------------------------------------------------
    async def create_item(self, tx: Transaction, *, title: str, points_price: int, stock: int, sku_id: int | None = None,
                          cash_price_minor: int = 0, per_member_limit: int = 1, min_tier: int = 0,
                          starts_at: datetime | None = None, ends_at: datetime | None = None) -> int:
        if not title.strip():
            raise DomainError("POINTS_MALL_INVALID_ITEM", "An item needs a title.", field="input.title")
        if points_price <= 0 or cash_price_minor < 0 or stock < 0 or per_member_limit < 1:
            raise DomainError("POINTS_MALL_INVALID_ITEM", "Prices, stock and limits must be positive.", field="input")
        if sku_id is not None and (await self.kernel.service("catalog").skus(tx.session, [sku_id])).get(sku_id) is None:
            raise DomainError("KERNEL_NOT_FOUND", "No such SKU.", field="input.skuId")
        item = Item(title=title.strip(), sku_id=sku_id, points_price=points_price, cash_price_minor=cash_price_minor, stock_left=stock,
                    per_member_limit=per_member_limit, min_tier=min_tier, starts_at=starts_at, ends_at=ends_at, active=True)
        tx.session.add(item)
        await tx.session.flush()
        return item.id

    async def redeem(self, tx: Transaction, *, member_id: int, item_id: int, quantity: int = 1,
                     delivery_type: str = "shipping", store_id: int | None = None) -> Redemption:
        if quantity < 1 or quantity > 100:
            raise DomainError("KERNEL_INVALID_INPUT", "Redeem between 1 and 100 at a time.", field="input.quantity")
        item = await tx.session.get(Item, item_id)
        if item is None or not item.active:
            raise DomainError("KERNEL_NOT_FOUND", "No such item.", field="input.itemId")
        now = tx.now()
        if (item.starts_at and now < as_utc(item.starts_at)) or (item.ends_at and now >= as_utc(item.ends_at)):
            raise DomainError("POINTS_MALL_OUTSIDE_WINDOW", "This item cannot be redeemed now.", field="input.itemId")
        account = await self._account(tx, member_id)
        if account.tier < item.min_tier:
            raise DomainError("POINTS_MALL_TIER_NOT_ALLOWED", f"This item is for tier {item.min_tier} and above.", field="input.itemId")
        already = await tx.session.scalar(select(func.coalesce(func.sum(Redemption.quantity), 0)).where(
            Redemption.item_id == item.id, Redemption.member_id == member_id, Redemption.status == "active"))
        if int(already) + quantity > item.per_member_limit:
            raise DomainError("POINTS_MALL_LIMIT_REACHED", f"At most {item.per_member_limit} per member.", field="input.quantity")
        taken = await tx.session.execute(
            update(Item).where(Item.id == item.id, Item.stock_left >= quantity).values(stock_left=Item.stock_left - quantity)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:
            raise DomainError("POINTS_MALL_SOLD_OUT", "This item is sold out.", field="input.itemId")
        points = item.points_price * quantity
        redemption = Redemption(item_id=item.id, member_id=member_id, quantity=quantity, points=points, status="active", created_at=now)
        tx.session.add(redemption)
        await tx.session.flush()
        await self.debit(tx, member_id, points, reason="redeem", reference=f"redemption:{redemption.id}")
        if item.sku_id is not None:
            redemption.order_id = await self.kernel.service("orders").create_order(
                tx, member_id=member_id, lines=[(item.sku_id, quantity)], kind="points", delivery_type=delivery_type,
                store_id=store_id, attributes={"pointsMallRedemptionId": redemption.id, "pointsCashMinor": item.cash_price_minor * quantity,
                                               "points": points},
            )
        await tx.emit("points_mall.redeemed", {"redemptionId": redemption.id, "memberId": member_id, "itemId": item.id,
                                               "points": points, "orderId": redemption.order_id})
        return redemption

    def price(self, tx: Transaction, draft: Any) -> None:
        """Points orders cost only their cash part: the rest is paid in points (stage "points")."""
        if draft.kind != "points":
            return
        cash = int(draft.attributes.get("pointsCashMinor", 0))
        due = draft.total_minor
        if due != cash:
            draft.lines[0].adjust(cash - due, f"积分抵扣 {draft.attributes.get('points', 0)} points")

    async def adjust(self, tx: Transaction, *, member_id: int, delta: int, note: str, key: str | None) -> Entry:
        if not note.strip():
            raise DomainError("POINTS_MALL_REASON_REQUIRED", "Say why the points change.", field="input.note")
        if delta > 0:
            return await self.credit(tx, member_id, delta, reason="staff_adjust", key=key, note=note)
        if delta < 0:
            return await self.debit(tx, member_id, -delta, reason="staff_adjust", key=key, note=note)
        raise DomainError("KERNEL_INVALID_INPUT", "The change cannot be zero.", field="input.delta")
