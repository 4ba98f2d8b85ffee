"""Group-buy's queries: running offers (public, like products), one offer, a group by id or share
code, the member's groups, referral counts; and the group an order belongs to (on Order)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from sqlalchemy import select

from components.group_buy import models
from components.group_buy.graphql import MANAGE, GroupBuyGroup, GroupBuyOffer, group_node, load_groups, load_offers, offer_node, referral_counts
from components.group_buy.graphql_types import GroupBuyOfferFilter, GroupBuyOfferWindow, GroupBuyReferral
from core.errors import DomainError
from core.gql import Connection, Context, connection, decode_id, fetch_page
from core.gql.relay import After, Before, First, Last


def offers_statement(ctx: Context, chosen: GroupBuyOfferFilter):  # noqa: ANN201
    """The offers a filter names: active ones, running now (or starting later), on a product or a SKU."""
    now = ctx.kernel.clock.now()
    offer = models.Offer
    stmt = select(offer).where(offer.status == "active", offer.ends_at > now)
    if chosen.window is GroupBuyOfferWindow.RUNNING:
        stmt = stmt.where(offer.starts_at <= now)
    else:
        stmt = stmt.where(offer.starts_at > now)
    if chosen.product_id is not None:
        stmt = stmt.where(offer.product_id == decode_id(chosen.product_id, "Product", field="filter.productId"))
    if chosen.sku_id is not None:
        sku = decode_id(chosen.sku_id, "Sku", field="filter.skuId")
        stmt = stmt.where(offer.id.in_(select(models.OfferSku.offer_id).where(models.OfferSku.sku_id == sku)))
    return stmt


async def load_groups_of_orders(ctx: Context, order_ids: list[int]) -> list[GroupBuyGroup | None]:
    """The group each order opened or joined (one membership per order), in one read per batch."""
    session = await ctx.session()
    rows = await session.execute(select(models.Membership.order_id, models.Membership.group_id).where(models.Membership.order_id.in_(order_ids)))
    group_of = dict(rows.all())
    groups = {group.pk: group for group in await load_groups(ctx, sorted(set(group_of.values()))) if group is not None}
    return [groups.get(group_of[k]) if k in group_of else None for k in order_ids]


async def order_group_buy_group(root, info: strawberry.Info) -> GroupBuyGroup | None:  # noqa: ANN001  (root: orders' Order)
    """The group-buy group the order opened or joined; null for an order outside group-buy."""
    return await info.context.loader("group_buy.groups_of_orders").load(root.pk)


@strawberry.type
class Query:
    @strawberry.field(
        description="Group-buy offers running now (active, inside their window), newest first; public like products. "
        "filter.window UPCOMING lists those starting later instead."
    )
    async def group_buy_offers(
        self,
        info: strawberry.Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        filter: Annotated[  # noqa: A002
            GroupBuyOfferFilter | None, strawberry.argument(description="Which offers; left out: every running offer.")
        ] = None,
    ) -> Connection[GroupBuyOffer]:
        ctx: Context = info.context
        stmt = offers_statement(ctx, filter or GroupBuyOfferFilter())
        page = await fetch_page(await ctx.session(), stmt, models.Offer.id, first, after, last=last, before=before, descending=True)
        currency = ctx.kernel.blueprint.brand.currency
        return connection(page, lambda row: offer_node(row, currency))

    @strawberry.field(description="One offer by its global id (public, whatever its state); null when there is none.")
    async def group_buy_offer(
        self,
        info: strawberry.Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The offer's global id.")],  # noqa: A002
    ) -> GroupBuyOffer | None:
        return (await load_offers(info.context, [decode_id(id, "GroupBuyOffer", field="id")]))[0]

    @strawberry.field(description="A group by id, or by the share code in a share link (public: it is the share page).")
    async def group_buy_group(
        self,
        info: strawberry.Info,
        id: Annotated[strawberry.ID | None, strawberry.argument(description="The group's global id; or give shareCode.")] = None,  # noqa: A002
        share_code: Annotated[
            str | None, strawberry.argument(description="The code in a share link (the group's or a member's myShareCode).")
        ] = None,
    ) -> GroupBuyGroup | None:
        if share_code is not None:
            group, _sharer = await info.context.kernel.service("group_buy").resolve_share_code(await info.context.session(), share_code)
            return group_node(group) if group else None
        if id is None:
            raise DomainError("KERNEL_INVALID_INPUT", "Give id or shareCode.", field="id")
        return (await load_groups(info.context, [decode_id(id, "GroupBuyGroup", field="id")]))[0]

    @strawberry.field(description="The signed-in member's groups, newest first. Null, with an error at its path, when not signed in as a member.")
    async def my_group_buys(
        self, info: strawberry.Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[GroupBuyGroup] | None:
        member_id = info.context.require_member()
        mine = select(models.Membership.group_id).where(models.Membership.member_id == member_id)
        stmt = select(models.Group).where(models.Group.id.in_(mine))
        page = await fetch_page(await info.context.session(), stmt, models.Group.id, first, after, last=last, before=before, descending=True)
        return connection(page, group_node)

    @strawberry.field(
        description="Referral counts (裂变) by offer and sharer, most first. Staff see everyone's; a member sees their own. "
        "Null, with an error at its path, for anyone else."
    )
    async def group_buy_referrals(
        self,
        info: strawberry.Info,
        offer_id: Annotated[strawberry.ID | None, strawberry.argument(description="Only this offer (global id).")] = None,
        member_id: Annotated[strawberry.ID | None, strawberry.argument(description="Only this sharer (a Member id); staff only for others.")] = None,
        first: Annotated[int, strawberry.argument(description="How many rows, at most 100.")] = 20,
    ) -> list[GroupBuyReferral] | None:
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
