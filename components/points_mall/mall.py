"""The mall: items, redemptions (through the one checkout or, for rewards, alone), their
returns, and the staff's adjustments and tiers.

Mixed into :class:`~components.points_mall.service.PointsService`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from components.points_mall.checkout import LINE_FIELD, MAX_REDEEM
from components.points_mall.ledger import MAX_POINTS
from components.points_mall.models import Account, Entry, Item, Redemption
from components.points_mall.rules import image_url_problem
from core.checkout import CheckoutRequest, LineRequest
from core.clock import as_utc
from core.errors import DomainError
from core.transaction import Transaction


class Mall:
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
            units = sum(
                line["refundedQuantity"] for line in (order or {}).get("lines", ()) if (line.get("activity") or {}).get("component") == "points_mall"
            )
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
        await tx.session.execute(
            update(Item).where(Item.id == redemption.item_id).values(stock_left=Item.stock_left + units).execution_options(synchronize_session=False)
        )
        spent = await self.entry_by_key(tx.session, redemption.member_id, f"redeem:{redemption.id}")
        await self.give_back(
            tx,
            spent,
            unit_points * units,
            already=already,
            reason="redeem_returned",
            reference=f"redemption:{redemption.id}",
            key=f"return:{redemption.id}:{redemption.returned_quantity}",
        )
        await tx.emit(
            "points_mall.redemption_returned",
            {
                "redemptionId": redemption.id,
                "memberId": redemption.member_id,
                "itemId": redemption.item_id,
                "units": units,
                "points": unit_points * units,
                "orderId": redemption.order_id,
                "status": redemption.status,
            },
        )

    async def adjust(self, tx: Transaction, *, member_id: int, delta: int, note: str, key: str | None) -> Entry:
        if not note or not note.strip():
            raise DomainError("POINTS_MALL_REASON_REQUIRED", "Say why the points change.", field="input.note")
        if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0 or abs(delta) > MAX_POINTS:
            raise DomainError("POINTS_MALL_INVALID_QUANTITY", "The change is a non-zero whole number.", field="input.delta")
        if delta > 0:
            return await self.credit(tx, member_id, delta, reason="staff_adjust", key=key, note=note.strip(), field="input.delta")
        return await self.debit(tx, member_id, -delta, reason="staff_adjust", key=key, note=note.strip(), field="input.delta")

    async def set_tier(self, tx: Transaction, member_id: int, tier: int) -> Account:
        if isinstance(tier, bool) or not isinstance(tier, int) or not 0 <= tier <= 100:
            raise DomainError("KERNEL_INVALID_INPUT", "A tier is a whole number from 0 to 100.", field="input.tier")
        account = await self.lock_account(tx, member_id)
        account.tier = tier
        return account

    # == the mall ===========================================================================================
    def _check_item(
        self,
        *,
        title: str,
        points_price: int,
        cash_price_minor: int,
        stock: int,
        per_member_limit: int,
        min_tier: int,
        sku_id: int | None,
        starts_at: datetime | None,
        ends_at: datetime | None,
        image_url: str | None = None,
    ) -> None:
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
        if (problem := image_url_problem(image_url)) is not None:
            raise bad(problem, "input.image")

    async def create_item(
        self,
        tx: Transaction,
        *,
        title: str,
        points_price: int,
        stock: int,
        sku_id: int | None = None,
        cash_price_minor: int = 0,
        per_member_limit: int = 1,
        min_tier: int = 0,
        description: str = "",
        starts_at: datetime | None = None,
        ends_at: datetime | None = None,
        image_url: str | None = None,
    ) -> int:
        self._check_item(
            title=title,
            points_price=points_price,
            cash_price_minor=cash_price_minor,
            stock=stock,
            per_member_limit=per_member_limit,
            min_tier=min_tier,
            sku_id=sku_id,
            starts_at=starts_at,
            ends_at=ends_at,
            image_url=image_url,
        )
        if sku_id is not None and (await self.kernel.service("catalog").skus(tx.session, [sku_id])).get(sku_id) is None:
            raise DomainError("KERNEL_NOT_FOUND", "No such SKU.", field="input.skuId")
        item = Item(
            title=title.strip(),
            description=description,
            sku_id=sku_id,
            points_price=points_price,
            cash_price_minor=cash_price_minor,
            stock_left=stock,
            per_member_limit=per_member_limit,
            min_tier=min_tier,
            starts_at=starts_at,
            ends_at=ends_at,
            active=True,
            image_url=image_url or None,
        )
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
            "title": item.title,
            "points_price": item.points_price,
            "cash_price_minor": item.cash_price_minor,
            "stock": item.stock_left,
            "per_member_limit": item.per_member_limit,
            "min_tier": item.min_tier,
            "sku_id": item.sku_id,
            "starts_at": item.starts_at,
            "ends_at": item.ends_at,
            "image_url": item.image_url,
        }
        merged.update({k: v for k, v in changes.items() if v is not None and k in merged})
        self._check_item(**merged)
        item.title, item.points_price, item.cash_price_minor = merged["title"].strip(), merged["points_price"], merged["cash_price_minor"]
        item.stock_left, item.per_member_limit, item.min_tier = merged["stock"], merged["per_member_limit"], merged["min_tier"]
        item.starts_at, item.ends_at = merged["starts_at"], merged["ends_at"]
        item.image_url = merged["image_url"] or None  # "" takes the own picture away
        if changes.get("description") is not None:
            item.description = changes["description"]
        if changes.get("active") is not None:
            item.active = bool(changes["active"])
        await tx.session.flush()
        return item

    async def redeemed_by(self, session: Any, item_id: int, member_id: int) -> int:
        """Units of an item the member holds (returned and cancelled units do not count)."""
        return int(
            await session.scalar(
                select(func.coalesce(func.sum(Redemption.quantity - Redemption.returned_quantity), 0)).where(
                    Redemption.item_id == item_id, Redemption.member_id == member_id
                )
            )
        )

    async def redeem(
        self,
        tx: Transaction,
        *,
        member_id: int,
        item_id: int,
        quantity: int = 1,
        delivery_type: str = "shipping",
        store_id: int | None = None,
        slot_id: str | None = None,
    ) -> Redemption:
        """Redeem an item, all or nothing, in ``tx``.

        An item with a SKU is delivered by an order, so it is redeemed through the one checkout
        (a line naming ``pointsMallItemId``; see :mod:`components.points_mall.checkout`), where
        the rules are checked and the redemption written. A reward without a SKU (a class, a
        service) has nothing to deliver and is redeemed here, by the same rules."""
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_REDEEM:
            raise DomainError("POINTS_MALL_INVALID_QUANTITY", f"Redeem between 1 and {MAX_REDEEM} at a time.", field="input.quantity")
        if delivery_type not in ("shipping", "pickup"):
            raise DomainError("KERNEL_INVALID_INPUT", "Delivery is shipping or pickup.", field="input.deliveryType")
        if delivery_type == "pickup":
            if not self.kernel.has_component("store_pickup"):
                raise DomainError("POINTS_MALL_PICKUP_UNAVAILABLE", "This brand does not offer store pickup.", field="input.deliveryType")
            if store_id is None:
                raise DomainError("POINTS_MALL_STORE_REQUIRED", "Choose the store to pick it up at.", field="input.storeId")
        elif store_id is not None or slot_id is not None:
            raise DomainError(
                "KERNEL_INVALID_INPUT", "A store is only chosen for pickup.", field="input.storeId" if store_id is not None else "input.slotId"
            )
        item = await tx.session.get(Item, item_id, populate_existing=True)
        if item is None or not item.active:
            raise DomainError("KERNEL_NOT_FOUND", "No such item.", field="input.itemId")
        if item.sku_id is None:
            if delivery_type == "pickup":
                raise DomainError("POINTS_MALL_PICKUP_UNAVAILABLE", "This reward is not a thing to pick up.", field="input.deliveryType")
            return await self._redeem_reward(tx, member_id, item, quantity)
        request = CheckoutRequest(
            member_id=member_id,
            lines=[LineRequest(item.sku_id, quantity, {LINE_FIELD: str(item.id)})],
            delivery_type=delivery_type,
            inputs=self._pickup_input(store_id, slot_id),
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
        await self.checkout.check(tx, member_id, item, quantity, item_field="input.itemId", quantity_field="input.quantity", balance_field="input")
        points = item.points_price * quantity
        redemption = Redemption(
            item_id=item.id,
            member_id=member_id,
            quantity=quantity,
            returned_quantity=0,
            points=points,
            cash_minor=0,
            status="active",
            created_at=tx.now(),
            delivery_type=None,
            store_id=None,
        )
        tx.session.add(redemption)
        await tx.session.flush()
        await self.debit(
            tx,
            member_id,
            points,
            reason="redeem",
            reference=f"redemption:{redemption.id}",
            key=f"redeem:{redemption.id}",
            field="input",
            note=f"{quantity} × {item.title}",
        )
        await self.take_stock(tx, item.id, quantity, field="input.itemId")
        await self.announce(tx, redemption)
        return redemption

    async def take_stock(self, tx: Transaction, item_id: int, quantity: int, *, field: str) -> None:
        """The item's own stock, by a conditional update: racing redemptions never oversell."""
        taken = await tx.session.execute(
            update(Item)
            .where(Item.id == item_id, Item.stock_left >= quantity)
            .values(stock_left=Item.stock_left - quantity)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:
            raise DomainError("POINTS_MALL_SOLD_OUT", "This item is sold out.", field=field)

    async def announce(self, tx: Transaction, redemption: Redemption) -> None:
        await tx.emit(
            "points_mall.redeemed",
            {
                "redemptionId": redemption.id,
                "memberId": redemption.member_id,
                "itemId": redemption.item_id,
                "quantity": redemption.quantity,
                "points": redemption.points,
                "cashMinor": redemption.cash_minor,
                "orderId": redemption.order_id,
                "deliveryType": redemption.delivery_type,
                "storeId": redemption.store_id,
            },
        )


# What the checkout calls the fields of the one line redeemPointsItem sends, and what that
# mutation calls them.
REDEEM_FIELDS = {
    f"input.lines[0].{LINE_FIELD}": "input.itemId",
    "input.lines[0].skuId": "input.itemId",
    "input.lines[0].quantity": "input.quantity",
    "input.lines[0]": "input",
    "input.pickup": "input.storeId",
    "input.pickup.storeId": "input.storeId",
    "input.pickup.slotId": "input.slotId",
}
