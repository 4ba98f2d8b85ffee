"""Distribution in GraphQL: types and queries (thin: rules are in the service's parts).
Mutations are in graphql_mutations.py."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry
from sqlalchemy import select

from components.distribution import models
from core.clock import as_utc
from core.gql import Context, Money, Node, money
from core.gql.relay import to_global_id

MANAGE = "distribution.manage"


@strawberry.enum(description="Where a promoter stands.")
class PromoterStatus(enum.Enum):
    PENDING = strawberry.enum_value("pending", description="Applied; waiting for staff review.")
    ACTIVE = strawberry.enum_value("active", description="Earning commission on bound customers' orders.")
    REJECTED = strawberry.enum_value("rejected", description="Staff turned the application down; may apply again.")


@strawberry.enum(description="A line's commission: FROZEN until the after-sale window ends, then SETTLED.")
class CommissionStatus(enum.Enum):
    FROZEN = strawberry.enum_value("frozen", description="Waiting until the line can no longer be refunded.")
    SETTLED = strawberry.enum_value("settled", description="In the available balance (a later refund claws it back).")
    CANCELLED = strawberry.enum_value("cancelled", description="Refunded before it settled; nothing left.")


@strawberry.enum(description="How a commission rule counts.")
class CommissionRuleKind(enum.Enum):
    PERCENT = strawberry.enum_value("percent", description="Basis points of what the line was paid (500 = 5 %).")
    FIXED = strawberry.enum_value("fixed", description="A fixed amount per unit bought, at most what the line was paid.")


@strawberry.enum(description="Which balance a ledger entry moves.")
class CommissionLedgerBucket(enum.Enum):
    FROZEN = strawberry.enum_value("frozen", description="Commission not yet withdrawable.")
    AVAILABLE = strawberry.enum_value("available", description="Commission that may be withdrawn (may be negative).")


@strawberry.enum(description="Why a ledger entry was written.")
class CommissionLedgerEntryKind(enum.Enum):
    COMMISSION = strawberry.enum_value("commission", description="A paid line earned commission (frozen).")
    CANCELLED = strawberry.enum_value("cancelled", description="A refund before settling lowered frozen commission.")
    SETTLED = strawberry.enum_value("settled", description="The after-sale window passed: frozen moved to available.")
    CLAWBACK = strawberry.enum_value("clawback", description="A refund after settling took commission back.")
    WITHDRAWAL = strawberry.enum_value("withdrawal", description="A withdrawal request took the amount.")
    WITHDRAWAL_REJECTED = strawberry.enum_value("withdrawal_rejected", description="Staff rejected it: the amount came back.")
    WITHDRAWAL_FAILED = strawberry.enum_value("withdrawal_failed", description="The payout failed: the amount came back.")


@strawberry.enum(description="Where a withdrawal stands.")
class PromoterWithdrawalStatus(enum.Enum):
    REQUESTED = strawberry.enum_value("requested", description="Waiting for staff review.")
    PAYING = strawberry.enum_value("paying", description="Approved; the payout provider has not answered yet.")
    PAID = strawberry.enum_value("paid", description="The money was paid out.")
    REJECTED = strawberry.enum_value("rejected", description="Staff rejected it; the amount is back in the balance.")
    FAILED = strawberry.enum_value("failed", description="The payout failed; the amount is back in the balance.")


@strawberry.type(description="A member who sells for commission (销售员), with balances and standing.")
class Promoter(Node):
    status: PromoterStatus = strawberry.field(description="Pending, active or rejected.")
    member_id: strawberry.ID = strawberry.field(description="The member behind the promoter.")
    rejection_reason: str | None = strawberry.field(description="Why staff rejected the application.")
    frozen: Money = strawberry.field(description="Commission waiting for the after-sale window.")
    available: Money = strawberry.field(description="Commission that may be withdrawn; negative after a clawback.")
    withdrawn: Money = strawberry.field(description="Paid out so far (after fees).")
    applied_at: datetime = strawberry.field(description="When they applied.")
    decided_at: datetime | None = strawberry.field(description="When they became active or were rejected.")
    row: strawberry.Private[models.Promoter]

    @strawberry.field(description="Sales, tier, this month's target and customers.")
    async def standing(self, info: strawberry.Info) -> PromoterStanding:
        ctx: Context = info.context
        data = await ctx.kernel.service("distribution").reports.standing(await ctx.session(), self.row, ctx.kernel.clock.now())
        currency = ctx.kernel.blueprint.brand.currency
        return PromoterStanding(
            lifetime_sales=money(data["lifetime"], currency),
            month_sales=money(data["month"], currency),
            tier=data["tier"],
            monthly_target=money(data["target"], currency),
            target_reached=data["reached"],
            customers=data["customers"],
        )


@strawberry.type(description="A promoter's sales and tier.")
class PromoterStanding:
    lifetime_sales: Money = strawberry.field(description="What level-one customers paid, net of refunds, ever.")
    month_sales: Money = strawberry.field(description="The same in the current calendar month (brand timezone).")
    tier: str | None = strawberry.field(description="The highest tier the lifetime sales reach (the brand's tiers).")
    monthly_target: Money = strawberry.field(description="The tier's monthly sales target (zero: none).")
    target_reached: bool = strawberry.field(description="This month's sales reached the target.")
    customers: int = strawberry.field(description="Members bound to this promoter.")


@strawberry.type(description="A member bound to a promoter (a customer).")
class PromoterCustomer:
    member_id: strawberry.ID = strawberry.field(description="The customer.")
    bound_at: datetime = strawberry.field(description="When the binding was made (or last moved).")
    expires_at: datetime | None = strawberry.field(description="Time-limited binding: when it lapses.")


@strawberry.type(description="One order line's commission at one level.")
class PromoterCommission(Node):
    status: CommissionStatus = strawberry.field(description="Frozen, settled or cancelled.")
    level: int = strawberry.field(description="1: the buyer's own promoter; 2: that promoter's promoter.")
    order_id: strawberry.ID = strawberry.field(description="The order.")
    order_line_id: strawberry.ID = strawberry.field(description="The order line.")
    sku_id: strawberry.ID = strawberry.field(description="What was bought.")
    paid: Money = strawberry.field(description="What the line was paid (after discounts and points).")
    refunded: Money = strawberry.field(description="What of it was refunded.")
    amount: Money = strawberry.field(description="The commission as it stands now.")
    created_at: datetime = strawberry.field(description="When the line was paid.")
    settled_at: datetime | None = strawberry.field(description="When it moved to the available balance.")


@strawberry.type(description="One append-only ledger entry; the balances are their sums.")
class PromoterLedgerEntry(Node):
    bucket: CommissionLedgerBucket = strawberry.field(description="Which balance it moves.")
    kind: CommissionLedgerEntryKind = strawberry.field(description="Why it was written.")
    amount: Money = strawberry.field(description="Signed: positive adds to the balance.")
    created_at: datetime = strawberry.field(description="When.")


@strawberry.type(description="A promoter's request to be paid commission.")
class PromoterWithdrawal(Node):
    status: PromoterWithdrawalStatus = strawberry.field(description="Where it stands.")
    promoter_id: strawberry.ID = strawberry.field(description="Who asked.")
    amount: Money = strawberry.field(description="Taken from the available balance.")
    fee: Money = strawberry.field(description="The brand's fee.")
    payout: Money = strawberry.field(description="What reaches the promoter: amount − fee.")
    provider: str | None = strawberry.field(description="The payout provider (sandbox, wechat_pay).")
    reason: str | None = strawberry.field(description="Why staff rejected it.")
    requested_at: datetime = strawberry.field(description="When it was asked for.")
    decided_at: datetime | None = strawberry.field(description="When staff or the provider decided.")


@strawberry.type(description="A SKU's commission at one level (SKUs without one earn the brand default).")
class PromoterCommissionRule(Node):
    sku_id: strawberry.ID = strawberry.field(description="The SKU.")
    level: int = strawberry.field(description="1 or 2.")
    kind: CommissionRuleKind = strawberry.field(description="Percent or fixed.")
    value: int = strawberry.field(description="Basis points (PERCENT) or minor units per unit (FIXED).")


@strawberry.type(description="One row of a sales leaderboard.")
class PromoterRank:
    rank: int = strawberry.field(description="1 is the top seller.")
    sales: Money = strawberry.field(description="Sales in the period.")
    is_me: bool = strawberry.field(description="This row is the signed-in member's.")
    promoter: Promoter | None = strawberry.field(description="The promoter (staff, or the member's own row).")


@strawberry.type(description="Brand-wide distribution figures.")
class DistributionReport:
    active_promoters: int = strawberry.field(description="Promoters who are active.")
    pending_applications: int = strawberry.field(description="Applications waiting for review.")
    frozen: Money = strawberry.field(description="Commission frozen across promoters.")
    available: Money = strawberry.field(description="Commission available across promoters.")
    withdrawn: Money = strawberry.field(description="Paid out so far.")
    pending_withdrawals: Money = strawberry.field(description="Requested or paying, not yet decided.")


def _id(type_name: str, pk: int) -> strawberry.ID:
    return strawberry.ID(to_global_id(type_name, pk))


def _utc(value: datetime | None) -> datetime | None:
    return as_utc(value) if value is not None else None


def promoter_node(row: models.Promoter, currency: str) -> Promoter:
    return Promoter(
        pk=row.id,
        status=PromoterStatus(row.status),
        member_id=_id("Member", row.member_id),
        rejection_reason=row.reason,
        frozen=money(row.frozen_minor, currency),
        available=money(row.available_minor, currency),
        withdrawn=money(row.withdrawn_minor, currency),
        applied_at=as_utc(row.applied_at),
        decided_at=_utc(row.decided_at),
        row=row,
    )


def commission_node(row: models.Commission, currency: str) -> PromoterCommission:
    return PromoterCommission(
        pk=row.id,
        status=CommissionStatus(row.status),
        level=row.level,
        order_id=_id("Order", row.order_id),
        order_line_id=_id("OrderLine", row.order_line_id),
        sku_id=_id("Sku", row.sku_id),
        paid=money(row.paid_minor, currency),
        refunded=money(row.refunded_minor, currency),
        amount=money(row.amount_minor, currency),
        created_at=as_utc(row.created_at),
        settled_at=_utc(row.settled_at),
    )


def entry_node(row: models.Entry, currency: str) -> PromoterLedgerEntry:
    return PromoterLedgerEntry(
        pk=row.id,
        bucket=CommissionLedgerBucket(row.bucket),
        kind=CommissionLedgerEntryKind(row.kind),
        amount=money(row.amount_minor, currency),
        created_at=as_utc(row.created_at),
    )


def withdrawal_node(row: models.Withdrawal, currency: str) -> PromoterWithdrawal:
    return PromoterWithdrawal(
        pk=row.id,
        status=PromoterWithdrawalStatus(row.status),
        promoter_id=_id("Promoter", row.promoter_id),
        amount=money(row.amount_minor, currency),
        fee=money(row.fee_minor, currency),
        payout=money(row.payout_minor, currency),
        provider=row.provider,
        reason=row.reason,
        requested_at=as_utc(row.requested_at),
        decided_at=_utc(row.decided_at),
    )


def rule_node(row: models.Rule) -> PromoterCommissionRule:
    return PromoterCommissionRule(pk=row.id, sku_id=_id("Sku", row.sku_id), level=row.level, kind=CommissionRuleKind(row.kind), value=row.value)


async def _own_promoter_id(ctx: Context) -> int | None:
    if not ctx.actor.is_member:
        return None
    session = await ctx.session()
    return await session.scalar(select(models.Promoter.id).where(models.Promoter.member_id == ctx.actor.id))


async def load_promoters(ctx: Context, keys: list[int]) -> list[Promoter | None]:
    session = await ctx.session()
    rows = {r.id: r for r in (await session.scalars(select(models.Promoter).where(models.Promoter.id.in_(keys)))).all()}
    staff = ctx.can(MANAGE)
    me = ctx.actor.id if ctx.actor.is_member else None
    currency = ctx.kernel.blueprint.brand.currency
    return [promoter_node(rows[k], currency) if k in rows and (staff or rows[k].member_id == me) else None for k in keys]


def _owned_loader(model, to_node):  # noqa: ANN001, ANN202
    async def load(ctx: Context, keys: list[int]) -> list:
        session = await ctx.session()
        rows = {r.id: r for r in (await session.scalars(select(model).where(model.id.in_(keys)))).all()}
        staff = ctx.can(MANAGE)
        mine = await _own_promoter_id(ctx)
        currency = ctx.kernel.blueprint.brand.currency
        return [to_node(rows[k], currency) if k in rows and (staff or rows[k].promoter_id == mine) else None for k in keys]

    return load


load_commissions = _owned_loader(models.Commission, commission_node)
load_entries = _owned_loader(models.Entry, entry_node)
load_withdrawals = _owned_loader(models.Withdrawal, withdrawal_node)


async def load_rules(ctx: Context, keys: list[int]) -> list[PromoterCommissionRule | None]:
    if not ctx.can(MANAGE):
        return [None for _ in keys]
    session = await ctx.session()
    rows = {r.id: r for r in (await session.scalars(select(models.Rule).where(models.Rule.id.in_(keys)))).all()}
    return [rule_node(rows[k]) if k in rows else None for k in keys]


async def _my_promoter_id(ctx: Context) -> int:
    """The signed-in member's promoter id, or -1 (an empty list for a member who is not one)."""
    ctx.require_member()
    return await _own_promoter_id(ctx) or -1
