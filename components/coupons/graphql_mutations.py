"""Coupons' mutations on GraphQL (templates, claiming, pushing) and their inputs and payloads;
the types they answer with are in ``graphql``. Thin: the rules are in service.py."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from components.coupons.graphql import (
    MANAGE,
    SCOPE_TYPES,
    Coupon,
    CouponChannel,
    CouponKind,
    CouponScopeKind,
    CouponTemplate,
    load_coupons,
    load_templates,
)
from core.gql import Context, MoneyInput, Payload, UserError, decode_id, minor_from_input, run_mutation
from core.gql.relay import to_global_id


# -- inputs and payloads ------------------------------------------------------------------------------
@strawberry.input(description="Which lines a coupon covers.")
class CouponScopeInput:
    kind: CouponScopeKind = strawberry.field(default=CouponScopeKind.ALL, description="What kind of thing ids name (ALL: ids are ignored).")
    ids: list[strawberry.ID] = strawberry.field(default_factory=list, description="Category, Product or Sku ids, by kind.")
    exclude_product_ids: list[strawberry.ID] = strawberry.field(default_factory=list, description="Products never covered (Product ids).")
    exclude_sku_ids: list[strawberry.ID] = strawberry.field(default_factory=list, description="SKUs never covered (Sku ids).")


@strawberry.input(description="A new coupon template.")
class CreateCouponTemplateInput:
    title: str = strawberry.field(description="The coupon's name as members see it.")
    kind: CouponKind = strawberry.field(description="Fixed amount or percentage.")
    amount_off: MoneyInput | None = strawberry.field(default=None, description="FIXED: the amount taken off.")
    percent_off: int | None = strawberry.field(default=None, description="PERCENT: 1 to 99 (15 means 15 % off).")
    cap: MoneyInput | None = strawberry.field(default=None, description="PERCENT: at most this much off; null for no cap.")
    threshold: MoneyInput | None = strawberry.field(default=None, description="The covered lines must add up to this (满 X 可用); null for none.")
    scope: CouponScopeInput | None = strawberry.field(default=None, description="Which lines it covers; default every line.")
    combines_with: list[str] = strawberry.field(
        default_factory=list, description="Activity components (group_buy, flash_sale, live_room…) whose lines it may discount."
    )
    valid_from: datetime | None = strawberry.field(default=None, description="Date-based validity: usable from (ISO 8601).")
    valid_until: datetime | None = strawberry.field(default=None, description="Date-based validity: usable until (ISO 8601).")
    valid_days: int | None = strawberry.field(default=None, description="Instead of dates: valid this many days after it is claimed.")
    total_quantity: int | None = strawberry.field(default=None, description="How many exist; null for unlimited.")
    per_member_limit: int = strawberry.field(default=1, description="Most coupons of this template one member may hold.")
    channel: CouponChannel = strawberry.field(default=CouponChannel.CLAIM_CENTRE, description="How members get it.")
    live_room_id: strawberry.ID | None = strawberry.field(default=None, description="LIVE_ROOM: the room (a LiveRoom id).")
    gift_minimum: MoneyInput | None = strawberry.field(default=None, description="ORDER_GIFT: given for paid orders of at least this.")


@strawberry.input(description="Stop or resume giving out a template.")
class SetCouponTemplateActiveInput:
    template_id: strawberry.ID = strawberry.field(description="The template (a CouponTemplate id).")
    active: bool = strawberry.field(description="true gives it out again, false stops.")


@strawberry.input(description="The coupon to claim.")
class ClaimCouponInput:
    template_id: strawberry.ID = strawberry.field(description="The template (a CouponTemplate id).")
    idempotency_key: str | None = strawberry.field(
        default=None, description="Any string unique to this attempt; a replay returns the first result and changes nothing."
    )


@strawberry.input(description="A PUSH template and the members to give it to.")
class PushCouponsInput:
    template_id: strawberry.ID = strawberry.field(description="The template (a CouponTemplate id).")
    member_ids: list[strawberry.ID] = strawberry.field(description="The members (a segment), at most 500 at a time.")
    idempotency_key: str | None = strawberry.field(
        default=None, description="Any string unique to this attempt; a replay returns the first result and changes nothing."
    )


@strawberry.type(description="The result of creating or changing a template.")
class CouponTemplatePayload(Payload):
    template: CouponTemplate | None = strawberry.field(default=None, description="The template as it is now; null on error.")


@strawberry.type(description="The result of claimCoupon.")
class ClaimCouponPayload(Payload):
    coupon: Coupon | None = strawberry.field(default=None, description="The coupon now in the wallet; null on error.")


@strawberry.type(description="A member a push skipped, and why.")
class PushSkipped:
    member_id: strawberry.ID = strawberry.field(description="The member skipped (a Member id).")
    code: str = strawberry.field(
        description="The error code saying why (e.g. COUPONS_LIMIT_REACHED).", deprecation_reason="Use error; removed in the next release."
    )

    @strawberry.field(description="Why, as a typed error: `code` from the ErrorCode enum and what it means.")
    def error(self, info: strawberry.Info) -> UserError:
        declared = info.context.kernel.contributions.error_codes.get(self.code)
        return UserError(code=self.code, message=str(declared.value) if declared is not None else self.code)


@strawberry.type(description="The result of pushCoupons.")
class PushCouponsPayload(Payload):
    issued: int | None = strawberry.field(default=None, description="Coupons given out; null on error.")
    skipped: list[PushSkipped] | None = strawberry.field(default=None, description="Members who got none, with the reason; null on error.")


def _service(ctx: Context):  # noqa: ANN202
    return ctx.kernel.service("coupons")


def _scope_ids(scope: CouponScopeInput) -> tuple[str, list[int], list[int], list[int]]:
    kind = scope.kind.value
    ids = [decode_id(v, SCOPE_TYPES[kind], field=f"input.scope.ids[{i}]") for i, v in enumerate(scope.ids)] if kind != "all" else []
    products = [decode_id(v, "Product", field=f"input.scope.excludeProductIds[{i}]") for i, v in enumerate(scope.exclude_product_ids)]
    skus = [decode_id(v, "Sku", field=f"input.scope.excludeSkuIds[{i}]") for i, v in enumerate(scope.exclude_sku_ids)]
    return kind, ids, products, skus


async def _template_payload(ctx: Context, result: dict | None, errors: list) -> CouponTemplatePayload:
    if errors:
        return CouponTemplatePayload(user_errors=errors)
    return CouponTemplatePayload(template=(await load_templates(ctx, [result["templateId"]]))[0])


# -- mutations ----------------------------------------------------------------------------------------
@strawberry.type
class Mutation:
    @strawberry.mutation(description="Staff: a coupon template (value, scope, validity, quantity, channel).")
    async def create_coupon_template(
        self,
        info: strawberry.Info,
        input: Annotated[CreateCouponTemplateInput, strawberry.argument(description="The template's value, scope, validity, quantity and channel.")],
    ) -> CouponTemplatePayload:  # noqa: A002
        ctx: Context = info.context
        currency = ctx.kernel.blueprint.brand.currency

        def minor(value: MoneyInput | None, field: str) -> int | None:
            return minor_from_input(value, currency, field) if value is not None else None

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require(MANAGE)
            kind, ids, products, skus = _scope_ids(input.scope or CouponScopeInput())
            template_id = await _service(ctx).create_template(
                tx,
                {
                    "title": input.title,
                    "kind": input.kind.value,
                    "amount_minor": minor(input.amount_off, "input.amountOff"),
                    "percent_off": input.percent_off,
                    "cap_minor": minor(input.cap, "input.cap"),
                    "threshold_minor": minor(input.threshold, "input.threshold"),
                    "scope_kind": kind,
                    "scope_ids": ids,
                    "exclude_product_ids": products,
                    "exclude_sku_ids": skus,
                    "combines_with": input.combines_with,
                    "valid_from": input.valid_from,
                    "valid_until": input.valid_until,
                    "valid_days": input.valid_days,
                    "total_quantity": input.total_quantity,
                    "per_member_limit": input.per_member_limit,
                    "channel": input.channel.value,
                    "gift_min_minor": minor(input.gift_minimum, "input.giftMinimum"),
                    "live_room_id": decode_id(input.live_room_id, "LiveRoom", field="input.liveRoomId") if input.live_room_id else None,
                },
            )
            return {"templateId": template_id}

        return await _template_payload(ctx, *await run_mutation(ctx, work))

    @strawberry.mutation(description="Staff: stop or resume giving out a template's coupons (coupons already held stay valid).")
    async def set_coupon_template_active(
        self,
        info: strawberry.Info,
        input: Annotated[SetCouponTemplateActiveInput, strawberry.argument(description="The template and whether to give it out.")],
    ) -> CouponTemplatePayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require(MANAGE)
            template_id = decode_id(input.template_id, "CouponTemplate", field="input.templateId")
            await _service(ctx).set_active(tx, template_id, input.active)
            return {"templateId": template_id}

        return await _template_payload(ctx, *await run_mutation(ctx, work))

    @strawberry.mutation(
        description="Member: claim a coupon from the claim centre, or a live room's coupon while the room "
        "is live and you are in it. A replayed idempotencyKey changes nothing."
    )
    async def claim_coupon(
        self, info: strawberry.Info, input: Annotated[ClaimCouponInput, strawberry.argument(description="The template to claim from.")]
    ) -> ClaimCouponPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            member_id = ctx.require_member()
            coupon = await _service(ctx).claim(tx, member_id, decode_id(input.template_id, "CouponTemplate", field="input.templateId"))
            return {"couponId": coupon.id}

        result, errors = await run_mutation(ctx, work, idempotency=("coupons.claim", input.idempotency_key, [str(input.template_id)]))
        if errors:
            return ClaimCouponPayload(user_errors=errors)
        return ClaimCouponPayload(coupon=(await load_coupons(ctx, [result["couponId"]]))[0])

    @strawberry.mutation(
        description="Staff: give a PUSH template's coupons to members; members over the limit (or past the "
        "total) are listed as skipped. A replayed idempotencyKey changes nothing."
    )
    async def push_coupons(
        self, info: strawberry.Info, input: Annotated[PushCouponsInput, strawberry.argument(description="The template and the members.")]
    ) -> PushCouponsPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require(MANAGE)
            members = [decode_id(v, "Member", field=f"input.memberIds[{i}]") for i, v in enumerate(input.member_ids)]
            return await _service(ctx).push(tx, decode_id(input.template_id, "CouponTemplate", field="input.templateId"), members)

        request = [str(input.template_id), [str(m) for m in input.member_ids]]
        result, errors = await run_mutation(ctx, work, idempotency=("coupons.push", input.idempotency_key, request))
        if errors:
            return PushCouponsPayload(user_errors=errors)
        return PushCouponsPayload(
            issued=len(result["couponIds"]),
            skipped=[PushSkipped(member_id=strawberry.ID(to_global_id("Member", s["memberId"])), code=s["code"]) for s in result["skipped"]],
        )
