"""Coupons in GraphQL (thin: the rules are in service.py, checkout.py and rules.py).

Members claim from the claim centre (``couponTemplates``, ``claimCoupon``) and see their own
wallet (``myCoupons``); staff with ``coupons.manage`` make templates and push coupons; the
checkout preview lists each wallet coupon as usable or not, with the reason.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import strawberry
from sqlalchemy import select

from components.coupons import models
from components.orders.graphql import Order
from core.clock import as_utc
from core.gql import Connection, Context, Money, Node, connection, decode_id, fetch_page, money
from core.gql.relay import to_global_id

MANAGE = "coupons.manage"


@strawberry.enum(description="FIXED takes an amount off; PERCENT a percentage, up to a cap.")
class CouponKind(enum.Enum):
    FIXED = "fixed"
    PERCENT = "percent"


@strawberry.enum(description="What a coupon covers; exclusions apply on top.")
class CouponScopeKind(enum.Enum):
    ALL = "all"
    CATEGORIES = "categories"
    PRODUCTS = "products"
    SKUS = "skus"


@strawberry.enum(description="How members get a template's coupons.")
class CouponChannel(enum.Enum):
    CLAIM_CENTRE = "claim_centre"
    PUSH = "push"
    NEW_MEMBER = "new_member"
    ORDER_GIFT = "order_gift"
    LIVE_ROOM = "live_room"


@strawberry.enum(description="A coupon in a wallet: AVAILABLE to use now, USED on an order, EXPIRED, or NOT_YET_VALID.")
class CouponStatus(enum.Enum):
    AVAILABLE = "available"
    USED = "used"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"


SCOPE_TYPES = {"categories": "Category", "products": "Product", "skus": "Sku"}


@strawberry.type(description="Where a coupon applies.")
class CouponScope:
    kind: CouponScopeKind
    ids: list[strawberry.ID] = strawberry.field(description="Categories (with their subcategories), products or SKUs.")
    exclude_product_ids: list[strawberry.ID]
    exclude_sku_ids: list[strawberry.ID]


@strawberry.type(description="A kind of coupon: its value, scope, validity, quantity and channel.")
class CouponTemplate(Node):
    title: str
    kind: CouponKind
    amount_off: Money | None = strawberry.field(description="FIXED: the amount taken off.")
    percent_off: int | None = strawberry.field(description="PERCENT: 15 means 15 % off.")
    cap: Money | None = strawberry.field(description="PERCENT: at most this much off.")
    threshold: Money = strawberry.field(description="The covered lines must add up to this (满 X 可用); zero for none.")
    scope: CouponScope
    combines_with: list[str] = strawberry.field(
        description="Activity components (group_buy, flash_sale, live_room…) whose lines it may discount; plain lines always."
    )
    valid_from: datetime | None
    valid_until: datetime | None
    valid_days: int | None = strawberry.field(description="Valid this many days after it is claimed (instead of dates).")
    total_quantity: int | None = strawberry.field(description="How many exist; null for unlimited.")
    issued: int
    remaining: int | None
    per_member_limit: int
    channel: CouponChannel
    live_room_id: strawberry.ID | None
    gift_minimum: Money = strawberry.field(description="ORDER_GIFT: given for paid orders of at least this.")
    active: bool


@strawberry.type(description="A coupon in a member's wallet.")
class Coupon(Node):
    status: CouponStatus
    source: str = strawberry.field(description="claim, push, new_member, order_gift or live_room.")
    valid_from: datetime
    valid_until: datetime
    discount: Money = strawberry.field(description="What it took off the order it was used on (zero while unused).")
    returned_times: int = strawberry.field(description="How often a cancelled or fully refunded order gave it back.")
    issued_at: datetime
    used_at: datetime | None
    template_pk: strawberry.Private[int]
    order_pk: strawberry.Private[int | None]

    @strawberry.field
    async def template(self, info: strawberry.Info) -> CouponTemplate | None:
        return (await load_templates(info.context, [self.template_pk], everyone=True))[0]

    @strawberry.field(description="The order it was used on.")
    async def order(self, info: strawberry.Info) -> Order | None:
        return await info.context.loader("orders.orders").load(self.order_pk) if self.order_pk else None


@strawberry.type(description="A coupon of the member's wallet as this checkout sees it.")
class CheckoutCoupon:
    coupon: Coupon
    usable: bool
    reason: str | None = strawberry.field(
        description="Why not: EXPIRED, NOT_YET_VALID, OUT_OF_SCOPE, NOT_COMBINABLE, BELOW_THRESHOLD or ZERO_DISCOUNT."
    )
    message: str | None
    discount: Money = strawberry.field(description="What it takes off this checkout (on its own).")
    selected: bool = strawberry.field(description="Named in couponIds and applied.")


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
        remaining=None if row.total_quantity is None else max(0, row.total_quantity - row.issued),
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
        source=row.source,
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
            reason=o["reason"],
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
        description="The claim centre: active templates of a channel (CLAIM_CENTRE by default). Staff with "
        "coupons.manage see every template of the channel with `all: true`."
    )
    async def coupon_templates(
        self,
        info: strawberry.Info,
        first: int | None = 20,
        after: str | None = None,
        channel: CouponChannel = CouponChannel.CLAIM_CENTRE,
        all: bool = False,
    ) -> Connection[CouponTemplate]:  # noqa: A002
        ctx: Context = info.context
        stmt = select(models.Template).where(models.Template.channel == channel.value)
        if not (all and ctx.can(MANAGE)):
            now = ctx.kernel.clock.now()
            stmt = stmt.where(models.Template.active.is_(True), models.Template.valid_until.is_(None) | (models.Template.valid_until > now))
        page = await fetch_page(await ctx.session(), stmt, models.Template.id, first, after, descending=True)
        currency = ctx.kernel.blueprint.brand.currency
        return connection(page, lambda row: template_node(row, currency))

    @strawberry.field
    async def coupon_template(self, info: strawberry.Info, id: strawberry.ID) -> CouponTemplate | None:  # noqa: A002
        return (await load_templates(info.context, [decode_id(id, "CouponTemplate", field="id")]))[0]

    @strawberry.field(description="Member: the coupons in your wallet, newest first; `status` filters.")
    async def my_coupons(
        self, info: strawberry.Info, first: int | None = 20, after: str | None = None, status: CouponStatus | None = None
    ) -> Connection[Coupon]:
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
        page = await fetch_page(await ctx.session(), stmt, C.id, first, after, descending=True)
        currency = ctx.kernel.blueprint.brand.currency
        return connection(page, lambda row: coupon_node(row, currency, now))
