"""Payment intents in GraphQL: the ``PaymentIntent`` node an owner component returns from its
own mutation (``payLotDeposit``), and the sandbox's settle mutation for development."""

from __future__ import annotations

from typing import Annotated

import strawberry
from sqlalchemy import select

from components.orders import models
from components.orders.enums import PaymentIntentStatus, PaymentOutcome
from components.orders.graphql import VIEW
from components.orders.graphql_access import node_key
from components.orders.intents import IntentView, view
from core.gql import Context, Money, Node, Payload, money, run_mutation


@strawberry.type(
    description="A payment that is not a goods order (an auction deposit), through the same providers. Its payer and staff with orders.view see it."
)
class PaymentIntent(Node):
    purpose: str = strawberry.field(description="'<component>.<what>', e.g. bidding_sale.deposit")
    provider: str = strawberry.field(description="The payment provider: sandbox, wechat_pay, …")
    amount: Money = strawberry.field(description="The amount asked, in minor units of the brand currency.")
    refunded: Money = strawberry.field(description="What has gone back to the payer so far.")
    status: str = strawberry.field(
        description="pending, succeeded, failed or refunded", deprecation_reason="Use paymentStatus; removed in the next release."
    )
    payment_status: PaymentIntentStatus = strawberry.field(description="Where the payment stands.")


def intent_node(intent: IntentView) -> PaymentIntent:
    return PaymentIntent(
        pk=intent.id,
        purpose=intent.purpose,
        provider=intent.provider,
        amount=money(intent.amount_minor, intent.currency),
        refunded=money(intent.refunded_minor, intent.currency),
        status=intent.status,
        payment_status=PaymentIntentStatus(intent.status),
    )


async def load_intents(ctx: Context, keys: list[int]) -> list[PaymentIntent | None]:
    """node(id) of an intent: its payer, or staff who may view orders (the money side of the book)."""
    session = await ctx.session()
    rows = {r.id: r for r in (await session.scalars(select(models.PaymentIntent).where(models.PaymentIntent.id.in_(keys)))).all()}
    staff = ctx.actor.is_staff and ctx.can(VIEW)
    mine = ctx.actor.id if ctx.actor.is_member else None
    return [intent_node(view(rows[k])) if k in rows and (staff or rows[k].member_id == mine) else None for k in keys]


@strawberry.input(description="Development: what the sandbox provider answers for one of your payment intents.")
class SandboxSettlePaymentIntentInput:
    intent_id: strawberry.ID = strawberry.field(description="The PaymentIntent's global id (a bare intent number is still accepted for one release).")
    outcome: PaymentOutcome = strawberry.field(default=PaymentOutcome.SUCCEEDED, description="Whether the money arrived.")


@strawberry.type(description="The answer of a payment-intent mutation.")
class PaymentIntentPayload(Payload):
    payment_intent: PaymentIntent | None = strawberry.field(default=None, description="The intent after the change.")


SettleIntentArg = Annotated[SandboxSettlePaymentIntentInput, strawberry.argument(description="The intent and the outcome.")]


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Development: act as the sandbox provider's callback for one of your payment intents.")
    async def sandbox_settle_payment_intent(self, info: strawberry.Info, input: SettleIntentArg) -> PaymentIntentPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            member_id = None if ctx.actor.is_staff and ctx.can("orders.manage") else ctx.require_member()
            intent_id = node_key(input.intent_id, "PaymentIntent", "input.intentId")
            intent = await ctx.kernel.service("orders").intents.sandbox_settle(tx, intent_id, member_id, input.outcome is PaymentOutcome.SUCCEEDED)
            return {"intent": intent.__dict__}

        result, errors = await run_mutation(ctx, work)
        if errors:
            return PaymentIntentPayload(user_errors=errors)
        return PaymentIntentPayload(payment_intent=intent_node(IntentView(**result["intent"])))
