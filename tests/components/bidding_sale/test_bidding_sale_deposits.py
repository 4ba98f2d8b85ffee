"""Deposits as money through the payment provider, the ledger, per-lot settings, the outbid
event and the runner-up after a default."""

from __future__ import annotations

from datetime import timedelta

from conftest import open_shop
from sqlalchemy import select
from test_bidding_sale_auction import CNY, DEPOSIT, LOT, PAY, SETTLE, bid, create, pay_deposit, start

from components.orders.models import Order
from core.models import EventRow
from core.testing import member, staff

RECONCILED = "query($id: ID!) { auctionLot(id: $id) { depositDiscrepancies depositLedger { kind amount { amountMinor } } } }"
SETTINGS = "query($id: ID!) { auctionLot(id: $id) { extendWindowSeconds extendBySeconds maxExtensions paymentDueSeconds } }"


async def orders_of(kernel, kind: str) -> dict[int, tuple[str, int]]:
    async with kernel.db.read() as session:
        rows = (await session.scalars(select(Order).where(Order.kind == kind))).all()
    return {o.member_id: (o.status, o.refunded_minor) for o in rows}


async def test_a_default_forfeits_the_deposit_and_offers_the_lot_to_the_runner_up(kernel_factory, graphql, clock):
    kernel = await kernel_factory("""\
dougong: 1
brand: {slug: auction, name: Auction, currency: CNY, timezone: Asia/Shanghai}
components:
  bidding_sale: {offer_runner_up: true, payment_due: 1h}
""")
    shop = await open_shop(kernel, members=3, stock=1, price=500000)
    lot = await create(kernel, graphql, clock, shop)
    a, b = graphql(kernel, member(1)), graphql(kernel, member(2))
    for client in (a, b):
        await pay_deposit(client, lot)
    await bid(a, lot, 10000)
    await bid(a, lot, 11000)  # refused: A already leads (only a raise of the maximum would do)
    await bid(b, lot, 15000)
    clock.advance(minutes=11)
    await kernel.run_due()                        # B wins; A's deposit goes back through the provider
    assert await orders_of(kernel, "auction_deposit") == {1: ("refunded", 1000), 2: ("paid", 0)}
    clock.advance(hours=2)
    await kernel.run_due()                        # B never paid: default, deposit kept, A is offered the lot
    body = (await a.data(LOT, id=lot))["auctionLot"]
    assert body["status"] == "SOLD" and body["winnerOrder"]["total"]["amountMinor"] == 10000  # A's highest bid, no deposit
    assert (await b.data(LOT, id=lot))["auctionLot"]["myDeposit"] == "forfeited"
    assert await orders_of(kernel, "auction") == {1: ("pending_payment", 0), 2: ("cancelled", 0)}
    assert await orders_of(kernel, "auction_deposit") == {1: ("refunded", 1000), 2: ("paid", 0)}  # the brand keeps B's
    ledger = (await graphql(kernel, staff(1, "admin")).data(RECONCILED, id=lot))["auctionLot"]
    assert ledger["depositDiscrepancies"] == []
    assert sorted((e["kind"], e["amount"]["amountMinor"]) for e in ledger["depositLedger"]) == [
        ("applied", 1000), ("forfeited", 1000), ("paid", 1000), ("paid", 1000), ("refunded", 1000)]
    async with kernel.db.read() as session:
        names = (await session.scalars(select(EventRow.name).where(EventRow.name.like("bidding_sale.%")))).all()
    assert names.count("bidding_sale.runner_up_offered") == 1 and names.count("bidding_sale.defaulted") == 1
    payment = await a.mutate(PAY, id=body["winnerOrder"]["id"])
    await a.mutate(SETTLE, id=payment["payment"]["id"])
    assert (await a.data(LOT, id=lot))["auctionLot"]["status"] == "PAID"


