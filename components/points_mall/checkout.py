"""The points mall in the one checkout: a line naming ``pointsMallItemId`` is a redemption.

``prepare`` checks the item (on sale, window, tier, per-member limit, stock, the balance)
without writing; the "points" price stage makes each such line cost only the item's cash
part; ``placed`` takes the points and the item's stock and writes the redemption keyed by
the order, inside the placing transaction and before a zero-total order is paid, so an
``order.paid`` handler already finds the redemption.

A redemption line needs an order of its own: refunds and cancellations return units by
order, and the points part of the price must not be shared with other lines.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from components.points_mall.models import Account, Item, Lot, Redemption
from core.checkout import Draft, DraftLine
from core.clock import as_utc
from core.errors import DomainError
from core.gql.relay import from_global_id
from core.transaction import Transaction

if TYPE_CHECKING:
    from components.points_mall.service import PointsService

MAX_REDEEM = 100

COMPONENT = "points_mall"
LINE_FIELD = "pointsMallItemId"
LINE_DESCRIPTION = "Points mall: this line redeems the item (its PointsMallItem id); the line's SKU must be the item's."


def item_id_of(value: Any, field: str) -> int:
    """An item as a client names it: the ``PointsMallItem`` global id, or its number."""
    text = str(value)
    if text.isascii() and text.isdigit() and len(text) <= 18:
        return int(text)
    try:
        type_name, pk = from_global_id(text)
    except Exception:  # noqa: BLE001 — any undecodable text is the same bad id
        type_name, pk = "", ""
    if type_name != "PointsMallItem" or not pk.isdigit() or len(pk) > 18:
        raise DomainError("KERNEL_INVALID_ID", "Expected the id of a points mall item.", field=field)
    return int(pk)


class MallCheckout:
    """The checkout participant and the "points" price stage of the points mall."""

    def __init__(self, service: PointsService) -> None:
        self.service = service

    # -- prepare ------------------------------------------------------------------------------------
    async def prepare(self, tx: Transaction, draft: Draft) -> None:
        lines = [line for line in draft.lines if line.input(LINE_FIELD) is not None]
        if not lines:
            return
        if len(draft.lines) > 1:
            line = lines[0]
            raise DomainError(
                "ORDERS_NEEDS_OWN_ORDER", "A points mall redemption needs an order of its own.", field=f"input.lines[{line.index}].{LINE_FIELD}"
            )
        line = lines[0]
        where = f"input.lines[{line.index}]"
        item_id = item_id_of(line.input(LINE_FIELD), f"{where}.{LINE_FIELD}")
        if not draft.previewing:
            # The account lock first: it serialises this member's redemptions, so the limit and
            # the balance below are checked against settled numbers (account → inventory → item).
            await self.service.lock_account(tx, draft.member_id)
        item = await tx.session.get(Item, item_id, populate_existing=True)
        if item is None or not item.active or item.sku_id is None:
            raise DomainError("KERNEL_NOT_FOUND", "No such item to order.", field=f"{where}.{LINE_FIELD}")
        if item.sku_id != line.sku_id:
            raise DomainError("KERNEL_INVALID_INPUT", "The line's SKU is not the item's.", field=f"{where}.skuId")
        if line.quantity > MAX_REDEEM:
            raise DomainError("POINTS_MALL_INVALID_QUANTITY", f"Redeem between 1 and {MAX_REDEEM} at a time.", field=f"{where}.quantity")
        await self.check(
            tx, draft.member_id, item, line.quantity, item_field=f"{where}.{LINE_FIELD}", quantity_field=f"{where}.quantity", balance_field=where
        )
        # The mall counts its own stock (Item.stock_left, taken in ``placed``): no activity counter.
        line.claim(COMPONENT, str(item.id), exclusive=True, activity_stock=False)
        draft.kind = "points"
        points = item.points_price * line.quantity
        draft.attributes.update({"pointsMallItemId": item.id, "points": points, "pointsCashMinor": item.cash_price_minor * line.quantity})

    async def check(
        self, tx: Transaction, member_id: int, item: Item, quantity: int, *, item_field: str, quantity_field: str, balance_field: str
    ) -> None:
        """Every rule a redemption must pass, read-only (a preview runs it too)."""
        now = tx.now()
        if (item.starts_at and now < as_utc(item.starts_at)) or (item.ends_at and now >= as_utc(item.ends_at)):
            raise DomainError(
                "POINTS_MALL_OUTSIDE_WINDOW",
                "This item cannot be redeemed now.",
                field=item_field,
                startsAt=_iso(item.starts_at),
                endsAt=_iso(item.ends_at),
            )
        own = int(await tx.session.scalar(select(Account.tier).where(Account.member_id == member_id)) or 0)
        tier, _percent = await self.service.standing(tx.session, member_id, own)
        if tier < item.min_tier:
            raise DomainError(
                "POINTS_MALL_TIER_NOT_ALLOWED",
                f"This item is for tier {item.min_tier} and above.",
                field=item_field,
                tier=tier,
                minTier=item.min_tier,
            )
        held = await self.service.redeemed_by(tx.session, item.id, member_id)
        if held + quantity > item.per_member_limit:
            raise DomainError(
                "POINTS_MALL_LIMIT_REACHED",
                f"At most {item.per_member_limit} per member.",
                field=quantity_field,
                limit=item.per_member_limit,
                redeemed=held,
            )
        needed = item.points_price * quantity
        balance = await self.spendable(tx, member_id)
        if balance < needed:
            raise DomainError(
                "POINTS_MALL_NOT_ENOUGH_POINTS",
                f"You have {balance} points; this needs {needed}.",
                field=balance_field,
                balance=balance,
                needed=needed,
            )
        if item.stock_left < quantity:
            raise DomainError("POINTS_MALL_SOLD_OUT", "This item is sold out.", field=item_field)

    async def spendable(self, tx: Transaction, member_id: int) -> int:
        """The balance less lots that expired but were not written off yet (a spend writes them
        off first), so a preview refuses what the placing would refuse."""
        balance = int(await tx.session.scalar(select(Account.balance).where(Account.member_id == member_id)) or 0)
        expired = int(
            await tx.session.scalar(
                select(func.coalesce(func.sum(Lot.remaining), 0)).where(Lot.member_id == member_id, Lot.remaining > 0, Lot.expires_at <= tx.now())
            )
            or 0
        )
        return balance - expired

    # -- price stage "points" ------------------------------------------------------------------------
    def price(self, tx: Transaction, draft: Draft) -> None:
        """A redemption line costs only the item's cash part; the rest is paid in points and
        recorded on the line as the points deduction."""
        for line in draft.lines:
            if line.activity is None or line.activity[0] != COMPONENT:
                continue
            cash = int(draft.attributes["pointsCashMinor"])
            due = line.own_total_minor
            if due != cash:
                line.adjust(cash - due, f"积分抵扣 {draft.attributes.get('points', 0)} points")

    # -- placed ----------------------------------------------------------------------------------------
    async def placed(self, tx: Transaction, draft: Draft, order_id: int) -> None:
        for line in draft.lines:
            if line.activity is not None and line.activity[0] == COMPONENT:
                await self._redeem_line(tx, draft, line, order_id)

    async def _redeem_line(self, tx: Transaction, draft: Draft, line: DraftLine, order_id: int) -> None:
        item = await tx.session.get(Item, int(line.activity[1]), populate_existing=True)
        where = f"input.lines[{line.index}]"
        points = item.points_price * line.quantity
        redemption = Redemption(
            item_id=item.id,
            member_id=draft.member_id,
            quantity=line.quantity,
            returned_quantity=0,
            points=points,
            cash_minor=item.cash_price_minor * line.quantity,
            status="active",
            created_at=tx.now(),
            delivery_type=draft.delivery_type,
            store_id=draft.store_id,
            order_id=order_id,
        )
        tx.session.add(redemption)
        await tx.session.flush()
        # The authoritative checks: the conditional updates below hold under any race.
        await self.service.debit(
            tx,
            draft.member_id,
            points,
            reason="redeem",
            reference=f"redemption:{redemption.id}",
            key=f"redeem:{redemption.id}",
            field=where,
            note=f"{line.quantity} × {item.title}",
        )
        await self.service.take_stock(tx, item.id, line.quantity, field=f"{where}.{LINE_FIELD}")
        await self.service.announce(tx, redemption)


def _iso(value: Any) -> str | None:
    return as_utc(value).isoformat() if value is not None else None
