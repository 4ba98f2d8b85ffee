"""Group-buy's part in the one checkout.

A line carrying ``groupBuy: {offerId}`` opens a group; ``groupBuy: {offerId, shareCode}`` joins
the group behind the share link. ``prepare`` checks every rule and claims the line (a group-buy
needs an order of its own), writing nothing; ``placed`` writes the group (when opening) and the
membership once the order exists, so a zero-total order paid right after finds its seat to take.
The price is the offer's, set at the ``activity`` stage on the lines this component claimed.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import func, select, text

from components.group_buy.models import Group, Membership, Offer
from components.group_buy.rules import SkuPrice, unit_price
from core.checkout import Draft, DraftLine
from core.clock import as_utc
from core.errors import DomainError
from core.gql.relay import decode_id, to_global_id
from core.transaction import Transaction

ACTIVITY = "group_buy"
INPUT = "groupBuy"
LIVE_STATES = ("pending", "seated")


def new_share_code() -> str:
    # Unguessable: a share code is the only key to joining a group.
    return secrets.token_urlsafe(9)[:12]


def group_buy_lines(draft: Draft) -> list[DraftLine]:
    """The lines this component claimed (one at most: the activity is exclusive)."""
    return [line for line in draft.lines if line.activity is not None and line.activity[0] == ACTIVITY]


def _field(line: DraftLine, name: str) -> str:
    return f"input.lines[{line.index}].{name}"


class GroupBuyCheckout:
    def __init__(self, service: Any) -> None:
        self.service = service

    # -- prepare: every rule, no writes -----------------------------------------------------------
    async def prepare(self, tx: Transaction, draft: Draft) -> None:
        for line in draft.lines:
            choice = line.input(INPUT)
            if choice is not None:
                await self._prepare_line(tx, draft, line, choice)
        if not group_buy_lines(draft):
            await self._check_named_group(tx, draft)

    async def _check_named_group(self, tx: Transaction, draft: Draft) -> None:
        """A plain order naming a group (bought from a group's page) is attributed to it only
        if the group exists and the buyer is in it or could still join it: never on the
        client's word (orders refuses a groupId nobody vouched for)."""
        value = draft.source.get("groupId")
        if value is None:
            return
        field = "input.source.groupId"
        group = await tx.session.get(Group, decode_id(str(value), "GroupBuyGroup", field=field))
        member_in_it = group is not None and await tx.session.scalar(
            select(Membership.id).where(Membership.group_id == group.id, Membership.member_id == draft.member_id, Membership.state.in_(LIVE_STATES))
        )
        if group is None or not (group.status == "forming" or member_in_it is not None):
            raise DomainError("GROUP_BUY_UNKNOWN_GROUP", "No group you are in or may join has that id.", field=field)
        draft.source["groupId"] = to_global_id("GroupBuyGroup", group.id)
        draft.vouch("groupId")

    async def _prepare_line(self, tx: Transaction, draft: Draft, line: DraftLine, choice: Any) -> None:
        if not isinstance(choice, dict):
            raise DomainError("KERNEL_INVALID_INPUT", "groupBuy is {offerId, shareCode}.", field=_field(line, INPUT))
        offer_id = decode_id(choice.get("offerId"), "GroupBuyOffer", field=_field(line, "groupBuy.offerId"))
        share_code = choice.get("shareCode")
        group, sharer = None, None
        if share_code is not None:
            # The group first: a closed or full group says so even if the offer ended meanwhile.
            group, sharer = await self._joinable_group(tx, draft, line, str(share_code))
            if group.offer_id != offer_id:
                raise DomainError("GROUP_BUY_UNKNOWN_GROUP", "That share code belongs to another offer.", field=_field(line, "groupBuy.shareCode"))
        offer = await self.active_offer(tx, offer_id, field=_field(line, "groupBuy.offerId"))
        if await self.service.offers.sku(tx.session, offer.id, line.sku_id) is None:
            raise DomainError("GROUP_BUY_SKU_NOT_IN_OFFER", "This line's SKU is not one of the offer's.", field=_field(line, "skuId"))
        await self._check_limit(tx, draft, line, offer)
        left = await tx.kernel.service("inventory").activity_left(tx.session, ACTIVITY, str(offer.id), line.sku_id)
        if left < line.quantity:
            # Advisory (the stock hold at placing is what counts under a race), but it lets the
            # preview and the refusal speak this component's words.
            raise DomainError("GROUP_BUY_SOLD_OUT", "This offer's quantity is used up.", field=_field(line, "quantity"), available=left)
        line.claim(ACTIVITY, str(offer.id), exclusive=True)
        draft.kind = "group_buy"
        leader = group is None
        # The buyer's own share link: for a leader it becomes the group's code in ``placed``.
        own_code = new_share_code()
        # The group's link is this order's proof: an order-level share code's credit gives way to it.
        source = {k: v for k, v in draft.source.items() if k not in ("groupId", "shareCode", "sharerMemberId", "creditRefused")}
        source["shareCode"] = own_code
        draft.attributes.update({"groupBuyOfferId": offer.id, "groupBuyLeader": leader})
        if group is not None:
            # Global ids, as a frontend sends them: order.source.groupId goes straight to groupBuyGroup(id:).
            source["groupId"] = to_global_id("GroupBuyGroup", group.id)
            draft.vouch("groupId")
            draft.attributes["groupBuyGroupId"] = group.id
            if sharer is not None and sharer != draft.member_id:
                source["sharerMemberId"] = to_global_id("Member", sharer)
        draft.source = source

    async def active_offer(self, tx: Transaction, offer_id: int, *, field: str) -> Offer:
        offer = await tx.session.get(Offer, offer_id)
        if offer is None:
            raise DomainError("KERNEL_NOT_FOUND", "No such offer.", field=field)
        now = tx.now()
        if offer.status != "active" or not as_utc(offer.starts_at) <= now < as_utc(offer.ends_at):
            raise DomainError("GROUP_BUY_OFFER_NOT_ACTIVE", "This offer is not running now.", field=field)
        return offer

    async def _joinable_group(self, tx: Transaction, draft: Draft, line: DraftLine, share_code: str) -> tuple[Group, int | None]:
        field = _field(line, "groupBuy.shareCode")
        group, sharer = await self.service.resolve_share_code(tx.session, share_code)
        if group is None:
            raise DomainError("GROUP_BUY_UNKNOWN_GROUP", "No group has that share code.", field=field)
        if tx.kernel.db.is_postgresql and not draft.previewing:
            # The group's row before any stock row, as a failing group (expiry, withdrawal) takes
            # them: holding stock while waiting for the group would deadlock with it.
            group = await tx.session.get(Group, group.id, with_for_update=True, populate_existing=True)
        if group.status == "failed":
            raise DomainError("GROUP_BUY_GROUP_CLOSED", "This group did not form in time.", field=field, status="failed")
        if group.status == "succeeded" or group.paid_seats >= group.size:
            raise DomainError("GROUP_BUY_GROUP_FULL", "This group is full; open your own.", field=field)
        if group.deadline_at is None:
            raise DomainError("GROUP_BUY_GROUP_NOT_OPEN", "The leader has not paid yet.", field=field)
        if as_utc(group.deadline_at) <= tx.now():
            raise DomainError("GROUP_BUY_GROUP_CLOSED", "This group's time is up.", field=field, status="expired")
        await self.active_offer(tx, group.offer_id, field=_field(line, "groupBuy.offerId"))
        already = await tx.session.scalar(
            select(Membership.id).where(Membership.group_id == group.id, Membership.member_id == draft.member_id, Membership.state.in_(LIVE_STATES))
        )
        if already is not None:
            raise DomainError("GROUP_BUY_ALREADY_IN_GROUP", "You are already in this group.", field=field)
        if self.service.hold_seats and group.paid_seats + await self.service.unpaid_joins(tx, group.id) >= group.size:
            raise DomainError("GROUP_BUY_GROUP_FULL", "Every seat left is held by a member about to pay; try again soon.", field=field, held=True)
        return group, sharer

    async def _check_limit(self, tx: Transaction, draft: Draft, line: DraftLine, offer: Offer) -> None:
        if line.quantity > offer.per_member_limit:
            raise DomainError("GROUP_BUY_LIMIT_REACHED", f"At most {offer.per_member_limit} per member.", field=_field(line, "quantity"))
        if tx.kernel.db.is_postgresql and not draft.previewing:
            # One member's racing requests (ten taps on "open a group") would each count the
            # same memberships and all pass. A transaction-scoped advisory lock on (offer,
            # member) makes them count one after another; the lock goes with the transaction,
            # after ``placed`` wrote this membership. A preview holds no lock: it decides nothing.
            await tx.session.execute(
                text("SELECT pg_advisory_xact_lock(:offer, :member)"), {"offer": offer.id & 0x7FFFFFFF, "member": draft.member_id & 0x7FFFFFFF}
            )
        # Units in the member's live orders of this offer (unpaid ones hold stock too).
        taken = await tx.session.scalar(
            select(func.coalesce(func.sum(Membership.quantity), 0)).where(
                Membership.offer_id == offer.id, Membership.member_id == draft.member_id, Membership.state.in_(LIVE_STATES)
            )
        )
        if int(taken or 0) + line.quantity > offer.per_member_limit:
            raise DomainError(
                "GROUP_BUY_LIMIT_REACHED", f"At most {offer.per_member_limit} per member in this offer.", field=_field(line, "groupBuy.offerId")
            )

    # -- price: the offer's, on the claimed line ----------------------------------------------------
    async def price(self, tx: Transaction, draft: Draft) -> None:
        for line in group_buy_lines(draft):
            offer = await tx.session.get(Offer, int(line.activity[1]))
            row = await self.service.offers.sku(tx.session, offer.id, line.sku_id)
            # No share code: this buyer opens the group and pays the leader's price (rules.unit_price).
            leader = not (line.input(INPUT) or {}).get("shareCode")
            price, label = unit_price(
                SkuPrice(row.sku_id, line.list_unit_price_minor, row.group_price_minor, row.leader_price_minor),
                leader=leader,
                leader_discount=offer.leader_discount_minor,
            )
            line.set_unit_price(price, label)

    async def _hold_a_seat(self, tx: Transaction, line: DraftLine, group_id: int) -> None:
        """A group holds at most as many unpaid joins as it has seats left, so unpaid orders
        cannot exhaust an offer. Counted under the group's row lock (PostgreSQL; SQLite's one
        writer already serialises), the same lock a payment takes to seat its member."""
        if not self.service.hold_seats:
            return
        group = await tx.session.get(Group, group_id, with_for_update=tx.kernel.db.is_postgresql, populate_existing=True)
        if group.status != "forming" or group.paid_seats + await self.service.unpaid_joins(tx, group.id) >= group.size:
            raise DomainError(
                "GROUP_BUY_GROUP_FULL",
                "Every seat left is held by a member about to pay; try again soon.",
                field=_field(line, "groupBuy.shareCode"),
                held=True,
            )

    # -- placed: the group and the membership, keyed by the order ------------------------------------
    async def placed(self, tx: Transaction, draft: Draft, order_id: int) -> None:
        for line in group_buy_lines(draft):
            offer = await tx.session.get(Offer, int(line.activity[1]))
            share_code = draft.source["shareCode"]
            group_id = draft.attributes.get("groupBuyGroupId")
            shared_by = None
            if group_id is None:
                group = Group(
                    offer_id=offer.id,
                    leader_member_id=draft.member_id,
                    size=offer.group_size,
                    paid_seats=0,
                    placeholders=0,
                    status="forming",
                    share_code=share_code,
                    created_at=tx.now(),
                )
                tx.session.add(group)
                await tx.session.flush()
                group_id = group.id
            else:
                await self._hold_a_seat(tx, line, group_id)
                if "sharerMemberId" in draft.source:
                    shared_by = decode_id(draft.source["sharerMemberId"], "Member")
            tx.session.add(
                Membership(
                    group_id=group_id,
                    offer_id=offer.id,
                    member_id=draft.member_id,
                    order_id=order_id,
                    is_leader=draft.attributes["groupBuyLeader"],
                    quantity=line.quantity,
                    state="pending",
                    shared_by_member_id=shared_by,
                    share_code=share_code,
                    created_at=tx.now(),
                )
            )
            await tx.session.flush()
