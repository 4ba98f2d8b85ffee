"""The winner's order goes through the one checkout, as the system: its line belongs to the lot,
its price comes from the lot row, and nobody else gets the hammer price — not through
placeOrder (no such field), not through a checkout the close did not place."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from test_bidding_sale_auction import CNY, LOT, bid, count, pay_deposit, start

from components.bidding_sale.models import LotOrder
from components.orders.models import Order, OrderLine
from core.errors import DomainError
from core.gql.relay import from_global_id
from core.testing import member

PLACE = """mutation($input: PlaceOrderInput!) { placeOrder(input: $input) {
  order { kind total { amountMinor } } userErrors { code } } }"""


def pk(global_id: str) -> int:
    return int(from_global_id(global_id)[1])


async def sold(kernel_factory, graphql, clock, **lot):
    """A lot won by member 2 at 12000 (deposit paid), closed by its timer."""
    kernel, shop, lot_id = await start(kernel_factory, graphql, clock, **lot)
    winner = graphql(kernel, member(2))
    assert (await pay_deposit(winner, lot_id))["userErrors"] == []
    assert (await bid(winner, lot_id, 12000))["userErrors"] == []
    clock.advance(minutes=10)
    await kernel.run_due()
    return kernel, shop, lot_id, winner


async def test_the_winner_order_is_a_lot_line_priced_from_the_lot(kernel_factory, graphql, clock):
    kernel, shop, lot, winner = await sold(kernel_factory, graphql, clock)
    async with kernel.db.read() as session:
        order = await session.scalar(select(Order).where(Order.kind == "auction"))
        line = await session.scalar(select(OrderLine).where(OrderLine.order_id == order.id))
    assert (line.activity_component, line.activity_ref) == ("bidding_sale", str(pk(lot)))
    assert (order.kind, order.member_id, order.total_minor) == ("auction", 2, 12000 - 1000)  # hammer price less the deposit
    assert order.attributes["auctionLotId"] == pk(lot)

    # A member buying the lot's SKU through placeOrder gets an ordinary order at the list price.
    plain = await winner.mutate(PLACE, input={"checkout": {"lines": [{"skuId": shop.sku, "quantity": 1}]}})
    assert plain == {"order": {"kind": "plain", "total": {"amountMinor": 500000}}, "userErrors": []}
    # The lot's line input is not part of the schema: a client cannot even send it.
    body = await winner.execute(PLACE, input={"checkout": {"lines": [
        {"skuId": shop.sku, "quantity": 1, "auctionLot": {"lotId": pk(lot)}}]}})
    assert body.get("errors") and "auctionLot" in body["errors"][0]["message"]


async def test_a_lot_line_in_a_checkout_the_close_did_not_place_is_refused(kernel_factory, graphql, clock):
    kernel, shop, lot, _winner = await sold(kernel_factory, graphql, clock)
    orders_before, lot_orders_before = await count(kernel, Order, Order.kind == "auction"), await count(kernel, LotOrder)
    cases = [({"placed_by_system": False, "member_id": 2}, "BIDDING_SALE_LOT_NOT_FOR_CHECKOUT"),  # the winner, on their own
             ({"placed_by_system": True, "member_id": 3}, "BIDDING_SALE_ILLEGAL_STATE")]  # not the winner
    for extra, code in cases:
        with pytest.raises(DomainError) as refused:
            async with kernel.transaction() as tx:
                await kernel.service("orders").create_order(
                    tx, lines=[(shop.sku_id, 1)], line_inputs=[{"auctionLot": {"lotId": pk(lot)}}], **extra)
        assert (refused.value.code, refused.value.field) == (code, "input.lines[0]")
    assert (await count(kernel, Order, Order.kind == "auction"), await count(kernel, LotOrder)) == (orders_before, lot_orders_before)


async def test_a_deposit_covering_the_hammer_price_pays_the_order_at_once(kernel_factory, graphql, clock):
    """A deposit may not exceed the start price; one equal to the whole hammer price leaves a
    zero-total order, paid in its checkout, and the lot is then paid too."""
    from test_bidding_sale_auction import CREATE

    kernel, shop, _lot = await start(kernel_factory, graphql, clock)
    from core.testing import staff

    too_big = await graphql(kernel, staff(1, "admin")).mutate(CREATE, input={
        "skuId": shop.sku, "startPrice": CNY(10000), "increment": CNY(1000), "deposit": CNY(10001),
        "startsAt": clock.now().isoformat(), "endsAt": (clock.now() + timedelta(hours=1)).isoformat()})
    assert [(e["code"], e["field"]) for e in too_big["userErrors"]] == [("BIDDING_SALE_INVALID_LOT", "input.deposit")]

    kernel, _shop, lot, winner = await sold(kernel_factory, graphql, clock, deposit=CNY(12000), startPrice=CNY(12000))
    body = (await winner.data(LOT, id=lot))["auctionLot"]
    assert body["status"] == "PAID" and body["myDeposit"] == "applied"
    assert body["winnerOrder"]["status"] == "PAID" and body["winnerOrder"]["total"]["amountMinor"] == 0
    assert [(x["component"], x["stage"], x["amount"]["amountMinor"]) for x in body["winnerOrder"]["lines"][0]["adjustments"]] == [
        ("bidding_sale", "activity", 12000 - 500000), ("bidding_sale", "activity", -12000)]


async def test_an_ended_lot_cannot_be_cancelled_before_its_close_runs(kernel_factory, graphql, clock):
    from core.testing import staff

    kernel, _shop, lot = await start(kernel_factory, graphql, clock)
    winner = graphql(kernel, member(2))
    await pay_deposit(winner, lot)
    await bid(winner, lot, 12000)
    clock.advance(minutes=11)  # past the end; the close timer has not run yet
    cancel = await graphql(kernel, staff(1, "admin")).mutate(
        'mutation($lot: ID!) { cancelAuctionLot(input: {lotId: $lot}) { userErrors { code } } }', lot=lot)
    assert cancel["userErrors"] == [{"code": "BIDDING_SALE_ILLEGAL_STATE"}]
    await kernel.run_due()
    assert (await winner.data(LOT, id=lot))["auctionLot"]["status"] == "SOLD"  # the winner keeps the lot


async def test_a_refunded_winner_order_closes_the_lot_and_returns_the_deposit(kernel_factory, graphql, clock):
    from core.testing import staff

    kernel, _shop, lot, winner = await sold(kernel_factory, graphql, clock)
    order = (await winner.data(LOT, id=lot))["auctionLot"]["winnerOrder"]
    pay = await winner.mutate('mutation($id: ID!) { payOrder(input: {orderId: $id}) { payment { id } userErrors { code } } }',
                              id=order["id"])
    await winner.mutate('mutation($id: ID!) { sandboxSettlePayment(input: {paymentId: $id}) { order { status } } }',
                        id=pay["payment"]["id"])
    assert (await winner.data(LOT, id=lot))["auctionLot"]["status"] == "PAID"
    refunded = await graphql(kernel, staff(1, "admin")).mutate(
        'mutation($id: ID!) { refundOrder(input: {orderId: $id}) { order { status refunded { amountMinor } } userErrors { code } } }',
        id=order["id"])
    assert refunded["order"] == {"status": "REFUNDED", "refunded": {"amountMinor": 12000 - 1000}}
    body = (await winner.data(LOT, id=lot))["auctionLot"]
    assert (body["status"], body["myDeposit"]) == ("REFUNDED", "returned")  # the 10.00 deposit goes back too
    async with kernel.db.read() as session:  # through the provider: the deposit order is refunded in full
        deposit = await session.scalar(select(Order).where(Order.kind == "auction_deposit"))
    assert (deposit.status, deposit.refunded_minor) == ("refunded", 1000)
    assert (await graphql(kernel, staff(1, "admin")).data(
        "query($id: ID!) { auctionLot(id: $id) { depositDiscrepancies } }", id=lot))["auctionLot"]["depositDiscrepancies"] == []
