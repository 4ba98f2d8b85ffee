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
from components.store_pickup.graphql_hours import PickupOpeningHours, PickupSpecialHours, opening_hours
from components.store_pickup.hours import special_dates
from core.clock import as_utc
from core.errors import DomainError
from core.gql import Context, Money, Node, money

MANAGE, VERIFY, VIEW = "store_pickup.manage", "store_pickup.verify", "store_pickup.view"


@strawberry.enum(description="Whether a store takes pickup orders.")
class PickupStoreStatus(enum.Enum):
    OPEN = strawberry.enum_value("open", description="Takes pickup orders (within its opening hours).")
    CLOSED = strawberry.enum_value("closed", description="Closed for good: takes no pickup orders.")
    SUSPENDED = strawberry.enum_value("suspended", description="Closed for a while (renovation, stocktaking): takes no pickup orders.")


@strawberry.enum(description="Where a pickup order is in its life.")
class PickupState(enum.Enum):
    PENDING_PAYMENT = strawberry.enum_value("pending_payment", description="Placed, waiting for payment.")
    AWAITING_PICKUP = strawberry.enum_value("awaiting_pickup", description="Paid and ready: the member may collect it with the code.")
    PICKED_UP = strawberry.enum_value("picked_up", description="A clerk handed it over.")
    EXPIRED = strawberry.enum_value("expired", description="Not collected within the pickup window, and refunded.")
    CANCELLED = strawberry.enum_value("cancelled", description="The order was cancelled before payment.")
    REFUNDED = strawberry.enum_value("refunded", description="The order was refunded before it was collected.")


@strawberry.type(description="A store's pickup figures: what it handed over in a period, and what waits there now.")
class PickupStoreResults:
    picked_up: int = strawberry.field(description="Pickups handed over in the period.")
    sales: Money = strawberry.field(description="What those pickups' orders paid (minor units of the brand currency).")
    awaiting: int = strawberry.field(description="Paid pickups waiting at the store now.")


@strawberry.type(description="A time slot for collecting at a store; capacity is never exceeded.")
class PickupSlot(Node):
    starts_at: datetime = strawberry.field(description="When the slot starts (ISO 8601 UTC).")
    ends_at: datetime = strawberry.field(description="When the slot ends (ISO 8601 UTC).")
    capacity: int = strawberry.field(description="How many pickups the slot takes in all.")
    taken: int = strawberry.field(description="How many pickups have booked it.")
    store_pk: strawberry.Private[int]

    @strawberry.field(description="How many more pickups the slot takes.")
    def capacity_left(self) -> int:
        return max(self.capacity - self.taken, 0)

    @strawberry.field(description="How many more pickups the slot takes.", deprecation_reason="Use capacityLeft; removed in the next release.")
    def remaining(self) -> int:
        return max(self.capacity - self.taken, 0)

    @strawberry.field(description="The store the slot belongs to.")
    async def store(self, info: strawberry.Info) -> PickupStore | None:
        return await info.context.loader("store_pickup.stores").load(self.store_pk)


