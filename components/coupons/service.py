"""The coupons' rules with the database: templates, issuing through every channel, and
giving coupons back. The checkout side (the coupon price stage, using a coupon) is in
checkout.py; the pure rules in rules.py.

Issuing is two conditional UPDATEs in the caller's transaction — the template's
``issued < total_quantity`` and the member's ``received < per_member_limit`` — so neither the
total nor a member's limit can be exceeded by concurrent claims, on SQLite or PostgreSQL.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, Mapping

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from components.coupons.models import Coupon, Holding, Template
from components.coupons.rules import KINDS, SCOPE_KINDS, Terms
from core.clock import as_utc
from core.errors import DomainError
from core.transaction import Event, Transaction

log = logging.getLogger(__name__)

CHANNELS = ("claim_centre", "push", "new_member", "order_gift", "live_room")
CLAIMABLE = ("claim_centre", "live_room")  # the channels a member claims from; the rest are given
MAX_IDS = 200
MAX_PUSH = 500
FOREVER = datetime(9999, 1, 1).astimezone()


def terms_of(template: Template) -> Terms:
    scope = template.scope or {}
    return Terms(
        kind=template.kind,
        amount_minor=template.amount_minor or 0,
        percent_off=template.percent_off or 0,
        cap_minor=template.cap_minor,
        threshold_minor=template.threshold_minor or 0,
        scope_kind=scope.get("kind", "all"),
        scope_ids=frozenset(scope.get("ids", ())),
        exclude_product_ids=frozenset(scope.get("excludeProductIds", ())),
        exclude_sku_ids=frozenset(scope.get("excludeSkuIds", ())),
        combines_with=frozenset(template.combines_with or ()),
    )


def _ids(values: Any, field: str) -> list[int]:
    values = list(values or ())
    if len(values) > MAX_IDS or any(isinstance(v, bool) or not isinstance(v, int) or v <= 0 for v in values):
        raise DomainError("COUPONS_INVALID_TEMPLATE", f"A scope lists at most {MAX_IDS} ids.", field=field)
    return sorted(set(values))


class CouponsService:
    def __init__(self, kernel: Any, settings: Mapping[str, Any]) -> None:
        self.kernel = kernel
        self.settings = settings
        from components.coupons.checkout import CouponCheckout

        self.checkout = CouponCheckout(self)

    # -- templates ------------------------------------------------------------------------------
    async def create_template(self, tx: Transaction, data: Mapping[str, Any]) -> int:
        """Check every term and write the template; ``data`` uses the service's own names."""
        title = str(data.get("title") or "").strip()
        if not 1 <= len(title) <= 100:
            raise DomainError("COUPONS_INVALID_TEMPLATE", "A title has 1 to 100 characters.", field="input.title")
        kind = data.get("kind")
        if kind not in KINDS:
            raise DomainError("COUPONS_INVALID_TEMPLATE", "A coupon is FIXED or PERCENT.", field="input.kind")
        amount, percent, cap = int(data.get("amount_minor") or 0), int(data.get("percent_off") or 0), data.get("cap_minor")
        if kind == "fixed" and amount <= 0:
            raise DomainError("COUPONS_INVALID_TEMPLATE", "A fixed coupon takes a positive amount off.", field="input.amountOff")
        if kind == "percent" and not 1 <= percent <= 99:
            raise DomainError("COUPONS_INVALID_TEMPLATE", "A percentage is 1 to 99 (15 = 15 % off).", field="input.percentOff")
        if kind == "percent" and cap is not None and cap <= 0:
            raise DomainError("COUPONS_INVALID_TEMPLATE", "A cap is a positive amount.", field="input.cap")
        threshold = int(data.get("threshold_minor") or 0)
        if threshold < 0:
            raise DomainError("COUPONS_INVALID_TEMPLATE", "A threshold is zero or more.", field="input.threshold")
        if kind == "fixed" and threshold and amount > threshold:
            raise DomainError("COUPONS_INVALID_TEMPLATE", "A fixed coupon takes off no more than its threshold.", field="input.amountOff")
        scope_kind = data.get("scope_kind") or "all"
        if scope_kind not in SCOPE_KINDS:
            raise DomainError("COUPONS_INVALID_TEMPLATE", "Scope is ALL, CATEGORIES, PRODUCTS or SKUS.", field="input.scope.kind")
        scope_ids = _ids(data.get("scope_ids"), "input.scope.ids")
        if scope_kind != "all" and not scope_ids:
            raise DomainError("COUPONS_INVALID_TEMPLATE", "A scope of categories, products or SKUs names at least one.", field="input.scope.ids")
        scope = {
            "kind": scope_kind,
            "ids": scope_ids,
            "excludeProductIds": _ids(data.get("exclude_product_ids"), "input.scope.excludeProductIds"),
            "excludeSkuIds": _ids(data.get("exclude_sku_ids"), "input.scope.excludeSkuIds"),
        }
        valid_from, valid_until, valid_days = data.get("valid_from"), data.get("valid_until"), data.get("valid_days")
        if valid_days is not None:
            if valid_from is not None or valid_until is not None:
                raise DomainError("COUPONS_INVALID_TEMPLATE", "Validity is either dates or days after claim, not both.", field="input.validDays")
            if not 1 <= valid_days <= 3650:
                raise DomainError("COUPONS_INVALID_TEMPLATE", "Valid for 1 to 3650 days.", field="input.validDays")
        else:
            if valid_from is None or valid_until is None:
                raise DomainError("COUPONS_INVALID_TEMPLATE", "Give validFrom and validUntil, or validDays.", field="input.validUntil")
            if valid_from.tzinfo is None or valid_until.tzinfo is None:
                raise DomainError("COUPONS_INVALID_TEMPLATE", "Times need a time zone offset.", field="input.validFrom")
            if valid_until <= valid_from or valid_until <= tx.now():
                raise DomainError("COUPONS_INVALID_TEMPLATE", "validUntil must be after validFrom and in the future.", field="input.validUntil")
        total = data.get("total_quantity")
        if total is not None and not 1 <= total <= 10_000_000:
            raise DomainError("COUPONS_INVALID_TEMPLATE", "A total quantity is 1 to 10,000,000 (leave out: unlimited).", field="input.totalQuantity")
        limit = data.get("per_member_limit", 1)
        if not 1 <= limit <= 100:
            raise DomainError("COUPONS_INVALID_TEMPLATE", "A per-member limit is 1 to 100.", field="input.perMemberLimit")
        channel = data.get("channel") or "claim_centre"
        if channel not in CHANNELS:
            raise DomainError("COUPONS_INVALID_TEMPLATE", "Unknown channel.", field="input.channel")
        room_id = data.get("live_room_id")
        if channel == "live_room":
            if room_id is None:
                raise DomainError("COUPONS_INVALID_TEMPLATE", "A live-room coupon names its room.", field="input.liveRoomId")
            if not self.kernel.has_component("live_room"):
                raise DomainError("COUPONS_LIVE_ROOM_UNAVAILABLE", "This brand has no live rooms.", field="input.channel")
            await self.kernel.service("live_room").room(tx, room_id)  # KERNEL_NOT_FOUND for a room that does not exist
        elif room_id is not None:
            raise DomainError("COUPONS_INVALID_TEMPLATE", "Only a LIVE_ROOM coupon names a room.", field="input.liveRoomId")
        combines = sorted(set(data.get("combines_with") or ()))
        unknown = [name for name in combines if not self.kernel.has_component(name)]
        if unknown:
            raise DomainError("COUPONS_INVALID_TEMPLATE", f"No such activity component: {unknown[0]}.", field="input.combinesWith")
        gift_min = int(data.get("gift_min_minor") or 0)
        if gift_min < 0 or (gift_min and channel != "order_gift"):
            raise DomainError("COUPONS_INVALID_TEMPLATE", "Only an ORDER_GIFT coupon has a minimum order.", field="input.giftMinimum")
        template = Template(
            title=title,
            kind=kind,
            amount_minor=amount if kind == "fixed" else 0,
            percent_off=percent if kind == "percent" else 0,
            cap_minor=cap if kind == "percent" else None,
            threshold_minor=threshold,
            scope=scope,
            combines_with=combines,
            valid_from=valid_from,
            valid_until=valid_until,
            valid_days=valid_days,
            total_quantity=total,
            issued=0,
            per_member_limit=limit,
            channel=channel,
            live_room_id=room_id,
            gift_min_minor=gift_min,
            active=True,
            created_at=tx.now(),
        )
        tx.session.add(template)
        await tx.session.flush()
        return template.id

    async def set_active(self, tx: Transaction, template_id: int, active: bool) -> None:
        done = await tx.session.execute(update(Template).where(Template.id == template_id).values(active=active))
        if done.rowcount != 1:
            raise DomainError("KERNEL_NOT_FOUND", "No such coupon template.", field="input.templateId")

    async def template(self, tx: Transaction, template_id: int, field: str = "input.templateId") -> Template:
        template = await tx.session.get(Template, template_id, populate_existing=True)
        if template is None:
            raise DomainError("KERNEL_NOT_FOUND", "No such coupon template.", field=field)
        return template

    # -- issuing ---------------------------------------------------------------------------------
    async def issue(
        self, tx: Transaction, template: Template, member_id: int, *, source: str, cause: str | None = None, field: str = "input.templateId"
    ) -> Coupon:
        """Give one coupon of ``template`` to the member, or refuse with a typed error and change
        nothing (the caller's transaction rolls back). The two counters are the guards."""
        now = tx.now()
        if not template.active:
            raise DomainError("COUPONS_NOT_AVAILABLE", "This coupon is not being given out.", field=field)
        if template.valid_until is not None and now >= as_utc(template.valid_until):
            raise DomainError("COUPONS_ENDED", "This coupon has expired.", field=field)
        taken = await tx.session.execute(
            update(Template)
            .where(Template.id == template.id, or_(Template.total_quantity.is_(None), Template.issued < Template.total_quantity))
            .values(issued=Template.issued + 1)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:
            raise DomainError("COUPONS_SOLD_OUT", "All of these coupons have been claimed.", field=field)
        await self._holding_row(tx, template.id, member_id)
        mine = await tx.session.execute(
            update(Holding)
            .where(Holding.template_id == template.id, Holding.member_id == member_id, Holding.received < template.per_member_limit)
            .values(received=Holding.received + 1)
            .execution_options(synchronize_session=False)
        )
        if mine.rowcount != 1:
            raise DomainError(
                "COUPONS_LIMIT_REACHED", f"At most {template.per_member_limit} of these per member.", field=field, limit=template.per_member_limit
            )
        if template.valid_days is not None:
            valid_from, valid_until = now, now + timedelta(days=template.valid_days)
        else:
            valid_from, valid_until = as_utc(template.valid_from), as_utc(template.valid_until)
        coupon = Coupon(
            template_id=template.id,
            member_id=member_id,
            source=source,
            cause=cause,
            status="available",
            valid_from=valid_from,
            valid_until=valid_until,
            discount_minor=0,
            returned_times=0,
            issued_at=now,
        )
        tx.session.add(coupon)
        await tx.session.flush()
        return coupon

    async def _holding_row(self, tx: Transaction, template_id: int, member_id: int) -> None:
        exists = await tx.session.scalar(select(Holding.received).where(Holding.template_id == template_id, Holding.member_id == member_id))
        if exists is not None:
            return
        try:
            # Two first claims of one member at once: one insert wins, the other finds the row
            # (on PostgreSQL the loser's insert waits for the winner's commit, then fails here).
            async with tx.session.begin_nested():
                tx.session.add(Holding(template_id=template_id, member_id=member_id, received=0))
        except IntegrityError:
            pass

    async def claim(self, tx: Transaction, member_id: int, template_id: int) -> Coupon:
        """A member claims from the claim centre, or in a live room they are watching."""
        template = await self.template(tx, template_id)
        if template.channel not in CLAIMABLE:
            raise DomainError("COUPONS_NOT_CLAIMABLE", "This coupon is given, not claimed.", field="input.templateId")
        if template.channel == "live_room":
            await self._check_live_room(tx, template, member_id)
        return await self.issue(tx, template, member_id, source="live_room" if template.channel == "live_room" else "claim")

    async def _check_live_room(self, tx: Transaction, template: Template, member_id: int) -> None:
        # Through live_room's service (never its tables); it is not a dependency, so it may be absent.
        if not self.kernel.has_component("live_room"):
            raise DomainError("COUPONS_LIVE_ROOM_UNAVAILABLE", "This brand has no live rooms.", field="input.templateId")
        rooms = self.kernel.service("live_room")
        room = await rooms.room(tx, template.live_room_id)
        if room.status != "live":
            raise DomainError(
                "COUPONS_ROOM_NOT_LIVE",
                f"The room is {room.status}; its coupon is claimable only while live.",
                field="input.templateId",
                status=room.status,
            )
        viewer = await rooms.viewer(tx, room.id, member_id)
        if viewer is None or not viewer.watching:
            raise DomainError("COUPONS_NOT_IN_ROOM", "Join the live room to claim its coupon.", field="input.templateId")

    async def push(self, tx: Transaction, template_id: int, member_ids: list[int]) -> dict[str, Any]:
        """Staff give a template's coupons to members (a segment is a list of member ids). Each
        member is issued in a savepoint: one over the limit is reported, the others still get theirs;
        running out of coupons stops the push there."""
        if not 1 <= len(member_ids) <= MAX_PUSH:
            raise DomainError("COUPONS_INVALID_PUSH", f"Push to 1 to {MAX_PUSH} members at a time.", field="input.memberIds")
        template = await self.template(tx, template_id)
        if template.channel != "push":
            raise DomainError("COUPONS_NOT_PUSHABLE", "Only PUSH templates are pushed by staff.", field="input.templateId")
        members = self.kernel.service("members")
        issued, skipped = [], []
        for index, member_id in enumerate(dict.fromkeys(member_ids)):
            if await members.member(tx.session, member_id) is None:
                skipped.append({"memberId": member_id, "code": "KERNEL_NOT_FOUND"})
                continue
            try:
                async with tx.session.begin_nested():
                    coupon = await self.issue(tx, template, member_id, source="push", field=f"input.memberIds[{index}]")
                issued.append(coupon.id)
            except DomainError as error:
                if error.code == "COUPONS_SOLD_OUT":
                    skipped.extend({"memberId": m, "code": error.code} for m in list(dict.fromkeys(member_ids))[index:])
                    break
                skipped.append({"memberId": member_id, "code": error.code})
        return {"couponIds": issued, "skipped": skipped}

    async def give(self, tx: Transaction, channel: str, member_id: int, cause: str, *, paid_minor: int | None = None) -> list[int]:
        """The gifts of a channel for one cause (a sign-up, a paid order). Idempotent per cause:
        a replayed event finds the coupon it issued. A gift that ran out is skipped, not an error."""
        stmt = select(Template).where(Template.channel == channel, Template.active.is_(True)).order_by(Template.id)
        given = []
        for template in (await tx.session.scalars(stmt)).all():
            if paid_minor is not None and paid_minor < template.gift_min_minor:
                continue
            exists = await tx.session.scalar(
                select(Coupon.id).where(Coupon.template_id == template.id, Coupon.member_id == member_id, Coupon.cause == cause)
            )
            if exists is not None:
                continue
            try:
                async with tx.session.begin_nested():
                    coupon = await self.issue(tx, template, member_id, source=channel, cause=cause)
                given.append(coupon.id)
            except DomainError as error:
                log.info("gift coupon %s for %s not given: %s", template.id, cause, error.code)
        return given

    # -- events ----------------------------------------------------------------------------------
    async def on_member_registered(self, kernel: Any, event: Event) -> None:
        async with kernel.transaction() as tx:
            await self.give(tx, "new_member", int(event.payload["memberId"]), "new_member")

    async def on_order_paid(self, kernel: Any, event: Event) -> None:
        payload = event.payload
        async with kernel.transaction() as tx:
            await self.give(tx, "order_gift", int(payload["memberId"]), f"order:{payload['orderId']}", paid_minor=int(payload["totalMinor"]))

    async def on_order_cancelled(self, kernel: Any, event: Event) -> None:
        if self.settings.get("return_on_cancel", True):
            async with kernel.transaction() as tx:
                await self.give_back(tx, int(event.payload["orderId"]))

    async def on_order_refunded(self, kernel: Any, event: Event) -> None:
        # Only a refund that leaves nothing of the order returns its coupons: a refunded line of
        # an order whose other lines were kept would hand out a second discount.
        if event.payload.get("full") and self.settings.get("return_on_full_refund", True):
            async with kernel.transaction() as tx:
                await self.give_back(tx, int(event.payload["orderId"]))

    async def give_back(self, tx: Transaction, order_id: int) -> int:
        """Coupons used by the order return to their wallets; never twice: the update matches
        only coupons still marked used by this very order."""
        returned = await tx.session.execute(
            update(Coupon)
            .where(Coupon.order_id == order_id, Coupon.status == "used")
            .values(status="available", order_id=None, discount_minor=0, used_at=None, returned_times=Coupon.returned_times + 1)
            .execution_options(synchronize_session=False)
        )
        return returned.rowcount or 0
