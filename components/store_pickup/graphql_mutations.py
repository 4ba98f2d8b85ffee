"""Store pickup's GraphQL mutations: stores and slots for staff, choosing a store and slot at checkout,
and verifying a pickup code (typed or scanned). Thin: the rules are in service.py."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy import select

from components.store_pickup import models
from components.store_pickup.graphql import (
    MANAGE,
    VERIFY,
    PickupOrder,
    _may_see_pickup,
    _service,
    load_pickups,
    load_slots,
    load_stores,
    pickup_node,
)
from components.store_pickup.graphql_hours import hours_from_input
from components.store_pickup.graphql_inputs import (
    CheckoutPickupInput,
    ChoosePickupStoreInput,
    ConfirmPickupInput,
    CreatePickupSlotsInput,
    CreatePickupStoreInput,
    PickupCheckoutPayload,
    PickupSlotsPayload,
    PickupStorePayload,
    PickupVerificationPayload,
    PreviewPickupInput,
    UpdatePickupStoreInput,
    named_as_given,
    store_choice,
)
from core.errors import DomainError
from core.gql import Context, decode_id, run_mutation
from core.gql.payload import user_error


async def _pickup_of_order(ctx: Context, order_id: int) -> PickupOrder | None:
    row = await (await ctx.session()).scalar(select(models.Pickup).where(models.Pickup.order_id == order_id))
    return pickup_node(row) if row is not None and _may_see_pickup(ctx, row) else None


async def _checkout_payload(ctx: Context, result: dict | None, errors: list) -> PickupCheckoutPayload:
    if errors:
        return PickupCheckoutPayload(user_errors=errors)
    order = await ctx.loader("orders.orders").load(result["orderId"])
    return PickupCheckoutPayload(order=order, pickup=await _pickup_of_order(ctx, result["orderId"]))


INPUT = "The mutation's input."


def _store(input: Any) -> int:  # noqa: A002
    """The store an input names, by pickupStoreId or the deprecated storeId (never both)."""
    value, field = store_choice(input.pickup_store_id, input.store_id)
    return decode_id(value, "PickupStore", field=field)


def _store_field(input: Any) -> str:  # noqa: A002
    """The store field the caller wrote, for errors the services raise about the store."""
    return "input.storeId" if input.store_id is not None and input.pickup_store_id is None else "input.pickupStoreId"


def _slot_id(value: strawberry.ID | None) -> int | None:
    return decode_id(value, "PickupSlot", field="input.slotId") if value is not None else None


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Admin: open a pickup store.")
    async def create_pickup_store(
        self,
        info: strawberry.Info,
        input: Annotated[CreatePickupStoreInput, strawberry.argument(description=INPUT)],  # noqa: A002
    ) -> PickupStorePayload:
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require(MANAGE)
            hours = hours_from_input(input.opening_hours, input.hours)
            store_id = await _service(ctx).create_store(
                tx,
                name=input.name,
                latitude=input.latitude,
                longitude=input.longitude,
                address=input.address,
                phone=input.phone,
                hours=hours,
                status=input.status.value,
            )
            return {"storeId": store_id}

        result, errors = await run_mutation(ctx, work)
        return PickupStorePayload(user_errors=errors) if errors else PickupStorePayload(store=(await load_stores(ctx, [result["storeId"]]))[0])

    @strawberry.mutation(description="Admin: change a store (hours, status: closed or suspended stores take no pickups).")
    async def update_pickup_store(
        self,
        info: strawberry.Info,
        input: Annotated[UpdatePickupStoreInput, strawberry.argument(description=INPUT)],  # noqa: A002
    ) -> PickupStorePayload:
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require(MANAGE)
            store_id = _store(input)
            hours = hours_from_input(input.opening_hours, input.hours)
            await _service(ctx).update_store(
                tx,
                store_id,
                name=input.name,
                latitude=input.latitude,
                longitude=input.longitude,
                address=input.address,
                phone=input.phone,
                hours=hours,
                status=input.status.value if input.status else None,
            )
            return {"storeId": store_id}

        result, errors = await run_mutation(ctx, work)
        if errors:
            return PickupStorePayload(user_errors=named_as_given(errors, _store_field(input)))
        return PickupStorePayload(store=(await load_stores(ctx, [result["storeId"]]))[0])

    @strawberry.mutation(description="Admin: add consecutive pickup slots with a capacity each.")
    async def create_pickup_slots(
        self,
        info: strawberry.Info,
        input: Annotated[CreatePickupSlotsInput, strawberry.argument(description=INPUT)],  # noqa: A002
    ) -> PickupSlotsPayload:
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require(MANAGE)
            ids = await _service(ctx).create_slots(
                tx,
                store_id=_store(input),
                starts_at=input.starts_at,
                ends_at=input.ends_at,
                minutes=input.slot_minutes,
                capacity=input.capacity,
            )
            return {"slotIds": ids}

        result, errors = await run_mutation(ctx, work)
        if errors:
            return PickupSlotsPayload(user_errors=named_as_given(errors, _store_field(input)))
        return PickupSlotsPayload(slots=[s for s in await load_slots(ctx, result["slotIds"]) if s is not None])

    @strawberry.mutation(description="Member: order for pickup at a store (and slot); pay it with payOrder.")
    async def checkout_pickup(
        self,
        info: strawberry.Info,
        input: Annotated[CheckoutPickupInput, strawberry.argument(description=INPUT)],  # noqa: A002
    ) -> PickupCheckoutPayload:
        ctx: Context = info.context
        request = [[(str(l.sku_id), l.quantity) for l in input.lines], str(input.pickup_store_id or input.store_id), input.slot_id]

        async def work(tx):  # noqa: ANN001, ANN202
            member_id = ctx.require_member()
            lines = [(decode_id(l.sku_id, "Sku", field=f"input.lines[{i}].skuId"), l.quantity) for i, l in enumerate(input.lines)]
            order_id = await _service(ctx).checkout(
                tx,
                member_id=member_id,
                lines=lines,
                store_id=_store(input),
                slot_id=_slot_id(input.slot_id),
                idempotency_key=input.idempotency_key,
            )
            return {"orderId": order_id}

        result, errors = await run_mutation(ctx, work, idempotency=("store_pickup.checkout", input.idempotency_key, request))
        return await _checkout_payload(ctx, result, named_as_given(errors, _store_field(input)))

    @strawberry.mutation(description="Member: collect an unpaid order (e.g. a group-buy order) at a store instead.")
    async def choose_pickup_store(
        self,
        info: strawberry.Info,
        input: Annotated[ChoosePickupStoreInput, strawberry.argument(description=INPUT)],  # noqa: A002
    ) -> PickupCheckoutPayload:
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            member_id = ctx.require_member()
            order_id = decode_id(input.order_id, "Order", field="input.orderId")
            await _service(ctx).choose_store(
                tx,
                member_id=member_id,
                order_id=order_id,
                store_id=_store(input),
                slot_id=_slot_id(input.slot_id),
            )
            return {"orderId": order_id}

        result, errors = await run_mutation(ctx, work)
        return await _checkout_payload(ctx, result, named_as_given(errors, _store_field(input)))

    @strawberry.mutation(description="Clerk: look up a pickup by code or QR at your store — what to hand over. Changes nothing.")
    async def preview_pickup(
        self,
        info: strawberry.Info,
        input: Annotated[PreviewPickupInput, strawberry.argument(description=INPUT)],  # noqa: A002
    ) -> PickupVerificationPayload:
        return await _verify(info.context, input, confirm=False)

    @strawberry.mutation(description="Clerk: hand the order over; the order completes and the store is credited.")
    async def confirm_pickup(
        self,
        info: strawberry.Info,
        input: Annotated[ConfirmPickupInput, strawberry.argument(description=INPUT)],  # noqa: A002
    ) -> PickupVerificationPayload:
        return await _verify(info.context, input, confirm=True)


async def _verify(ctx: Context, input: PreviewPickupInput | ConfirmPickupInput, *, confirm: bool) -> PickupVerificationPayload:  # noqa: A002
    try:
        store_id = _store(input)
        if ctx.actor.is_staff:
            ctx.require(VERIFY)
        pickup_id = await _service(ctx).verify(
            ctx.actor,
            store_id=store_id,
            code=input.code,
            qr_payload=input.qr_payload,
            confirm=confirm,
            idempotency_key=getattr(input, "idempotency_key", None),
        )
    except DomainError as error:
        ctx.kernel.check_error_code(error.code)
        return PickupVerificationPayload(user_errors=named_as_given([user_error(error)], _store_field(input)))
    finally:
        await ctx.reset_session()
    pickup = (await load_pickups(ctx, [pickup_id]))[0]
    order = await ctx.loader("orders.orders").load(pickup.row.order_id) if pickup else None
    return PickupVerificationPayload(pickup=pickup, order=order)
