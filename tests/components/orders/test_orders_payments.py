"""The payment provider interface, with a provider from another component (as WeChat Pay
would be): its client payload reaches the frontend, its callback is idempotent, refunds go
back through it, and the sandbox can be switched off."""

from __future__ import annotations

import importlib

import pytest
from conftest import SHOP, open_shop
from sqlalchemy import func, select

from components.orders.models import Payment, Refund
from core.errors import DomainError
from core.gql.relay import decode_id
from core.models import EventRow
from core.testing import member, staff

FAKEPAY = """
    from core.hookspecs import hookimpl

    CALLS = []

    class FakePay:
        name = "fakepay"

        async def start(self, tx, charge):
            CALLS.append(("start", charge.order_id, charge.amount_minor))
            return {"prepayId": "wx-" + charge.provider_ref, "amountMinor": charge.amount_minor}

        async def refund(self, tx, charge, amount_minor):
            CALLS.append(("refund", charge.provider_ref, amount_minor))
            return "fakepay-refund-%d" % len(CALLS)

    @hookimpl
    def dougong_payment_provider(kernel, provider):
        return FakePay() if provider == "fakepay" else None
"""

CREATE = """mutation($sku: ID!) { createOrder(input: {lines: [{skuId: $sku, quantity: 2}]}) { order { id } userErrors { code } } }"""
PAY = """mutation($id: ID!, $p: String!) { payOrder(input: {orderId: $id, provider: $p, idempotencyKey: "pay-1"}) {
  payment { id provider status amount { amountMinor } } clientPayload userErrors { code field } } }"""


async def test_a_provider_component_takes_and_returns_the_money(kernel_factory, make_component, graphql):
    fakepay = make_component("fakepay", depends={"orders": ""}, hooks=FAKEPAY)
    kernel = await kernel_factory(SHOP.replace("  orders: {}\n", "  orders: {}\n  fakepay: {}\n"), installed=[fakepay])
    calls = importlib.import_module(f"{fakepay.module}.hooks").CALLS
    shop = await open_shop(kernel)
    buyer = graphql(kernel, member(1))
    order_id = (await buyer.mutate(CREATE, sku=shop.sku))["order"]["id"]
    pk = decode_id(order_id, "Order")

    started = await buyer.mutate(PAY, id=order_id, p="fakepay")
    assert started["userErrors"] == []
    assert started["payment"] == {"id": started["payment"]["id"], "provider": "fakepay", "status": "pending", "amount": {"amountMinor": 20000}}
    async with kernel.db.read() as session:
        ref = await session.scalar(select(Payment.provider_ref).where(Payment.order_id == pk))
    assert started["clientPayload"] == {"prepayId": "wx-" + ref, "amountMinor": 20000}
    assert await buyer.mutate(PAY, id=order_id, p="fakepay") == started  # a replayed payOrder: same attempt, same payload
    assert calls == [("start", pk, 20000)]

    orders = kernel.service("orders")
    # The provider's webhook: a wrong amount is refused and changes nothing...
    with pytest.raises(DomainError) as refused:
        async with kernel.transaction() as tx:
            await orders.mark_paid(tx, pk, provider="fakepay", provider_ref=ref, amount_minor=1)
    assert refused.value.code == "ORDERS_PAYMENT_MISMATCH"
    # ...the right one pays the order, and replays of it do nothing more.
    for _ in range(3):
        async with kernel.transaction() as tx:
            assert await orders.mark_paid(tx, pk, provider="fakepay", provider_ref=ref, amount_minor=20000) is True
    async with kernel.db.read() as session:
        paid_events = await session.scalar(select(func.count()).select_from(EventRow).where(EventRow.name == "order.paid"))
        payments = (await session.scalars(select(Payment.status).where(Payment.order_id == pk))).all()
    assert paid_events == 1 and payments == ["succeeded"]
    assert await shop.available() == 48

    refund = await graphql(kernel, staff(1, "admin")).mutate(
        'mutation($id: ID!) { refundOrder(input: {orderId: $id, reason: "damaged"}) { order { status } userErrors { code } } }', id=order_id)
    assert refund == {"order": {"status": "REFUNDED"}, "userErrors": []}
    assert calls[-1] == ("refund", ref, 20000)
    async with kernel.db.read() as session:
        assert (await session.scalars(select(Refund.provider_ref))).all() == ["fakepay-refund-2"]


async def test_the_sandbox_can_be_switched_off(shop_factory, graphql):
    shop = await shop_factory(blueprint=SHOP.replace("  orders: {}\n", "  orders: {sandbox_payments: false}\n"))
    buyer = graphql(shop.kernel, member(1))
    order_id = (await buyer.mutate(CREATE, sku=shop.sku))["order"]["id"]
    refused = await buyer.mutate(PAY, id=order_id, p="sandbox")
    assert refused["userErrors"] == [{"code": "ORDERS_UNKNOWN_PROVIDER", "field": "input.provider"}]
    unknown = await buyer.mutate(PAY.replace("pay-1", "pay-2"), id=order_id, p="alipay")
    assert unknown["userErrors"] == [{"code": "ORDERS_UNKNOWN_PROVIDER", "field": "input.provider"}]
    assert await shop.count(Payment) == 0
