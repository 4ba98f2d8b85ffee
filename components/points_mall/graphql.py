"""Points and the mall in GraphQL: the types and queries (thin: the rules are in service.py).

A member sees only their own balance, ledger and redemptions; staff with
``points_mall.adjust`` see anyone's and adjust them; ``points_mall.manage`` runs the mall.
The mutations are in graphql_mutations.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import strawberry
from sqlalchemy import func, select

from components.catalog.graphql import Sku
from components.orders.graphql import DeliveryType, Order
from components.points_mall import models
from core.clock import as_utc
from core.gql import Connection, Context, Money, Node, connection, decode_id, fetch_page, money

ADJUST, MANAGE = "points_mall.adjust", "points_mall.manage"


def _utc(value: datetime | None) -> datetime | None:
    return as_utc(value) if value is not None else None


# -- types ------------------------------------------------------------------------------------------
@strawberry.type(description="Points that expire together.")
class PointsExpiry:
    points: int
    expires_at: datetime


@strawberry.type(description="One change of a member's points, and why.")
class PointsLedgerEntry(Node):
    delta: int = strawberry.field(description="Points added (positive) or taken (negative).")
    reason: str = strawberry.field(
        description="order_earn, order_earn_reversed, order_pay, order_pay_returned, redeem, "
        "redeem_returned, sign_in, "
        "staff_adjust, expire, or another component's reason."
    )
    reference: str | None = strawberry.field(description="What caused it: order:<id>, redemption:<id>, lot:<id>, day:<date>.")
    balance_after: int
    shortfall: int = strawberry.field(description="Points that should have been taken but had already been spent.")
    note: str | None
    created_at: datetime


@strawberry.type(description="A member's points: the balance, what expires soon, and the ledger behind it.")
class PointsBalance:
    balance: int
    tier: int = strawberry.field(description="The member tier the mall checks items against (0 = everyone).")
    sign_in_streak: int
    signed_in_today: bool
    member_pk: strawberry.Private[int]

    @strawberry.field(
        description="Points the member's paid orders will earn once granted (after their after-sale "
        "window, per the brand's rule): shown, not yet spendable."
    )
    async def pending(self, info: strawberry.Info) -> int:
        return await info.context.kernel.service("points_mall").pending_points(await info.context.session(), self.member_pk)

    @strawberry.field(description="Points expiring within `days` days, soonest first.")
    async def expiring_soon(self, info: strawberry.Info, days: int = 30) -> list[PointsExpiry]:
        now = info.context.kernel.clock.now()
        session = await info.context.session()
        rows = await session.execute(
            select(models.Lot.expires_at, func.sum(models.Lot.remaining))
            .where(
                models.Lot.member_id == self.member_pk,
                models.Lot.remaining > 0,
                models.Lot.expires_at > now,
                models.Lot.expires_at <= now + timedelta(days=max(0, min(days, 3660))),
            )
            .group_by(models.Lot.expires_at)
            .order_by(models.Lot.expires_at)
        )
        return [PointsExpiry(points=int(n), expires_at=as_utc(at)) for at, n in rows.all()]

    @strawberry.field(description="The ledger, newest first: every change of the balance explained.")
    async def ledger(self, info: strawberry.Info, first: int | None = 20, after: str | None = None) -> Connection[PointsLedgerEntry]:
        stmt = select(models.Entry).where(models.Entry.member_id == self.member_pk)
        page = await fetch_page(await info.context.session(), stmt, models.Entry.id, first, after, descending=True)
        return connection(page, entry_node)


@strawberry.type(description="Something to redeem with points (and perhaps some cash).")
class PointsMallItem(Node):
    title: str
    description: str
    points_price: int
    cash_price: Money = strawberry.field(description="Cash paid on top of the points (zero for points-only items).")
    stock_left: int
    per_member_limit: int
    min_tier: int
    starts_at: datetime | None
    ends_at: datetime | None
    active: bool
    sku_pk: strawberry.Private[int | None]

    @strawberry.field(description="What is delivered; null for a non-physical reward (a class, a service).")
    async def sku(self, info: strawberry.Info) -> Sku | None:
        return await info.context.loader("catalog.skus").load(self.sku_pk) if self.sku_pk else None


@strawberry.type(description="A member's redemption of a mall item.")
class PointsRedemption(Node):
    quantity: int
    returned_quantity: int = strawberry.field(description="Units given back (refunded or cancelled), points included.")
    points: int
    cash: Money
    status: str = strawberry.field(description="active, returned (refunded in full) or cancelled (unpaid).")
    delivery_type: DeliveryType | None
    store_id: int | None
    created_at: datetime
    item_pk: strawberry.Private[int]
    order_pk: strawberry.Private[int | None]

    @strawberry.field
    async def item(self, info: strawberry.Info) -> PointsMallItem | None:
        return (await load_items(info.context, [self.item_pk]))[0]

    @strawberry.field(description="The order delivering it (points + cash orders are paid through it).")
    async def order(self, info: strawberry.Info) -> Order | None:
        return await info.context.loader("orders.orders").load(self.order_pk) if self.order_pk else None


def entry_node(row: models.Entry) -> PointsLedgerEntry:
    return PointsLedgerEntry(
        pk=row.id,
        delta=row.delta,
        reason=row.reason,
        reference=row.reference,
        balance_after=row.balance_after,
        shortfall=row.shortfall or 0,
        note=row.note,
        created_at=as_utc(row.created_at),
    )


def item_node(row: models.Item, currency: str) -> PointsMallItem:
    return PointsMallItem(
        pk=row.id,
        title=row.title,
        description=row.description or "",
        points_price=row.points_price,
        cash_price=money(row.cash_price_minor, currency),
        stock_left=row.stock_left,
        per_member_limit=row.per_member_limit,
        min_tier=row.min_tier,
        starts_at=_utc(row.starts_at),
        ends_at=_utc(row.ends_at),
        active=row.active,
        sku_pk=row.sku_id,
    )


def redemption_node(row: models.Redemption, currency: str) -> PointsRedemption:
    return PointsRedemption(
        pk=row.id,
        quantity=row.quantity,
        returned_quantity=row.returned_quantity,
        points=row.points,
        cash=money(row.cash_minor, currency),
        status=row.status,
        delivery_type=DeliveryType(row.delivery_type) if row.delivery_type else None,
        store_id=row.store_id,
        created_at=as_utc(row.created_at),
        item_pk=row.item_id,
        order_pk=row.order_id,
    )


def _may_see(ctx: Context, member_id: int) -> bool:
    return (ctx.actor.is_member and ctx.actor.id == member_id) or ctx.can(ADJUST)


async def balance_of(ctx: Context, member_id: int) -> PointsBalance:
    session = await ctx.session()
    account = await session.get(models.Account, member_id)
    today = ctx.kernel.clock.now().astimezone(ctx.kernel.service("points_mall").zone).date()
    return PointsBalance(
        balance=account.balance if account else 0,
        tier=account.tier if account else 0,
        sign_in_streak=account.streak if account else 0,
        signed_in_today=bool(account and account.last_sign_in == today),
        member_pk=member_id,
    )


async def load_entries(ctx: Context, keys: list[int]) -> list[PointsLedgerEntry | None]:
    session = await ctx.session()
    rows = {r.id: r for r in (await session.scalars(select(models.Entry).where(models.Entry.id.in_(keys)))).all()}
    return [entry_node(rows[k]) if k in rows and _may_see(ctx, rows[k].member_id) else None for k in keys]


async def load_items(ctx: Context, keys: list[int]) -> list[PointsMallItem | None]:
    session = await ctx.session()
    currency = ctx.kernel.blueprint.brand.currency
    rows = {r.id: r for r in (await session.scalars(select(models.Item).where(models.Item.id.in_(keys)))).all()}
    return [item_node(rows[k], currency) if k in rows and (rows[k].active or ctx.can(MANAGE)) else None for k in keys]


async def load_redemptions(ctx: Context, keys: list[int]) -> list[PointsRedemption | None]:
    session = await ctx.session()
    currency = ctx.kernel.blueprint.brand.currency
    rows = {r.id: r for r in (await session.scalars(select(models.Redemption).where(models.Redemption.id.in_(keys)))).all()}
    return [redemption_node(rows[k], currency) if k in rows and _may_see(ctx, rows[k].member_id) else None for k in keys]


# -- queries ------------------------------------------------------------------------------------------
@strawberry.type
class Query:
    @strawberry.field(description="The signed-in member's points.")
    async def my_points(self, info: strawberry.Info) -> PointsBalance:
        return await balance_of(info.context, info.context.require_member())

    @strawberry.field(description="The signed-in member's ledger, newest first: every change explained.")
    async def my_points_ledger(self, info: strawberry.Info, first: int | None = 20, after: str | None = None) -> Connection[PointsLedgerEntry]:
        balance = PointsBalance(balance=0, tier=0, sign_in_streak=0, signed_in_today=False, member_pk=info.context.require_member())
        return await balance.ledger(info, first, after)

    @strawberry.field(description="The signed-in member's redemptions, newest first.")
    async def my_points_redemptions(self, info: strawberry.Info, first: int | None = 20, after: str | None = None) -> Connection[PointsRedemption]:
        ctx: Context = info.context
        stmt = select(models.Redemption).where(models.Redemption.member_id == ctx.require_member())
        page = await fetch_page(await ctx.session(), stmt, models.Redemption.id, first, after, descending=True)
        currency = ctx.kernel.blueprint.brand.currency
        return connection(page, lambda row: redemption_node(row, currency))

    @strawberry.field(description="Staff: a member's points (and, through `ledger`, their history).")
    async def member_points(self, info: strawberry.Info, member_id: strawberry.ID) -> PointsBalance:
        info.context.require(ADJUST)
        return await balance_of(info.context, decode_id(member_id, "Member", field="memberId"))

    @strawberry.field(
        description="Mall items on offer now and later (staff with points_mall.manage also see inactive and ended items with `all: true`)."
    )
    async def points_mall_items(
        self, info: strawberry.Info, first: int | None = 20, after: str | None = None, all: bool = False
    ) -> Connection[PointsMallItem]:  # noqa: A002
        ctx: Context = info.context
        stmt = select(models.Item)
        if not (all and ctx.can(MANAGE)):
            now = ctx.kernel.clock.now()
            stmt = stmt.where(models.Item.active.is_(True), (models.Item.ends_at.is_(None)) | (models.Item.ends_at > now))
        page = await fetch_page(await ctx.session(), stmt, models.Item.id, first, after)
        currency = ctx.kernel.blueprint.brand.currency
        return connection(page, lambda row: item_node(row, currency))

    @strawberry.field
    async def points_mall_item(self, info: strawberry.Info, id: strawberry.ID) -> PointsMallItem | None:  # noqa: A002
        return (await load_items(info.context, [decode_id(id, "PointsMallItem", field="id")]))[0]
