"""Group-buy rules. A seat is taken when a member's order is paid, counted by a conditional
UPDATE on the group row inside the payment's own transaction, so the last seats cannot be
oversold however many payments race for them; the losers are refunded in that same
transaction (or lead a new group, per setting)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Mapping

from sqlalchemy import func, select, update

from components.group_buy import rules
from components.group_buy.checkout import ACTIVITY, INPUT, GroupBuyCheckout, new_share_code
from components.group_buy.models import Group, Membership, Offer
from components.group_buy.offers import Offers, offer_running
from core.clock import as_utc
from core.errors import DomainError
from core.gql.relay import to_global_id
from core.transaction import Event, Transaction
from core.units import parse_duration

EXPIRE_JOB = "group_buy.expire"


def _check_quantity(quantity: Any) -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise DomainError("KERNEL_INVALID_INPUT", "The quantity is a whole number of at least 1.", field="input.quantity")


def _has_our_line(payload: Mapping[str, Any]) -> bool:
    """The order has a line of this component's activity (its membership then exists: ``placed``
    wrote it before any order event)."""
    return any((line.get("activity") or {}).get("component") == ACTIVITY for line in payload.get("lines") or [])


def _convenience_field(field: str | None) -> str | None:
    """A checkout field (``input.lines[0].groupBuy.shareCode``) as openGroup/joinGroup spell it
    (``input.shareCode``): their input has no lines, and the SKU is the offer's."""
    prefix = "input.lines[0]"
    if field is None or not field.startswith(prefix):
        return field
    rest = field[len(prefix) :]
    if rest.startswith(f".{INPUT}."):
        return "input." + rest[len(INPUT) + 2 :]
    return "input.offerId" if rest == ".skuId" else "input.quantity"


def channel(group_id: int) -> str:
    return f"group_buy:group:{group_id}"


