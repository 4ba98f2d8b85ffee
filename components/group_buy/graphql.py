"""Group-buy's GraphQL surface: offers, groups, share-code joins, the share page's stream."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import AsyncGenerator

import strawberry
from sqlalchemy import func, select

from components.catalog.graphql import Product, Sku
from components.group_buy import models
from components.group_buy.checkout import ACTIVITY, LIVE_STATES
from components.group_buy.service import channel, progress_message
from core.clock import as_utc
from core.errors import DomainError
from core.gql import Connection, Context, Money, Node, connection, decode_id, fetch_page, money
from core.gql.relay import to_global_id
from core.gql.stream import StreamPosition, no_position, snapshot_position, stream_position

MANAGE = "group_buy.manage"


@strawberry.enum
class GroupBuyGroupStatus(enum.Enum):
    FORMING = "forming"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@strawberry.enum
class GroupBuyOfferStatus(enum.Enum):
    ACTIVE = "active"
    ENDED = "ended"
    WITHDRAWN = "withdrawn"


@strawberry.type(description="One SKU of an offer with its own group price.")
class GroupBuyOfferSku:
    group_price: Money
    leader_price: Money | None
    quantity: int = strawberry.field(description="This SKU's own quantity in the offer.")
    sku_pk: strawberry.Private[int]
    offer_pk: strawberry.Private[int]

    @strawberry.field
    async def sku(self, info: strawberry.Info) -> Sku | None:
        return await info.context.loader("catalog.skus").load(self.sku_pk)

    @strawberry.field(description="Units of this SKU's quantity still available.")
    async def remaining(self, info: strawberry.Info) -> int:
        return await info.context.kernel.service("inventory").activity_left(await info.context.session(), ACTIVITY, str(self.offer_pk), self.sku_pk)


@strawberry.type(description="How many paid joiners a member brought into an offer through their share links (裂变).")
class GroupBuyReferral:
    offer_id: strawberry.ID
    member_id: strawberry.ID
    joins: int


@strawberry.type(description="A group-buy offer (拼团活动) on one or several SKUs of a product.")
class GroupBuyOffer(Node):
    status: GroupBuyOfferStatus
    group_price: Money = strawberry.field(description="The first SKU's group price (see `skus` for each).")
    leader_price: Money | None
    leader_discount: Money | None
    group_size: int
    duration_seconds: int
    starts_at: datetime
    ends_at: datetime
    per_member_limit: int
    total_limit: int
    virtual_fill_ratio: float | None
    show_joinable: bool
    sku_pk: strawberry.Private[int]
    product_pk: strawberry.Private[int | None]

    @strawberry.field(description="The offer's first SKU (see `skus` for all).")
    async def sku(self, info: strawberry.Info) -> Sku | None:
        return await info.context.loader("catalog.skus").load(self.sku_pk)

    @strawberry.field(description="Every SKU of the offer with its own group price.")
    async def skus(self, info: strawberry.Info) -> list[GroupBuyOfferSku]:
        ctx: Context = info.context
        currency = ctx.kernel.blueprint.brand.currency
        rows = await ctx.kernel.service("group_buy").offers.skus(await ctx.session(), self.pk)
        return [
            GroupBuyOfferSku(
                group_price=money(r.group_price_minor, currency),
                leader_price=money(r.leader_price_minor, currency) if r.leader_price_minor is not None else None,
                quantity=r.quantity,
                sku_pk=r.sku_id,
                offer_pk=r.offer_id,
            )
            for r in rows
        ]

    @strawberry.field
    async def product(self, info: strawberry.Info) -> Product | None:
        return await info.context.loader("catalog.products").load(self.product_pk) if self.product_pk else None

    @strawberry.field(description="Units of the offer's own quantity still available (all its SKUs).")
    async def remaining(self, info: strawberry.Info) -> int:
        return await info.context.kernel.service("group_buy").offers.remaining(await info.context.session(), self.pk)

    @strawberry.field(description="Open groups a visitor may join (凑团), when the offer shows them.")
    async def joinable_groups(self, info: strawberry.Info, first: int = 10) -> list[GroupBuyGroup]:
        if not self.show_joinable:
            return []
        session = await info.context.session()
        rows = await session.scalars(
            select(models.Group)
            .where(
                models.Group.offer_id == self.pk,
                models.Group.status == "forming",
                models.Group.deadline_at > info.context.kernel.clock.now(),
                models.Group.paid_seats < models.Group.size,
            )
            .order_by(models.Group.deadline_at)
            .limit(max(0, min(first, 50)))
        )
        return [group_node(r) for r in rows.all()]

    @strawberry.field(description="Staff: how many paid joiners each sharer brought in this offer, most first.")
    async def referrals(self, info: strawberry.Info, first: int = 20) -> list[GroupBuyReferral]:
        info.context.require(MANAGE)
        return await referral_counts(info.context, offer_id=self.pk, member_id=None, first=first)

    @strawberry.field(description="The signed-in member's paid joiners in this offer (0 when signed out).")
    async def my_referrals(self, info: strawberry.Info) -> int:
        actor = info.context.actor
        if not actor.is_member:
            return 0
        rows = await referral_counts(info.context, offer_id=self.pk, member_id=actor.id, first=1)
        return rows[0].joins if rows else 0


@strawberry.type(description="A group: its seats, deadline and share code.")
class GroupBuyGroup(Node):
    status: GroupBuyGroupStatus
    size: int
    seats_filled: int
    seats_left: int
    placeholders: int
    deadline: datetime | None
    code: strawberry.Private[str | None]  # None when built from a stream message (read on demand)
    offer_pk: strawberry.Private[int]

    async def _code(self, info: strawberry.Info) -> str | None:
        if self.code is not None:
            return self.code
        session = await info.context.session()
        return await session.scalar(select(models.Group.share_code).where(models.Group.id == self.pk))

    @strawberry.field(
        description="The group's link code (its leader's), for the group's members and staff only (null for "
        "anyone else: codes are the key to joining); members share their own `myShareCode`."
    )
    async def share_code(self, info: strawberry.Info) -> str | None:
        actor = info.context.actor
        if actor.is_staff:
            return await self._code(info)
        if not actor.is_member:
            return None
        session = await info.context.session()
        member = await session.scalar(
            select(models.Membership.id).where(models.Membership.group_id == self.pk, models.Membership.member_id == actor.id).limit(1)
        )
        return await self._code(info) if member is not None else None

    @strawberry.field
    async def offer(self, info: strawberry.Info) -> GroupBuyOffer | None:
        return (await load_offers(info.context, [self.offer_pk]))[0]

    @strawberry.field(description="The signed-in member's own share code for this group: joins through it count as their referrals.")
    async def my_share_code(self, info: strawberry.Info) -> str | None:
        actor = info.context.actor
        if not actor.is_member:
            return None
        session = await info.context.session()
        return await session.scalar(
            select(models.Membership.share_code)
            .where(models.Membership.group_id == self.pk, models.Membership.member_id == actor.id, models.Membership.state.in_(LIVE_STATES))
            .limit(1)
        )


@strawberry.type(description="One change on a group's share page.")
class GroupBuyProgress:
    group: GroupBuyGroup = strawberry.field(description="The group as it stands now: the node a normalised client cache merges by its `id`.")
    group_id: strawberry.ID = strawberry.field(deprecation_reason="Use `group { id }`.", description="The group's global id.")
    status: GroupBuyGroupStatus = strawberry.field(deprecation_reason="Use `group { status }`.", description="The group's status.")
    seats_filled: int = strawberry.field(deprecation_reason="Use `group { seatsFilled }`.", description="Seats taken (paid and placeholders).")
    seats_left: int = strawberry.field(deprecation_reason="Use `group { seatsLeft }`.", description="Seats still open.")
    deadline: datetime | None = strawberry.field(deprecation_reason="Use `group { deadline }`.", description="When the group fails unless full.")
    stream: StreamPosition = strawberry.field(default_factory=no_position, description="Where this payload stands in the live stream.")


def offer_node(row: models.Offer, currency: str) -> GroupBuyOffer:
    return GroupBuyOffer(
        pk=row.id,
        status=GroupBuyOfferStatus(row.status),
        group_price=money(row.group_price_minor, currency),
        leader_price=money(row.leader_price_minor, currency) if row.leader_price_minor is not None else None,
        leader_discount=money(row.leader_discount_minor, currency) if row.leader_discount_minor is not None else None,
        group_size=row.group_size,
        duration_seconds=row.duration_seconds,
        starts_at=as_utc(row.starts_at),
        ends_at=as_utc(row.ends_at),
        per_member_limit=row.per_member_limit,
        total_limit=row.total_limit,
        virtual_fill_ratio=row.virtual_fill_ratio,
        show_joinable=row.show_joinable,
        sku_pk=row.sku_id,
        product_pk=row.product_id,
    )


def group_node(row: models.Group) -> GroupBuyGroup:
    node = group_from_message(progress_message(row))
    node.code = row.share_code
    return node


def group_from_message(data: dict) -> GroupBuyGroup:
    """The group node from its channel message: the query and the stream build it the same way."""
    return GroupBuyGroup(
        pk=data["groupId"],
        status=GroupBuyGroupStatus(data["status"]),
        size=data["size"],
        seats_filled=data["seatsFilled"],
        seats_left=data["seatsLeft"],
        placeholders=data["placeholders"],
        deadline=datetime.fromisoformat(data["deadline"]) if data["deadline"] else None,
        code=None,
        offer_pk=data["offerId"],
    )


def progress_node(data: dict) -> GroupBuyProgress:
    group = group_from_message(data)
    return GroupBuyProgress(
        group=group,
        group_id=strawberry.ID(to_global_id("GroupBuyGroup", data["groupId"])),
        status=group.status,
        seats_filled=group.seats_filled,
        seats_left=group.seats_left,
        deadline=group.deadline,
    )


async def load_offers(ctx: Context, keys: list[int]) -> list[GroupBuyOffer | None]:
    session = await ctx.session()
    currency = ctx.kernel.blueprint.brand.currency
    rows = {r.id: r for r in (await session.scalars(select(models.Offer).where(models.Offer.id.in_(keys)))).all()}
    return [offer_node(rows[k], currency) if k in rows else None for k in keys]


async def load_groups(ctx: Context, keys: list[int]) -> list[GroupBuyGroup | None]:
    """Groups are public by design: the share page shows seats and deadline to anyone."""
    session = await ctx.session()
    rows = {r.id: r for r in (await session.scalars(select(models.Group).where(models.Group.id.in_(keys)))).all()}
    return [group_node(rows[k]) if k in rows else None for k in keys]


async def load_offers_by_sku(ctx: Context, sku_ids: list[int]) -> list[list[GroupBuyOffer]]:
    session = await ctx.session()
    currency = ctx.kernel.blueprint.brand.currency
    now = ctx.kernel.clock.now()
    rows = await session.execute(
        select(models.OfferSku.sku_id.label("offer_sku_id"), models.Offer.__table__)
        .join(models.Offer, models.Offer.id == models.OfferSku.offer_id)
        .where(models.OfferSku.sku_id.in_(sku_ids), models.Offer.status == "active", models.Offer.ends_at > now)
        .order_by(models.Offer.id)
    )
    grouped: dict[int, list[GroupBuyOffer]] = {k: [] for k in sku_ids}
    for row in rows.all():
        grouped[row.offer_sku_id].append(offer_node(row, currency))
    return [grouped[k] for k in sku_ids]


async def load_offers_by_product(ctx: Context, product_ids: list[int]) -> list[list[GroupBuyOffer]]:
    session = await ctx.session()
    currency = ctx.kernel.blueprint.brand.currency
    now = ctx.kernel.clock.now()
    rows = await session.execute(
        select(models.Offer.__table__)
        .where(models.Offer.product_id.in_(product_ids), models.Offer.status == "active", models.Offer.ends_at > now)
        .order_by(models.Offer.id)
    )
    grouped: dict[int, list[GroupBuyOffer]] = {k: [] for k in product_ids}
    for row in rows.all():
        grouped[row.product_id].append(offer_node(row, currency))
    return [grouped[k] for k in product_ids]


async def referral_counts(ctx: Context, *, offer_id: int | None, member_id: int | None, first: int) -> list[GroupBuyReferral]:
    """Paid joiners per (offer, sharer): only seated joins count, so unpaid or refunded ones
    cannot inflate a sharer's number."""
    m = models.Membership
    stmt = (
        select(m.offer_id, m.shared_by_member_id, func.count())
        .where(m.shared_by_member_id.is_not(None), m.state == "seated")
        .group_by(m.offer_id, m.shared_by_member_id)
        .order_by(func.count().desc(), m.offer_id, m.shared_by_member_id)
        .limit(max(1, min(first, 100)))
    )
    if offer_id is not None:
        stmt = stmt.where(m.offer_id == offer_id)
    if member_id is not None:
        stmt = stmt.where(m.shared_by_member_id == member_id)
    rows = await (await ctx.session()).execute(stmt)
    return [
        GroupBuyReferral(offer_id=strawberry.ID(to_global_id("GroupBuyOffer", o)), member_id=strawberry.ID(to_global_id("Member", s)), joins=n)
        for o, s, n in rows.all()
    ]


