"""Points and the mall in GraphQL: the types and queries (thin: the rules are in service.py).

A member sees only their own balance, ledger and redemptions; staff with
``points_mall.adjust`` see anyone's and adjust them; ``points_mall.manage`` runs the mall.
The mutations are in graphql_mutations.py.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import Annotated

import strawberry
from sqlalchemy import func, select

from components.catalog.graphql import Sku
from components.orders.graphql import DeliveryType, Order
from components.points_mall import models
from core.clock import as_utc
from core.gql import Connection, Context, Money, Node, connection, fetch_page, money, to_global_id
from core.gql.relay import After, Before, First, Last

ADJUST, MANAGE = "points_mall.adjust", "points_mall.manage"


def _utc(value: datetime | None) -> datetime | None:
    return as_utc(value) if value is not None else None


# -- types ------------------------------------------------------------------------------------------
@strawberry.enum(description="Where a redemption stands.")
class PointsRedemptionStatus(enum.Enum):
    ACTIVE = strawberry.enum_value("active", description="Redeemed and not wholly given back (units may be partly returned).")
    RETURNED = strawberry.enum_value("returned", description="Refunded in full: every unit and its points came back.")
    CANCELLED = strawberry.enum_value("cancelled", description="Its points + cash order was cancelled unpaid; points and stock were released.")


@strawberry.type(description="Points that expire together.")
class PointsExpiry:
    points: int = strawberry.field(description="How many points expire at this moment.")
    expires_at: datetime = strawberry.field(description="When they expire (ISO 8601, UTC).")


@strawberry.type(description="One change of a member's points, and why.")
class PointsLedgerEntry(Node):
    delta: int = strawberry.field(description="Points added (positive) or taken (negative).")
    reason: str = strawberry.field(
        description="order_earn, order_earn_reversed, order_pay, order_pay_returned, redeem, "
        "redeem_returned, sign_in (the daily check-in), "
        "staff_adjust, expire, or another component's reason (an open set: show it as a label)."
    )
    reference: str | None = strawberry.field(description="What caused it: order:<id>, redemption:<id>, lot:<id>, day:<date>.")
    balance_after: int = strawberry.field(description="The member's balance right after this change.")
    shortfall: int = strawberry.field(description="Points that should have been taken but had already been spent.")
    note: str | None = strawberry.field(description="Staff's note for an adjustment; null otherwise.")
    created_at: datetime = strawberry.field(description="When it happened (ISO 8601, UTC).")


@strawberry.type(description="A member's points: the balance, what expires soon, and the ledger behind it.")
class PointsBalance:
    balance: int = strawberry.field(description="Points the member can spend now.")
    tier: int = strawberry.field(description="The member tier the mall checks items against (0 = everyone).")
    check_in_streak: int = strawberry.field(description="Days in a row the member checked in, up to the last check-in.")
    checked_in_today: bool = strawberry.field(description="Whether the member already checked in today (brand time zone).")
    member_pk: strawberry.Private[int]

    @strawberry.field(description="Days in a row the member checked in.", deprecation_reason="Use checkInStreak; removed in the next release.")
    def sign_in_streak(self) -> int:
        return self.check_in_streak

    @strawberry.field(
        description="Whether the member already checked in today.", deprecation_reason="Use checkedInToday; removed in the next release."
    )
    def signed_in_today(self) -> bool:
        return self.checked_in_today

    @strawberry.field(
        description="Points the member's paid orders will earn once granted (after their after-sale "
        "window, per the brand's rule): shown, not yet spendable."
    )
    async def pending(self, info: strawberry.Info) -> int:
        return await info.context.kernel.service("points_mall").pending_points(await info.context.session(), self.member_pk)

    @strawberry.field(description="Points expiring within `days` days, soonest first.")
    async def expiring_soon(
        self, info: strawberry.Info, days: Annotated[int, strawberry.argument(description="How many days ahead to look (0 to 3660).")] = 30
    ) -> list[PointsExpiry]:
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
    async def ledger(
        self, info: strawberry.Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[PointsLedgerEntry]:
        stmt = select(models.Entry).where(models.Entry.member_id == self.member_pk)
        page = await fetch_page(await info.context.session(), stmt, models.Entry.id, first, after, last=last, before=before, descending=True)
        return connection(page, entry_node)


@strawberry.type(description="Something to redeem with points (and perhaps some cash).")
class PointsMallItem(Node):
    title: str = strawberry.field(description="The item's name as members see it.")
    description: str = strawberry.field(description="Longer text about the item (may be empty).")
    points_price: int = strawberry.field(description="Points one unit costs.")
    cash_price: Money = strawberry.field(description="Cash paid on top of the points (zero for points-only items).")
    stock_left: int = strawberry.field(description="Units the mall can still give out (its own stock, not the SKU's).")
    per_member_limit: int = strawberry.field(description="Most units one member may hold (returned units do not count).")
    min_tier: int = strawberry.field(description="The lowest member tier that may redeem it (0 = everyone).")
    starts_at: datetime | None = strawberry.field(description="When redeeming opens (ISO 8601, UTC); null: already open.")
    ends_at: datetime | None = strawberry.field(description="When redeeming closes (ISO 8601, UTC); null: no end.")
    active: bool = strawberry.field(description="Whether staff have it on offer; inactive items are seen by staff only.")
    sku_pk: strawberry.Private[int | None]
    own_image_url: strawberry.Private[str | None] = None

    @strawberry.field(description="What is delivered; null for a non-physical reward (a class, a service).")
    async def sku(self, info: strawberry.Info) -> Sku | None:
        return await info.context.loader("catalog.skus").load(self.sku_pk) if self.sku_pk else None

    @strawberry.field(
        description="The item's picture (a URL): the one staff set on the item, else its SKU's picture "
        "from the catalog (the SKU's own, else its product's first image); null when there is none."
    )
    async def image(self, info: strawberry.Info) -> str | None:
        if self.own_image_url:
            return self.own_image_url
        return await catalog_image(info.context, self.sku_pk) if self.sku_pk else None


@strawberry.type(description="A member's redemption of a mall item.")
class PointsRedemption(Node):
    quantity: int = strawberry.field(description="Units redeemed.")
    returned_quantity: int = strawberry.field(description="Units given back (refunded or cancelled), points included.")
    points: int = strawberry.field(description="Points paid for all units.")
    cash: Money = strawberry.field(description="Cash paid on top, for all units (minor units of the brand currency).")
    redemption_status: PointsRedemptionStatus = strawberry.field(description="Where the redemption stands.")
    delivery_type: DeliveryType | None = strawberry.field(description="How the goods come; null for a non-physical reward.")
    pickup_store_id: strawberry.ID | None = strawberry.field(description="The store it is picked up at (a PickupStore id); null unless picked up.")
    created_at: datetime = strawberry.field(description="When it was redeemed (ISO 8601, UTC).")
    item_pk: strawberry.Private[int]
    order_pk: strawberry.Private[int | None]
    store_pk: strawberry.Private[int | None] = None

    @strawberry.field(description="active, returned or cancelled.", deprecation_reason="Use redemptionStatus; removed in the next release.")
    def status(self) -> str:
        return self.redemption_status.value

    @strawberry.field(description="The pickup store's number.", deprecation_reason="Use pickupStoreId; removed in the next release.")
    def store_id(self) -> int | None:
        return self.store_pk

    @strawberry.field(description="The item redeemed; null if staff took it away since.")
    async def item(self, info: strawberry.Info) -> PointsMallItem | None:
        return (await load_items(info.context, [self.item_pk]))[0]

    @strawberry.field(description="The order delivering it (points + cash orders are paid through it); null for a reward without a SKU.")
    async def order(self, info: strawberry.Info) -> Order | None:
        return await info.context.loader("orders.orders").load(self.order_pk) if self.order_pk else None


async def catalog_image(ctx: Context, sku_pk: int) -> str | None:
    """A SKU's picture through the catalog's published loaders (never its tables): the SKU's own
    image where the catalog gives SKUs one, else its product's first image."""
    sku = await ctx.loader("catalog.skus").load(sku_pk)
    return sku.image if sku is not None else None  # the catalog's Sku.image already falls back to the product


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
        own_image_url=row.image_url,
    )


