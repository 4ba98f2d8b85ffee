"""Distribution mutations (thin: each calls one service step inside ``run_mutation``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry

from components.distribution.graphql import (
    MANAGE,
    CommissionRuleKind,
    Promoter,
    PromoterCommissionRule,
    PromoterCustomer,
    PromoterWithdrawal,
    _id,
    _utc,
    load_promoters,
    load_rules,
    load_withdrawals,
)
from core.clock import as_utc
from core.errors import DomainError
from core.gql import Context, MoneyInput, Payload, decode_id, minor_from_input, run_mutation


@strawberry.input(description="Become a promoter.")
class ApplyForPromoterInput:
    note: str | None = strawberry.field(default=None, description="Anything the reviewer should know (not stored).")


@strawberry.input(description="Bind yourself, as a customer, to the promoter whose share code you opened.")
class BindPromoterInput:
    share_code: str = strawberry.field(description="The promoter's member share code (myShareCode).")


@strawberry.input(description="Approve or reject a pending promoter application.")
class ReviewPromoterApplicationInput:
    promoter_id: strawberry.ID = strawberry.field(description="The pending promoter.")
    approve: bool = strawberry.field(description="True approves, false rejects.")
    reason: str | None = strawberry.field(default=None, description="Required when rejecting.")


@strawberry.input(description="Set or remove a SKU's commission at one level.")
class SetCommissionRuleInput:
    sku_id: strawberry.ID = strawberry.field(description="The SKU.")
    level: int = strawberry.field(default=1, description="1 or 2 (2 only when the brand pays two levels).")
    kind: CommissionRuleKind | None = strawberry.field(default=None, description="Null removes the rule (the default applies).")
    value: int = strawberry.field(default=0, description="Basis points (PERCENT, 0–10000) or minor units per unit (FIXED).")


@strawberry.input(description="Ask for commission to be paid out.")
class RequestWithdrawalInput:
    amount: MoneyInput = strawberry.field(description="Taken from your available balance now; the fee is deducted from it.")
    idempotency_key: str | None = strawberry.field(default=None, description="A replay returns the first result, changes nothing.")


@strawberry.input(description="Approve (pay out) or reject a requested withdrawal.")
class ReviewWithdrawalInput:
    withdrawal_id: strawberry.ID = strawberry.field(description="The requested withdrawal.")
    approve: bool = strawberry.field(description="True pays it out through the payout provider; false rejects it.")
    reason: str | None = strawberry.field(default=None, description="Required when rejecting.")
    idempotency_key: str | None = strawberry.field(default=None, description="A replay returns the first result, changes nothing.")


@strawberry.type(description="Your promoter record after applying.")
class ApplyForPromoterPayload(Payload):
    promoter: Promoter | None = strawberry.field(default=None, description="The promoter (PENDING or ACTIVE).")


@strawberry.type(description="The promoter after the review.")
class ReviewPromoterApplicationPayload(Payload):
    promoter: Promoter | None = strawberry.field(default=None, description="The promoter (ACTIVE or REJECTED).")


@strawberry.type(description="The binding after bindPromoter.")
class BindPromoterPayload(Payload):
    binding: PromoterCustomer | None = strawberry.field(
        default=None, description="Whom you are bound to is the code's promoter when `bound` is true."
    )
    bound: bool | None = strawberry.field(default=None, description="You are now that promoter's customer.")


@strawberry.type(description="The rule after setCommissionRule (null when removed).")
class SetCommissionRulePayload(Payload):
    rule: PromoterCommissionRule | None = strawberry.field(default=None, description="The rule.")


@strawberry.type(description="The withdrawal just requested.")
class RequestWithdrawalPayload(Payload):
    withdrawal: PromoterWithdrawal | None = strawberry.field(default=None, description="The withdrawal (REQUESTED).")


@strawberry.type(description="The withdrawal after the review.")
class ReviewWithdrawalPayload(Payload):
    withdrawal: PromoterWithdrawal | None = strawberry.field(default=None, description="The withdrawal (PAID, PAYING, FAILED or REJECTED).")


def _service(ctx: Context):  # noqa: ANN202
    return ctx.kernel.service("distribution")


async def _promoter_payload(ctx: Context, kind: type, result: dict | None, errors: list) -> Any:
    if errors:
        return kind(user_errors=errors)
    return kind(promoter=(await load_promoters(ctx, [result["promoterId"]]))[0])


async def _withdrawal_payload(ctx: Context, kind: type, result: dict | None, errors: list) -> Any:
    if errors:
        return kind(user_errors=errors)
    return kind(withdrawal=(await load_withdrawals(ctx, [result["withdrawalId"]]))[0])


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Member: apply to become a promoter. Active at once when the brand lets everyone (or "
        "members past its spend threshold) in; otherwise pending staff review."
    )
    async def apply_for_promoter(
        self, info: strawberry.Info, input: Annotated[ApplyForPromoterInput, strawberry.argument(description="Optional details of the application.")]
    ) -> ApplyForPromoterPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            return {"promoterId": (await _service(ctx).promoters.apply(tx, ctx.require_member())).id}

        return await _promoter_payload(ctx, ApplyForPromoterPayload, *await run_mutation(ctx, work))

    @strawberry.mutation(
        description="Member: become the customer of the promoter whose share code you opened, under the "
        "brand's binding mode (permanent, time-limited or last click). Never yourself, never a loop."
    )
    async def bind_promoter(
        self,
        info: strawberry.Info,
        input: Annotated[BindPromoterInput, strawberry.argument(description="The promoter's share code the member arrived through.")],
    ) -> BindPromoterPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            member_id = ctx.require_member()
            holder = ctx.kernel.service("members.share_codes").holder(input.share_code)
            if holder is None or holder.kind != "member":
                raise DomainError("DISTRIBUTION_INVALID_SHARE_CODE", "That is not a promoter's share code of this brand.", field="input.shareCode")
            row = await _service(ctx).promoters.bind(tx, member_id, holder.id, strict=True)
            return {
                "promoter": row.promoter_member_id,
                "boundAt": row.bound_at.isoformat(),
                "expiresAt": row.expires_at.isoformat() if row.expires_at else None,
                "bound": row.promoter_member_id == holder.id,
            }

        result, errors = await run_mutation(ctx, work)
        if errors:
            return BindPromoterPayload(user_errors=errors)
        expires = result["expiresAt"]
        return BindPromoterPayload(
            bound=result["bound"],
            binding=PromoterCustomer(
                member_id=_id("Member", result["promoter"]),
                bound_at=as_utc(datetime.fromisoformat(result["boundAt"])),
                expires_at=_utc(datetime.fromisoformat(expires)) if expires else None,
            ),
        )

    @strawberry.mutation(description="Staff: approve or reject a pending promoter application.")
    async def review_promoter_application(
        self,
        info: strawberry.Info,
        input: Annotated[ReviewPromoterApplicationInput, strawberry.argument(description="The application and the decision.")],
    ) -> ReviewPromoterApplicationPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require(MANAGE)
            promoter_id = decode_id(input.promoter_id, "Promoter", field="input.promoterId")
            await _service(ctx).promoters.get(tx.session, promoter_id)
            row = await _service(ctx).promoters.decide(tx, promoter_id, approve=input.approve, reason=input.reason)
            return {"promoterId": row.id}

        return await _promoter_payload(ctx, ReviewPromoterApplicationPayload, *await run_mutation(ctx, work))

    @strawberry.mutation(
        description="Staff: a SKU's commission at one level, as basis points of what was paid or a fixed "
        "amount per unit; kind null removes it (the brand default applies)."
    )
    async def set_commission_rule(
        self, info: strawberry.Info, input: Annotated[SetCommissionRuleInput, strawberry.argument(description="The SKU, level and commission.")]
    ) -> SetCommissionRulePayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require(MANAGE)
            sku_id = decode_id(input.sku_id, "Sku", field="input.skuId")
            row = await _service(ctx).rules.set(tx, sku_id, input.level, input.kind.value if input.kind else None, input.value)
            return {"ruleId": row.id if row is not None else None}

        result, errors = await run_mutation(ctx, work)
        if errors:
            return SetCommissionRulePayload(user_errors=errors)
        return SetCommissionRulePayload(rule=(await load_rules(ctx, [result["ruleId"]]))[0] if result["ruleId"] else None)

    @strawberry.mutation(
        description="Member (promoter): ask for commission to be paid out. The amount leaves the available "
        "balance now and comes back if staff reject it or the payout fails."
    )
    async def request_withdrawal(
        self, info: strawberry.Info, input: Annotated[RequestWithdrawalInput, strawberry.argument(description="The amount to withdraw.")]
    ) -> RequestWithdrawalPayload:  # noqa: A002
        ctx: Context = info.context
        currency = ctx.kernel.blueprint.brand.currency

        async def work(tx):  # noqa: ANN001, ANN202
            member_id = ctx.require_member()
            amount = minor_from_input(input.amount, currency, "input.amount")
            return {"withdrawalId": (await _service(ctx).withdrawals.request(tx, member_id, amount)).id}

        idem = ("distribution.withdraw", input.idempotency_key, [str(input.amount.amount_minor), input.amount.currency])
        return await _withdrawal_payload(ctx, RequestWithdrawalPayload, *await run_mutation(ctx, work, idempotency=idem))

    @strawberry.mutation(
        description="Staff: approve a requested withdrawal (paid out through the payout provider) or reject it (the amount returns to the balance)."
    )
    async def review_withdrawal(
        self, info: strawberry.Info, input: Annotated[ReviewWithdrawalInput, strawberry.argument(description="The request and the decision.")]
    ) -> ReviewWithdrawalPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require(MANAGE)
            withdrawal_id = decode_id(input.withdrawal_id, "PromoterWithdrawal", field="input.withdrawalId")
            service = _service(ctx).withdrawals
            row = await (service.approve(tx, withdrawal_id) if input.approve else service.reject(tx, withdrawal_id, input.reason or ""))
            return {"withdrawalId": row.id}

        idem = ("distribution.review_withdrawal", input.idempotency_key, [str(input.withdrawal_id), input.approve, input.reason or ""])
        return await _withdrawal_payload(ctx, ReviewWithdrawalPayload, *await run_mutation(ctx, work, idempotency=idem))
