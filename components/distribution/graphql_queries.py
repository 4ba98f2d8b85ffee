"""Distribution in GraphQL: the root queries (thin: rules are in the service's parts).

Member-only and staff-only root fields are nullable: a refused caller gets null with an error
at that field's path, and the rest of the page still renders.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from sqlalchemy import select

from components.distribution import models
from components.distribution.graphql import (
    MANAGE,
    CommissionStatus,
    DistributionReport,
    Promoter,
    PromoterCommission,
    PromoterCommissionRule,
    PromoterCustomer,
    PromoterLedgerEntry,
    PromoterRank,
    PromoterStatus,
    PromoterWithdrawal,
    PromoterWithdrawalStatus,
    _id,
    _my_promoter_id,
    _utc,
    commission_node,
    entry_node,
    promoter_node,
    rule_node,
    withdrawal_node,
)
from core.clock import as_utc
from core.gql import Connection, Context, connection, fetch_page, money
from core.gql.relay import After, Before, First, Last


async def _mine(ctx: Context, model: Any, to_node: Any, where: tuple, *page: Any) -> Connection[Any]:
    """The signed-in member's own rows of a promoter-owned table, newest first (empty for a member
    who is no promoter)."""
    first, after, last, before = page
    stmt = select(model).where(model.promoter_id == await _my_promoter_id(ctx), *where)
    found = await fetch_page(await ctx.session(), stmt, model.id, first, after, last=last, before=before, descending=True)
    currency = ctx.kernel.blueprint.brand.currency
    return connection(found, lambda r: to_node(r, currency))


async def _staff_list(ctx: Context, model: Any, to_node: Any, status: Any, *page: Any) -> Connection[Any]:
    """Staff (distribution.manage): every row of a table, newest first, optionally of one status."""
    ctx.require(MANAGE)
    first, after, last, before = page
    stmt = select(model) if status is None else select(model).where(model.status == status.value)
    found = await fetch_page(await ctx.session(), stmt, model.id, first, after, last=last, before=before, descending=True)
    currency = ctx.kernel.blueprint.brand.currency
    return connection(found, lambda r: to_node(r, currency))


@strawberry.type
class Query:
    @strawberry.field(description="Member: your promoter record (null if you never applied).")
    async def my_promoter(self, info: strawberry.Info) -> Promoter | None:
        ctx: Context = info.context
        member_id = ctx.require_member()
        row = await (await ctx.session()).scalar(select(models.Promoter).where(models.Promoter.member_id == member_id))
        return promoter_node(row, ctx.kernel.blueprint.brand.currency) if row is not None else None

    @strawberry.field(description="Member: the members bound to you, newest first; null when no member is signed in.")
    async def my_customers(
        self, info: strawberry.Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[PromoterCustomer] | None:
        ctx: Context = info.context
        member_id = ctx.require_member()
        B = models.Binding
        page = await fetch_page(
            await ctx.session(), select(B).where(B.promoter_member_id == member_id), B.id, first, after, last=last, before=before, descending=True
        )
        return connection(
            page, lambda r: PromoterCustomer(member_id=_id("Member", r.member_id), bound_at=as_utc(r.bound_at), expires_at=_utc(r.expires_at))
        )

    @strawberry.field(description="Member: your commission per order line, newest first; `status` filters; null when no member is signed in.")
    async def my_commissions(
        self,
        info: strawberry.Info,
        first: First = None,
        after: After = None,
        status: Annotated[CommissionStatus | None, strawberry.argument(description="Only commission in this state; null for all.")] = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[PromoterCommission] | None:
        where = () if status is None else (models.Commission.status == status.value,)
        return await _mine(info.context, models.Commission, commission_node, where, first, after, last, before)

    @strawberry.field(description="Member: your commission ledger, newest first (the balances are its sums); null when no member is signed in.")
    async def my_commission_ledger(
        self, info: strawberry.Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[PromoterLedgerEntry] | None:
        return await _mine(info.context, models.Entry, entry_node, (), first, after, last, before)

    @strawberry.field(description="Member: your withdrawal requests, newest first; null when no member is signed in.")
    async def my_withdrawals(
        self, info: strawberry.Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[PromoterWithdrawal] | None:
        return await _mine(info.context, models.Withdrawal, withdrawal_node, (), first, after, last, before)

    @strawberry.field(description="Staff (distribution.manage): promoters and applications, newest first; `status` filters; null when refused.")
    async def promoters(
        self,
        info: strawberry.Info,
        first: First = None,
        after: After = None,
        status: Annotated[PromoterStatus | None, strawberry.argument(description="Only promoters in this state; null for all.")] = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Promoter] | None:
        return await _staff_list(info.context, models.Promoter, promoter_node, status, first, after, last, before)

    @strawberry.field(description="Staff (distribution.manage): withdrawal requests, newest first; null when refused.")
    async def promoter_withdrawals(
        self,
        info: strawberry.Info,
        first: First = None,
        after: After = None,
        status: Annotated[
            PromoterWithdrawalStatus | None,
            strawberry.argument(description="Only requests in this state (REQUESTED: the review queue); null for all."),
        ] = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[PromoterWithdrawal] | None:
        return await _staff_list(info.context, models.Withdrawal, withdrawal_node, status, first, after, last, before)

    @strawberry.field(description="Staff (distribution.manage): the per-SKU commission rules, oldest first; null when refused.")
    async def commission_rules(
        self, info: strawberry.Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[PromoterCommissionRule] | None:
        ctx: Context = info.context
        ctx.require(MANAGE)
        page = await fetch_page(await ctx.session(), select(models.Rule), models.Rule.id, first, after, last=last, before=before)
        return connection(page, rule_node)

    @strawberry.field(
        description="Promoters ranked by sales this calendar month (brand timezone), or the month "
        "containing `at`. Members see ranks and sales, and their own promoter; staff see every promoter; null for a visitor."
    )
    async def promoter_leaderboard(
        self,
        info: strawberry.Info,
        first: Annotated[int | None, strawberry.argument(description="Places to show (default 10).")] = 10,
        at: Annotated[datetime | None, strawberry.argument(description="Any moment of the month to rank (ISO 8601); default: now.")] = None,
    ) -> list[PromoterRank] | None:
        ctx: Context = info.context
        if not (ctx.actor.is_member or ctx.can(MANAGE)):
            ctx.require_member()
        service = ctx.kernel.service("distribution")
        since, until = service.reports.month(at or ctx.kernel.clock.now())
        session = await ctx.session()
        rows = await service.reports.leaderboard(session, since=since, until=until, limit=first or 10)
        currency = ctx.kernel.blueprint.brand.currency
        me = ctx.actor.id if ctx.actor.is_member else None
        staff = ctx.can(MANAGE)
        return [
            PromoterRank(
                rank=i + 1,
                sales=money(sales, currency),
                is_me=p.member_id == me,
                promoter=promoter_node(p, currency) if staff or p.member_id == me else None,
            )
            for i, (p, sales) in enumerate(rows)
        ]

    @strawberry.field(description="Staff (distribution.manage): brand-wide distribution figures; null when refused.")
    async def distribution_report(self, info: strawberry.Info) -> DistributionReport | None:
        ctx: Context = info.context
        ctx.require(MANAGE)
        data = await ctx.kernel.service("distribution").reports.totals(await ctx.session())
        currency = ctx.kernel.blueprint.brand.currency
        return DistributionReport(
            active_promoters=data["active"],
            pending_applications=data["pending"],
            frozen=money(data["frozen"], currency),
            available=money(data["available"], currency),
            withdrawn=money(data["withdrawn"], currency),
            pending_withdrawals=money(data["pendingWithdrawals"], currency),
        )