async def product_group_buy_offers(root, info: strawberry.Info) -> list[GroupBuyOffer]:  # noqa: ANN001  (root: catalog's Product)
    """Running and upcoming group-buy offers on this product's SKUs."""
    return await info.context.loader("group_buy.offers_by_product").load(root.pk)


async def sku_group_buy_offers(root, info: strawberry.Info) -> list[GroupBuyOffer]:  # noqa: ANN001  (root: catalog's Sku)
    """Running and upcoming group-buy offers of this SKU."""
    return await info.context.loader("group_buy.offers_by_sku").load(root.pk)


@strawberry.type
class Query:
    @strawberry.field
    async def group_buy_offer(self, info: strawberry.Info, id: strawberry.ID) -> GroupBuyOffer | None:  # noqa: A002
        return (await load_offers(info.context, [decode_id(id, "GroupBuyOffer", field="id")]))[0]

    @strawberry.field(description="A group by id, or by the share code in a share link (public: it is the share page).")
    async def group_buy_group(
        self,
        info: strawberry.Info,
        id: strawberry.ID | None = None,  # noqa: A002
        share_code: str | None = None,
    ) -> GroupBuyGroup | None:
        if share_code is not None:
            group, _sharer = await info.context.kernel.service("group_buy").resolve_share_code(await info.context.session(), share_code)
            return group_node(group) if group else None
        if id is None:
            raise DomainError("KERNEL_INVALID_INPUT", "Give id or shareCode.", field="id")
        return (await load_groups(info.context, [decode_id(id, "GroupBuyGroup", field="id")]))[0]

    @strawberry.field(description="The signed-in member's groups, newest first.")
    async def my_group_buys(self, info: strawberry.Info, first: int | None = 20, after: str | None = None) -> Connection[GroupBuyGroup]:
        member_id = info.context.require_member()
        mine = select(models.Membership.group_id).where(models.Membership.member_id == member_id)
        stmt = select(models.Group).where(models.Group.id.in_(mine))
        page = await fetch_page(await info.context.session(), stmt, models.Group.id, first, after, descending=True)
        return connection(page, group_node)

    @strawberry.field(description="Referral counts (裂变) by offer and sharer. Staff see everyone's; a member sees their own.")
    async def group_buy_referrals(
        self, info: strawberry.Info, offer_id: strawberry.ID | None = None, member_id: strawberry.ID | None = None, first: int = 20
    ) -> list[GroupBuyReferral]:
        ctx: Context = info.context
        offer = decode_id(offer_id, "GroupBuyOffer", field="offerId") if offer_id else None
        if ctx.actor.is_member:
            member = ctx.actor.id
            if member_id is not None and decode_id(member_id, "Member", field="memberId") != member:
                ctx.require(MANAGE)  # a member may not read someone else's counts
        else:
            ctx.require(MANAGE)
            member = decode_id(member_id, "Member", field="memberId") if member_id else None
        return await referral_counts(ctx, offer_id=offer, member_id=member, first=first)


@strawberry.input(description="A checkout line bought in a group-buy (拼团).")
class GroupBuyLineInput:
    offer_id: strawberry.ID = strawberry.field(description="The offer; alone, the buyer opens a group and leads it.")
    share_code: str | None = strawberry.field(
        default=None, description="From a share link (the group's code or a member's myShareCode): join that group."
    )


@strawberry.type
class Subscription:
    @strawberry.subscription(description="A group's seats and status as they change (the share page).")
    async def group_buy_progress(self, info: strawberry.Info, group_id: strawberry.ID) -> AsyncGenerator[GroupBuyProgress, None]:
        ctx: Context = info.context
        pk = decode_id(group_id, "GroupBuyGroup", field="groupId")
        async with ctx.kernel.broadcast.subscribe(channel(pk)) as messages:
            async with ctx.kernel.db.read() as session:
                row = await session.get(models.Group, pk)
            if row is None:
                return
            snapshot = progress_node(progress_message(row))  # the state now, then every change
            snapshot.stream = snapshot_position(ctx.kernel.broadcast, channel(pk))
            yield snapshot
            if row.status != "forming":
                return
            async for message in messages:
                progress = progress_node(message)
                progress.stream = stream_position(message)
                yield progress
                if message["status"] != "forming":
                    return
