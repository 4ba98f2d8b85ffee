"""Member tiers in GraphQL (thin: the rules are in service.py and its modules).

Members read their tier, growth, progress and paid term (``myMemberTier``), their growth
ledger (``myGrowthLedger``), and buy a term through the checkout (``buyMembershipTerm``);
everyone sees the tiers and terms on offer; staff with ``member_tiers.adjust`` read any
member's standing and correct growth with a reason.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated

import strawberry
from sqlalchemy import select

from components.member_tiers import models
from components.member_tiers.rules import Term, Tier, best_benefits, progress
from components.members.graphql import Member
from components.orders.graphql import Order
from core.clock import as_utc
from core.gql import Connection, Context, Money, Node, Payload, connection, decode_id, fetch_page, money, run_mutation
from core.gql.relay import After, Before, First, Last

ADJUST = "member_tiers.adjust"


@strawberry.enum(description="Why a member's growth changed.")
class GrowthEntryReason(enum.Enum):
    ORDER_PAID = strawberry.enum_value("order_paid", description="A paid order line earned growth.")
    ORDER_REFUNDED = strawberry.enum_value("order_refunded", description="A refund of an order line took its growth back.")
    STAFF_ADJUST = strawberry.enum_value("staff_adjust", description="Staff corrected the growth, with a reason.")
    REVIEW = strawberry.enum_value("review", description="A review lowered the tier and trimmed growth below the next threshold.")


@strawberry.type(description="A member tier as the blueprint defines it, lowest first.")
class MemberTier:
    level: int = strawberry.field(description="The tier's rank: 0 is the first tier, everyone's.")
    code: str = strawberry.field(description="The tier's stable name (gold).")
    name: str = strawberry.field(description="The tier as members read it (黄金会员).")
    threshold: int = strawberry.field(description="Growth at which a member is raised to this tier, at once.")
    keep: int = strawberry.field(description="Growth to earn in one review period to keep this tier (0: never lost).")
    discount_percent: int = strawberry.field(description="Member price: percent off plain lines at checkout.")
    points_percent: int = strawberry.field(description="Points earned, in percent of the brand's rate (150 = 1.5×).")


@strawberry.type(description="A paid membership term on sale (付费会员卡).")
class MembershipTerm:
    code: str = strawberry.field(description="The term's stable name, what buyMembershipTerm takes.")
    name: str = strawberry.field(description="The term as members read it.")
    price: Money = strawberry.field(description="What one purchase costs.")
    days: int = strawberry.field(description="How long one purchase lasts; buying again extends the running term.")
    discount_percent: int = strawberry.field(description="Member price while the term runs (the better of tier and term applies).")
    points_percent: int = strawberry.field(description="Points multiplier while the term runs (the better of tier and term applies).")


@strawberry.type(description="A member's running paid term.")
class MemberPaidTerm:
    term: MembershipTerm | None = strawberry.field(description="The term bought last (null if the blueprint no longer sells it).")
    expires_at: datetime = strawberry.field(description="When the term ends, every purchase counted.")


@strawberry.type(description="A member's tier, growth, progress to the next tier, paid term and the benefits in force.")
class MemberTierStatus:
    member_pk: strawberry.Private[int]
    tier: MemberTier = strawberry.field(description="The tier the member holds.")
    growth: int = strawberry.field(description="Growth now: the sum of the member's growth ledger.")
    next_tier: MemberTier | None = strawberry.field(description="The next tier up; null at the top.")
    growth_to_next: int = strawberry.field(
        description="Growth still needed for the next tier (0 at the top or when reached and waiting for nothing)."
    )
    progress_percent: int = strawberry.field(description="How far from this tier's threshold to the next one, 0–100.")
    tier_since: datetime | None = strawberry.field(description="When the member reached this tier.")
    review_at: datetime | None = strawberry.field(description="The next keep-level review; null for the first tier.")
    paid_term: MemberPaidTerm | None = strawberry.field(description="The running paid term, or null.")
    discount_percent: int = strawberry.field(description="The member price in force: the better of tier and term.")
    points_percent: int = strawberry.field(description="The points multiplier in force: the better of tier and term.")

    @strawberry.field(description="The member.")
    async def member(self, info: strawberry.Info) -> Member | None:
        return await info.context.loader("members.members").load(self.member_pk)


@strawberry.type(description="One change of a member's growth (the ledger is append-only).")
class GrowthLedgerEntry(Node):
    delta: int = strawberry.field(description="Growth added (negative: taken back).")
    growth_after: int = strawberry.field(description="The member's growth after this entry.")
    reason: GrowthEntryReason = strawberry.field(description="Why.")
    note: str = strawberry.field(description="What was paid or refunded, or staff's reason.")
    created_at: datetime = strawberry.field(description="When.")
    order_pk: strawberry.Private[int | None]

    @strawberry.field(description="The order whose line earned or lost the growth.")
    async def order(self, info: strawberry.Info) -> Order | None:
        return await info.context.loader("orders.orders").load(self.order_pk) if self.order_pk else None


def tier_node(tier: Tier) -> MemberTier:
    return MemberTier(
        level=tier.index,
        code=tier.code,
        name=tier.name,
        threshold=tier.threshold,
        keep=tier.keep,
        discount_percent=tier.discount_percent,
        points_percent=tier.points_percent,
    )


def term_node(term: Term, currency: str) -> MembershipTerm:
    return MembershipTerm(
        code=term.code,
        name=term.name,
        price=money(term.price_minor, currency),
        days=term.days,
        discount_percent=term.discount_percent,
        points_percent=term.points_percent,
    )


def entry_node(row: models.Entry) -> GrowthLedgerEntry:
    return GrowthLedgerEntry(
        pk=row.id,
        delta=row.delta,
        growth_after=row.growth_after,
        reason=GrowthEntryReason(row.reason),
        note=row.note,
        created_at=as_utc(row.created_at),
        order_pk=row.order_id,
    )


def _service(ctx: Context):  # noqa: ANN202
    return ctx.kernel.service("member_tiers")


async def status_of(ctx: Context, member_id: int) -> MemberTierStatus:
    service = _service(ctx)
    account = await service.account(await ctx.session(), member_id)
    now, currency = ctx.kernel.clock.now(), ctx.kernel.blueprint.brand.currency
    level, growth = (account.tier, account.growth) if account is not None else (0, 0)
    tier = service.tiers[level]
    upcoming, needed, percent = progress(growth, level, service.tiers)
    term = service.running_term(account, now)
    discount, points = best_benefits(tier, term)
    paid = None
    if account is not None and account.term_code and account.term_expires_at and as_utc(account.term_expires_at) > now:
        known = service.terms.get(account.term_code)
        paid = MemberPaidTerm(term=term_node(known, currency) if known else None, expires_at=as_utc(account.term_expires_at))
    return MemberTierStatus(
        member_pk=member_id,
        tier=tier_node(tier),
        growth=growth,
        next_tier=tier_node(upcoming) if upcoming else None,
        growth_to_next=needed,
        progress_percent=percent,
        tier_since=as_utc(account.tier_since) if account is not None and account.tier_since else None,
        review_at=as_utc(account.review_at) if account is not None and account.review_at else None,
        paid_term=paid,
        discount_percent=discount,
        points_percent=points,
    )


async def load_entries(ctx: Context, keys: list[int]) -> list[GrowthLedgerEntry | None]:
    session = await ctx.session()
    rows = {r.id: r for r in (await session.scalars(select(models.Entry).where(models.Entry.id.in_(keys)))).all()}

    def visible(row: models.Entry) -> bool:
        return (ctx.actor.is_member and ctx.actor.id == row.member_id) or ctx.can(ADJUST)

    return [entry_node(rows[k]) if k in rows and visible(rows[k]) else None for k in keys]


# -- queries ----------------------------------------------------------------------------------------
@strawberry.type
class Query:
    @strawberry.field(description="Member: your tier, growth, progress to the next tier, paid term and benefits; null when no member is signed in.")
    async def my_member_tier(self, info: strawberry.Info) -> MemberTierStatus | None:
        return await status_of(info.context, info.context.require_member())

    @strawberry.field(description="Member: your growth ledger, newest first; null when no member is signed in.")
    async def my_growth_ledger(
        self,
        info: strawberry.Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[GrowthLedgerEntry] | None:
        ctx: Context = info.context
        stmt = select(models.Entry).where(models.Entry.member_id == ctx.require_member())
        page = await fetch_page(await ctx.session(), stmt, models.Entry.id, first, after, last=last, before=before, descending=True)
        return connection(page, entry_node)

    @strawberry.field(description="The brand's member tiers, lowest first, with their thresholds and benefits.")
    async def member_tiers(self, info: strawberry.Info) -> list[MemberTier]:
        return [tier_node(t) for t in _service(info.context).tiers]

    @strawberry.field(description="The paid membership terms on sale.")
    async def membership_terms(self, info: strawberry.Info) -> list[MembershipTerm]:
        currency = info.context.kernel.blueprint.brand.currency
        return [term_node(t, currency) for t in _service(info.context).terms.values()]

    @strawberry.field(description="Staff: a member's tier, growth, progress and paid term (member_tiers.adjust).")
    async def member_tier_status(
        self,
        info: strawberry.Info,
        member_id: Annotated[strawberry.ID, strawberry.argument(description="The member (a Member id).")],
    ) -> MemberTierStatus | None:
        ctx: Context = info.context
        ctx.require(ADJUST)
        pk = decode_id(member_id, "Member", field="memberId")
        if await ctx.kernel.service("members").member(await ctx.session(), pk) is None:
            return None
        return await status_of(ctx, pk)


# -- mutations --------------------------------------------------------------------------------------
@strawberry.input(description="Which term to buy.")
class BuyMembershipTermInput:
    term_code: str = strawberry.field(description="The term's code (membershipTerms).")
    idempotency_key: str | None = strawberry.field(default=None, description="A replay returns the first order.")


@strawberry.type(description="The term's order, to pay with payOrder; the term starts when it is paid.")
class BuyMembershipTermPayload(Payload):
    order: Order | None = strawberry.field(default=None, description="The order of kind membership_term, pending payment.")


@strawberry.input(description="A staff correction of a member's growth.")
class AdjustMemberGrowthInput:
    member_id: strawberry.ID = strawberry.field(description="The member.")
    delta: int = strawberry.field(description="Growth to add (negative: to take off; never below zero).")
    reason: str = strawberry.field(description="Why, kept on the ledger (1–200 characters).")
    idempotency_key: str | None = strawberry.field(default=None, description="A replay returns the first result.")


@strawberry.type(description="The member's standing after the correction.")
class AdjustMemberGrowthPayload(Payload):
    status: MemberTierStatus | None = strawberry.field(default=None, description="The member's tier and growth now.")
    entry: GrowthLedgerEntry | None = strawberry.field(default=None, description="The ledger entry written.")


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Member: buy a paid membership term through the checkout; pay the order with payOrder. Buying again extends the running term."
    )
    async def buy_membership_term(
        self, info: strawberry.Info, input: Annotated[BuyMembershipTermInput, strawberry.argument(description="The term to buy.")]
    ) -> BuyMembershipTermPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            return {"orderId": await _service(ctx).buy(tx, ctx.require_member(), input.term_code)}

        result, errors = await run_mutation(ctx, work, idempotency=("member_tiers.buy", input.idempotency_key, [input.term_code]))
        if errors:
            return BuyMembershipTermPayload(user_errors=errors)
        return BuyMembershipTermPayload(order=await ctx.loader("orders.orders").load(result["orderId"]))

    @strawberry.mutation(
        description="Staff: add or take off growth with a reason (member_tiers.adjust). A raise past a "
        "threshold upgrades at once; a cut lowers the tier only at the next review."
    )
    async def adjust_member_growth(
        self, info: strawberry.Info, input: Annotated[AdjustMemberGrowthInput, strawberry.argument(description="The member, the growth and why.")]
    ) -> AdjustMemberGrowthPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require(ADJUST)
            member_id = decode_id(input.member_id, "Member", field="input.memberId")
            entry = await _service(ctx).adjust(tx, member_id, input.delta, input.reason, staff_id=ctx.actor.id)
            return {"memberId": member_id, "entryId": entry.id}

        result, errors = await run_mutation(
            ctx, work, idempotency=("member_tiers.adjust", input.idempotency_key, [str(input.member_id), input.delta, input.reason])
        )
        if errors:
            return AdjustMemberGrowthPayload(user_errors=errors)
        return AdjustMemberGrowthPayload(status=await status_of(ctx, result["memberId"]), entry=(await load_entries(ctx, [result["entryId"]]))[0])
