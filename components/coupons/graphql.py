"""Coupons in GraphQL (thin: the rules are in service.py, checkout.py and rules.py).

Members claim from the claim centre (``couponTemplates``, ``claimCoupon``) and see their own
wallet (``myCoupons``); staff with ``coupons.manage`` make templates and push coupons; the
checkout preview lists each wallet coupon as usable or not, with the reason.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated, Any

import strawberry
from sqlalchemy import select

from components.coupons import models
from components.orders.graphql import Order
from core.clock import as_utc
from core.gql import Connection, Context, Money, Node, connection, decode_id, fetch_page, money
from core.gql.relay import After, Before, First, Last, to_global_id

MANAGE = "coupons.manage"


@strawberry.enum(description="FIXED takes an amount off; PERCENT a percentage, up to a cap.")
class CouponKind(enum.Enum):
    FIXED = strawberry.enum_value("fixed", description="A fixed amount off (amountOff).")
    PERCENT = strawberry.enum_value("percent", description="A percentage off (percentOff), at most cap.")


@strawberry.enum(description="What a coupon covers; exclusions apply on top.")
class CouponScopeKind(enum.Enum):
    ALL = strawberry.enum_value("all", description="Every line of the order.")
    CATEGORIES = strawberry.enum_value("categories", description="Lines of products in these categories (and their subcategories).")
    PRODUCTS = strawberry.enum_value("products", description="Lines of these products.")
    SKUS = strawberry.enum_value("skus", description="Lines of these SKUs.")


@strawberry.enum(description="How members get a template's coupons.")
class CouponChannel(enum.Enum):
    CLAIM_CENTRE = strawberry.enum_value("claim_centre", description="Members claim it themselves in the claim centre.")
    PUSH = strawberry.enum_value("push", description="Staff push it to chosen members.")
    NEW_MEMBER = strawberry.enum_value("new_member", description="Given to every member who joins.")
    ORDER_GIFT = strawberry.enum_value("order_gift", description="Given for a paid order of at least giftMinimum.")
    LIVE_ROOM = strawberry.enum_value("live_room", description="Claimed in a live room while it is live.")


@strawberry.enum(description="A coupon in a wallet: AVAILABLE to use now, USED on an order, EXPIRED, or NOT_YET_VALID.")
class CouponStatus(enum.Enum):
    AVAILABLE = strawberry.enum_value("available", description="Usable now.")
    USED = strawberry.enum_value("used", description="Used on an order.")
    EXPIRED = strawberry.enum_value("expired", description="Past its validUntil, unused.")
    NOT_YET_VALID = strawberry.enum_value("not_yet_valid", description="Held, but its validFrom is still ahead.")


@strawberry.enum(description="How a coupon came into a member's wallet.")
class CouponSource(enum.Enum):
    CLAIM = strawberry.enum_value("claim", description="The member claimed it in the claim centre.")
    PUSH = strawberry.enum_value("push", description="Staff pushed it to the member.")
    NEW_MEMBER = strawberry.enum_value("new_member", description="Given when the member joined.")
    ORDER_GIFT = strawberry.enum_value("order_gift", description="Given for a paid order.")
    LIVE_ROOM = strawberry.enum_value("live_room", description="Claimed in a live room.")


@strawberry.enum(description="Why a wallet coupon cannot be used on a checkout.")
class CouponUnusableReason(enum.Enum):
    EXPIRED = strawberry.enum_value("EXPIRED", description="It has expired.")
    NOT_YET_VALID = strawberry.enum_value("NOT_YET_VALID", description="It is not valid yet.")
    USED = strawberry.enum_value("USED", description="It was used on another order.")
    OUT_OF_SCOPE = strawberry.enum_value("OUT_OF_SCOPE", description="Nothing in the order is covered by it.")
    NOT_COMBINABLE = strawberry.enum_value("NOT_COMBINABLE", description="The covered lines belong to an activity it does not combine with.")
    BELOW_THRESHOLD = strawberry.enum_value("BELOW_THRESHOLD", description="The covered lines do not reach its threshold.")
    ZERO_DISCOUNT = strawberry.enum_value("ZERO_DISCOUNT", description="The covered lines cost nothing.")


SCOPE_TYPES = {"categories": "Category", "products": "Product", "skus": "Sku"}


@strawberry.type(description="Where a coupon applies.")
class CouponScope:
    kind: CouponScopeKind = strawberry.field(description="What kind of thing the ids name.")
    ids: list[strawberry.ID] = strawberry.field(description="Categories (with their subcategories), products or SKUs.")
    exclude_product_ids: list[strawberry.ID] = strawberry.field(description="Products never covered, whatever the kind (Product ids).")
    exclude_sku_ids: list[strawberry.ID] = strawberry.field(description="SKUs never covered, whatever the kind (Sku ids).")


@strawberry.type(description="A kind of coupon: its value, scope, validity, quantity and channel.")
class CouponTemplate(Node):
    title: str = strawberry.field(description="The coupon's name as members see it.")
    kind: CouponKind = strawberry.field(description="Fixed amount or percentage.")
    amount_off: Money | None = strawberry.field(description="FIXED: the amount taken off.")
    percent_off: int | None = strawberry.field(description="PERCENT: 15 means 15 % off.")
    cap: Money | None = strawberry.field(description="PERCENT: at most this much off.")
    threshold: Money = strawberry.field(description="The covered lines must add up to this (满 X 可用); zero for none.")
    scope: CouponScope = strawberry.field(description="Which lines it covers.")
    combines_with: list[str] = strawberry.field(
        description="Activity components (group_buy, flash_sale, live_room…) whose lines it may discount; plain lines always."
    )
    valid_from: datetime | None = strawberry.field(description="Date-based validity: usable from (ISO 8601, UTC); null with validDays.")
    valid_until: datetime | None = strawberry.field(description="Date-based validity: usable until (ISO 8601, UTC); also when claiming ends.")
    valid_days: int | None = strawberry.field(description="Valid this many days after it is claimed (instead of dates).")
    total_quantity: int | None = strawberry.field(description="How many exist; null for unlimited.")
    issued: int = strawberry.field(description="Coupons given out so far.")
    coupons_left: int | None = strawberry.field(description="Coupons still to give out; null when the quantity is unlimited.")
    per_member_limit: int = strawberry.field(description="Most coupons of this template one member may hold.")
    channel: CouponChannel = strawberry.field(description="How members get it.")
    live_room_id: strawberry.ID | None = strawberry.field(description="LIVE_ROOM: the room (a LiveRoom id); null otherwise.")
    gift_minimum: Money = strawberry.field(description="ORDER_GIFT: given for paid orders of at least this.")
    active: bool = strawberry.field(description="Whether it is still given out (coupons already held stay valid).")

    @strawberry.field(description="Coupons still to give out.", deprecation_reason="Use couponsLeft; removed in the next release.")
    def remaining(self) -> int | None:
        return self.coupons_left


@strawberry.type(description="A coupon in a member's wallet.")
class Coupon(Node):
    status: CouponStatus = strawberry.field(description="Where the coupon stands now.")
    issued_via: CouponSource = strawberry.field(description="How the coupon came into the wallet.")
    valid_from: datetime = strawberry.field(description="Usable from (ISO 8601, UTC).")
    valid_until: datetime = strawberry.field(description="Usable until (ISO 8601, UTC).")
    discount: Money = strawberry.field(description="What it took off the order it was used on (zero while unused).")
    returned_times: int = strawberry.field(description="How often a cancelled or fully refunded order gave it back.")
    issued_at: datetime = strawberry.field(description="When the member got it (ISO 8601, UTC).")
    used_at: datetime | None = strawberry.field(description="When it was used (ISO 8601, UTC); null while unused.")
    template_pk: strawberry.Private[int]
    order_pk: strawberry.Private[int | None]

    @strawberry.field(
        description="claim, push, new_member, order_gift or live_room.", deprecation_reason="Use issuedVia; removed in the next release."
    )
    def source(self) -> str:
        return self.issued_via.value

    @strawberry.field(description="The template it was issued from (shown even when the template is no longer given out).")
    async def template(self, info: strawberry.Info) -> CouponTemplate | None:
        return (await load_templates(info.context, [self.template_pk], everyone=True))[0]

    @strawberry.field(description="The order it was used on; null while unused.")
    async def order(self, info: strawberry.Info) -> Order | None:
        return await info.context.loader("orders.orders").load(self.order_pk) if self.order_pk else None


@strawberry.type(description="A coupon of the member's wallet as this checkout sees it.")
class CheckoutCoupon:
    coupon: Coupon = strawberry.field(description="The wallet coupon.")
    usable: bool = strawberry.field(description="Whether it can be applied to this checkout.")
    unusable_reason: CouponUnusableReason | None = strawberry.field(description="Why it cannot be used here; null when usable.")
    message: str | None = strawberry.field(description="The reason in words, for display; null when usable.")
    discount: Money = strawberry.field(description="What it takes off this checkout (on its own).")
    selected: bool = strawberry.field(description="Named in couponIds and applied.")

    @strawberry.field(
        description="Why not: EXPIRED, NOT_YET_VALID, OUT_OF_SCOPE, NOT_COMBINABLE, BELOW_THRESHOLD or ZERO_DISCOUNT.",
        deprecation_reason="Use unusableReason; removed in the next release.",
    )
    def reason(self) -> str | None:
        return self.unusable_reason.value if self.unusable_reason else None


def _utc(value: datetime | None) -> datetime | None:
    return as_utc(value) if value is not None else None


def template_node(row: models.Template, currency: str) -> CouponTemplate:
    scope = row.scope or {}
    kind = scope.get("kind", "all")
    return CouponTemplate(
        pk=row.id,
        title=row.title,
        kind=CouponKind(row.kind),
        amount_off=money(row.amount_minor, currency) if row.kind == "fixed" else None,
        percent_off=row.percent_off if row.kind == "percent" else None,
        cap=money(row.cap_minor, currency) if row.cap_minor is not None else None,
        threshold=money(row.threshold_minor or 0, currency),
        scope=CouponScope(
            kind=CouponScopeKind(kind),
            ids=[strawberry.ID(to_global_id(SCOPE_TYPES[kind], i)) for i in scope.get("ids", ())] if kind != "all" else [],
            exclude_product_ids=[strawberry.ID(to_global_id("Product", i)) for i in scope.get("excludeProductIds", ())],
            exclude_sku_ids=[strawberry.ID(to_global_id("Sku", i)) for i in scope.get("excludeSkuIds", ())],
        ),
        combines_with=list(row.combines_with or ()),
        valid_from=_utc(row.valid_from),
        valid_until=_utc(row.valid_until),
        valid_days=row.valid_days,
        total_quantity=row.total_quantity,
        issued=row.issued,
        coupons_left=None if row.total_quantity is None else max(0, row.total_quantity - row.issued),
        per_member_limit=row.per_member_limit,
        channel=CouponChannel(row.channel),
        live_room_id=strawberry.ID(to_global_id("LiveRoom", row.live_room_id)) if row.live_room_id else None,
        gift_minimum=money(row.gift_min_minor or 0, currency),
        active=row.active,
    )


def coupon_status(row: models.Coupon, now: datetime) -> CouponStatus:
    if row.status == "used":
        return CouponStatus.USED
    if now >= as_utc(row.valid_until):
        return CouponStatus.EXPIRED
    if now < as_utc(row.valid_from):
        return CouponStatus.NOT_YET_VALID
    return CouponStatus.AVAILABLE


def coupon_node(row: models.Coupon, currency: str, now: datetime) -> Coupon:
    return Coupon(
        pk=row.id,
        status=coupon_status(row, now),
        issued_via=CouponSource(row.source),
        valid_from=as_utc(row.valid_from),
        valid_until=as_utc(row.valid_until),
        discount=money(row.discount_minor or 0, currency),
        returned_times=row.returned_times or 0,
        issued_at=as_utc(row.issued_at),
        used_at=_utc(row.used_at),
        template_pk=row.template_id,
        order_pk=row.order_id,
    )


async def load_templates(ctx: Context, keys: list[int], *, everyone: bool = False) -> list[CouponTemplate | None]:
    """Active templates are public (the claim centre); inactive ones are the managers' — or
    shown through a coupon its owner holds (``everyone``)."""
    session = await ctx.session()
    currency = ctx.kernel.blueprint.brand.currency
    rows = {r.id: r for r in (await session.scalars(select(models.Template).where(models.Template.id.in_(keys)))).all()}
    return [template_node(rows[k], currency) if k in rows and (everyone or rows[k].active or ctx.can(MANAGE)) else None for k in keys]


async def load_coupons(ctx: Context, keys: list[int]) -> list[Coupon | None]:
    session = await ctx.session()
    currency, now = ctx.kernel.blueprint.brand.currency, ctx.kernel.clock.now()
    rows = {r.id: r for r in (await session.scalars(select(models.Coupon).where(models.Coupon.id.in_(keys)))).all()}

    def visible(row: models.Coupon) -> bool:
        return (ctx.actor.is_member and ctx.actor.id == row.member_id) or ctx.can(MANAGE)

    return [coupon_node(rows[k], currency, now) if k in rows and visible(rows[k]) else None for k in keys]


async def preview_coupons(root: Any, info: strawberry.Info) -> list[CheckoutCoupon]:
    """``CheckoutPreview.coupons``: the member's wallet as this checkout sees it."""
    ctx: Context = info.context
    draft = getattr(root, "draft", None)
    if draft is None:
        return []
    currency, now = ctx.kernel.blueprint.brand.currency, ctx.kernel.clock.now()
    options = await ctx.kernel.service("coupons").checkout.options(await ctx.session(), ctx.kernel, draft)
    return [
        CheckoutCoupon(
            coupon=coupon_node(o["coupon"], currency, now),
            usable=o["usable"],
            unusable_reason=CouponUnusableReason(o["reason"]) if o["reason"] else None,
            message=o["message"],
            discount=money(o["discountMinor"], currency),
            selected=o["selected"],
        )
        for o in options
    ]


