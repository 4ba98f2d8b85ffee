"""Store pickup's GraphQL types and queries (thin: the rules are in service.py). The mutations are in
graphql_mutations.py."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import Annotated

import strawberry
from sqlalchemy import select

from components.members.graphql import Staff, staff_node
from components.orders.graphql import Order
from components.store_pickup import models
from components.store_pickup.hours import WEEKDAYS, special_dates
from core.clock import as_utc
from core.errors import DomainError
from core.gql import Connection, Context, Money, Node, connection, decode_id, fetch_page, money

MANAGE, VERIFY, VIEW = "store_pickup.manage", "store_pickup.verify", "store_pickup.view"


@strawberry.enum
class PickupStoreStatus(enum.Enum):
    OPEN = "open"
    CLOSED = "closed"
    SUSPENDED = "suspended"


@strawberry.enum
class PickupState(enum.Enum):
    PENDING_PAYMENT = "pending_payment"
    AWAITING_PICKUP = "awaiting_pickup"
    PICKED_UP = "picked_up"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


@strawberry.type(description="Opening hours of one weekday, in the brand's time zone; a range may run past midnight.")
class PickupOpeningHours:
    weekday: str
    ranges: list[str]


@strawberry.type(description="A holiday or special date's own hours (an empty list: closed all day).")
class PickupSpecialHours:
    date: str = strawberry.field(description="The date, YYYY-MM-DD, in the brand's time zone.")
    ranges: list[str]


@strawberry.type(description="A store's pickup figures: what it handed over in a period, and what waits there now.")
class PickupStoreResults:
    picked_up: int
    sales: Money
    awaiting: int


@strawberry.type(description="A time slot for collecting at a store; capacity is never exceeded.")
class PickupSlot(Node):
    starts_at: datetime
    ends_at: datetime
    capacity: int
    taken: int
    store_pk: strawberry.Private[int]

    @strawberry.field
    def remaining(self) -> int:
        return max(self.capacity - self.taken, 0)

    @strawberry.field
    async def store(self, info: strawberry.Info) -> PickupStore | None:
        return (await load_stores(info.context, [self.store_pk]))[0]


@strawberry.type(description="A store where members collect online orders.")
class PickupStore(Node):
    name: str
    address: str
    phone: str
    latitude: float
    longitude: float
    status: PickupStoreStatus
    opening_hours: list[PickupOpeningHours]
    special_hours: list[PickupSpecialHours] = strawberry.field(
        description="Holidays and special dates: they replace the weekday's hours on that date."
    )
    row: strawberry.Private[models.Store]

    @strawberry.field(description="Whether the store serves pickups right now (status and hours).")
    def open_now(self, info: strawberry.Info) -> bool:
        return _service(info.context).serves_at(self.row, info.context.kernel.clock.now())

    @strawberry.field(description="Bookable slots from `from` (default now) for `days` days.")
    async def slots(
        self, info: strawberry.Info, from_: Annotated[datetime | None, strawberry.argument(name="from")] = None, days: int = 7
    ) -> list[PickupSlot]:
        ctx: Context = info.context
        if not 1 <= days <= 31:
            raise DomainError("KERNEL_INVALID_INPUT", "Ask for 1 to 31 days of slots.", field="days")
        since = as_utc(from_) if from_ else ctx.kernel.clock.now()
        rows = await _service(ctx).slots(await ctx.session(), self.pk, since, since + timedelta(days=days))
        return [slot_node(r) for r in rows]

    @strawberry.field(description="Staff of this store or admin: pickups handed over here in [since, until) and what waits.")
    async def results(self, info: strawberry.Info, since: datetime | None = None, until: datetime | None = None) -> PickupStoreResults:
        ctx: Context = info.context
        _require_store_staff(ctx, self.pk)
        figures = await _service(ctx).results(await ctx.session(), self.pk, as_utc(since) if since else None, as_utc(until) if until else None)
        return PickupStoreResults(
            picked_up=figures["pickedUp"], sales=money(figures["salesMinor"], ctx.kernel.blueprint.brand.currency), awaiting=figures["awaiting"]
        )

    @strawberry.field(description="Admin: the staff who may verify pickups here.")
    async def clerks(self, info: strawberry.Info) -> list[Staff]:
        ctx: Context = info.context
        ctx.require(MANAGE)
        rows = await ctx.kernel.service("members").active_staff(await ctx.session())
        return [staff_node(r) for r in rows if self.pk in [int(s) for s in r.store_ids or []]]


@strawberry.type(description="A store and how far it is from the point asked about.")
class NearbyPickupStore:
    store: PickupStore
    distance_meters: int


@strawberry.type(description="Who collects: enough for a clerk to recognise them, not to contact them.")
class PickupCustomer:
    nickname: str
    phone: str | None


@strawberry.type(description="An order to be collected at a store, with its pickup code.")
class PickupOrder(Node):
    state: PickupState
    created_at: datetime
    ready_at: datetime | None
    expires_at: datetime | None
    picked_up_at: datetime | None
    overdue: bool = strawberry.field(description="The pickup window passed and the brand keeps pickups open.")
    row: strawberry.Private[models.Pickup]

    @strawberry.field(description="The code to show at the store: only to the member, only while it can be collected.")
    def code(self, info: strawberry.Info) -> str | None:
        return self.row.code if _shows_code(info.context, self.row) else None

    @strawberry.field(description="The signed QR payload of the code (same visibility as `code`).")
    def qr_payload(self, info: strawberry.Info) -> str | None:
        return _service(info.context).qr_payload(self.row) if _shows_code(info.context, self.row) else None

    @strawberry.field
    async def store(self, info: strawberry.Info) -> PickupStore | None:
        return (await load_stores(info.context, [self.row.store_id]))[0]

    @strawberry.field
    async def slot(self, info: strawberry.Info) -> PickupSlot | None:
        if self.row.slot_id is None:
            return None
        session = await info.context.session()
        row = await session.get(models.Slot, self.row.slot_id)
        return slot_node(row) if row else None

    @strawberry.field(description="The order: its lines are what to hand over.")
    async def order(self, info: strawberry.Info) -> Order | None:
        return await info.context.loader("orders.orders").load(self.row.order_id)

    @strawberry.field(description="Staff: who collects.")
    async def customer(self, info: strawberry.Info) -> PickupCustomer | None:
        ctx: Context = info.context
        if not ctx.actor.is_staff:
            return None
        members = ctx.kernel.service("members")
        row = await members.member(await ctx.session(), self.row.member_id)
        return PickupCustomer(nickname=row.nickname, phone=members.masked_phone(row.phone)) if row else None


def _service(ctx: Context):  # noqa: ANN202
    return ctx.kernel.service("store_pickup")


def _shows_code(ctx: Context, row: models.Pickup) -> bool:
    # Never to staff: a clerk who could read codes could "verify" without the customer.
    return ctx.actor.is_member and ctx.actor.id == row.member_id and row.state == "awaiting_pickup"


def _require_store_staff(ctx: Context, store_id: int) -> None:
    ctx.require(VIEW)
    if not ctx.actor.is_admin and store_id not in ctx.actor.store_ids:
        raise DomainError("STORE_PICKUP_NOT_YOUR_STORE", "You see pickups only of your own stores.", field="storeId")


def store_node(row: models.Store) -> PickupStore:
    hours = row.hours or {}
    return PickupStore(
        pk=row.id,
        name=row.name,
        address=row.address,
        phone=row.phone,
        latitude=row.latitude,
        longitude=row.longitude,
        status=PickupStoreStatus(row.status),
        row=row,
        opening_hours=[PickupOpeningHours(weekday=d, ranges=list(hours[d])) for d in WEEKDAYS if d in hours],
        special_hours=[PickupSpecialHours(date=d, ranges=r) for d, r in special_dates(hours)],
    )


def slot_node(row: models.Slot) -> PickupSlot:
    return PickupSlot(
        pk=row.id, starts_at=as_utc(row.starts_at), ends_at=as_utc(row.ends_at), capacity=row.capacity, taken=row.taken, store_pk=row.store_id
    )


def pickup_node(row: models.Pickup) -> PickupOrder:
    return PickupOrder(
        pk=row.id,
        state=PickupState(row.state),
        created_at=as_utc(row.created_at),
        ready_at=as_utc(row.ready_at) if row.ready_at else None,
        expires_at=as_utc(row.expires_at) if row.expires_at else None,
        picked_up_at=as_utc(row.picked_up_at) if row.picked_up_at else None,
        overdue=row.overdue_at is not None,
        row=row,
    )


def _may_see_pickup(ctx: Context, row: models.Pickup) -> bool:
    if ctx.actor.is_member:
        return ctx.actor.id == row.member_id
    return ctx.actor.is_staff and ctx.can(VIEW) and (ctx.actor.is_admin or row.store_id in ctx.actor.store_ids)


async def load_stores(ctx: Context, keys: list[int]) -> list[PickupStore | None]:
    session = await ctx.session()
    rows = {r.id: r for r in (await session.scalars(select(models.Store).where(models.Store.id.in_(keys)))).all()}
    return [store_node(rows[k]) if k in rows else None for k in keys]


async def load_slots(ctx: Context, keys: list[int]) -> list[PickupSlot | None]:
    session = await ctx.session()
    rows = {r.id: r for r in (await session.scalars(select(models.Slot).where(models.Slot.id.in_(keys)))).all()}
    return [slot_node(rows[k]) if k in rows else None for k in keys]


async def load_pickups(ctx: Context, keys: list[int]) -> list[PickupOrder | None]:
    session = await ctx.session()
    rows = {r.id: r for r in (await session.scalars(select(models.Pickup).where(models.Pickup.id.in_(keys)))).all()}
    return [pickup_node(rows[k]) if k in rows and _may_see_pickup(ctx, rows[k]) else None for k in keys]


@strawberry.type
class Query:
    @strawberry.field(description="The nearest stores that can serve pickup (open now, or at `at`), nearest first.")
    async def pickup_stores_near(
        self,
        info: strawberry.Info,
        latitude: float,
        longitude: float,
        first: int = 10,
        radius_km: float | None = None,
        at: datetime | None = None,
        open_only: bool = True,
    ) -> list[NearbyPickupStore]:
        ctx: Context = info.context
        found = await _service(ctx).nearest(
            await ctx.session(),
            latitude,
            longitude,
            limit=first,
            radius_m=radius_km * 1000 if radius_km is not None else None,
            at=as_utc(at) if at else None,
            open_only=open_only,
        )
        return [NearbyPickupStore(store=store_node(f.store), distance_meters=round(f.distance_m)) for f in found]

    @strawberry.field
    async def pickup_store(self, info: strawberry.Info, id: strawberry.ID) -> PickupStore | None:  # noqa: A002
        return (await load_stores(info.context, [decode_id(id, "PickupStore", field="id")]))[0]

    @strawberry.field(description="All pickup stores, in the order they were opened.")
    async def pickup_stores(self, info: strawberry.Info, first: int | None = 20, after: str | None = None) -> Connection[PickupStore]:
        ctx: Context = info.context
        page = await fetch_page(await ctx.session(), select(models.Store), models.Store.id, first, after)
        return connection(page, store_node)

    @strawberry.field(description="The signed-in member's pickups, newest first, with their codes.")
    async def my_pickups(
        self, info: strawberry.Info, first: int | None = 20, after: str | None = None, state: PickupState | None = None
    ) -> Connection[PickupOrder]:
        ctx: Context = info.context
        member_id = ctx.require_member()
        stmt = select(models.Pickup).where(models.Pickup.member_id == member_id)
        if state is not None:
            stmt = stmt.where(models.Pickup.state == state.value)
        page = await fetch_page(await ctx.session(), stmt, models.Pickup.id, first, after, descending=True)
        return connection(page, pickup_node)

    @strawberry.field(description="Staff: pickups at one of their stores (awaiting by default), oldest first.")
    async def store_pickups(
        self,
        info: strawberry.Info,
        store_id: strawberry.ID,
        state: PickupState = PickupState.AWAITING_PICKUP,
        first: int | None = 20,
        after: str | None = None,
    ) -> Connection[PickupOrder]:
        ctx: Context = info.context
        pk = decode_id(store_id, "PickupStore", field="storeId")
        _require_store_staff(ctx, pk)
        stmt = select(models.Pickup).where(models.Pickup.store_id == pk, models.Pickup.state == state.value)
        page = await fetch_page(await ctx.session(), stmt, models.Pickup.id, first, after)
        return connection(page, pickup_node)

    @strawberry.field
    async def pickup_order(self, info: strawberry.Info, id: strawberry.ID) -> PickupOrder | None:  # noqa: A002
        return (await load_pickups(info.context, [decode_id(id, "PickupOrder", field="id")]))[0]
