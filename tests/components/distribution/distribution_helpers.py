"""Shared helpers for the distribution tests (not a test module: no test_ prefix)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from conftest import open_shop
from sqlalchemy import func, select

from components.distribution import ledger
from components.distribution.models import Entry, Promoter
from core.gql.relay import from_global_id
from core.testing import member, staff

BLUEPRINT = """\
dougong: 1
brand: {slug: dist, name: Dist, currency: CNY, timezone: Asia/Shanghai}
components:
  distribution: {%(settings)s}
"""

PLACE = """mutation($input: CheckoutInput!) { placeOrder(input: {checkout: $input}) {
  order { id total { amountMinor } lines { id total { amountMinor } } } userErrors { code field message } } }"""
PAY = 'mutation($id: ID!) { payOrder(input: {orderId: $id}) { payment { id } userErrors { code } } }'
SETTLE = 'mutation($id: ID!) { sandboxSettlePayment(input: {paymentId: $id}) { order { status } userErrors { code } } }'
WITHDRAW = """mutation($amount: Long!, $key: String) { requestWithdrawal(input: {amount: {amountMinor: $amount, currency: "CNY"},
  idempotencyKey: $key}) { withdrawal { id status amount { amountMinor } fee { amountMinor } payout { amountMinor } }
  userErrors { code field message details } } }"""
REVIEW = """mutation($id: ID!, $approve: Boolean!, $reason: String, $key: String) { reviewWithdrawal(input: {withdrawalId: $id,
  approve: $approve, reason: $reason, idempotencyKey: $key}) { withdrawal { id status } userErrors { code field } } }"""
ME = """{ myPromoter { id status frozen { amountMinor } available { amountMinor } withdrawn { amountMinor }
  standing { lifetimeSales { amountMinor } monthSales { amountMinor } tier monthlyTarget { amountMinor } targetReached customers } } }"""


async def start(kernel_factory, settings: str = "eligibility: everyone", *, database: str = "sqlite", members: int = 6,
                price: int = 10000, stock: int = 500):
    kernel = await kernel_factory(BLUEPRINT % {"settings": settings}, database=database)
    shop = await open_shop(kernel, members=members, price=price, stock=stock)
    return kernel, shop


def admin(graphql, kernel):
    return graphql(kernel, staff(1, "admin"))


async def promote(kernel, *member_ids: int) -> None:
    """Make members active promoters (applying, and approving when the brand reviews)."""
    service = kernel.service("distribution")
    async with kernel.transaction() as tx:
        for member_id in member_ids:
            promoter = await service.promoters.apply(tx, member_id)
            if promoter.status == "pending":
                await service.promoters.decide(tx, promoter.id, approve=True)


async def code_of(kernel, member_id: int) -> str:
    async with kernel.db.read() as session:
        return await kernel.service("members.share_codes").issue_for_member(session, member_id)


async def buy(client, sku: str, quantity: int = 1, *, code: str | None = None, extra_lines: list | None = None) -> dict:
    """Place and pay an order (sandbox); returns the placed order."""
    checkout: dict[str, Any] = {"lines": [{"skuId": sku, "quantity": quantity}, *(extra_lines or [])]}
    if code:
        checkout["source"] = {"shareCode": code}
    placed = await client.mutate(PLACE, input=checkout)
    assert placed["userErrors"] == [], placed
    order = placed["order"]
    payment = await client.mutate(PAY, id=order["id"])
    assert payment["userErrors"] == [], payment
    settled = await client.mutate(SETTLE, id=payment["payment"]["id"])
    assert settled["userErrors"] == [], settled
    return order


def pk(global_id: str) -> int:
    """The key behind an id (an order line's id is its own number, not a node id)."""
    return int(global_id) if str(global_id).isdigit() else int(from_global_id(global_id)[1])


async def finish(kernel, order_id: str) -> None:
    """Ship and complete an order: its after-sale window starts."""
    async with kernel.transaction() as tx:
        await kernel.service("orders").fulfil(tx, pk(order_id))
        await kernel.service("orders").complete(tx, pk(order_id))


async def pass_window(kernel) -> None:
    kernel.clock.advance(kernel.service("orders").after_sale_window + timedelta(seconds=1))
    await kernel.run_due()


async def refund(kernel, order_id: str, lines: list[tuple[str, int]] | None = None) -> int:
    async with kernel.transaction() as tx:
        return await kernel.service("orders").refund(
            tx, pk(order_id), lines=[(pk(line), n) for line, n in lines] if lines is not None else None, reason="test")


async def balances(kernel, member_id: int) -> dict[str, int]:
    """A promoter's balances, checked against the ledger's sums on the way (the invariant)."""
    async with kernel.db.read() as session:
        promoter = await session.scalar(select(Promoter).where(Promoter.member_id == member_id))
        sums = await ledger.sums(session, promoter.id)
        assert sums == {"frozen": promoter.frozen_minor, "available": promoter.available_minor}, (sums, promoter.__dict__)
        return {"frozen": promoter.frozen_minor, "available": promoter.available_minor, "withdrawn": promoter.withdrawn_minor}


async def entries(kernel) -> int:
    async with kernel.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(Entry)))


__all__ = ["member", "staff"]