async def test_per_lot_settings_and_the_outbid_event(kernel_factory, graphql, clock):
    kernel, shop, default_lot = await start(kernel_factory, graphql, clock, deposit=None)
    assert (await graphql(kernel).data(SETTINGS, id=default_lot))["auctionLot"] == {
        "extendWindowSeconds": 60, "extendBySeconds": 120, "maxExtensions": 3, "paymentDueSeconds": 86400}  # the blueprint's
    lot = await create(kernel, graphql, clock, shop, deposit=None, extendWindow="5m", extendBy="30s", maxExtensions=1,
                       paymentDue="2h")
    assert (await graphql(kernel).data(SETTINGS, id=lot))["auctionLot"] == {
        "extendWindowSeconds": 300, "extendBySeconds": 30, "maxExtensions": 1, "paymentDueSeconds": 7200}
    bad = await graphql(kernel, staff(1, "admin")).mutate(
        """mutation($input: CreateAuctionLotInput!) { createAuctionLot(input: $input) { userErrors { code field } } }""",
        input={"skuId": shop.sku, "startPrice": CNY(10000), "increment": CNY(1000), "extendBy": "soon",
               "startsAt": clock.now().isoformat(), "endsAt": (clock.now() + timedelta(hours=1)).isoformat()})
    assert bad["userErrors"] == [{"code": "BIDDING_SALE_INVALID_LOT", "field": "input.extendBy"}]
    a, b = graphql(kernel, member(1)), graphql(kernel, member(2))
    await bid(a, lot, 10000)
    clock.advance(minutes=6)                      # 4 minutes left: inside this lot's 5-minute window
    assert (await bid(b, lot, 11000))["leading"] is True
    async with kernel.db.read() as session:
        outbid = (await session.scalars(select(EventRow.payload).where(EventRow.name == "bidding_sale.outbid"))).all()
    assert [(p["memberId"], p["priceMinor"]) for p in outbid] == [(1, 11000)]
    clock.advance(minutes=5)
    await kernel.run_due()
    async with kernel.db.read() as session:
        order = await session.scalar(select(Order).where(Order.kind == "auction"))
    assert order.member_id == 2 and order.payment_due_at - order.created_at == timedelta(hours=2)


async def test_a_deposit_paid_after_the_lot_closed_goes_straight_back(kernel_factory, graphql, clock):
    kernel, shop, lot = await start(kernel_factory, graphql, clock)
    a = graphql(kernel, member(1))
    placed = await a.mutate(DEPOSIT, lot=lot)
    again = await a.mutate(DEPOSIT, lot=lot)
    assert placed["order"]["status"] == "PENDING_PAYMENT" and again["order"]["id"] == placed["order"]["id"]  # one order
    payment = await a.mutate(PAY, id=placed["order"]["id"])
    assert (await bid(a, lot, 10000))["userErrors"][0]["code"] == "BIDDING_SALE_DEPOSIT_REQUIRED"  # not paid yet
    unpaid = await graphql(kernel, member(2)).mutate(DEPOSIT, lot=lot)   # B never pays theirs
    clock.advance(minutes=11)                     # the end passed; the close timer has not run yet
    settled = await a.mutate(SETTLE, id=payment["payment"]["id"])
    assert settled == {"order": {"status": "REFUNDED"}, "userErrors": []}  # paid too late: straight back
    assert (await a.data(LOT, id=lot))["auctionLot"]["myDeposit"] == "released"
    await kernel.run_due()                        # no bids: unsold; B's unpaid deposit order is cancelled
    assert await orders_of(kernel, "auction_deposit") == {1: ("refunded", 1000), 2: ("cancelled", 0)}
    assert unpaid["order"]["id"] != placed["order"]["id"]
    assert (await graphql(kernel, staff(1, "admin")).data(RECONCILED, id=lot))["auctionLot"]["depositDiscrepancies"] == []
    no_deposit = await create(kernel, graphql, clock, shop, deposit=None)
    assert (await a.mutate(DEPOSIT, lot=no_deposit))["userErrors"] == [{"code": "BIDDING_SALE_NO_DEPOSIT"}]
