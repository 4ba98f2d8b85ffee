"""guide_attribution in GraphQL: types and queries (thin: rules live in the service modules).

Members ask who their guide is and touch a channel code; guides see their code, their
customers and their figures; staff with ``guide_attribution.report`` read figures per guide and
per store, leaderboards and idle guides; ``guide_attribution.manage`` prints store codes,
reads any guide's customers and transfers customers.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated, Any

import strawberry

from components.guide_attribution import figures as F
from components.guide_attribution.models import Attribution, Binding
from components.members.graphql import Staff, staff_node
from core.clock import as_utc
from core.errors import DomainError, refuse_both
from core.gql import Connection, Context, Money, connection, decode_id, fetch_page, list_connection, money
from core.gql.relay import After, Before, First, Last, to_global_id

MANAGE = "guide_attribution.manage"
REPORT = "guide_attribution.report"
PLACE_FOR_CUSTOMER = "guide_attribution.place_for_customer"
STORE_TYPE = "PickupStore"


@strawberry.enum(description="How a member came to their guide and store.")
class GuideBindingChannel(enum.Enum):
    GUIDE_CODE = strawberry.enum_value("guide_code", description="Touched a guide's code (poster, QR, share link).")
    STORE_CODE = strawberry.enum_value("store_code", description="Touched a store's code: bound to the store, no guide.")
    MEMBER_CODE = strawberry.enum_value("member_code", description="Touched a sharing member's code: the sharer's guide and store.")
    REGISTRATION = strawberry.enum_value("registration", description="Signed up naming a guide or a store.")
    TRANSFER = strawberry.enum_value("transfer", description="Moved by staff from a guide who left.")


@strawberry.enum(description="The brand's binding rule (settings `binding.mode`).")
class GuideBindingMode(enum.Enum):
    PERMANENT = strawberry.enum_value("permanent", description="The first touch binds for good; only staff move a member.")
    PROTECTED = strawberry.enum_value("protected", description="Protected for protectDays; then another code re-binds.")


@strawberry.enum(description="Why an order is credited where it is: the first rule of the precedence that applies.")
class AttributionReason(enum.Enum):
    GUIDE_PLACED = strawberry.enum_value("guide_placed", description="A guide placed it for the member (代客下单).")
    SHARE_CODE = strawberry.enum_value("share_code", description="The order's own proven share code or guide.")
    LIVE_ROOM_SHARER = strawberry.enum_value("live_room_sharer", description="Whoever the buyer joined the live room through.")
    BOUND_GUIDE = strawberry.enum_value("bound_guide", description="The member's bound guide and store.")
    PICKUP_STORE = strawberry.enum_value("pickup_store", description="The store of pickup (no guide).")
    NONE = strawberry.enum_value("none", description="Nobody: no rule applied.")


@strawberry.enum(description="Whose figures: a guide's or a store's.")
class ChannelHolderKind(enum.Enum):
    GUIDE = strawberry.enum_value("guide", description="A shopping guide (staff).")
    STORE = strawberry.enum_value("store", description="A store.")


@strawberry.enum(description="What a leaderboard ranks by.")
class GuideLeaderboardMetric(enum.Enum):
    MEMBERS_ADDED = strawberry.enum_value("members_added", description="Members bound in the period.")
    ORDERS = strawberry.enum_value("orders", description="Credited orders paid in the period.")
    GMV = strawberry.enum_value("gmv_minor", description="What credited orders paid in the period.")
    NET = strawberry.enum_value("net_minor", description="GMV less the refunds of the period.")


@strawberry.enum(description="Whose channel code it is.")
class ChannelCodeKind(enum.Enum):
    MEMBER = strawberry.enum_value("member", description="A sharing member's share code.")
    GUIDE = strawberry.enum_value("guide", description="A shopping guide's code (一人一码).")
    STORE = strawberry.enum_value("store", description="A store's code (门店码).")


@strawberry.type(description="A channel code and what a QR code carries for it.")
class ChannelCode:
    kind: ChannelCodeKind = strawberry.field(description="Whose code it is.")
    code: str = strawberry.field(
        description="The signed code; send it to touchChannelCode (and, for a member's or guide's code, as source.shareCode on an order)."
    )
    qr_scene: str = strawberry.field(description="The payload of a mini-program QR code (its `scene`, at most 32 characters).")


@strawberry.type(description="A member's guide and store (导购绑定).")
class GuideBinding:
    guide_id: strawberry.ID | None = strawberry.field(description="The guide (a Staff id); null when bound to a store only.")
    pickup_store_id: strawberry.ID | None = strawberry.field(description="The store (a PickupStore id), if any.")
    channel: GuideBindingChannel = strawberry.field(description="How the member was bound.")
    bound_at: datetime = strawberry.field(description="When the binding (or the last re-binding) was made.")
    protected_until: datetime | None = strawberry.field(
        description="PROTECTED mode: until when no other code re-binds; null for a permanent binding."
    )
    guide_pk: strawberry.Private[int | None]

    @strawberry.field(description="The store (a PickupStore id).", deprecation_reason="Use pickupStoreId; removed in the next release.")
    def store_id(self) -> strawberry.ID | None:
        return self.pickup_store_id

    @strawberry.field(description="The guide as a staff record: staff only (members never learn employees' details).")
    async def guide(self, info: strawberry.Info) -> Staff | None:
        from components.members.graphql import load_staff

        return (await load_staff(info.context, [self.guide_pk]))[0] if self.guide_pk else None


@strawberry.type(description="A member bound to a guide.")
class GuideCustomer:
    member_id: strawberry.ID = strawberry.field(description="The member (a Member id).")
    channel: GuideBindingChannel = strawberry.field(description="How they were bound.")
    bound_at: datetime = strawberry.field(description="Since when.")


@strawberry.type(description="Who an order is credited to, and why (written as it was placed).")
class OrderGuideAttribution:
    reason: AttributionReason = strawberry.field(description="The precedence rule that decided.")
    guide_id: strawberry.ID | None = strawberry.field(description="The credited guide (a Staff id).")
    pickup_store_id: strawberry.ID | None = strawberry.field(description="The credited store (a PickupStore id).")
    sharer_member_id: strawberry.ID | None = strawberry.field(description="The credited sharing member (a Member id).")
    refunded: Money = strawberry.field(description="What refunds took off the credited figures so far.")

    @strawberry.field(description="The credited store (a PickupStore id).", deprecation_reason="Use pickupStoreId; removed in the next release.")
    def store_id(self) -> strawberry.ID | None:
        return self.pickup_store_id


@strawberry.type(description="A guide's or a store's figures over a period.")
class ChannelFigures:
    holder_kind: ChannelHolderKind = strawberry.field(description="A guide or a store.")
    holder_id: strawberry.ID = strawberry.field(description="The guide (Staff id) or the store (PickupStore id).")
    members_added: int = strawberry.field(description="Members bound to it in the period (first touches and re-bindings).")
    orders: int = strawberry.field(description="Credited orders paid in the period.")
    gmv: Money = strawberry.field(description="What those orders paid.")
    refunds: Money = strawberry.field(description="Refunds of credited orders made in the period.")
    net: Money = strawberry.field(description="GMV less refunds.")


@strawberry.type(description="One place of a leaderboard.")
class GuideLeaderboardEntry:
    rank: int = strawberry.field(description="1 for the first place; ties are ranked by the lower id.")
    figures: ChannelFigures = strawberry.field(description="The holder's figures.")


@strawberry.type(description="The brand's binding rules (blueprint settings).")
class GuideBindingRules:
    mode: GuideBindingMode = strawberry.field(description="PERMANENT or PROTECTED.")
    protect_days: int | None = strawberry.field(description="PROTECTED: days a binding is protected; null when permanent.")


# -- arguments shared by the report fields ---------------------------------------------------------
From = Annotated[
    date | None, strawberry.argument(name="from", description="First day (brand's calendar), inclusive; default: the first of this month.")
]
To = Annotated[date | None, strawberry.argument(description="Last day, inclusive; default: today.")]
Kind = Annotated[ChannelHolderKind, strawberry.argument(description="Guides' or stores' figures.")]
MetricArg = Annotated[GuideLeaderboardMetric, strawberry.argument(description="What to rank by.")]
PickupStoreArg = Annotated[
    strawberry.ID | None, strawberry.argument(description="The store (a PickupStore id); required unless the deprecated storeId is given.")
]
StoreArg = Annotated[
    strawberry.ID | None,
    strawberry.argument(description="The store (a PickupStore id).", deprecation_reason="Use pickupStoreId; removed in the next release."),
]
GuideArg = Annotated[strawberry.ID, strawberry.argument(description="The guide (a Staff id).")]


# -- building nodes -----------------------------------------------------------------------------------
def _gid(type_name: str, pk: int | None) -> strawberry.ID | None:
    return strawberry.ID(to_global_id(type_name, pk)) if pk is not None else None


def binding_node(row: Binding) -> GuideBinding:
    return GuideBinding(
        guide_id=_gid("Staff", row.guide_id),
        pickup_store_id=_gid(STORE_TYPE, row.store_id),
        channel=GuideBindingChannel(row.channel),
        bound_at=as_utc(row.bound_at),
        protected_until=as_utc(row.protected_until) if row.protected_until else None,
        guide_pk=row.guide_id,
    )


def figures_node(f: F.Figures, currency: str) -> ChannelFigures:
    return ChannelFigures(
        holder_kind=ChannelHolderKind(f.holder_kind),
        holder_id=strawberry.ID(to_global_id("Staff" if f.holder_kind == F.GUIDE else STORE_TYPE, f.holder_id)),
        members_added=f.members_added,
        orders=f.orders,
        gmv=money(f.gmv_minor, currency),
        refunds=money(f.refunds_minor, currency),
        net=money(f.net_minor, currency),
    )


def _service(ctx: Context) -> Any:
    return ctx.kernel.service("guide_attribution")


def _period(ctx: Context, start: date | None, end: date | None) -> tuple[date, date]:
    """Defaults: the current calendar month of the brand, up to today."""
    today = _service(ctx).today()
    return (start or today.replace(day=1)), (end or today)


def _one_store(pickup_store_id: strawberry.ID | None, store_id: strawberry.ID | None) -> int:
    """The store named by ``pickupStoreId`` or by the deprecated ``storeId``: exactly one of them."""
    refuse_both(pickup_store_id, store_id, new_name="pickupStoreId", old_name="storeId", field="storeId")
    if pickup_store_id is None and store_id is None:
        raise DomainError("KERNEL_INVALID_INPUT", "Name the store with pickupStoreId.", field="pickupStoreId")
    if pickup_store_id is not None:
        return decode_id(pickup_store_id, STORE_TYPE, field="pickupStoreId")
    return decode_id(store_id, STORE_TYPE, field="storeId")


async def order_attribution(root: Any, info: strawberry.Info) -> OrderGuideAttribution | None:
    """``Order.guideAttribution``: whoever may see the order sees whom it is credited to."""
    return await attribution_node(info.context, root.pk)


async def attribution_node(ctx: Context, order_id: int) -> OrderGuideAttribution | None:
    row: Attribution | None = await _service(ctx).crediting.of_order(await ctx.session(), order_id)
    if row is None:
        return None
    return OrderGuideAttribution(
        reason=AttributionReason(row.reason),
        guide_id=_gid("Staff", row.guide_id),
        pickup_store_id=_gid(STORE_TYPE, row.store_id),
        sharer_member_id=_gid("Member", row.sharer_member_id),
        refunded=money(row.refunded_minor or 0, ctx.kernel.blueprint.brand.currency),
    )


@strawberry.type
class Query:
    @strawberry.field(description="Member: your guide and store (导购), or null while you are bound to none.")
    async def my_guide(self, info: strawberry.Info) -> GuideBinding | None:
        ctx: Context = info.context
        row = await _service(ctx).bindings.of_member(await ctx.session(), ctx.require_member())
        return binding_node(row) if row is not None else None

    @strawberry.field(
        description="Your channel code with its QR payload: a member's share code, or a guide's own "
        "(staff with the guide role); null for other staff."
    )
    async def my_channel_code(self, info: strawberry.Info) -> ChannelCode | None:
        ctx: Context = info.context
        codes, session = ctx.kernel.service("members.share_codes"), await ctx.session()
        if ctx.actor.is_member and ctx.actor.id is not None:
            code = await codes.issue_for_member(session, ctx.actor.id)
            return ChannelCode(kind=ChannelCodeKind.MEMBER, code=code, qr_scene=code)
        staff = ctx.require_staff()
        if staff.id is not None and await codes.is_active_guide(session, staff.id):
            code = await codes.issue_for_guide(session, staff.id)
            return ChannelCode(kind=ChannelCodeKind.GUIDE, code=code, qr_scene=code)
        return None

    @strawberry.field(description="Staff (guide_attribution.manage): a store's channel code, e.g. for the poster at its till; null when refused.")
    async def store_channel_code(
        self, info: strawberry.Info, pickup_store_id: PickupStoreArg = None, store_id: StoreArg = None
    ) -> ChannelCode | None:
        ctx: Context = info.context
        ctx.require(MANAGE)
        store = _one_store(pickup_store_id, store_id)
        bindings = _service(ctx).bindings
        if store not in await bindings.existing_stores(await ctx.session(), [store]):
            raise DomainError("KERNEL_NOT_FOUND", "No such store.", field="storeId")
        code = bindings.store_code(store)
        return ChannelCode(kind=ChannelCodeKind.STORE, code=code, qr_scene=code)

    @strawberry.field(description="Guide: the members bound to you, by member id; null for a caller who is not staff.")
    async def my_guide_customers(
        self, info: strawberry.Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[GuideCustomer] | None:
        ctx: Context = info.context
        return await _customers(ctx, ctx.require_staff().id, first, after, last, before)

    @strawberry.field(description="Staff (guide_attribution.manage): the members bound to a guide, by member id; null when refused.")
    async def guide_customers(
        self, info: strawberry.Info, guide_id: GuideArg, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[GuideCustomer] | None:
        ctx: Context = info.context
        ctx.require(MANAGE)
        return await _customers(ctx, decode_id(guide_id, "Staff", field="guideId"), first, after, last, before)

    @strawberry.field(description="Staff: the brand's binding rules; null for a caller who is not staff.")
    async def guide_binding_rules(self, info: strawberry.Info) -> GuideBindingRules | None:
        ctx: Context = info.context
        ctx.require_staff()
        rules = _service(ctx).rules
        return GuideBindingRules(mode=GuideBindingMode(rules.mode), protect_days=rules.protect_days if rules.mode == "protected" else None)

    @strawberry.field(
        description="Guide: your own figures over a period (default: this month so far, brand's calendar); null for a caller who is not staff."
    )
    async def my_guide_figures(self, info: strawberry.Info, from_: From = None, to: To = None) -> ChannelFigures | None:
        ctx: Context = info.context
        staff = ctx.require_staff()
        start, end = _period(ctx, from_, to)
        found = await F.of_holder(await ctx.session(), F.GUIDE, int(staff.id or 0), start, end)
        return figures_node(found, ctx.kernel.blueprint.brand.currency)

    @strawberry.field(
        description="Staff (guide_attribution.report): every guide's or store's figures over a period, by id (only those with a "
        "figure in it); null when refused."
    )
    async def guide_figures(
        self,
        info: strawberry.Info,
        holder_kind: Kind,
        from_: From = None,
        to: To = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[ChannelFigures] | None:
        ctx: Context = info.context
        ctx.require(REPORT)
        start, end = _period(ctx, from_, to)
        kind = holder_kind.value
        stmt = F.period_statement(kind, start, end)
        page = await fetch_page(await ctx.session(), stmt, F.HOLDER, first, after, last=last, before=before)
        currency = ctx.kernel.blueprint.brand.currency
        return connection(page, lambda row: figures_node(F.figures_of(kind, row), currency), key=lambda row: int(row[0]))

    @strawberry.field(description="Staff (guide_attribution.report): the top guides or stores of a period by a metric; null when refused.")
    async def guide_leaderboard(
        self,
        info: strawberry.Info,
        holder_kind: Kind,
        metric: MetricArg,
        from_: From = None,
        to: To = None,
        first: Annotated[int, strawberry.argument(description="Places, 1 to 100.")] = 10,
    ) -> list[GuideLeaderboardEntry] | None:
        ctx: Context = info.context
        ctx.require(REPORT)
        start, end = _period(ctx, from_, to)
        rows = await F.leaderboard(await ctx.session(), holder_kind.value, metric.value, start, end, first)
        currency = ctx.kernel.blueprint.brand.currency
        return [GuideLeaderboardEntry(rank=i + 1, figures=figures_node(f, currency)) for i, f in enumerate(rows)]

    @strawberry.field(description="Staff (guide_attribution.report): active guides who added no member in the period, by id; null when refused.")
    async def idle_guides(
        self,
        info: strawberry.Info,
        from_: From = None,
        to: To = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Staff] | None:
        ctx: Context = info.context
        ctx.require(REPORT)
        start, end = _period(ctx, from_, to)
        # Computed in memory (guides with no figure in the period): cursors are positions in the list.
        idle = await _service(ctx).idle_guides(await ctx.session(), start, end)
        return list_connection(idle, staff_node, first, after, last, before)


async def _customers(
    ctx: Context, guide_id: Any, first: int | None, after: str | None, last: int | None, before: str | None
) -> Connection[GuideCustomer]:
    stmt = Binding.__table__.select().where(Binding.guide_id == guide_id)
    page = await fetch_page(await ctx.session(), stmt, Binding.member_id, first, after, last=last, before=before)
    return connection(
        page,
        lambda r: GuideCustomer(
            member_id=strawberry.ID(to_global_id("Member", r.member_id)), channel=GuideBindingChannel(r.channel), bound_at=as_utc(r.bound_at)
        ),
        key=lambda r: r.member_id,
    )
