"""Points and the mall in GraphQL: the mutations (redeeming, daily sign-in, staff adjustments, mall
items, member tiers). Thin: the rules are in service.py."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

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
from core.errors import DomainError, refuse_both
from core.gql import Context, MoneyInput, Payload, decode_id, minor_from_input, run_mutation
from core.gql.relay import from_global_id

KEY_DESCRIPTION = "Any string unique to this attempt; a replay with the same key returns the first result and changes nothing."


@strawberry.input(description="What to redeem, how many, and how it is delivered.")
class RedeemPointsItemInput:
    item_id: strawberry.ID = strawberry.field(description="The item (a PointsMallItem id).")
    quantity: int = strawberry.field(default=1, description="Units to redeem (at least 1).")
    delivery_type: DeliveryType = strawberry.field(
        default=DeliveryType.SHIPPING, description="Shipped, or picked up at a store (with store pickup on)."
    )
    pickup_store_id: strawberry.ID | None = strawberry.field(
        default=None, description="The pickup store (a PickupStore id), for deliveryType PICKUP."
    )
    store_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The pickup store: its id, or its number.",
        deprecation_reason="Use pickupStoreId; removed in the next release.",
    )
    slot_id: strawberry.ID | None = strawberry.field(
        default=None, description="The pickup time slot (a PickupSlot id), where the brand asks for one."
    )
    idempotency_key: str | None = strawberry.field(default=None, description=KEY_DESCRIPTION)


@strawberry.input(description="The daily check-in; the input may be left out.")
class CheckInDailyInput:
    idempotency_key: str | None = strawberry.field(default=None, description=KEY_DESCRIPTION)


@strawberry.input(description="The daily check-in (old name of CheckInDailyInput, kept for signInDaily).")
class SignInDailyInput:
    idempotency_key: str | None = strawberry.field(default=None, description=KEY_DESCRIPTION)


@strawberry.input(description="A staff adjustment of a member's points.")
class AdjustPointsInput:
    member_id: strawberry.ID = strawberry.field(description="The member (a Member id).")
    delta: int = strawberry.field(description="Points to add (positive) or take (negative); never zero.")
    note: str = strawberry.field(description="Why; shown in the member's ledger.")
    idempotency_key: str | None = strawberry.field(default=None, description=KEY_DESCRIPTION)


IMAGE_DESCRIPTION = "The item's own picture: an http(s) URL or a path on the brand's host; without one the SKU's picture shows."


@strawberry.input(description="A new mall item.")
class CreatePointsMallItemInput:
    title: str = strawberry.field(description="The item's name as members see it.")
    points_price: int = strawberry.field(description="Points one unit costs (positive).")
    stock: int = strawberry.field(description="Units the mall may give out (its own stock, not the SKU's).")
    description: str = strawberry.field(default="", description="Longer text about the item.")
    sku_id: strawberry.ID | None = strawberry.field(default=None, description="What is delivered (a Sku id); leave out for a non-physical reward.")
    cash_price: MoneyInput | None = strawberry.field(default=None, description="Cash paid on top of the points (needs a SKU); default none.")
    per_member_limit: int = strawberry.field(default=1, description="Most units one member may hold.")
    min_tier: int = strawberry.field(default=0, description="The lowest member tier that may redeem it (0 = everyone).")
    starts_at: datetime | None = strawberry.field(default=None, description="When redeeming opens (ISO 8601); default: at once.")
    ends_at: datetime | None = strawberry.field(default=None, description="When redeeming closes (ISO 8601); default: never.")
    image: str | None = strawberry.field(default=None, description=IMAGE_DESCRIPTION)


@strawberry.input(description="Fields left out stay as they are.")
class UpdatePointsMallItemInput:
    item_id: strawberry.ID = strawberry.field(description="The item (a PointsMallItem id).")
    title: str | None = strawberry.field(default=None, description="A new name.")
    description: str | None = strawberry.field(default=None, description="A new longer text.")
    points_price: int | None = strawberry.field(default=None, description="A new points price per unit.")
    cash_price: MoneyInput | None = strawberry.field(default=None, description="A new cash price on top of the points.")
    stock: int | None = strawberry.field(default=None, description="Set the stock left to this.")
    per_member_limit: int | None = strawberry.field(default=None, description="A new per-member limit.")
    min_tier: int | None = strawberry.field(default=None, description="A new lowest tier (0 = everyone).")
    starts_at: datetime | None = strawberry.field(default=None, description="A new opening time (ISO 8601).")
    ends_at: datetime | None = strawberry.field(default=None, description="A new closing time (ISO 8601).")
    active: bool | None = strawberry.field(default=None, description="Put on offer (true) or take off (false).")
    image: str | None = strawberry.field(default=None, description=IMAGE_DESCRIPTION + ' "" removes the own picture.')


@strawberry.input(description="A member's tier as the mall sees it.")
class SetMemberTierInput:
    member_id: strawberry.ID = strawberry.field(description="The member (a Member id).")
    tier: int = strawberry.field(description="The tier, 0 to 100 (0 = everyone's).")


@strawberry.type(description="The result of redeemPointsItem.")
class RedeemPointsItemPayload(Payload):
    redemption: PointsRedemption | None = strawberry.field(default=None, description="The redemption; null on error.")
    balance: int | None = strawberry.field(default=None, description="The member's balance afterwards; null on error.")


@strawberry.type(description="The result of a change of points (check-in, staff adjustment).")
class PointsPayload(Payload):
    entry: PointsLedgerEntry | None = strawberry.field(
        default=None, description="The ledger entry written; null on error or when nothing was written."
    )
    balance: int | None = strawberry.field(default=None, description="The member's balance afterwards; null on error.")
    check_in_streak: int | None = strawberry.field(default=None, description="Days in a row checked in (check-ins only); null otherwise.")

    @strawberry.field(description="Days in a row checked in.", deprecation_reason="Use checkInStreak; removed in the next release.")
    def sign_in_streak(self) -> int | None:
        return self.check_in_streak


@strawberry.type(description="The result of creating or changing a mall item.")
class PointsMallItemPayload(Payload):
    item: PointsMallItem | None = strawberry.field(default=None, description="The item as it is now; null on error.")


@strawberry.type(description="The result of setMemberTier.")
class SetMemberTierPayload(Payload):
    points: PointsBalance | None = strawberry.field(default=None, description="The member's points and tier afterwards; null on error.")


def _service(ctx: Context):  # noqa: ANN202
    return ctx.kernel.service("points_mall")


def _pickup_store_pk(input: RedeemPointsItemInput) -> int | None:  # noqa: A002
    """The store from ``pickupStoreId`` (a PickupStore id) or the deprecated ``storeId``, not both."""
    refuse_both(input.pickup_store_id, input.store_id, new_name="pickupStoreId", old_name="storeId", field="input.storeId")
    if input.pickup_store_id is not None:
        return decode_id(input.pickup_store_id, "PickupStore", field="input.pickupStoreId")
    return _store_pk(input.store_id)


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
    return PointsPayload(entry=entry, balance=balance.balance, check_in_streak=result.get("streak"))


async def _check_in(ctx: Context, key: str | None) -> PointsPayload:
    async def work(tx):  # noqa: ANN001, ANN202
        member_id = ctx.require_member()
        entry, streak = await _service(ctx).sign_in(tx, member_id)
        return {"entryId": entry.id if entry else None, "memberId": member_id, "streak": streak}

    # One scope for both names: a replay through the old name of a check-in made with the new one is the same check-in.
    result, errors = await run_mutation(ctx, work, idempotency=("points_mall.sign_in", key, []))
    return await _entry_payload(ctx, result, errors)


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
    async def redeem_points_item(
        self,
        info: strawberry.Info,
        input: Annotated[RedeemPointsItemInput, strawberry.argument(description="What to redeem and how it is delivered.")],
    ) -> RedeemPointsItemPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            member_id = ctx.require_member()
            redemption = await _service(ctx).redeem(
                tx,
                member_id=member_id,
                item_id=decode_id(input.item_id, "PointsMallItem", field="input.itemId"),
                quantity=input.quantity,
                delivery_type=input.delivery_type.value,
                store_id=_pickup_store_pk(input),
                slot_id=None if input.slot_id is None else str(input.slot_id),
            )
            return {"redemptionId": redemption.id, "memberId": member_id}

        request = [str(input.item_id), input.quantity, input.delivery_type.value, str(input.store_id), str(input.slot_id)]
        if input.pickup_store_id is not None:  # appended, so a replay from before pickupStoreId existed still matches
            request.append(str(input.pickup_store_id))
        result, errors = await run_mutation(ctx, work, idempotency=("points_mall.redeem", input.idempotency_key, request))
        if errors:
            return RedeemPointsItemPayload(user_errors=errors)
        return RedeemPointsItemPayload(
            redemption=(await load_redemptions(ctx, [result["redemptionId"]]))[0], balance=(await balance_of(ctx, result["memberId"])).balance
        )

    @strawberry.mutation(
        description="Member: the daily check-in reward (once per calendar day in the brand's time zone; "
        "a second check-in the same day answers POINTS_MALL_ALREADY_SIGNED_IN)."
    )
    async def check_in_daily(
        self,
        info: strawberry.Info,
        input: Annotated[CheckInDailyInput | None, strawberry.argument(description="Optional: an idempotency key.")] = None,
    ) -> PointsPayload:  # noqa: A002
        return await _check_in(info.context, input.idempotency_key if input else None)

    @strawberry.mutation(description="Member: the daily check-in reward.", deprecation_reason="Use checkInDaily; removed in the next release.")
    async def sign_in_daily(
        self,
        info: strawberry.Info,
        input: Annotated[SignInDailyInput | None, strawberry.argument(description="Optional: an idempotency key.")] = None,
    ) -> PointsPayload:  # noqa: A002
        return await _check_in(info.context, input.idempotency_key if input else None)

    @strawberry.mutation(description="Staff: add or take points with a note saying why.")
    async def adjust_points(
        self, info: strawberry.Info, input: Annotated[AdjustPointsInput, strawberry.argument(description="The member, the points and why.")]
    ) -> PointsPayload:  # noqa: A002
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
    async def create_points_mall_item(
        self, info: strawberry.Info, input: Annotated[CreatePointsMallItemInput, strawberry.argument(description="The new item.")]
    ) -> PointsMallItemPayload:  # noqa: A002
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
                image_url=input.image,
            )
            return {"itemId": item_id}

        result, errors = await run_mutation(ctx, work)
        return await _item_payload(ctx, result, errors)

    @strawberry.mutation(description="Staff: change a mall item (prices, stock, limit, tier, window, active).")
    async def update_points_mall_item(
        self,
        info: strawberry.Info,
        input: Annotated[UpdatePointsMallItemInput, strawberry.argument(description="The item and the fields to change.")],
    ) -> PointsMallItemPayload:  # noqa: A002
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
                image_url=input.image,
            )
            return {"itemId": item.id}

        result, errors = await run_mutation(ctx, work)
        return await _item_payload(ctx, result, errors)

    @strawberry.mutation(description="Staff: set a member's tier (until a member-tiers component owns tiers).")
    async def set_member_tier(
        self, info: strawberry.Info, input: Annotated[SetMemberTierInput, strawberry.argument(description="The member and their tier.")]
    ) -> SetMemberTierPayload:  # noqa: A002
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
