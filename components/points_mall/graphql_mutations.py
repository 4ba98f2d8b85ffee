"""Points and the mall in GraphQL: the mutations (redeeming, daily sign-in, staff adjustments, mall
items, member tiers). Thin: the rules are in service.py."""

from __future__ import annotations

from datetime import datetime

import strawberry

from components.orders.graphql import DeliveryType
from components.points_mall import models
from components.points_mall.graphql import (
    ADJUST,
    MANAGE,
    PointsBalance,
    PointsLedgerEntry,
    PointsMallItem,
    PointsRedemption,
    balance_of,
    entry_node,
    load_items,
    load_redemptions,
)
from core.errors import DomainError
from core.gql import Context, MoneyInput, Payload, decode_id, minor_from_input, run_mutation
from core.gql.relay import from_global_id


@strawberry.input
class RedeemPointsItemInput:
    item_id: strawberry.ID
    quantity: int = 1
    delivery_type: DeliveryType = DeliveryType.SHIPPING
    store_id: strawberry.ID | None = strawberry.field(default=None, description="The pickup store (with store pickup on): its id, or its number.")
    slot_id: strawberry.ID | None = strawberry.field(
        default=None, description="The pickup time slot (a PickupSlot id), where the brand asks for one."
    )
    idempotency_key: str | None = None


@strawberry.input
class SignInDailyInput:
    idempotency_key: str | None = None


@strawberry.input
class AdjustPointsInput:
    member_id: strawberry.ID
    delta: int = strawberry.field(description="Points to add (positive) or take (negative); never zero.")
    note: str = strawberry.field(description="Why; shown in the member's ledger.")
    idempotency_key: str | None = None


@strawberry.input
class CreatePointsMallItemInput:
    title: str
    points_price: int
    stock: int
    description: str = ""
    sku_id: strawberry.ID | None = None
    cash_price: MoneyInput | None = None
    per_member_limit: int = 1
    min_tier: int = 0
    starts_at: datetime | None = None
    ends_at: datetime | None = None


@strawberry.input(description="Fields left out stay as they are.")
class UpdatePointsMallItemInput:
    item_id: strawberry.ID
    title: str | None = None
    description: str | None = None
    points_price: int | None = None
    cash_price: MoneyInput | None = None
    stock: int | None = strawberry.field(default=None, description="Set the stock left to this.")
    per_member_limit: int | None = None
    min_tier: int | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    active: bool | None = None


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


@strawberry.type
class SetMemberTierPayload(Payload):
    points: PointsBalance | None = None


def _service(ctx: Context):  # noqa: ANN202
    return ctx.kernel.service("points_mall")


def _store_pk(value: strawberry.ID | None) -> int | None:
    """A store as store_pickup names it: a global id (``PickupStore``) or its plain number."""
    if value is None:
        return None
    text = str(value)
    if text.isdigit() and len(text) <= 18:
        return int(text)
    type_name, pk = from_global_id(text)
    if not type_name.endswith("Store") or not pk.isdigit() or len(pk) > 18:
        raise DomainError("KERNEL_INVALID_ID", "expected the id of a store", field="input.storeId")
    return int(pk)


async def _entry_payload(ctx: Context, result: dict | None, errors: list) -> PointsPayload:
    if errors:
        return PointsPayload(user_errors=errors)
    entry = None
    if result.get("entryId"):
        row = await (await ctx.session()).get(models.Entry, result["entryId"])
        entry = entry_node(row) if row else None
    balance = await balance_of(ctx, result["memberId"])
    return PointsPayload(entry=entry, balance=balance.balance, sign_in_streak=result.get("streak"))


async def _item_payload(ctx: Context, result: dict | None, errors: list) -> PointsMallItemPayload:
    if errors:
        return PointsMallItemPayload(user_errors=errors)
    return PointsMallItemPayload(item=(await load_items(ctx, [result["itemId"]]))[0])


