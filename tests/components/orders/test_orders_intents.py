"""Payment intents: money that is not a goods order (an auction deposit) through the same
provider interface — created by an owner component, settled once by the provider's callback,
refunded never beyond what was paid, also under racing refunds."""

from __future__ import annotations

import asyncio
import importlib

import pytest
from conftest import SHOP, open_shop
from sqlalchemy import select

from components.orders.models import PaymentIntent
from core.errors import DomainError
from core.models import EventRow
from core.testing import member, staff

# An owner component as bidding_sale would be: it opens intents and learns their outcome from events.
OWNER = """
    from core.hookspecs import hookimpl

    SEEN = []

    async def paid(tx, event):
        if event.payload["purpose"] == "deposits.hold":
            SEEN.append(("paid", event.payload["reference"], event.payload["amountMinor"]))

    async def refunded(tx, event):
        SEEN.append(("refunded", event.payload["refundMinor"], event.payload["full"]))

    @hookimpl
    def dougong_event_handlers(registrar):
        registrar.on("order.intent_succeeded", paid, in_transaction=True)
        registrar.on("order.intent_refunded", refunded, in_transaction=True)
"""

SETTLE = """mutation($id: ID!, $o: PaymentOutcome!) { sandboxSettlePaymentIntent(input: {intentId: $id, outcome: $o}) {
  paymentIntent { id purpose provider status amount { amountMinor } refunded { amountMinor } } userErrors { code field } } }"""


async def _intent(kernel, amount=5000, member_id=1):
    async with kernel.transaction() as tx:
        return await kernel.service("orders").intents.create(tx, member_id=member_id, amount_minor=amount, purpose="deposits.hold",
                                                             reference="lot:9", description="保证金 lot 9")


async def test_an_intent_is_paid_once_and_refunded_in_parts(kernel_factory, make_component, graphql):
    owner = make_component("deposits", depends={"orders": ""}, hooks=OWNER)
    kernel = await kernel_factory(SHOP.replace("  orders: {}\n", "  orders: {}\n  deposits: {}\n"), installed=[owner])
    seen = importlib.import_module(f"{owner.module}.hooks").SEEN
    await open_shop(kernel)
    intents = kernel.service("orders").intents
    intent, client = await _intent(kernel)
    assert (intent.status, intent.amount_minor, intent.currency, client["sandbox"]) == ("pending", 5000, "CNY", True)

    stranger = await graphql(kernel, member(2)).mutate(SETTLE, id=str(intent.id), o="SUCCEEDED")
    assert stranger == {"paymentIntent": None, "userErrors": [{"code": "KERNEL_NOT_FOUND", "field": "input.intentId"}]}
    paid = await graphql(kernel, member(1)).mutate(SETTLE, id=str(intent.id), o="SUCCEEDED")
    assert paid["paymentIntent"]["status"] == "succeeded" and paid["userErrors"] == []
    again = await graphql(kernel, member(1)).mutate(SETTLE, id=str(intent.id), o="SUCCEEDED")  # a replayed callback
    assert again == paid
    assert seen == [("paid", "lot:9", 5000)]

    async with kernel.transaction() as tx:
        assert await intents.refund(tx, intent.id, amount_minor=2000, reason="part") == 2000
    async with kernel.transaction() as tx:
        with pytest.raises(DomainError) as too_much:
            await intents.refund(tx, intent.id, amount_minor=3001, reason="too much")
    assert (too_much.value.code, too_much.value.details) == ("ORDERS_INVALID_AMOUNT", {"maxMinor": 3000})
    async with kernel.transaction() as tx:
        assert await intents.refund(tx, intent.id, reason="the rest") == 3000
    async with kernel.db.read() as session:
        final = await intents.get(session, intent.id)
    assert (final.status, final.refunded_minor) == ("refunded", 5000)
    assert seen[1:] == [("refunded", 2000, False), ("refunded", 3000, True)]


async def test_bad_intents_are_refused_and_write_nothing(kernel_factory, graphql):
    kernel = await kernel_factory(SHOP)
    await open_shop(kernel)
    intents = kernel.service("orders").intents
    async with kernel.transaction() as tx:
        with pytest.raises(DomainError, match="ORDERS_INVALID_AMOUNT"):
            await intents.create(tx, member_id=1, amount_minor=0, purpose="deposits.hold", reference="x", description="x")
        with pytest.raises(DomainError, match="ORDERS_UNKNOWN_PROVIDER"):
            await intents.create(tx, member_id=1, amount_minor=5, purpose="deposits.hold", reference="x", description="x",
                                 provider="nopay")
        with pytest.raises(ValueError):
            await intents.create(tx, member_id=1, amount_minor=5, purpose="no purpose", reference="x", description="x")
    pending, _ = await _intent(kernel)
    async with kernel.transaction() as tx:
        with pytest.raises(DomainError) as unpaid:
            await intents.refund(tx, pending.id, reason="not paid yet")
    assert (unpaid.value.code, unpaid.value.details) == ("ORDERS_ILLEGAL_TRANSITION", {"status": "pending"})
    failed = await graphql(kernel, member(1)).mutate(SETTLE, id=str(pending.id), o="FAILED")
    assert failed["paymentIntent"]["status"] == "failed"
    bad_id = await graphql(kernel, staff(1, "admin")).mutate(SETTLE, id="nope", o="SUCCEEDED")
    assert bad_id["userErrors"] == [{"code": "KERNEL_INVALID_ID", "field": "input.intentId"}]
    async with kernel.db.read() as session:
        names = (await session.scalars(select(EventRow.name).where(EventRow.name.like("order.intent_%")))).all()
    assert names == ["order.intent_failed"]


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_racing_refunds_never_return_more_than_was_paid(kernel_factory, database):
    kernel = await kernel_factory(SHOP, database=database)
    await open_shop(kernel)
    intents = kernel.service("orders").intents
    intent, _ = await _intent(kernel, amount=5000)
    async with kernel.transaction() as tx:
        await intents.settle(tx, "sandbox", (await tx.session.get(PaymentIntent, intent.id)).provider_ref, 5000)

    async def refund_1000() -> int | str:
        try:
            async with kernel.transaction() as tx:
                return await intents.refund(tx, intent.id, amount_minor=1000, reason="race")
        except DomainError as error:
            return error.code

    results = await asyncio.gather(*(refund_1000() for _ in range(20)))
    assert results.count(1000) == 5
    assert {r for r in results if r != 1000} <= {"ORDERS_NOTHING_TO_REFUND", "ORDERS_INVALID_AMOUNT", "ORDERS_ILLEGAL_TRANSITION"}
    async with kernel.db.read() as session:
        row = await session.get(PaymentIntent, intent.id)
        refunds = (await session.scalars(select(EventRow).where(EventRow.name == "order.intent_refunded"))).all()
    assert (row.refunded_minor, row.status, len(refunds)) == (5000, "refunded", 5)
