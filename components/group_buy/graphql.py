"""Group-buy's GraphQL types: offers and groups, and how they are read. The queries are in
graphql_queries.py, the mutations in graphql_mutations.py, the share page's stream in
graphql_stream.py, the small types and enums in graphql_types.py."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from sqlalchemy import bindparam, func, select

from components.catalog.graphql import Product, Sku
from components.group_buy import models
from components.group_buy.checkout import LIVE_STATES
from components.group_buy.graphql_types import GroupBuyGroupStatus, GroupBuyOfferSku, GroupBuyOfferStatus, GroupBuyReferral
from components.group_buy.service import progress_message
from core.clock import as_utc
from core.gql import Context, Money, Node, money
from core.gql.loaded import loaded
from core.gql.relay import to_global_id
from core.keys_in import keys_in

MANAGE = "group_buy.manage"


@strawberry.type(description="A group-buy offer (拼团活动) on one or several SKUs of a product.")
class GroupBuyOffer(Node):
    status: GroupBuyOfferStatus = strawberry.field(description="The offer's own state (whether it runs now also depends on its window).")
    group_price: Money = strawberry.field(description="The first SKU's group price (see `skus` for each).")
    leader_price: Money | None = strawberry.field(description="团长价: the first SKU's price for the leader; null: none (see leaderDiscount).")
    leader_discount: Money | None = strawberry.field(description="团长优惠: taken off the group price for the leader; null: none.")
    group_size: int = strawberry.field(description="Seats in a group, the leader's included.")
    duration_seconds: int = strawberry.field(
        description='How long a group stays open after its leader pays, in seconds. Inputs take the human form (`duration: "24h"`).'
    )
    starts_at: datetime = strawberry.field(description="When members may start opening groups (ISO 8601 UTC).")
    ends_at: datetime = strawberry.field(description="After this no new group opens; groups already forming run to their deadline (ISO 8601 UTC).")
    per_member_limit: int = strawberry.field(description="Units one member may buy in this offer.")
    total_limit: int = strawberry.field(description="The offer's own quantity (units across its groups).")
    virtual_fill_ratio: float | None = strawberry.field(
        description="An expiring group with at least this share of seats paid is filled with virtual members (0 to 1); null: never."
    )
    show_joinable: bool = strawberry.field(description="The offer page lists open groups a visitor may join (凑团).")
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

    @strawberry.field(description="The product the offer's SKUs belong to; null if the catalog no longer has it.")
    async def product(self, info: strawberry.Info) -> Product | None:
        return await info.context.loader("catalog.products").load(self.product_pk) if self.product_pk else None

    @strawberry.field(description="Units of the offer's own quantity still to sell, all its SKUs together (not held by unpaid orders, not sold).")
    async def stock_left(self, info: strawberry.Info) -> int:
        return await info.context.kernel.service("group_buy").offers.remaining(await info.context.session(), self.pk)

    @strawberry.field(
        description="Units of the offer's own quantity still available (all its SKUs).",
        deprecation_reason="Use stockLeft; removed in the next release.",
    )
    async def remaining(self, info: strawberry.Info) -> int:
        return await self.stock_left(info)

    @strawberry.field(description="Open groups a visitor may join (凑团), when the offer shows them.")
    async def joinable_groups(
        self, info: strawberry.Info, first: Annotated[int, strawberry.argument(description="How many, soonest deadline first; at most 50.")] = 10
    ) -> list[GroupBuyGroup]:
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

    @strawberry.field(
        description="Staff: how many paid joiners each sharer brought in this offer, most first. Null, with an error at its "
        "path, for anyone without group_buy.manage; the rest of the offer still answers."
    )
    async def referrals(
        self, info: strawberry.Info, first: Annotated[int, strawberry.argument(description="How many sharers, at most 100.")] = 20
    ) -> list[GroupBuyReferral] | None:
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
    status: GroupBuyGroupStatus = strawberry.field(description="Where the group is.")
    size: int = strawberry.field(description="Seats in the group, the leader's included.")
    seats_filled: int = strawberry.field(description="Seats taken: paid members and virtual placeholders.")
    seats_left: int = strawberry.field(description="Seats still open (size − seatsFilled).")
    placeholders: int = strawberry.field(description="Seats filled by virtual members when the group expired nearly full.")
    deadline: datetime | None = strawberry.field(description="When the group fails unless full (ISO 8601 UTC); null until the leader pays.")
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

    @strawberry.field(description="The offer the group was opened in.")
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


# The storefront's loaders select tables and their columns, never the mapped classes' attributes:
# one ORM attribute in a statement makes the session run it through the ORM's compile and
# result machinery, which plain rows do not need (measured in bench/profile_storefront.py).
OFFER = models.Offer.__table__
OFFER_SKU = models.OfferSku.__table__
# Built once, executed with the keys and the time as parameters (they run on every storefront page).
OFFERS_OF_SKUS = (
    select(OFFER_SKU.c.sku_id.label("offer_sku_id"), OFFER)
    .join(OFFER, OFFER.c.id == OFFER_SKU.c.offer_id)
    .where(keys_in(OFFER_SKU.c.sku_id, name="keys"), OFFER.c.status == "active", OFFER.c.ends_at > bindparam("now", type_=OFFER.c.ends_at.type))
    .order_by(OFFER.c.id)
)
OFFERS_OF_PRODUCTS = (
    select(OFFER)
    .where(keys_in(OFFER.c.product_id, name="keys"), OFFER.c.status == "active", OFFER.c.ends_at > bindparam("now", type_=OFFER.c.ends_at.type))
    .order_by(OFFER.c.id)
)


async def load_offers_by_sku(ctx: Context, sku_ids: list[int]) -> list[list[GroupBuyOffer]]:
    session = await ctx.session()
    currency = ctx.kernel.blueprint.brand.currency
    now = ctx.kernel.clock.now()
    rows = await session.execute(OFFERS_OF_SKUS, {"keys": sku_ids, "now": now})
    grouped: dict[int, list[GroupBuyOffer]] = {k: [] for k in sku_ids}
    for row in rows.all():
        grouped[row.offer_sku_id].append(offer_node(row, currency))
    return [grouped[k] for k in sku_ids]


async def load_offers_by_product(ctx: Context, product_ids: list[int]) -> list[list[GroupBuyOffer]]:
    session = await ctx.session()
    currency = ctx.kernel.blueprint.brand.currency
    now = ctx.kernel.clock.now()
    rows = await session.execute(OFFERS_OF_PRODUCTS, {"keys": product_ids, "now": now})
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


@loaded("group_buy.offers_by_product", key="pk")
async def product_group_buy_offers(root, info: strawberry.Info) -> list[GroupBuyOffer]:  # noqa: ANN001  (root: catalog's Product)
    """Running and upcoming group-buy offers on this product's SKUs (answered by the loader, core.gql.loaded)."""


@loaded("group_buy.offers_by_sku", key="pk")
async def sku_group_buy_offers(root, info: strawberry.Info) -> list[GroupBuyOffer]:  # noqa: ANN001  (root: catalog's Sku)
    """Running and upcoming group-buy offers of this SKU (answered by the loader, core.gql.loaded)."""
