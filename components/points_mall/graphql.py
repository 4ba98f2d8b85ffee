"""Points and the mall in GraphQL. A member sees only their own balance and ledger."""

from __future__ import annotations

from datetime import datetime, timedelta

import strawberry
from sqlalchemy import func, select

from components.catalog.graphql import Sku
from components.orders.graphql import DeliveryType, Order, load_orders
from components.points_mall import models
from core.clock import as_utc
from core.errors import DomainError
from core.gql import (
    Connection, Context, Money, MoneyInput, Node, Payload, connection, decode_id, fetch_page, minor_from_input, money,
    run_mutation,
)

ADJUST, MANAGE = "points_mall.adjust", "points_mall.manage"


@strawberry.type
class PointsExpiry:
    points: int
    expires_at: datetime


@strawberry.type(description="A member's points: the balance and what expires soon.")
class PointsBalance:
    balance: int
    tier: int
    sign_in_streak: int
    member_pk: strawberry.Private[int]

    @strawberry.field(description="Points expiring within `days` days, soonest first.")
    async def expiring_soon(self, info: strawberry.Info, days: int = 30) -> list[PointsExpiry]:
        now = info.context.kernel.clock.now()
        session = await info.context.session()
        rows = await session.execute(
            select(models.Lot.expires_at, func.sum(models.Lot.remaining))
            .where(models.Lot.member_id == self.member_pk, models.Lot.remaining > 0, models.Lot.expires_at > now,
                   models.Lot.expires_at <= now + timedelta(days=max(0, min(days, 3660))))
            .group_by(models.Lot.expires_at).order_by(models.Lot.expires_at)
        )
        return [PointsExpiry(points=int(n), expires_at=as_utc(at)) for at, n in rows.all()]


@strawberry.type(description="One change of a member's points, and why.")
class PointsLedgerEntry(Node):
    delta: int
    reason: str
    reference: str | None
    balance_after: int
    note: str | None
    created_at: datetime


@strawberry.type(description="Something to redeem with points (and perhaps some cash).")
class PointsMallItem(Node):
    title: str
    points_price: int
    cash_price: Money
    stock_left: int
    per_member_limit: int
    min_tier: int
    starts_at: datetime | None
    ends_at: datetime | None
    sku_pk: strawberry.Private[int | None]

    @strawberry.field
    async def sku(self, info: strawberry.Info) -> Sku | None:
        return await info.context.loader("catalog.skus").load(self.sku_pk) if self.sku_pk else None


@strawberry.type
class PointsRedemption:
    id: strawberry.ID
    quantity: int
    points: int
    status: str
    order_pk: strawberry.Private[int | None]

    @strawberry.field
    async def order(self, info: strawberry.Info) -> Order | None:
        return (await load_orders(info.context, [self.order_pk]))[0] if self.order_pk else None


def entry_node(row: models.Entry) -> PointsLedgerEntry:
    return PointsLedgerEntry(pk=row.id, delta=row.delta, reason=row.reason, reference=row.reference,
                             balance_after=row.balance_after, note=row.note, created_at=as_utc(row.created_at))


def item_node(row: models.Item, currency: str) -> PointsMallItem:
    return PointsMallItem(pk=row.id, title=row.title, points_price=row.points_price, cash_price=money(row.cash_price_minor, currency),
                          stock_left=row.stock_left, per_member_limit=row.per_member_limit, min_tier=row.min_tier,
                          starts_at=as_utc(row.starts_at) if row.starts_at else None,
                          ends_at=as_utc(row.ends_at) if row.ends_at else None, sku_pk=row.sku_id)


async def balance_of(ctx: Context, member_id: int) -> PointsBalance:
    session = await ctx.session()
    account = await session.get(models.Account, member_id)
    return PointsBalance(balance=account.balance if account else 0, tier=account.tier if account else 0,
                         sign_in_streak=account.streak if account else 0, member_pk=member_id)


async def load_entries(ctx: Context, keys: list[int]) -> list[PointsLedgerEntry | None]:
    session = await ctx.session()
    rows = {r.id: r for r in (await session.scalars(select(models.Entry).where(models.Entry.id.in_(keys)))).all()}
    visible = lambda r: (ctx.actor.is_member and ctx.actor.id == r.member_id) or (ctx.actor.is_staff and ctx.can(ADJUST))  # noqa: E731
    return [entry_node(rows[k]) if k in rows and visible(rows[k]) else None for k in keys]


