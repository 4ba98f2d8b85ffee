"""Flash-sale rules: sessions and their items, and what happens to a purchase when its order
moves on. The checkout side (claiming the line, the flash price, the guarded decrements) is
checkout.py; the countdown is plain arithmetic in ``countdown``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Mapping

from sqlalchemy import select, update

from components.flash_sale.gate import gate_for
from components.flash_sale.models import Bought, FlashSession, Item, Purchase
from core.clock import as_utc
from core.errors import DomainError
from core.transaction import Event, Transaction
from core.units import parse_duration

MAX_ITEMS = 50
MAX_QUANTITY = 1_000_000


def phase(starts_at: datetime, ends_at: datetime, now: datetime) -> str:
    """upcoming, running or ended: a session sells in [starts_at, ends_at)."""
    if now < starts_at:
        return "upcoming"
    return "running" if now < ends_at else "ended"


def countdown(starts_at: datetime, ends_at: datetime, now: datetime) -> tuple[int, int]:
    """(seconds until it starts, seconds until it ends), each at least 0, rounded up so a
    page never shows 0 while the session has not started yet."""

    def up(delta: timedelta) -> int:
        seconds = delta.total_seconds()
        return max(0, int(-(-seconds // 1)))

    return up(starts_at - now), up(ends_at - now)


class FlashSaleService:
    def __init__(self, kernel: Any, settings: Mapping[str, Any]) -> None:
        self.kernel = kernel
        self.settings = settings
        self.payment_window = parse_duration(settings.get("payment_window", "5m"))
        self._gate: Any = False  # not asked yet: the kernel knows its Redis only after components are collected
        self.reconcile_every = parse_duration((settings.get("redis_gate") or {}).get("reconcile_every", "5s"))
        from components.flash_sale.checkout import FlashCheckout
        from components.flash_sale.early import BuyerQueues, SoldOutMemo

        self.checkout = FlashCheckout(self)
        self.sold_out_memo = SoldOutMemo(kernel)
        self.buyer_queues = BuyerQueues()  # one buyer of an item at a time past the early layer (early.py)

    async def create_session(self, tx: Transaction, *, title: str, starts_at: datetime, ends_at: datetime, items: list[Mapping[str, Any]]) -> int:
        title = (title or "").strip()
        if not 1 <= len(title) <= 100:
            raise DomainError("FLASH_SALE_INVALID_SESSION", "A title has 1 to 100 characters.", field="input.title")
        if starts_at.tzinfo is None or ends_at.tzinfo is None:
            raise DomainError("FLASH_SALE_INVALID_SESSION", "Times need a time zone offset.", field="input.startsAt")
        if ends_at <= starts_at or ends_at <= tx.now():
            raise DomainError("FLASH_SALE_INVALID_SESSION", "A session ends after it starts, in the future.", field="input.endsAt")
        if ends_at - starts_at > timedelta(days=7):
            raise DomainError("FLASH_SALE_INVALID_SESSION", "A session lasts at most 7 days.", field="input.endsAt")
        if not 1 <= len(items) <= MAX_ITEMS:
            raise DomainError("FLASH_SALE_INVALID_SESSION", f"A session sells 1 to {MAX_ITEMS} SKUs.", field="input.items")
        skus = await self.kernel.service("catalog").skus(tx.session, [item["sku_id"] for item in items])
        seen: set[int] = set()
        for index, item in enumerate(items):
            where = f"input.items[{index}]"
            sku = skus.get(item["sku_id"])
            if sku is None:
                raise DomainError("KERNEL_NOT_FOUND", "No such SKU.", field=f"{where}.skuId")
            if item["sku_id"] in seen:
                raise DomainError("FLASH_SALE_INVALID_SESSION", "A SKU appears once per session.", field=f"{where}.skuId")
            seen.add(item["sku_id"])
            if not 0 <= item["flash_price_minor"] < sku.price_minor:
                raise DomainError("FLASH_SALE_INVALID_SESSION", "A flash price is below the SKU's price.", field=f"{where}.flashPrice")
            if not 1 <= item["quantity"] <= MAX_QUANTITY:
                raise DomainError("FLASH_SALE_INVALID_SESSION", f"A quantity is 1 to {MAX_QUANTITY}.", field=f"{where}.quantity")
            if not 1 <= item["per_member_limit"] <= 100:
                raise DomainError("FLASH_SALE_INVALID_SESSION", "A per-member limit is 1 to 100.", field=f"{where}.perMemberLimit")
        session = FlashSession(title=title, starts_at=starts_at, ends_at=ends_at, active=True, created_at=tx.now())
        tx.session.add(session)
        await tx.session.flush()
        for item in items:
            tx.session.add(
                Item(
                    session_id=session.id,
                    sku_id=item["sku_id"],
                    flash_price_minor=item["flash_price_minor"],
                    quantity=item["quantity"],
                    sold=0,
                    per_member_limit=item["per_member_limit"],
                )
            )
        await tx.session.flush()
        return session.id

    async def item(self, tx: Transaction, item_id: int, field: str) -> tuple[Item, FlashSession]:
        item = await tx.session.get(Item, item_id, populate_existing=True)
        session = await tx.session.get(FlashSession, item.session_id) if item is not None else None
        if item is None or session is None or not session.active:
            raise DomainError("KERNEL_NOT_FOUND", "No such flash-sale item.", field=field)
        return item, session

    async def item_ids(self, tx: Transaction, session_id: int) -> list[int]:
        """The session's items, in the order they were given."""
        return list((await tx.session.scalars(select(Item.id).where(Item.session_id == session_id).order_by(Item.id))).all())

    async def bought(self, session: Any, item_id: int, member_id: int) -> int:
        return int(await session.scalar(select(Bought.units).where(Bought.item_id == item_id, Bought.member_id == member_id)) or 0)

    @property
    def gate_enabled(self) -> bool:
        return bool((self.settings.get("redis_gate") or {}).get("enabled"))

    @property
    def gate(self) -> Any:
        """The Redis gate, or None (not enabled, or no Redis configured): the database decides alone."""
        if self._gate is False:
            self._gate = gate_for(self.kernel, self.settings)
        return self._gate

    # -- the Redis gate ----------------------------------------------------------------------------------
    async def units_left(self, session: Any) -> dict[int, int]:
        """Item id → quantity - sold, for the items of sessions running now (only those are gated:
        before a session starts every buyer must reach the database to be told it has not)."""
        now = self.kernel.clock.now()
        rows = await session.execute(
            select(Item.id, Item.quantity - Item.sold)
            .join(FlashSession, FlashSession.id == Item.session_id)
            .where(FlashSession.active.is_(True), FlashSession.starts_at <= now, FlashSession.ends_at > now)
        )
        return {item_id: int(left) for item_id, left in rows.all()}

    async def reconcile_gate(self, tx: Transaction | None = None, timer: Any = None) -> bool:
        """Set the gate to the database's truth (the recurring job, and every worker's start)."""
        if self.gate is None:
            return False
        if tx is not None:
            return await self.gate.set_left(await self.units_left(tx.session))
        async with self.kernel.db.read() as session:
            return await self.gate.set_left(await self.units_left(session))

    # -- the order moves on ---------------------------------------------------------------------------
    async def on_order_cancelled(self, tx: Transaction, event: Event) -> None:
        """In the cancelling transaction (a timeout at the window's end, the member, staff): the
        units go back to the session and to the member's limit, once — the purchase's status
        moves from held exactly once."""
        if event.payload.get("kind") != "flash_sale":
            return
        purchase = await tx.session.scalar(select(Purchase).where(Purchase.order_id == event.payload["orderId"]))
        if purchase is None:
            return
        moved = await tx.session.execute(
            update(Purchase)
            .where(Purchase.id == purchase.id, Purchase.status == "held")
            .values(status="returned")
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount != 1:
            return
        await tx.session.execute(
            update(Item).where(Item.id == purchase.item_id).values(sold=Item.sold - purchase.quantity).execution_options(synchronize_session=False)
        )
        await tx.session.execute(
            update(Bought)
            .where(Bought.item_id == purchase.item_id, Bought.member_id == purchase.member_id)
            .values(units=Bought.units - purchase.quantity)
            .execution_options(synchronize_session=False)
        )
        tx.publish(f"flash_sale:item:{purchase.item_id}", {"itemId": purchase.item_id})

    async def on_order_paid(self, tx: Transaction, event: Event) -> None:
        if event.payload.get("kind") != "flash_sale":
            return
        await tx.session.execute(
            update(Purchase)
            .where(Purchase.order_id == event.payload["orderId"], Purchase.status == "held")
            .values(status="paid")
            .execution_options(synchronize_session=False)
        )


def utc(value: datetime) -> datetime:
    return as_utc(value)
