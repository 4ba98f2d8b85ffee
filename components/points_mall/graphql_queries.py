"""Points and the mall in GraphQL: the root queries (thin: the rules are in service.py).

Member-only and staff-only root fields are nullable: a refused caller gets null with an error
at that field's path, and the rest of the page still renders (the schema's one error model).
"""

from __future__ import annotations

from typing import Annotated

import strawberry
from sqlalchemy import select

from components.points_mall import models
from components.points_mall.graphql import (
    ADJUST,
    MANAGE,
    PointsBalance,
    PointsLedgerEntry,
    PointsMallItem,
    PointsRedemption,
    balance_of,
    item_node,
    load_items,
    redemption_node,
)
from core.gql import Connection, Context, connection, decode_id, fetch_page
from core.gql.relay import After, Before, First, Last


@strawberry.type
class Query:
    @strawberry.field(description="The signed-in member's points; null with an error when no member is signed in.")
    async def my_points(self, info: strawberry.Info) -> PointsBalance | None:
        return await balance_of(info.context, info.context.require_member())

    @strawberry.field(description="The signed-in member's ledger, newest first: every change explained; null when no member is signed in.")
    async def my_points_ledger(
        self, info: strawberry.Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[PointsLedgerEntry] | None:
        balance = PointsBalance(balance=0, tier=0, check_in_streak=0, checked_in_today=False, member_pk=info.context.require_member())
        return await balance.ledger(info, first, after, last, before)

    @strawberry.field(description="The signed-in member's redemptions, newest first; null when no member is signed in.")
    async def my_points_redemptions(
        self, info: strawberry.Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[PointsRedemption] | None:
        ctx: Context = info.context
        stmt = select(models.Redemption).where(models.Redemption.member_id == ctx.require_member())
        page = await fetch_page(await ctx.session(), stmt, models.Redemption.id, first, after, last=last, before=before, descending=True)
        currency = ctx.kernel.blueprint.brand.currency
        return connection(page, lambda row: redemption_node(row, currency))

    @strawberry.field(description="Staff (points_mall.adjust): a member's points (and, through `ledger`, their history); null when refused.")
    async def member_points(
        self, info: strawberry.Info, member_id: Annotated[strawberry.ID, strawberry.argument(description="The member (a Member id).")]
    ) -> PointsBalance | None:
        info.context.require(ADJUST)
        return await balance_of(info.context, decode_id(member_id, "Member", field="memberId"))

    @strawberry.field(
        description="Mall items on offer now and later, oldest first (staff with points_mall.manage also see "
        "inactive and ended items with `all: true`)."
    )
    async def points_mall_items(
        self,
        info: strawberry.Info,
        first: First = None,
        after: After = None,
        all: Annotated[
            bool, strawberry.argument(description="Staff (points_mall.manage): include inactive and ended items; ignored for others.")
        ] = False,  # noqa: A002
        last: Last = None,
        before: Before = None,
    ) -> Connection[PointsMallItem]:
        ctx: Context = info.context
        stmt = select(models.Item)
        if not (all and ctx.can(MANAGE)):
            now = ctx.kernel.clock.now()
            stmt = stmt.where(models.Item.active.is_(True), (models.Item.ends_at.is_(None)) | (models.Item.ends_at > now))
        page = await fetch_page(await ctx.session(), stmt, models.Item.id, first, after, last=last, before=before)
        currency = ctx.kernel.blueprint.brand.currency
        return connection(page, lambda row: item_node(row, currency))

    @strawberry.field(description="One mall item by id; null if there is none or it is inactive (staff with points_mall.manage see those too).")
    async def points_mall_item(
        self,
        info: strawberry.Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The item (a PointsMallItem id).")],  # noqa: A002
    ) -> PointsMallItem | None:
        return (await load_items(info.context, [decode_id(id, "PointsMallItem", field="id")]))[0]