async def load_items(ctx: Context, keys: list[int]) -> list[PointsMallItem | None]:
    session = await ctx.session()
    currency = ctx.kernel.blueprint.brand.currency
    rows = {r.id: r for r in (await session.scalars(select(models.Item).where(models.Item.id.in_(keys)))).all()}
    return [item_node(rows[k], currency) if k in rows else None for k in keys]


@strawberry.type
class Query:
    @strawberry.field(description="The signed-in member's points.")
    async def my_points(self, info: strawberry.Info) -> PointsBalance:
        return await balance_of(info.context, info.context.require_member())

    @strawberry.field(description="The signed-in member's ledger, newest first: every change explained.")
    async def my_points_ledger(self, info: strawberry.Info, first: int | None = 20, after: str | None = None) -> Connection[PointsLedgerEntry]:
        member_id = info.context.require_member()
        stmt = select(models.Entry).where(models.Entry.member_id == member_id)
        page = await fetch_page(await info.context.session(), stmt, models.Entry.id, first, after, descending=True)
        return connection(page, entry_node)

    @strawberry.field(description="Staff: a member's points.")
    async def member_points(self, info: strawberry.Info, member_id: strawberry.ID) -> PointsBalance:
        info.context.require(ADJUST)
        return await balance_of(info.context, decode_id(member_id, "Member", field="memberId"))

    @strawberry.field(description="Items of the points mall that can be redeemed now.")
    async def points_mall_items(self, info: strawberry.Info, first: int | None = 20, after: str | None = None) -> Connection[PointsMallItem]:
        ctx: Context = info.context
        now = ctx.kernel.clock.now()
        stmt = select(models.Item).where(models.Item.active.is_(True),
                                         (models.Item.ends_at.is_(None)) | (models.Item.ends_at > now))
        page = await fetch_page(await ctx.session(), stmt, models.Item.id, first, after)
        currency = ctx.kernel.blueprint.brand.currency
        return connection(page, lambda row: item_node(row, currency))


@strawberry.input
class RedeemPointsItemInput:
    item_id: strawberry.ID
    quantity: int = 1
    delivery_type: DeliveryType = DeliveryType.SHIPPING
    store_id: int | None = strawberry.field(default=None, description="Redeem at a store (with store pickup).")
    idempotency_key: str | None = None


@strawberry.input
class SignInDailyInput:
    idempotency_key: str | None = None


@strawberry.input
class AdjustPointsInput:
    member_id: strawberry.ID
    delta: int
    note: str
    idempotency_key: str | None = None


@strawberry.input
class CreatePointsMallItemInput:
    title: str
    points_price: int
    stock: int
    sku_id: strawberry.ID | None = None
    cash_price: MoneyInput | None = None
    per_member_limit: int = 1
    min_tier: int = 0
    starts_at: datetime | None = None
    ends_at: datetime | None = None


@strawberry.input
class SetMemberTierInput:
    member_id: strawberry.ID
    tier: int


@strawberry.type
class RedeemPointsItemPayload(Payload):
    redemption: PointsRedemption | None = None
    balance: int | None = None


@strawberry.type
class PointsPayload(Payload):
    entry: PointsLedgerEntry | None = None
    balance: int | None = None
    sign_in_streak: int | None = None


@strawberry.type
class PointsMallItemPayload(Payload):
    item: PointsMallItem | None = None


def _service(ctx: Context):  # noqa: ANN202
    return ctx.kernel.service("points_mall")


