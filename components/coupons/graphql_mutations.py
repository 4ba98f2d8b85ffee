"""Coupons' mutations on GraphQL (templates, claiming, pushing) and their inputs and payloads;
the types they answer with are in ``graphql``. Thin: the rules are in service.py."""

from __future__ import annotations

from datetime import datetime

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
from core.gql import Context, MoneyInput, Payload, decode_id, minor_from_input, run_mutation
from core.gql.relay import to_global_id


# -- inputs and payloads ------------------------------------------------------------------------------
@strawberry.input
class CouponScopeInput:
    kind: CouponScopeKind = CouponScopeKind.ALL
    ids: list[strawberry.ID] = strawberry.field(default_factory=list, description="Category, Product or Sku ids, by kind.")
    exclude_product_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    exclude_sku_ids: list[strawberry.ID] = strawberry.field(default_factory=list)


@strawberry.input
class CreateCouponTemplateInput:
    title: str
    kind: CouponKind
    amount_off: MoneyInput | None = None
    percent_off: int | None = None
    cap: MoneyInput | None = None
    threshold: MoneyInput | None = None
    scope: CouponScopeInput | None = None
    combines_with: list[str] = strawberry.field(default_factory=list)
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    valid_days: int | None = None
    total_quantity: int | None = None
    per_member_limit: int = 1
    channel: CouponChannel = CouponChannel.CLAIM_CENTRE
    live_room_id: strawberry.ID | None = None
    gift_minimum: MoneyInput | None = None


@strawberry.input
class SetCouponTemplateActiveInput:
    template_id: strawberry.ID
    active: bool


@strawberry.input
class ClaimCouponInput:
    template_id: strawberry.ID
    idempotency_key: str | None = None


@strawberry.input
class PushCouponsInput:
    template_id: strawberry.ID
    member_ids: list[strawberry.ID] = strawberry.field(description="The members (a segment), at most 500 at a time.")
    idempotency_key: str | None = None


@strawberry.type
class CouponTemplatePayload(Payload):
    template: CouponTemplate | None = None


@strawberry.type
class ClaimCouponPayload(Payload):
    coupon: Coupon | None = None


@strawberry.type(description="A member a push skipped, and why (the error code).")
class PushSkipped:
    member_id: strawberry.ID
    code: str


@strawberry.type
class PushCouponsPayload(Payload):
    issued: int | None = None
    skipped: list[PushSkipped] | None = None


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
    async def create_coupon_template(self, info: strawberry.Info, input: CreateCouponTemplateInput) -> CouponTemplatePayload:  # noqa: A002
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
    async def set_coupon_template_active(self, info: strawberry.Info, input: SetCouponTemplateActiveInput) -> CouponTemplatePayload:  # noqa: A002
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
    async def claim_coupon(self, info: strawberry.Info, input: ClaimCouponInput) -> ClaimCouponPayload:  # noqa: A002
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
    async def push_coupons(self, info: strawberry.Info, input: PushCouponsInput) -> PushCouponsPayload:  # noqa: A002
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