@strawberry.type(description="A store where members collect online orders.")
class PickupStore(Node):
    name: str = strawberry.field(description="The store's name.")
    address: str = strawberry.field(description="Its street address; empty when not given.")
    phone: str = strawberry.field(description="Its phone number; empty when not given.")
    latitude: float = strawberry.field(description="Latitude in degrees (WGS 84).")
    longitude: float = strawberry.field(description="Longitude in degrees (WGS 84).")
    status: PickupStoreStatus = strawberry.field(description="Whether it takes pickup orders.")
    opening_hours: list[PickupOpeningHours] = strawberry.field(
        description="Weekly hours, Monday first; empty: open every day (except special dates)."
    )
    special_hours: list[PickupSpecialHours] = strawberry.field(
        description="Holidays and special dates: they replace the weekday's hours on that date."
    )
    row: strawberry.Private[models.Store]

    @strawberry.field(description="Whether the store serves pickups right now (status and hours).")
    def open_now(self, info: strawberry.Info) -> bool:
        return _service(info.context).serves_at(self.row, info.context.kernel.clock.now())

    @strawberry.field(description="Bookable slots from `from` (default now) for `days` days.")
    async def slots(
        self,
        info: strawberry.Info,
        from_: Annotated[datetime | None, strawberry.argument(name="from", description="Start of the period (ISO 8601); default now.")] = None,
        days: Annotated[int, strawberry.argument(description="How many days from `from`, 1 to 31.")] = 7,
    ) -> list[PickupSlot]:
        ctx: Context = info.context
        if not 1 <= days <= 31:
            raise DomainError("KERNEL_INVALID_INPUT", "Ask for 1 to 31 days of slots.", field="days")
        since = as_utc(from_) if from_ else ctx.kernel.clock.now()
        rows = await _service(ctx).slots(await ctx.session(), self.pk, since, since + timedelta(days=days))
        return [slot_node(r) for r in rows]

    @strawberry.field(
        description="Staff of this store or admin: pickups handed over here in [since, until) and what waits; null with an error for others."
    )
    async def results(
        self,
        info: strawberry.Info,
        since: Annotated[datetime | None, strawberry.argument(description="Start of the period (ISO 8601); default: the beginning.")] = None,
        until: Annotated[datetime | None, strawberry.argument(description="End of the period, exclusive (ISO 8601); default: now.")] = None,
    ) -> PickupStoreResults | None:
        ctx: Context = info.context
        _require_store_staff(ctx, self.pk)
        figures = await _service(ctx).results(await ctx.session(), self.pk, as_utc(since) if since else None, as_utc(until) if until else None)
        return PickupStoreResults(
            picked_up=figures["pickedUp"], sales=money(figures["salesMinor"], ctx.kernel.blueprint.brand.currency), awaiting=figures["awaiting"]
        )

    @strawberry.field(description="Admin: the staff who may verify pickups here; null with an error for others.")
    async def clerks(self, info: strawberry.Info) -> list[Staff] | None:
        ctx: Context = info.context
        ctx.require(MANAGE)
        rows = await ctx.kernel.service("members").active_staff(await ctx.session())
        return [staff_node(r) for r in rows if self.pk in [int(s) for s in r.store_ids or []]]


@strawberry.type(description="A store and how far it is from the point asked about.")
class NearbyPickupStore:
    store: PickupStore = strawberry.field(description="The store.")
    distance_meters: int = strawberry.field(description="Straight-line distance from the point asked about, in metres.")


@strawberry.type(description="Who collects: enough for a clerk to recognise them, not to contact them.")
class PickupCustomer:
    nickname: str = strawberry.field(description="The member's nickname.")
    phone: str | None = strawberry.field(description="The member's phone number, masked (138****0001); null when none.")


@strawberry.type(description="An order to be collected at a store, with its pickup code.")
class PickupOrder(Node):
    state: PickupState = strawberry.field(description="Where the pickup is in its life.")
    created_at: datetime = strawberry.field(description="When the order chose pickup (ISO 8601 UTC).")
    ready_at: datetime | None = strawberry.field(description="When it became ready to collect (ISO 8601 UTC); null before payment.")
    expires_at: datetime | None = strawberry.field(description="When the pickup window ends (ISO 8601 UTC); null before payment.")
    picked_up_at: datetime | None = strawberry.field(description="When a clerk handed it over (ISO 8601 UTC); null until then.")
    overdue: bool = strawberry.field(description="The pickup window passed and the brand keeps pickups open.")
    row: strawberry.Private[models.Pickup]

    @strawberry.field(description="The code to show at the store: only to the member, only while it can be collected.")
    def code(self, info: strawberry.Info) -> str | None:
        return self.row.code if _shows_code(info.context, self.row) else None

    @strawberry.field(description="The signed QR payload of the code (same visibility as `code`).")
    def qr_payload(self, info: strawberry.Info) -> str | None:
        return _service(info.context).qr_payload(self.row) if _shows_code(info.context, self.row) else None

    @strawberry.field(description="The store to collect at.")
    async def store(self, info: strawberry.Info) -> PickupStore | None:
        return await info.context.loader("store_pickup.stores").load(self.row.store_id)

    @strawberry.field(description="The booked time slot; null when none was booked.")
    async def slot(self, info: strawberry.Info) -> PickupSlot | None:
        if self.row.slot_id is None:
            return None
        session = await info.context.session()
        row = await session.get(models.Slot, self.row.slot_id)
        return slot_node(row) if row else None

    @strawberry.field(description="The order: its lines are what to hand over.")
    async def order(self, info: strawberry.Info) -> Order | None:
        return await info.context.loader("orders.orders").load(self.row.order_id)

    @strawberry.field(description="Staff: who collects; null for members.")
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
        opening_hours=opening_hours(hours),
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
