"""Payment intents in GraphQL: the ``PaymentIntent`` type an owner component returns from its
own mutation (``payLotDeposit``), and the sandbox's settle mutation for development."""

from __future__ import annotations

import strawberry

from components.orders.graphql import PaymentOutcome
from components.orders.intents import IntentView
from core.errors import DomainError
from core.gql import Context, Money, Payload, money, run_mutation
from core.gql.relay import parse_key


@strawberry.type(description="A payment that is not a goods order (an auction deposit), through the same providers.")
class PaymentIntent:
    id: strawberry.ID
    purpose: str = strawberry.field(description="'<component>.<what>', e.g. bidding_sale.deposit")
    provider: str
    amount: Money
    refunded: Money
    status: str = strawberry.field(description="pending, succeeded, failed or refunded")


def intent_node(intent: IntentView) -> PaymentIntent:
    return PaymentIntent(
        id=strawberry.ID(str(intent.id)),
        purpose=intent.purpose,
        provider=intent.provider,
        amount=money(intent.amount_minor, intent.currency),
        refunded=money(intent.refunded_minor, intent.currency),
        status=intent.status,
    )


@strawberry.input
class SandboxSettlePaymentIntentInput:
    intent_id: strawberry.ID
    outcome: PaymentOutcome = PaymentOutcome.SUCCEEDED


@strawberry.type
class PaymentIntentPayload(Payload):
    payment_intent: PaymentIntent | None = None


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Development: act as the sandbox provider's callback for one of your payment intents.")
    async def sandbox_settle_payment_intent(self, info: strawberry.Info, input: SandboxSettlePaymentIntentInput) -> PaymentIntentPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            member_id = None if ctx.actor.is_staff and ctx.can("orders.manage") else ctx.require_member()
            intent_id = parse_key(str(input.intent_id))
            if intent_id is None:
                raise DomainError("KERNEL_INVALID_ID", "Not a payment intent id.", field="input.intentId")
            intent = await ctx.kernel.service("orders").intents.sandbox_settle(tx, intent_id, member_id, input.outcome is PaymentOutcome.SUCCEEDED)
            return {"intent": intent.__dict__}

        result, errors = await run_mutation(ctx, work)
        if errors:
            return PaymentIntentPayload(user_errors=errors)
        return PaymentIntentPayload(payment_intent=intent_node(IntentView(**result["intent"])))
