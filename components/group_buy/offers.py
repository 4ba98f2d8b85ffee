"""Offers (staff): creation checked as a whole, several SKUs each with its own group price,
editing, ending and withdrawing.

States of an offer::

    active ──endsAt passes / endGroupBuyOffer──▶ (ended: no new groups; running groups go on to their deadline)
       └──withdrawGroupBuyOffer──▶ withdrawn (no new groups, no joins; forming groups fail and are refunded)

Once a group exists, an edit may change only what members of a running group were not promised
(rules.EDITABLE_WITH_GROUPS): the end of the window, quantities and limits (never below what is
taken), whether joinable groups are shown and the virtual fill ratio. Prices, size, duration
and SKUs are fixed from the first group on: end the offer and create another.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Sequence

from sqlalchemy import select

from components.group_buy import rules
from components.group_buy.checkout import ACTIVITY
from components.group_buy.models import Group, Membership, Offer, OfferSku
from core.clock import as_utc
from core.errors import DomainError
from core.transaction import Transaction


def offer_running(offer: Offer, now: datetime) -> bool:
    return offer.status == "active" and as_utc(offer.starts_at) <= now < as_utc(offer.ends_at)


class Offers:
    def __init__(self, service: Any) -> None:
        self.service = service
        self.kernel = service.kernel

    # -- reading ---------------------------------------------------------------------------------
    async def skus(self, session: Any, offer_id: int) -> list[OfferSku]:
        return list((await session.scalars(select(OfferSku).where(OfferSku.offer_id == offer_id).order_by(OfferSku.position, OfferSku.id))).all())

    async def sku(self, session: Any, offer_id: int, sku_id: int) -> OfferSku | None:
        return await session.scalar(select(OfferSku).where(OfferSku.offer_id == offer_id, OfferSku.sku_id == sku_id))

    async def remaining(self, session: Any, offer_id: int) -> int:
        inventory = self.kernel.service("inventory")
        return sum([await inventory.activity_left(session, ACTIVITY, str(offer_id), row.sku_id) for row in await self.skus(session, offer_id)])

    # -- creating ----------------------------------------------------------------------------------
    async def create(
        self,
        tx: Transaction,
        *,
        skus: Sequence[dict[str, Any]],
        group_size: int,
        starts_at: datetime,
        ends_at: datetime,
        total_limit: int,
        per_member_limit: int = 1,
        leader_discount_minor: int | None = None,
        duration: timedelta | None = None,
        virtual_fill_ratio: float | None = None,
        show_joinable: bool = True,
    ) -> int:
        """``skus``: ``{sku_id, group_price_minor, leader_price_minor?, quantity?}`` each."""
        catalog = await self.kernel.service("catalog").skus(tx.session, [s["sku_id"] for s in skus])
        for index, wanted in enumerate(skus):
            if wanted["sku_id"] not in catalog:
                raise DomainError("KERNEL_NOT_FOUND", "No such SKU.", field="input.skuId" if len(skus) == 1 else f"input.skus[{index}].skuId")
        if len({catalog[s["sku_id"]].product_id for s in skus}) > 1:
            # One offer is one product's group-buy page; members of a group pick among its SKUs.
            raise DomainError("GROUP_BUY_INVALID_OFFER", "An offer's SKUs belong to one product.", field="input.skus")
        prices = [
            rules.SkuPrice(s["sku_id"], catalog[s["sku_id"]].price_minor, s["group_price_minor"], s.get("leader_price_minor"), s.get("quantity"))
            for s in skus
        ]
        for field, message in rules.offer_problems(
            skus=prices,
            group_size=group_size,
            starts_at=starts_at,
            ends_at=ends_at,
            total_limit=total_limit,
            per_member_limit=per_member_limit,
            leader_discount=leader_discount_minor,
            virtual_fill_ratio=virtual_fill_ratio,
        )[:1]:
            raise DomainError("GROUP_BUY_INVALID_OFFER", message, field=field)
        for index, price in enumerate(prices):
            await self._check_no_overlap(
                tx, price.sku_id, starts_at, ends_at, None, "input.skuId" if len(prices) == 1 else f"input.skus[{index}].skuId"
            )
        first = prices[0]
        offer = Offer(
            sku_id=first.sku_id,
            product_id=catalog[first.sku_id].product_id,
            group_price_minor=first.group_price,
            leader_price_minor=first.leader_price,
            leader_discount_minor=leader_discount_minor,
            group_size=group_size,
            duration_seconds=int((duration or self.service.default_duration).total_seconds()),
            starts_at=starts_at,
            ends_at=ends_at,
            per_member_limit=per_member_limit,
            total_limit=total_limit,
            virtual_fill_ratio=virtual_fill_ratio if virtual_fill_ratio is not None else self.service.virtual_fill_ratio,
            show_joinable=show_joinable,
            status="active",
            created_at=tx.now(),
        )
        tx.session.add(offer)
        await tx.session.flush()
        inventory = self.kernel.service("inventory")
        for position, price in enumerate(prices):
            quantity = price.quantity if price.quantity is not None else total_limit
            tx.session.add(
                OfferSku(
                    offer_id=offer.id,
                    sku_id=price.sku_id,
                    group_price_minor=price.group_price,
                    leader_price_minor=price.leader_price,
                    quantity=quantity,
                    position=position,
                )
            )
            # Each SKU has its own quantity in the offer (inventory's activity counter per SKU).
            await inventory.define_activity(tx, ACTIVITY, str(offer.id), price.sku_id, quantity)
        await tx.session.flush()
        return offer.id

    async def _check_no_overlap(self, tx: Transaction, sku_id: int, starts_at: datetime, ends_at: datetime, offer_id: int | None, field: str) -> None:
        stmt = (
            select(Offer.id)
            .join(OfferSku, OfferSku.offer_id == Offer.id)
            .where(OfferSku.sku_id == sku_id, Offer.status == "active", Offer.starts_at < ends_at, Offer.ends_at > starts_at)
        )
        if offer_id is not None:
            stmt = stmt.where(Offer.id != offer_id)
        if await tx.session.scalar(stmt.limit(1)) is not None:
            raise DomainError("GROUP_BUY_SKU_IN_OFFER", "That SKU is already in another active offer for those dates.", field=field)

    # -- staff changes -------------------------------------------------------------------------------
    async def _offer(self, tx: Transaction, offer_id: int) -> Offer:
        # FOR NO KEY UPDATE, not FOR UPDATE: staff edits of one offer still queue behind each
        # other, but rows pointing at the offer (a group a late payment opens, a membership) take
        # KEY SHARE on it for their foreign key while their payment holds its order — and a
        # withdrawal holding the offer then locks those orders: FOR UPDATE deadlocked there.
        lock = {"key_share": True} if tx.kernel.db.is_postgresql else False
        offer = await tx.session.get(Offer, offer_id, with_for_update=lock, populate_existing=True)
        if offer is None:
            raise DomainError("KERNEL_NOT_FOUND", "No such offer.", field="input.offerId")
        return offer

    async def has_groups(self, tx: Transaction, offer_id: int) -> bool:
        return await tx.session.scalar(select(Group.id).where(Group.offer_id == offer_id).limit(1)) is not None

    async def update(self, tx: Transaction, offer_id: int, changes: dict[str, Any]) -> None:
        """Edit an active offer. ``changes`` uses the GraphQL field names (endsAt, totalLimit, ...)."""
        offer = await self._offer(tx, offer_id)
        if offer.status != "active":
            raise DomainError("GROUP_BUY_OFFER_NOT_ACTIVE", f"A {offer.status} offer cannot be edited.", field="input.offerId")
        locked = rules.locked_fields(changes, has_groups=await self.has_groups(tx, offer.id))
        if locked:
            raise DomainError(
                "GROUP_BUY_OFFER_LOCKED",
                "Once a group exists, only the end, quantities, limits and display may change.",
                field=f"input.{locked[0]}",
                locked=locked,
            )
        skus = await self.skus(tx.session, offer.id)
        catalog = await self.kernel.service("catalog").skus(tx.session, [row.sku_id for row in skus])
        starts_at = changes.get("startsAt", as_utc(offer.starts_at))
        ends_at = changes.get("endsAt", as_utc(offer.ends_at))
        if "endsAt" in changes and ends_at <= tx.now():
            raise DomainError("GROUP_BUY_INVALID_OFFER", "A new end is in the future (to stop now, end the offer).", field="input.endsAt")
        group_price = changes.get("groupPrice")
        leader_price = changes.get("leaderPrice", offer.leader_price_minor) if len(skus) == 1 else None
        if group_price is not None and len(skus) > 1:
            raise DomainError(
                "GROUP_BUY_INVALID_OFFER", "An offer of several SKUs changes prices per SKU: create a new offer.", field="input.groupPrice"
            )
        total_limit = changes.get("totalLimit", offer.total_limit)
        # A new totalLimit becomes every SKU's quantity (one SKU: the offer's quantity).
        prices = [
            rules.SkuPrice(
                row.sku_id,
                catalog[row.sku_id].price_minor if row.sku_id in catalog else 0,
                group_price if group_price is not None else row.group_price_minor,
                leader_price if len(skus) == 1 else row.leader_price_minor,
                total_limit if "totalLimit" in changes else row.quantity,
            )
            for row in skus
        ]
        for field, message in rules.offer_problems(
            skus=prices,
            group_size=changes.get("groupSize", offer.group_size),
            starts_at=starts_at,
            ends_at=ends_at,
            total_limit=total_limit,
            per_member_limit=changes.get("perMemberLimit", offer.per_member_limit),
            leader_discount=changes.get("leaderDiscount", offer.leader_discount_minor),
            virtual_fill_ratio=changes.get("virtualFillRatio", offer.virtual_fill_ratio),
        )[:1]:
            raise DomainError("GROUP_BUY_INVALID_OFFER", message, field=field)
        for row in skus:
            await self._check_no_overlap(tx, row.sku_id, starts_at, ends_at, offer.id, "input.endsAt")
        if "totalLimit" in changes:
            for row in skus:  # never below what is sold or held (inventory refuses: INVENTORY_BELOW_RESERVED)
                await self.kernel.service("inventory").define_activity(tx, ACTIVITY, str(offer.id), row.sku_id, total_limit)
                row.quantity = total_limit
        columns = {
            "startsAt": "starts_at",
            "endsAt": "ends_at",
            "totalLimit": "total_limit",
            "perMemberLimit": "per_member_limit",
            "showJoinable": "show_joinable",
            "virtualFillRatio": "virtual_fill_ratio",
            "groupSize": "group_size",
            "leaderDiscount": "leader_discount_minor",
        }
        for name, value in changes.items():
            if name in columns:
                setattr(offer, columns[name], value)
        if "duration" in changes:
            offer.duration_seconds = int(changes["duration"].total_seconds())
        if len(skus) == 1 and ("groupPrice" in changes or "leaderPrice" in changes):
            offer.group_price_minor = skus[0].group_price_minor = prices[0].group_price
            offer.leader_price_minor = skus[0].leader_price_minor = prices[0].leader_price
        await tx.session.flush()

    async def end(self, tx: Transaction, offer_id: int) -> None:
        """Close the window now: no new groups; groups already forming go on to their deadline."""
        offer = await self._offer(tx, offer_id)
        if offer.status != "active" or as_utc(offer.ends_at) <= tx.now():
            raise DomainError("GROUP_BUY_OFFER_NOT_ACTIVE", "This offer has already ended.", field="input.offerId")
        offer.status, offer.ends_at = "ended", max(tx.now(), as_utc(offer.starts_at))

    async def withdraw(self, tx: Transaction, offer_id: int) -> int:
        """Take the offer down: forming groups fail (paid members refunded, unpaid orders
        cancelled, reason ``offer_withdrawn``); groups that succeeded keep their orders.
        Returns how many groups failed."""
        offer = await self._offer(tx, offer_id)
        if offer.status == "withdrawn":
            raise DomainError("GROUP_BUY_OFFER_NOT_ACTIVE", "This offer is already withdrawn.", field="input.offerId")
        offer.status = "withdrawn"
        forming = (await tx.session.scalars(select(Group.id).where(Group.offer_id == offer.id, Group.status == "forming").order_by(Group.id))).all()
        # Every order of every failing group first, before any group or stock row: a payment
        # takes its order first, so none can be holding stock this withdrawal will need while
        # waiting for an order it already holds.
        order_ids = (await tx.session.scalars(select(Membership.order_id).where(Membership.group_id.in_(forming)))).all()
        await self.kernel.service("orders").lock_orders(tx, order_ids)
        for group_id in forming:
            await self.service.fail_group(tx, group_id, reason="offer_withdrawn")
        return len(forming)