# -- mutations ----------------------------------------------------------------------------------------
@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Member: redeem a mall item. Points are taken, stock held and the order "
        "placed in one step through the one checkout (the same as placeOrder with a line "
        "naming pointsMallItemId); a replayed idempotencyKey changes nothing."
    )
    async def redeem_points_item(self, info: strawberry.Info, input: RedeemPointsItemInput) -> RedeemPointsItemPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            member_id = ctx.require_member()
            redemption = await _service(ctx).redeem(
                tx,
                member_id=member_id,
                item_id=decode_id(input.item_id, "PointsMallItem", field="input.itemId"),
                quantity=input.quantity,
                delivery_type=input.delivery_type.value,
                store_id=_store_pk(input.store_id),
                slot_id=None if input.slot_id is None else str(input.slot_id),
            )
            return {"redemptionId": redemption.id, "memberId": member_id}

        request = [str(input.item_id), input.quantity, input.delivery_type.value, str(input.store_id), str(input.slot_id)]
        result, errors = await run_mutation(ctx, work, idempotency=("points_mall.redeem", input.idempotency_key, request))
        if errors:
            return RedeemPointsItemPayload(user_errors=errors)
        return RedeemPointsItemPayload(
            redemption=(await load_redemptions(ctx, [result["redemptionId"]]))[0], balance=(await balance_of(ctx, result["memberId"])).balance
        )

    @strawberry.mutation(description="Member: the daily sign-in reward (once per calendar day in the brand's time zone).")
    async def sign_in_daily(self, info: strawberry.Info, input: SignInDailyInput | None = None) -> PointsPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            member_id = ctx.require_member()
            entry, streak = await _service(ctx).sign_in(tx, member_id)
            return {"entryId": entry.id if entry else None, "memberId": member_id, "streak": streak}

        key = input.idempotency_key if input else None
        result, errors = await run_mutation(ctx, work, idempotency=("points_mall.sign_in", key, []))
        return await _entry_payload(ctx, result, errors)

    @strawberry.mutation(description="Staff: add or take points with a note saying why.")
    async def adjust_points(self, info: strawberry.Info, input: AdjustPointsInput) -> PointsPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require(ADJUST)
            member_id = decode_id(input.member_id, "Member", field="input.memberId")
            entry = await _service(ctx).adjust(
                tx, member_id=member_id, delta=input.delta, note=input.note, key=f"staff:{input.idempotency_key}" if input.idempotency_key else None
            )
            return {"entryId": entry.id, "memberId": member_id}

        request = [str(input.member_id), input.delta, input.note]
        result, errors = await run_mutation(ctx, work, idempotency=("points_mall.adjust", input.idempotency_key, request))
        return await _entry_payload(ctx, result, errors)

    @strawberry.mutation(description="Staff: put an item in the points mall.")
    async def create_points_mall_item(self, info: strawberry.Info, input: CreatePointsMallItemInput) -> PointsMallItemPayload:  # noqa: A002
        ctx: Context = info.context
        currency = ctx.kernel.blueprint.brand.currency

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require(MANAGE)
            item_id = await _service(ctx).create_item(
                tx,
                title=input.title,
                description=input.description,
                points_price=input.points_price,
                stock=input.stock,
                sku_id=decode_id(input.sku_id, "Sku", field="input.skuId") if input.sku_id else None,
                cash_price_minor=minor_from_input(input.cash_price, currency, "input.cashPrice") if input.cash_price else 0,
                per_member_limit=input.per_member_limit,
                min_tier=input.min_tier,
                starts_at=input.starts_at,
                ends_at=input.ends_at,
            )
            return {"itemId": item_id}

        result, errors = await run_mutation(ctx, work)
        return await _item_payload(ctx, result, errors)

    @strawberry.mutation(description="Staff: change a mall item (prices, stock, limit, tier, window, active).")
    async def update_points_mall_item(self, info: strawberry.Info, input: UpdatePointsMallItemInput) -> PointsMallItemPayload:  # noqa: A002
        ctx: Context = info.context
        currency = ctx.kernel.blueprint.brand.currency

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require(MANAGE)
            item = await _service(ctx).update_item(
                tx,
                decode_id(input.item_id, "PointsMallItem", field="input.itemId"),
                title=input.title,
                description=input.description,
                points_price=input.points_price,
                cash_price_minor=minor_from_input(input.cash_price, currency, "input.cashPrice") if input.cash_price else None,
                stock=input.stock,
                per_member_limit=input.per_member_limit,
                min_tier=input.min_tier,
                starts_at=input.starts_at,
                ends_at=input.ends_at,
                active=input.active,
            )
            return {"itemId": item.id}

        result, errors = await run_mutation(ctx, work)
        return await _item_payload(ctx, result, errors)

    @strawberry.mutation(description="Staff: set a member's tier (until a member-tiers component owns tiers).")
    async def set_member_tier(self, info: strawberry.Info, input: SetMemberTierInput) -> SetMemberTierPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require(MANAGE)
            member_id = decode_id(input.member_id, "Member", field="input.memberId")
            await _service(ctx).set_tier(tx, member_id, input.tier)
            return {"memberId": member_id}

        result, errors = await run_mutation(ctx, work)
        if errors:
            return SetMemberTierPayload(user_errors=errors)
        return SetMemberTierPayload(points=await balance_of(ctx, result["memberId"]))