# -- queries ------------------------------------------------------------------------------------------


@strawberry.type
class Query:
    @strawberry.field(
        description="The claim centre: active templates of a channel (CLAIM_CENTRE by default), newest first. Staff with "
        "coupons.manage see every template of the channel with `all: true`."
    )
    async def coupon_templates(
        self,
        info: strawberry.Info,
        first: First = None,
        after: After = None,
        channel: Annotated[CouponChannel, strawberry.argument(description="Which channel's templates.")] = CouponChannel.CLAIM_CENTRE,
        all: Annotated[bool, strawberry.argument(description="Staff (coupons.manage): include inactive and ended templates.")] = False,  # noqa: A002
        last: Last = None,
        before: Before = None,
    ) -> Connection[CouponTemplate]:
        ctx: Context = info.context
        stmt = select(models.Template).where(models.Template.channel == channel.value)
        if not (all and ctx.can(MANAGE)):
            now = ctx.kernel.clock.now()
            stmt = stmt.where(models.Template.active.is_(True), models.Template.valid_until.is_(None) | (models.Template.valid_until > now))
        page = await fetch_page(await ctx.session(), stmt, models.Template.id, first, after, last=last, before=before, descending=True)
        currency = ctx.kernel.blueprint.brand.currency
        return connection(page, lambda row: template_node(row, currency))

    @strawberry.field(description="One template by id; null if there is none or it is inactive (managers see those too).")
    async def coupon_template(
        self,
        info: strawberry.Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The template (a CouponTemplate id).")],  # noqa: A002
    ) -> CouponTemplate | None:
        return (await load_templates(info.context, [decode_id(id, "CouponTemplate", field="id")]))[0]

    @strawberry.field(
        description="Member: the coupons in your wallet, newest first; `status` filters. Null with an error when no member is signed in."
    )
    async def my_coupons(
        self,
        info: strawberry.Info,
        first: First = None,
        after: After = None,
        status: Annotated[CouponStatus | None, strawberry.argument(description="Only coupons in this state; null for all.")] = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Coupon] | None:
        ctx: Context = info.context
        now = ctx.kernel.clock.now()
        C = models.Coupon
        stmt = select(C).where(C.member_id == ctx.require_member())
        if status is CouponStatus.USED:
            stmt = stmt.where(C.status == "used")
        elif status is CouponStatus.EXPIRED:
            stmt = stmt.where(C.status == "available", C.valid_until <= now)
        elif status is CouponStatus.NOT_YET_VALID:
            stmt = stmt.where(C.status == "available", C.valid_from > now)
        elif status is CouponStatus.AVAILABLE:
            stmt = stmt.where(C.status == "available", C.valid_from <= now, C.valid_until > now)
        page = await fetch_page(await ctx.session(), stmt, C.id, first, after, last=last, before=before, descending=True)
        currency = ctx.kernel.blueprint.brand.currency
        return connection(page, lambda row: coupon_node(row, currency, now))