async def _entry_payload(ctx: Context, result: dict | None, errors: list, member_id: int | None) -> PointsPayload:
    if errors:
        return PointsPayload(user_errors=errors)
    entry = None
    if result.get("entryId"):
        session = await ctx.session()
        row = await session.get(models.Entry, result["entryId"])
        entry = entry_node(row) if row else None
    balance = await balance_of(ctx, member_id or result["memberId"])
    return PointsPayload(entry=entry, balance=balance.balance, sign_in_streak=result.get("streak"))


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Member: redeem a mall item; points are taken and stock held in one step.")
    async def redeem_points_item(self, info: strawberry.Info, input: RedeemPointsItemInput) -> RedeemPointsItemPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            member_id = ctx.require_member()
            redemption = await _service(ctx).redeem(
                tx, member_id=member_id, item_id=decode_id(input.item_id, "PointsMallItem", field="input.itemId"),
                quantity=input.quantity, delivery_type=input.delivery_type.value, store_id=input.store_id)
            return {"redemptionId": redemption.id}

        request = [str(input.item_id), input.quantity, input.delivery_type.value, input.store_id]
        result, errors = await run_mutation(ctx, work, idempotency=("points_mall.redeem", input.idempotency_key, request))
        if errors:
            return RedeemPointsItemPayload(user_errors=errors)
        session = await ctx.session()
        row = await session.get(models.Redemption, result["redemptionId"])
        return RedeemPointsItemPayload(
            redemption=PointsRedemption(id=strawberry.ID(str(row.id)), quantity=row.quantity, points=row.points, status=row.status,
                                        order_pk=row.order_id),
            balance=(await balance_of(ctx, row.member_id)).balance)

    @strawberry.mutation(description="Member: the daily sign-in reward (once per day in the brand's time zone).")
    async def sign_in_daily(self, info: strawberry.Info, input: SignInDailyInput | None = None) -> PointsPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            member_id = ctx.require_member()
            entry, streak = await _service(ctx).sign_in(tx, member_id)
            return {"entryId": entry.id if entry else None, "memberId": member_id, "streak": streak}

        key = input.idempotency_key if input else None
        result, errors = await run_mutation(ctx, work, idempotency=("points_mall.sign_in", key, []))
        return await _entry_payload(ctx, result, errors, None)

    @strawberry.mutation(description="Staff: add or take points with a reason.")
    async def adjust_points(self, info: strawberry.Info, input: AdjustPointsInput) -> PointsPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require(ADJUST)
            member_id = decode_id(input.member_id, "Member", field="input.memberId")
            entry = await _service(ctx).adjust(tx, member_id=member_id, delta=input.delta, note=input.note,
                                              key=f"staff:{input.idempotency_key}" if input.idempotency_key else None)
            return {"entryId": entry.id, "memberId": member_id}

        request = [str(input.member_id), input.delta, input.note]
        result, errors = await run_mutation(ctx, work, idempotency=("points_mall.adjust", input.idempotency_key, request))
        return await _entry_payload(ctx, result, errors, None)

    @strawberry.mutation(description="Staff: put an item in the points mall.")
    async def create_points_mall_item(self, info: strawberry.Info, input: CreatePointsMallItemInput) -> PointsMallItemPayload:  # noqa: A002
        ctx: Context = info.context
        currency = ctx.kernel.blueprint.brand.currency

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require(MANAGE)
            item_id = await _service(ctx).create_item(
                tx, title=input.title, points_price=input.points_price, stock=input.stock,
                sku_id=decode_id(input.sku_id, "Sku", field="input.skuId") if input.sku_id else None,
                cash_price_minor=minor_from_input(input.cash_price, currency, "input.cashPrice") if input.cash_price else 0,
                per_member_limit=input.per_member_limit, min_tier=input.min_tier, starts_at=input.starts_at, ends_at=input.ends_at)
            return {"itemId": item_id}

        result, errors = await run_mutation(ctx, work)
        if errors:
            return PointsMallItemPayload(user_errors=errors)
        return PointsMallItemPayload(item=(await load_items(ctx, [result["itemId"]]))[0])

    @strawberry.mutation(description="Staff: set a member's tier (until a member-tiers component owns tiers).")
    async def set_member_tier(self, info: strawberry.Info, input: SetMemberTierInput) -> PointsPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require(MANAGE)
            if not 0 <= input.tier <= 100:
                raise DomainError("KERNEL_INVALID_INPUT", "A tier is 0 to 100.", field="input.tier")
            member_id = decode_id(input.member_id, "Member", field="input.memberId")
            account = await _service(ctx)._account(tx, member_id)
            account.tier = input.tier
            return {"memberId": member_id}

        result, errors = await run_mutation(ctx, work)
        return await _entry_payload(ctx, result, errors, None)