def redemption_node(row: models.Redemption, currency: str) -> PointsRedemption:
    return PointsRedemption(
        pk=row.id,
        quantity=row.quantity,
        returned_quantity=row.returned_quantity,
        points=row.points,
        cash=money(row.cash_minor, currency),
        redemption_status=PointsRedemptionStatus(row.status),
        delivery_type=DeliveryType(row.delivery_type) if row.delivery_type else None,
        pickup_store_id=to_global_id("PickupStore", row.store_id) if row.store_id is not None else None,
        store_pk=row.store_id,
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
        check_in_streak=account.streak if account else 0,
        checked_in_today=bool(account and account.last_sign_in == today),
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


async def load_redemptions_by_order(ctx: Context, order_pks: list[int]) -> list[PointsRedemption | None]:
    """The redemption an order delivers, per order (at most one: ``order_id`` is unique)."""
    session = await ctx.session()
    currency = ctx.kernel.blueprint.brand.currency
    rows = {r.order_id: r for r in (await session.scalars(select(models.Redemption).where(models.Redemption.order_id.in_(order_pks)))).all()}
    return [redemption_node(rows[k], currency) if k in rows else None for k in order_pks]


async def order_points_redemption(root: Order, info: strawberry.Info) -> PointsRedemption | None:
    # Whoever may read the order reads its redemption: the orders component already decided who
    # sees the order, and the redemption only says which points bought its line.
    return await info.context.loader("points_mall.redemptions_by_order").load(root.pk)
