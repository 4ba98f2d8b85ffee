"""Orders' root queries: the member's own orders, one order, and the staff order book."""

from __future__ import annotations

from typing import Annotated

import strawberry
from sqlalchemy import select

from components.orders import models
from components.orders.enums import OrderKind, OrderStatus
from components.orders.graphql import VIEW, Order, order_node, store_scoped
from components.orders.graphql_access import one_of
from core.gql import Connection, Context, connection, decode_id, fetch_page
from core.gql.relay import After, Before, First, Last


@strawberry.input(description="Narrow the staff order list; every given field must match.")
class OrderFilter:
    status: OrderStatus | None = strawberry.field(default=None, description="Only orders in this status.")
    member_id: strawberry.ID | None = strawberry.field(default=None, description="Only this Member's orders.")
    kind: str | None = strawberry.field(
        default=None,
        description="plain, group_buy, auction, points, … (lowercase).",
        deprecation_reason="Use orderKind; removed in the next release.",
    )
    order_kind: OrderKind | None = strawberry.field(default=None, description="Only orders of this kind (OTHER: none of the listed kinds).")
    store_id: int | None = strawberry.field(
        default=None, description="The pickup store's number.", deprecation_reason="Use pickupStoreId; removed in the next release."
    )
    pickup_store_id: strawberry.ID | None = strawberry.field(default=None, description="Only pickup orders of this PickupStore.")


def _filtered(stmt, filter: OrderFilter):  # noqa: A002, ANN001, ANN202
    if filter.status is not None:
        stmt = stmt.where(models.Order.status == filter.status.value)
    if filter.member_id is not None:
        stmt = stmt.where(models.Order.member_id == decode_id(filter.member_id, "Member", field="filter.memberId"))
    kind = one_of(filter.order_kind, filter.kind, "filter.orderKind", "filter.kind")
    if isinstance(kind, OrderKind) and kind is OrderKind.OTHER:
        stmt = stmt.where(models.Order.kind.not_in([k.value for k in OrderKind if k is not OrderKind.OTHER]))
    elif kind is not None:
        stmt = stmt.where(models.Order.kind == (kind.value if isinstance(kind, OrderKind) else kind))
    store = one_of(filter.pickup_store_id, filter.store_id, "filter.pickupStoreId", "filter.storeId")
    if isinstance(store, int):
        stmt = stmt.where(models.Order.store_id == store)
    elif store is not None:
        stmt = stmt.where(models.Order.store_id == decode_id(store, "PickupStore", field="filter.pickupStoreId"))
    return stmt


@strawberry.type
class Query:
    @strawberry.field(description="Signed-in member: your orders, newest first. Null with an error for anyone else.")
    async def my_orders(
        self,
        info: strawberry.Info,
        first: First = None,
        after: After = None,
        status: Annotated[OrderStatus | None, strawberry.argument(description="Only orders in this status.")] = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Order] | None:
        ctx: Context = info.context
        member_id = ctx.require_member()
        stmt = select(models.Order).where(models.Order.member_id == member_id)
        if status is not None:
            stmt = stmt.where(models.Order.status == status.value)
        page = await fetch_page(await ctx.session(), stmt, models.Order.id, first, after, last=last, before=before, descending=True)
        return connection(page, order_node)

    @strawberry.field(description="One order: the member's own, or any for staff with orders.view (clerks: their stores); else null.")
    async def order(self, info: strawberry.Info, id: Annotated[strawberry.ID, strawberry.argument(description="The Order.")]) -> Order | None:  # noqa: A002
        return await info.context.loader("orders.orders").load(decode_id(id, "Order", field="id"))

    @strawberry.field(
        description="Staff (orders.view): orders, newest first; a store clerk sees their stores' orders only. Null with an error for anyone else."
    )
    async def orders(
        self,
        info: strawberry.Info,
        first: First = None,
        after: After = None,
        filter: Annotated[OrderFilter | None, strawberry.argument(description="Narrow the list; leave out for every order.")] = None,  # noqa: A002
        last: Last = None,
        before: Before = None,
    ) -> Connection[Order] | None:
        ctx: Context = info.context
        ctx.require(VIEW)
        stmt = select(models.Order)
        if store_scoped(ctx):
            stmt = stmt.where(models.Order.store_id.in_(sorted(ctx.actor.store_ids)))
        if filter is not None:
            stmt = _filtered(stmt, filter)
        page = await fetch_page(await ctx.session(), stmt, models.Order.id, first, after, last=last, before=before, descending=True)
        return connection(page, order_node)