class GroupBuyService:
    def __init__(self, kernel: Any, settings: Mapping[str, Any]) -> None:
        self.kernel = kernel
        self.default_duration = parse_duration(settings.get("default_duration", "24h"))
        self.late_payment = settings.get("late_payment", "refund")
        self.hold_seats = bool(settings.get("hold_seats_for_unpaid_joins", True))
        fill = settings.get("virtual_fill") or {}
        self.virtual_fill_ratio = float(fill.get("min_ratio", 0.6)) if fill.get("enabled") else None
        self.checkout = GroupBuyCheckout(self)
        self.offers = Offers(self)

    # -- offers (offers.py) -----------------------------------------------------------------------------
    async def create_offer(
        self,
        tx: Transaction,
        *,
        sku_id: int | None = None,
        group_price_minor: int | None = None,
        group_size: int,
        starts_at: datetime,
        ends_at: datetime,
        total_limit: int,
        per_member_limit: int = 1,
        leader_price_minor: int | None = None,
        leader_discount_minor: int | None = None,
        duration: timedelta | None = None,
        virtual_fill_ratio: float | None = None,
        show_joinable: bool = True,
        skus: list[dict[str, Any]] | None = None,
    ) -> int:
        """An offer on one SKU (``sku_id``, ``group_price_minor``, ``leader_price_minor``) or on
        several (``skus``: ``{sku_id, group_price_minor, leader_price_minor?, quantity?}`` each)."""
        if skus is None:
            skus = [{"sku_id": sku_id, "group_price_minor": group_price_minor, "leader_price_minor": leader_price_minor}]
        return await self.offers.create(
            tx,
            skus=skus,
            group_size=group_size,
            starts_at=starts_at,
            ends_at=ends_at,
            total_limit=total_limit,
            per_member_limit=per_member_limit,
            leader_discount_minor=leader_discount_minor,
            duration=duration,
            virtual_fill_ratio=virtual_fill_ratio,
            show_joinable=show_joinable,
        )

    # -- opening and joining: conveniences over the one checkout -------------------------------------
    async def open_group(self, tx: Transaction, *, offer_id: int, member_id: int, quantity: int = 1, sku_id: int | None = None) -> tuple[int, int]:
        """``openGroup``: a one-line checkout with ``groupBuy: {offerId}``; (group id, order id).
        ``sku_id`` picks one of the offer's SKUs (its first by default)."""
        offer = await self.checkout.active_offer(tx, offer_id, field="input.offerId")
        _check_quantity(quantity)
        return await self._place(tx, member_id, sku_id or offer.sku_id, quantity, {"offerId": to_global_id("GroupBuyOffer", offer.id)})

    async def join_group(self, tx: Transaction, *, share_code: str, member_id: int, quantity: int = 1, sku_id: int | None = None) -> tuple[int, int]:
        """``joinGroup``: a one-line checkout with ``groupBuy: {offerId, shareCode}``. The link is
        a member's own code (the group's code is its leader's), so the referral goes to whoever
        shared it, never to whom the joiner names."""
        group, _sharer = await self.resolve_share_code(tx.session, share_code)
        if group is None:
            raise DomainError("GROUP_BUY_UNKNOWN_GROUP", "No group has that share code.", field="input.shareCode")
        _check_quantity(quantity)
        return await self._place(
            tx,
            member_id,
            sku_id or (await tx.session.get(Offer, group.offer_id)).sku_id,
            quantity,
            {"offerId": to_global_id("GroupBuyOffer", group.offer_id), "shareCode": share_code},
        )

    async def _place(self, tx: Transaction, member_id: int, sku_id: int, quantity: int, choice: dict[str, Any]) -> tuple[int, int]:
        try:
            order_id = await self.kernel.service("orders").create_order(
                tx, member_id=member_id, lines=[(sku_id, quantity)], line_inputs=[{INPUT: choice}]
            )
        except DomainError as error:
            if error.code == "INVENTORY_ACTIVITY_SOLD_OUT":
                # The offer's own quantity (total_limit) ran out under a race: say so in this component's words.
                raise DomainError(
                    "GROUP_BUY_SOLD_OUT",
                    "This offer's quantity is used up.",
                    field="input.quantity",
                    **{k: v for k, v in error.details.items() if k != "field"},
                ) from None
            error.field = _convenience_field(error.field)
            raise
        group_id = await tx.session.scalar(select(Membership.group_id).where(Membership.order_id == order_id))
        return group_id, order_id

    async def resolve_share_code(self, session: Any, share_code: str) -> tuple[Group | None, int | None]:
        """(group, sharer member id) of a share link."""
        code = (share_code or "").strip()[:16]
        if not code:
            return None, None
        row = (
            await session.execute(
                select(Group, Membership.member_id).join(Membership, Membership.group_id == Group.id).where(Membership.share_code == code)
            )
        ).first()
        if row is not None:
            return row[0], row[1]
        group = await session.scalar(select(Group).where(Group.share_code == code))
        return group, (group.leader_member_id if group is not None else None)

    # -- seats -------------------------------------------------------------------------------------
    async def on_order_paid(self, tx: Transaction, event: Event) -> None:
        """In the payment's transaction: take a seat, or give the money back at once."""
        if not _has_our_line(event.payload):
            return
        membership = await tx.session.scalar(select(Membership).where(Membership.order_id == event.payload["orderId"]))
        if membership is None or membership.state != "pending":
            return
        group = await tx.session.get(Group, membership.group_id)
        now = tx.now()
        if membership.is_leader and group.deadline_at is None:
            offer = await tx.session.get(Offer, group.offer_id)
            if not offer_running(offer, now):
                # Nobody could join a group opened now: the leader gets the money back at once.
                membership.state = "refunded"
                group.status, group.closed_at = "failed", now
                await self.kernel.service("orders").refund(tx, membership.order_id, reason="group_buy: the offer closed before the leader paid")
                await tx.emit(
                    "group_buy.failed",
                    {"groupId": group.id, "offerId": group.offer_id, "reason": "offer_closed", "memberIds": [membership.member_id]},
                )
                self._progress(tx, group)
                return
        open_for_seat = Group.status == "forming"
        if not membership.is_leader:
            open_for_seat = open_for_seat & (Group.deadline_at > now)
        seated = await tx.session.execute(
            update(Group)
            .where(Group.id == group.id, open_for_seat, Group.paid_seats < Group.size)
            .values(paid_seats=Group.paid_seats + 1)
            .execution_options(synchronize_session=False)  # refreshed below; SQLite datetimes are naive
        )
        if seated.rowcount != 1:
            await self._late_payment(tx, membership)
            return
        membership.state = "seated"
        await tx.session.refresh(group)
        if membership.is_leader:
            offer = await tx.session.get(Offer, group.offer_id)
            group.deadline_at = now + timedelta(seconds=offer.duration_seconds)
            await tx.schedule(EXPIRE_JOB, str(group.id), group.deadline_at, {"groupId": group.id})
        if group.paid_seats == group.size:
            await self._succeed(tx, group)
        else:
            self._progress(tx, group)

    async def _late_payment(self, tx: Transaction, membership: Membership) -> None:
        offer = await tx.session.get(Offer, membership.offer_id)
        if rules.late_payment_action(self.late_payment, offer_running=offer_running(offer, tx.now())) == "open_new_group":
            # The payer's own link becomes the new group's code: whoever they already
            # shared it with now lands in the group they lead.
            group = Group(
                offer_id=offer.id,
                leader_member_id=membership.member_id,
                size=offer.group_size,
                paid_seats=1,
                placeholders=0,
                status="forming",
                share_code=membership.share_code or new_share_code(),
                created_at=tx.now(),
                deadline_at=tx.now() + timedelta(seconds=offer.duration_seconds),
            )
            tx.session.add(group)
            await tx.session.flush()
            membership.group_id, membership.is_leader, membership.state = group.id, True, "seated"
            await tx.schedule(EXPIRE_JOB, str(group.id), group.deadline_at, {"groupId": group.id})
            await self._charge_leader_price(tx, offer, membership)
            await tx.emit("group_buy.regrouped", {"groupId": group.id, "memberId": membership.member_id, "orderId": membership.order_id})
            return
        membership.state = "refunded"
        await self.kernel.service("orders").refund(tx, membership.order_id, reason="group_buy: the group was full or closed")

    async def _charge_leader_price(self, tx: Transaction, offer: Offer, membership: Membership) -> None:
        """A late payer who now leads a group pays the leader price, like any leader: the
        difference to what they paid as a joiner goes back through their payment (退差价)."""
        orders = self.kernel.service("orders")
        for line in await orders.lines(tx, membership.order_id):
            if line.activity_component != ACTIVITY:
                continue
            row = await self.offers.sku(tx.session, offer.id, line.sku_id)
            leader_unit, _label = rules.unit_price(
                rules.SkuPrice(row.sku_id, line.list_unit_price_minor, row.group_price_minor, row.leader_price_minor),
                leader=True,
                leader_discount=offer.leader_discount_minor,
            )
            back = min(
                rules.leader_refund(paid_unit=line.unit_price_minor, leader_unit=leader_unit, quantity=line.quantity),
                line.total_minor - line.refunded_minor,
            )
            if back > 0:
                await orders.refund_difference(
                    tx, membership.order_id, line_id=line.id, amount_minor=back, reason="group_buy: you now lead a group, at the leader price"
                )

    async def _succeed(self, tx: Transaction, group: Group) -> None:
        group.status, group.closed_at = "succeeded", tx.now()
        await tx.cancel_timer(EXPIRE_JOB, str(group.id))
        # Unpaid joiners of a group that formed (virtually, or before they paid) have no seat to
        # pay for: their orders are cancelled and their stock released now, and paying one says
        # why (ORDERS_ILLEGAL_TRANSITION with the cancel reason). An order being paid this very
        # moment is skipped, not waited for (its payment takes the late-payment path).
        # (With late_payment: open_new_group they keep their orders: paying leads a new group.)
        if self.late_payment == "refund":
            orders = self.kernel.service("orders")
            waiting = (await tx.session.scalars(select(Membership).where(Membership.group_id == group.id, Membership.state == "pending"))).all()
            for membership in waiting:
                await orders.cancel_unless_busy(tx, membership.order_id, reason="group_buy: the group formed before you paid")
        await tx.emit(
            "group_buy.succeeded",
            {
                "groupId": group.id,
                "offerId": group.offer_id,
                "placeholders": group.placeholders,
                "memberIds": await self._member_ids(tx, group.id, ("seated",)),
            },
        )
        self._progress(tx, group)

    async def _member_ids(self, tx: Transaction, group_id: int, states: tuple[str, ...]) -> list[int]:
        """The group's members in these states, in the order they came (the events name them for
        notifications: a member with two orders in one group is named once)."""
        ids = (
            await tx.session.scalars(
                select(Membership.member_id).where(Membership.group_id == group_id, Membership.state.in_(states)).order_by(Membership.id)
            )
        ).all()
        return list(dict.fromkeys(ids))

    async def unpaid_joins(self, tx: Transaction, group_id: int) -> int:
        return int(
            await tx.session.scalar(
                select(func.count())
                .select_from(Membership)
                .where(Membership.group_id == group_id, Membership.state == "pending", Membership.is_leader.is_(False))
            )
            or 0
        )

    async def on_order_cancelled(self, tx: Transaction, event: Event) -> None:
        """An unpaid member's order was cancelled (by them or by timeout): free their place;
        a leader who never paid takes the group down with them."""
        if not _has_our_line(event.payload):
            return
        membership = await tx.session.scalar(select(Membership).where(Membership.order_id == event.payload["orderId"]))
        if membership is None or membership.state != "pending":
            return
        membership.state = "cancelled"
        group = await tx.session.get(Group, membership.group_id)
        if membership.is_leader and group.status == "forming" and group.deadline_at is None:
            group.status, group.closed_at = "failed", tx.now()
            told = [membership.member_id, *await self._member_ids(tx, group.id, ("pending", "seated"))]
            await tx.emit(
                "group_buy.failed",
                {"groupId": group.id, "offerId": group.offer_id, "reason": "leader_did_not_pay", "memberIds": list(dict.fromkeys(told))},
            )
            self._progress(tx, group)

    async def on_order_refunded(self, tx: Transaction, event: Event) -> None:
        """A seated member's order was refunded whole (after-sale, staff): the seat is free again
        while the group forms — a group must not succeed one buyer short — and the expiry will
        not try to refund that order a second time."""
        if not event.payload.get("full") or event.payload.get("kind") != "group_buy":
            return
        membership = await tx.session.scalar(select(Membership).where(Membership.order_id == event.payload["orderId"]))
        if membership is None or membership.state != "seated":
            return  # pending, or refunded by the expiry or a late payment already
        membership.state = "refunded"
        group = await tx.session.get(Group, membership.group_id, with_for_update=tx.kernel.db.is_postgresql)
        if group.status == "forming":
            await tx.session.execute(
                update(Group)
                .where(Group.id == group.id, Group.paid_seats > 0)
                .values(paid_seats=Group.paid_seats - 1)
                .execution_options(synchronize_session=False)
            )
            await tx.session.refresh(group)
            self._progress(tx, group)

    async def expire(self, tx: Transaction, timer: Any) -> None:
        """The deadline: virtual fill when the paid share reached the offer's ratio, else the group fails."""
        await self.fail_group(tx, int(timer.key), reason="expired", fill=True)

    async def fail_group(self, tx: Transaction, group_id: int, *, reason: str, fill: bool = False) -> None:
        """A forming group fails (its deadline, or staff withdrew the offer): every paid order is
        refunded in full, unpaid ones are cancelled; with ``fill`` a group that reached the
        virtual fill ratio succeeds with placeholders instead."""
        if tx.kernel.db.is_postgresql:
            # Lock the group's orders before the group: a payment locks its order and then the
            # group (taking the seat), so taking them the other way round here would deadlock
            # with a payment landing at the deadline.
            order_ids = (await tx.session.scalars(select(Membership.order_id).where(Membership.group_id == group_id))).all()
            await self.kernel.service("orders").lock_orders(tx, order_ids)
        group = await tx.session.get(Group, group_id, with_for_update=tx.kernel.db.is_postgresql, populate_existing=True)
        if group is None or group.status != "forming":
            return
        offer = await tx.session.get(Offer, group.offer_id)
        placeholders = rules.virtual_fill(paid_seats=group.paid_seats, size=group.size, ratio=offer.virtual_fill_ratio) if fill else None
        if placeholders is not None:
            group.placeholders = placeholders  # 模拟成团: placeholders fill the rest
            await self._succeed(tx, group)
            return
        group.status, group.closed_at = "failed", tx.now()
        await tx.cancel_timer(EXPIRE_JOB, str(group.id))
        orders = self.kernel.service("orders")
        members = (await tx.session.scalars(select(Membership).where(Membership.group_id == group.id).order_by(Membership.id))).all()
        told = [m.member_id for m in members if m.state in ("seated", "pending")]  # refunded or cancelled below
        for membership in members:
            if membership.state == "seated":
                membership.state = "refunded"
                if (await orders.get(tx, membership.order_id)).status in ("paid", "fulfilled", "completed"):
                    await orders.refund(tx, membership.order_id, reason=f"group_buy: the group did not form ({reason})")
            elif membership.state == "pending":
                membership.state = "cancelled"
                await orders.cancel(tx, membership.order_id, reason=f"group_buy: the group did not form ({reason})")
        await tx.emit("group_buy.failed", {"groupId": group.id, "offerId": group.offer_id, "reason": reason, "memberIds": list(dict.fromkeys(told))})
        self._progress(tx, group)

    async def fulfilment_guard(self, tx: Transaction, order: Any) -> str | None:
        if order.kind != "group_buy":
            return None
        # The membership, not the order's attributes, says which group: a late payer who leads
        # a new group must wait for that one.
        membership = await tx.session.scalar(select(Membership).where(Membership.order_id == order.id))
        group = await tx.session.get(Group, membership.group_id) if membership is not None else None
        if group is None or group.status != "succeeded":
            return "This group-buy order waits until its group has formed."
        return None

    def _progress(self, tx: Transaction, group: Group) -> None:
        tx.publish(channel(group.id), progress_message(group))


def progress_message(group: Group) -> dict[str, Any]:
    """What a group's share page shows, so a subscriber builds the group node from the message
    alone. Never the share code: the channel is public, codes are the key to joining."""
    return {
        "groupId": group.id,
        "offerId": group.offer_id,
        "placeholders": group.placeholders,
        "status": group.status,
        "size": group.size,
        "seatsFilled": group.paid_seats + group.placeholders,
        "seatsLeft": max(group.size - group.paid_seats - group.placeholders, 0),
        "deadline": as_utc(group.deadline_at).isoformat() if group.deadline_at else None,
    }
