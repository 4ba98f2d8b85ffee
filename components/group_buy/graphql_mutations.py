"""Group-buy mutations: staff create, edit, end and withdraw offers; members open and join groups."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from components.group_buy.graphql import MANAGE, GroupBuyGroup, GroupBuyOffer, load_groups, load_offers
from components.orders.graphql import Order, load_orders
from core.errors import DomainError
from core.gql import Context, MoneyInput, Payload, decode_id, minor_from_input, run_mutation
from core.units import parse_duration


def _duration(value: str | None):  # noqa: ANN202
    try:
        return parse_duration(value) if value else None
    except ValueError as exc:
        raise DomainError("GROUP_BUY_INVALID_OFFER", str(exc), field="input.duration") from None


def _times(*values: datetime | None) -> None:
    if any(v is not None and v.tzinfo is None for v in values):
        raise DomainError("GROUP_BUY_INVALID_OFFER", "Times need a time zone offset.", field="input.startsAt")


# Durations: inputs take the blueprint's human form, outputs answer seconds (GroupBuyOffer.durationSeconds).
DURATION_HELP = 'How long a group stays open after its leader pays, as in the blueprint: "24h", "90m", "2d" (the offer answers durationSeconds).'


@strawberry.input(description="One SKU of an offer with its own group price. Money in minor units of the brand currency.")
class GroupBuyOfferSkuInput:
    sku_id: strawberry.ID = strawberry.field(description="The SKU (global id); every SKU of one offer belongs to one product.")
    group_price: MoneyInput = strawberry.field(description="What a member pays for this SKU in a group.")
    leader_price: MoneyInput | None = strawberry.field(default=None, description="团长价: what the leader pays instead; left out: none.")
    quantity: int | None = strawberry.field(default=None, description="This SKU's quantity in the offer (the offer's totalLimit by default).")


@strawberry.input(description="A group-buy offer to create. Money in minor units of the brand currency; times ISO 8601 with an offset.")
class CreateGroupBuyOfferInput:
    sku_id: strawberry.ID | None = strawberry.field(default=None, description="One SKU (with groupPrice); or give `skus`.")
    group_price: MoneyInput | None = strawberry.field(default=None, description="The group price of skuId; or give `skus`.")
    group_size: int = strawberry.field(description="Seats in a group, the leader's included (at least 2).")
    starts_at: datetime = strawberry.field(description="When members may start opening groups.")
    ends_at: datetime = strawberry.field(description="After this no new group opens.")
    total_limit: int = strawberry.field(description="The offer's own quantity: units across all its groups.")
    per_member_limit: int = strawberry.field(default=1, description="Units one member may buy in this offer.")
    leader_price: MoneyInput | None = strawberry.field(default=None, description="团长价: the leader pays this instead of the group price.")
    leader_discount: MoneyInput | None = strawberry.field(default=None, description="团长优惠: or the leader gets this much off the group price.")
    duration: str | None = strawberry.field(default=None, description=DURATION_HELP + " The brand's default_duration when left out.")
    virtual_fill_ratio: float | None = strawberry.field(
        default=None, description="Fill an expiring group with virtual members once this share of seats is paid (0 to 1); left out: never."
    )
    show_joinable: bool = strawberry.field(default=True, description="List open groups a visitor may join (凑团) on the offer page.")
    skus: list[GroupBuyOfferSkuInput] | None = strawberry.field(default=None, description="Several SKUs, each with its own group price.")


@strawberry.input(
    description="What to change; fields left out stay. Once a group exists only endsAt, totalLimit, "
    "perMemberLimit, showJoinable and virtualFillRatio may change."
)
class UpdateGroupBuyOfferInput:
    offer_id: strawberry.ID = strawberry.field(description="The offer (global id).")
    starts_at: datetime | None = strawberry.field(default=None, description="A new start (only before the first group).")
    ends_at: datetime | None = strawberry.field(default=None, description="A new end of the window.")
    total_limit: int | None = strawberry.field(default=None, description="A new quantity; never below what is taken.")
    per_member_limit: int | None = strawberry.field(default=None, description="A new per-member limit.")
    show_joinable: bool | None = strawberry.field(default=None, description="List open groups on the offer page.")
    virtual_fill_ratio: float | None = strawberry.field(default=None, description="A new virtual fill ratio (0 to 1).")
    group_size: int | None = strawberry.field(default=None, description="A new group size (only before the first group).")
    duration: str | None = strawberry.field(default=None, description=DURATION_HELP + " Only before the first group.")
    group_price: MoneyInput | None = strawberry.field(default=None, description="A new group price (only before the first group).")
    leader_price: MoneyInput | None = strawberry.field(default=None, description="A new leader price (only before the first group).")
    leader_discount: MoneyInput | None = strawberry.field(default=None, description="A new leader discount (only before the first group).")


@strawberry.input(description="Names one offer, with a key for replays.")
class GroupBuyOfferIdInput:
    offer_id: strawberry.ID = strawberry.field(description="The offer (global id).")
    # Withdrawing refunds every forming group's members: like every money mutation it takes a key.
    idempotency_key: str | None = strawberry.field(
        default=None, description="A replay with the same key answers the first result and does nothing more."
    )


@strawberry.input(description="Open a group as its leader.")
class OpenGroupInput:
    offer_id: strawberry.ID = strawberry.field(description="The offer (global id); it must be running.")
    quantity: int = strawberry.field(default=1, description="Units to buy (counted against the offer's per-member limit).")
    sku_id: strawberry.ID | None = strawberry.field(default=None, description="One of the offer's SKUs (its first by default).")
    idempotency_key: str | None = strawberry.field(
        default=None, description="A replay with the same key answers the first result and orders nothing more."
    )


@strawberry.input(description="Join a group through a share link.")
class JoinGroupInput:
    share_code: str = strawberry.field(description="From the share link: the group's code or a member's `myShareCode` (the referral).")
    quantity: int = strawberry.field(default=1, description="Units to buy (counted against the offer's per-member limit).")
    sku_id: strawberry.ID | None = strawberry.field(default=None, description="One of the offer's SKUs (its first by default).")
    idempotency_key: str | None = strawberry.field(
        default=None, description="A replay with the same key answers the first result and orders nothing more."
    )


@strawberry.type(description="The offer after a staff change, or why it was refused.")
class GroupBuyOfferPayload(Payload):
    offer: GroupBuyOffer | None = strawberry.field(default=None, description="The offer as it is now; null when refused.")


@strawberry.type(description="The group opened or joined and the order to pay, or why it was refused.")
class GroupPayload(Payload):
    group: GroupBuyGroup | None = strawberry.field(default=None, description="The group; null when refused.")
    order: Order | None = strawberry.field(default=None, description="The order to pay with payOrder: the seat is taken when it is paid.")


CreateArg = Annotated[CreateGroupBuyOfferInput, strawberry.argument(description="The offer to create.")]
UpdateArg = Annotated[UpdateGroupBuyOfferInput, strawberry.argument(description="The offer and what to change.")]
OfferArg = Annotated[GroupBuyOfferIdInput, strawberry.argument(description="The offer, and an idempotency key.")]
OpenArg = Annotated[OpenGroupInput, strawberry.argument(description="The offer, the quantity and the SKU.")]
JoinArg = Annotated[JoinGroupInput, strawberry.argument(description="The share code, the quantity and the SKU.")]


def _service(ctx: Context):  # noqa: ANN202
    return ctx.kernel.service("group_buy")


async def _offer_payload(ctx: Context, result: dict | None, errors: list) -> GroupBuyOfferPayload:
    if errors:
        return GroupBuyOfferPayload(user_errors=errors)
    return GroupBuyOfferPayload(offer=(await load_offers(ctx, [result["offerId"]]))[0])


async def _offer_action(ctx: Context, input: GroupBuyOfferIdInput, action: str) -> GroupBuyOfferPayload:  # noqa: A002
    """End or withdraw an offer (offers.py), keyed for replays."""

    async def work(tx):  # noqa: ANN001, ANN202
        ctx.require(MANAGE)
        offer_id = decode_id(input.offer_id, "GroupBuyOffer", field="input.offerId")
        await getattr(_service(ctx).offers, action)(tx, offer_id)
        return {"offerId": offer_id}

    scope = (f"group_buy.{action}", input.idempotency_key, [str(input.offer_id)])
    return await _offer_payload(ctx, *await run_mutation(ctx, work, idempotency=scope))


async def _group_payload(ctx: Context, result: dict | None, errors: list) -> GroupPayload:
    if errors:
        return GroupPayload(user_errors=errors)
    return GroupPayload(group=(await load_groups(ctx, [result["groupId"]]))[0], order=(await load_orders(ctx, [result["orderId"]]))[0])


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Staff: create a group-buy offer on a SKU.")
    async def create_group_buy_offer(self, info: strawberry.Info, input: CreateArg) -> GroupBuyOfferPayload:  # noqa: A002
        ctx: Context = info.context
        currency = ctx.kernel.blueprint.brand.currency

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require(MANAGE)
            _times(input.starts_at, input.ends_at)
            if (input.skus is None) == (input.sku_id is None or input.group_price is None):
                raise DomainError("GROUP_BUY_INVALID_OFFER", "Give skuId and groupPrice, or skus.", field="input.skus")
            money_or_none = lambda value, field: minor_from_input(value, currency, field) if value else None  # noqa: E731
            if input.skus is not None:
                skus = [
                    {
                        "sku_id": decode_id(s.sku_id, "Sku", field=f"input.skus[{i}].skuId"),
                        "group_price_minor": minor_from_input(s.group_price, currency, f"input.skus[{i}].groupPrice"),
                        "leader_price_minor": money_or_none(s.leader_price, f"input.skus[{i}].leaderPrice"),
                        "quantity": s.quantity,
                    }
                    for i, s in enumerate(input.skus)
                ]
            else:
                skus = [
                    {
                        "sku_id": decode_id(input.sku_id, "Sku", field="input.skuId"),
                        "group_price_minor": minor_from_input(input.group_price, currency, "input.groupPrice"),
                        "leader_price_minor": money_or_none(input.leader_price, "input.leaderPrice"),
                    }
                ]
            offer_id = await _service(ctx).create_offer(
                tx,
                skus=skus,
                leader_discount_minor=money_or_none(input.leader_discount, "input.leaderDiscount"),
                group_size=input.group_size,
                starts_at=input.starts_at,
                ends_at=input.ends_at,
                total_limit=input.total_limit,
                per_member_limit=input.per_member_limit,
                duration=_duration(input.duration),
                virtual_fill_ratio=input.virtual_fill_ratio,
                show_joinable=input.show_joinable,
            )
            return {"offerId": offer_id}

        return await _offer_payload(ctx, *await run_mutation(ctx, work))

    @strawberry.mutation(description="Member: open a group as its leader; pay the returned order to start the clock.")
    async def open_group(self, info: strawberry.Info, input: OpenArg) -> GroupPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            member_id = ctx.require_member()
            group_id, order_id = await _service(ctx).open_group(
                tx,
                offer_id=decode_id(input.offer_id, "GroupBuyOffer", field="input.offerId"),
                member_id=member_id,
                quantity=input.quantity,
                sku_id=decode_id(input.sku_id, "Sku", field="input.skuId") if input.sku_id else None,
            )
            return {"groupId": group_id, "orderId": order_id}

        request = [str(input.offer_id), input.quantity, input.sku_id and str(input.sku_id)]
        return await _group_payload(ctx, *await run_mutation(ctx, work, idempotency=("group_buy.open", input.idempotency_key, request)))

    @strawberry.mutation(description="Member: join a group through its share code; the seat is yours when you pay.")
    async def join_group(self, info: strawberry.Info, input: JoinArg) -> GroupPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            member_id = ctx.require_member()
            group_id, order_id = await _service(ctx).join_group(
                tx,
                share_code=input.share_code,
                member_id=member_id,
                quantity=input.quantity,
                sku_id=decode_id(input.sku_id, "Sku", field="input.skuId") if input.sku_id else None,
            )
            return {"groupId": group_id, "orderId": order_id}

        request = [input.share_code, input.quantity, input.sku_id and str(input.sku_id)]
        return await _group_payload(ctx, *await run_mutation(ctx, work, idempotency=("group_buy.join", input.idempotency_key, request)))

    @strawberry.mutation(description="Staff: edit an offer (what may change once groups exist: see UpdateGroupBuyOfferInput).")
    async def update_group_buy_offer(self, info: strawberry.Info, input: UpdateArg) -> GroupBuyOfferPayload:  # noqa: A002
        ctx: Context = info.context
        currency = ctx.kernel.blueprint.brand.currency

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require(MANAGE)
            offer_id = decode_id(input.offer_id, "GroupBuyOffer", field="input.offerId")
            _times(input.starts_at, input.ends_at)
            changes = {
                name: value
                for name, value in {
                    "startsAt": input.starts_at,
                    "endsAt": input.ends_at,
                    "totalLimit": input.total_limit,
                    "perMemberLimit": input.per_member_limit,
                    "showJoinable": input.show_joinable,
                    "virtualFillRatio": input.virtual_fill_ratio,
                    "groupSize": input.group_size,
                    "duration": _duration(input.duration),
                    "groupPrice": minor_from_input(input.group_price, currency, "input.groupPrice") if input.group_price else None,
                    "leaderPrice": minor_from_input(input.leader_price, currency, "input.leaderPrice") if input.leader_price else None,
                    "leaderDiscount": (minor_from_input(input.leader_discount, currency, "input.leaderDiscount") if input.leader_discount else None),
                }.items()
                if value is not None
            }
            await _service(ctx).offers.update(tx, offer_id, changes)
            return {"offerId": offer_id}

        return await _offer_payload(ctx, *await run_mutation(ctx, work))

    @strawberry.mutation(description="Staff: end an offer now: no new groups; groups already forming go on to their deadline.")
    async def end_group_buy_offer(self, info: strawberry.Info, input: OfferArg) -> GroupBuyOfferPayload:  # noqa: A002
        return await _offer_action(info.context, input, "end")

    @strawberry.mutation(description="Staff: withdraw an offer: forming groups fail, their paid members are refunded.")
    async def withdraw_group_buy_offer(self, info: strawberry.Info, input: OfferArg) -> GroupBuyOfferPayload:  # noqa: A002
        return await _offer_action(info.context, input, "withdraw")
