"""Auctions through GraphQL: proxy bids, soft close, the close timer, deposits, races."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from components.bidding_sale.models import Bid, Bidder, LotOrder
from conftest import open_shop
from core.gql.context import Context
from core.testing import member, staff

BLUEPRINT = """\
dougong: 1
brand: {slug: auction, name: Auction, currency: CNY, timezone: Asia/Shanghai}
components:
  bidding_sale: {extend_window: 60s, extend_by: 120s, max_extensions: 3, payment_due: 24h}
"""
CREATE = """mutation($input: CreateAuctionLotInput!) { createAuctionLot(input: $input) {
  lot { id status endsAt } userErrors { code field message } } }"""
BID = """mutation($lot: ID!, $amount: Long!, $max: MoneyInput, $key: String) {
  placeBid(input: {lotId: $lot, amount: {amountMinor: $amount, currency: "CNY"}, maximum: $max, idempotencyKey: $key}) {
    leading lot { currentPrice { amountMinor } leader bidCount endsAt } userErrors { code field details } } }"""
BID_PLAIN = """mutation($lot: ID!, $amount: Long!) {
  placeBid(input: {lotId: $lot, amount: {amountMinor: $amount, currency: "CNY"}}) {
    leading lot { currentPrice { amountMinor } } userErrors { code field details } } }"""
DEPOSIT = 'mutation($lot: ID!) { payLotDeposit(input: {lotId: $lot}) { lot { id } userErrors { code } } }'
LOT = """query($id: ID!) { auctionLot(id: $id) { status currentPrice { amountMinor } reserveMet bidCount
  buyNowPrice { amountMinor } winnerOrder { id status total { amountMinor } } myDeposit } }"""
UPDATES = "subscription($id: ID!) { auctionLotUpdates(lotId: $id) { status currentPrice { amountMinor } seq endsAt } }"
CNY = lambda n: {"amountMinor": n, "currency": "CNY"}  # noqa: E731


async def start(kernel_factory, graphql, clock, *, database="sqlite", members=5, **lot):
    kernel = await kernel_factory(BLUEPRINT, database=database)
    shop = await open_shop(kernel, members=members, stock=5, price=500000)
    now = clock.now()
    fields = {"skuId": shop.sku, "startPrice": CNY(10000), "increment": CNY(1000), "deposit": CNY(1000),
              "startsAt": (now - timedelta(minutes=1)).isoformat(), "endsAt": (now + timedelta(minutes=10)).isoformat(), **lot}
    fields = {k: v for k, v in fields.items() if v is not None}
    payload = await graphql(kernel, staff(1, "admin")).mutate(CREATE, input=fields)
    assert payload["userErrors"] == [], payload
    return kernel, shop, payload["lot"]["id"]


async def bid(client, lot, amount, maximum=None):
    return await client.mutate(BID, lot=lot, amount=amount, max=CNY(maximum) if maximum else None)


async def test_an_auction_through_graphql(kernel_factory, graphql, clock):
    kernel, shop, lot = await start(kernel_factory, graphql, clock)
    a, b, c = (graphql(kernel, member(i)) for i in (1, 2, 3))
    stream = await kernel.schema.subscribe(UPDATES, variable_values={"id": lot}, context_value=Context(kernel))
    seen: list[dict] = []

    async def watch() -> None:
        async for result in stream:
            seen.append(result.data["auctionLotUpdates"])

    watcher = asyncio.create_task(watch())
    await asyncio.sleep(0.05)
    for client in (a, b, c):
        assert (await client.mutate(DEPOSIT, lot=lot))["userErrors"] == []

    assert (await bid(a, lot, 10000))["leading"] is True
    b_first = await bid(b, lot, 11000, 20000)                # B leads, with a hidden maximum
    assert b_first["leading"] is True and b_first["lot"]["currentPrice"]["amountMinor"] == 11000
    c_first = await bid(c, lot, 15000)                       # B's maximum answers at once
    assert c_first["leading"] is False and c_first["lot"]["currentPrice"]["amountMinor"] == 16000
    c_second = await bid(c, lot, 25000)
    assert c_second["leading"] is True and c_second["lot"]["currentPrice"]["amountMinor"] == 25000
    own = await bid(c, lot, 26000)
    assert own["userErrors"][0]["code"] == "BIDDING_SALE_ALREADY_LEADING"

    clock.advance(minutes=9, seconds=30)                     # 30 s before the end: soft close
    late = await bid(b, lot, 26000, 30000)
    assert late["leading"] is True and late["lot"]["currentPrice"]["amountMinor"] == 26000
    clock.advance(seconds=31)                                # past the original end
    await kernel.run_due()
    assert (await graphql(kernel).data(LOT, id=lot))["auctionLot"]["status"] == "OPEN"  # the end moved
    clock.advance(seconds=120)
    await kernel.run_due()
    await asyncio.wait_for(watcher, 1) if watcher.done() else None

    body = (await b.data(LOT, id=lot))["auctionLot"]
    assert body["status"] == "SOLD" and body["currentPrice"]["amountMinor"] == 26000
    assert body["winnerOrder"]["total"]["amountMinor"] == 25000  # final price minus the deposit
    assert body["myDeposit"] == "applied"
    for loser in (a, c):
        assert (await loser.data(LOT, id=lot))["auctionLot"]["myDeposit"] == "released"
        assert (await loser.data(LOT, id=lot))["auctionLot"]["winnerOrder"] is None

    payment = (await b.mutate('mutation($id: ID!) { payOrder(input: {orderId: $id}) { payment { id } } }', id=body["winnerOrder"]["id"]))
    await b.mutate('mutation($id: ID!) { sandboxSettlePayment(input: {paymentId: $id}) { order { status } } }', id=payment["payment"]["id"])
    await asyncio.wait_for(watcher, 2)
    assert (await b.data(LOT, id=lot))["auctionLot"]["status"] == "PAID"

    prices = [u["currentPrice"]["amountMinor"] for u in seen if u["currentPrice"]]
    assert prices == sorted(prices) and prices[-1] == 26000
    seqs = [u["seq"] for u in seen]
    assert seqs == sorted(seqs)
    assert [u["status"] for u in seen][-2:] == ["SOLD", "PAID"]
    assert len({u["endsAt"] for u in seen}) == 2  # the extension was streamed
    history = await graphql(kernel).data("query($id: ID!) { auctionLot(id: $id) { bids { amount { amountMinor } isProxy } } }", id=lot)
    amounts = [b_["amount"]["amountMinor"] for b_ in reversed(history["auctionLot"]["bids"])]
    assert amounts == [10000, 11000, 15000, 16000, 25000, 26000]


async def test_reserve_not_met_and_no_bids_are_unsold(kernel_factory, graphql, clock):
    kernel, shop, lot = await start(kernel_factory, graphql, clock, reservePrice=CNY(50000), deposit=None)
    await bid(graphql(kernel, member(1)), lot, 20000)
    assert (await graphql(kernel).data(LOT, id=lot))["auctionLot"]["reserveMet"] is False
    _, _, empty = await start(kernel_factory, graphql, clock, deposit=None)
    clock.advance(minutes=11)
    await kernel.run_due()
    assert (await graphql(kernel).data(LOT, id=lot))["auctionLot"]["status"] == "UNSOLD"
    async with kernel.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(LotOrder)) == 0


async def test_a_maximum_above_the_reserve_takes_the_price_to_it(kernel_factory, graphql, clock):
    kernel, shop, lot = await start(kernel_factory, graphql, clock, reservePrice=CNY(50000), deposit=None)
    payload = await bid(graphql(kernel, member(1)), lot, 10000, 60000)
    assert payload["lot"]["currentPrice"]["amountMinor"] == 50000
    assert (await graphql(kernel).data(LOT, id=lot))["auctionLot"]["reserveMet"] is True


async def test_buy_now_closes_at_once_and_is_refused_after_the_first_bid(kernel_factory, graphql, clock):
    kernel, shop, lot = await start(kernel_factory, graphql, clock, buyNowPrice=CNY(80000), deposit=None)
    buyer = graphql(kernel, member(1))
    bought = await buyer.mutate('mutation($lot: ID!) { buyNow(input: {lotId: $lot}) { lot { status currentPrice { amountMinor } } userErrors { code } } }', lot=lot)
    assert bought == {"lot": {"status": "SOLD", "currentPrice": {"amountMinor": 80000}}, "userErrors": []}
    assert (await buyer.data(LOT, id=lot))["auctionLot"]["winnerOrder"]["total"]["amountMinor"] == 80000

    other = (await start(kernel_factory, graphql, clock, buyNowPrice=CNY(80000), deposit=None))
    kernel2, _, lot2 = other
    await bid(graphql(kernel2, member(1)), lot2, 10000)
    refused = await graphql(kernel2, member(2)).mutate('mutation($lot: ID!) { buyNow(input: {lotId: $lot}) { userErrors { code } } }', lot=lot2)
    assert refused["userErrors"] == [{"code": "BIDDING_SALE_BUY_NOW_UNAVAILABLE"}]
    assert (await graphql(kernel2).data(LOT, id=lot2))["auctionLot"]["buyNowPrice"] is None


async def test_the_winner_who_does_not_pay_defaults_and_forfeits_the_deposit(kernel_factory, graphql, clock):
    kernel, shop, lot = await start(kernel_factory, graphql, clock)
    winner = graphql(kernel, member(1))
    await winner.mutate(DEPOSIT, lot=lot)
    await bid(winner, lot, 10000)
    clock.advance(minutes=11)
    await kernel.run_due()
    assert (await winner.data(LOT, id=lot))["auctionLot"]["status"] == "SOLD"
    clock.advance(hours=24, seconds=1)
    await kernel.run_due()
    body = (await winner.data(LOT, id=lot))["auctionLot"]
    assert body["status"] == "DEFAULTED" and body["myDeposit"] == "forfeited"
    assert body["winnerOrder"]["status"] == "CANCELLED"


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_100_bidders_race_on_one_lot(kernel_factory, graphql, clock, database):
    kernel, shop, lot = await start(kernel_factory, graphql, clock, database=database, members=100, deposit=None)
    amounts = [10000 + i * 1000 for i in range(100)]
    random.Random(7).shuffle(amounts)
    clients = [graphql(kernel, member(i + 1)) for i in range(100)]
    results = await asyncio.gather(*(c.mutate(BID_PLAIN, lot=lot, amount=a) for c, a in zip(clients, amounts)))
    accepted = {i + 1: amounts[i] for i, r in enumerate(results) if not r["userErrors"]}
    refused = [r["userErrors"][0] for r in results if r["userErrors"]]
    assert accepted and all(e["code"] in ("BIDDING_SALE_BID_TOO_LOW", "BIDDING_SALE_ALREADY_LEADING") for e in refused)
    assert all(e["details"]["currentPrice"] is not None for e in refused if e["code"] == "BIDDING_SALE_BID_TOO_LOW")
    async with kernel.db.read() as session:
        history = (await session.execute(select(Bid.seq, Bid.member_id, Bid.amount).where(Bid.kind != "proxy").order_by(Bid.seq))).all()
    sequence = [amount for _, _, amount in history]
    assert sequence == sorted(set(sequence))                              # strictly increasing
    assert {m: a for _, m, a in history} == accepted                      # every accepted bid is stored
    body = (await graphql(kernel).data(LOT, id=lot))["auctionLot"]
    assert body["currentPrice"]["amountMinor"] == max(accepted.values()) == sequence[-1]


async def test_the_close_racing_last_bids_makes_one_order_at_the_final_price(kernel_factory, graphql, clock, tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'close.sqlite'}"
    kernel, shop, lot = await start(kernel_factory, graphql, clock, database=url, deposit=None)
    await bid(graphql(kernel, member(1)), lot, 10000)
    second_worker = await kernel_factory(BLUEPRINT, database=url)
    clock.advance(minutes=10)  # exactly the end: bids are refused, the close is due
    late = [graphql(kernel, member(i)).mutate(BID_PLAIN, lot=lot, amount=50000 + i * 1000) for i in range(2, 6)]
    outcomes = await asyncio.gather(kernel.timers.run_due(), second_worker.timers.run_due(), *late)
    assert all(r["userErrors"][0]["code"] == "BIDDING_SALE_LOT_CLOSED" for r in outcomes[2:])
    async with kernel.db.read() as session:
        orders = (await session.scalars(select(LotOrder))).all()
    assert len(orders) == 1 and orders[0].price == 10000


async def test_bad_bids_get_typed_errors_and_change_nothing(kernel_factory, graphql, clock):
    kernel, shop, lot = await start(kernel_factory, graphql, clock, increment=None,
                                    ladder=[{"fromPrice": CNY(0), "step": CNY(1000)}, {"fromPrice": CNY(50000), "step": CNY(5000)}])
    a, b = graphql(kernel, member(1)), graphql(kernel, member(2))
    assert (await bid(a, lot, 10000))["userErrors"][0]["code"] == "BIDDING_SALE_DEPOSIT_REQUIRED"
    await a.mutate(DEPOSIT, lot=lot)
    await b.mutate(DEPOSIT, lot=lot)
    assert (await bid(a, lot, 9000))["userErrors"][0]["code"] == "BIDDING_SALE_BID_TOO_LOW"
    assert (await bid(a, lot, 10500))["userErrors"][0]["code"] == "BIDDING_SALE_BID_NOT_ON_LADDER"
    assert (await bid(a, lot, 12000, 11000))["userErrors"][0]["code"] == "BIDDING_SALE_INVALID_MAXIMUM"
    wrong_currency = await a.mutate('mutation($lot: ID!) { placeBid(input: {lotId: $lot, amount: {amountMinor: 20000, currency: "USD"}}) { userErrors { code field } } }', lot=lot)
    assert wrong_currency["userErrors"] == [{"code": "KERNEL_INVALID_INPUT", "field": "input.amount"}]
    assert (await bid(a, lot, 50000))["userErrors"] == []
    assert (await bid(b, lot, 57000))["userErrors"][0]["code"] == "BIDDING_SALE_BID_NOT_ON_LADDER"  # 50.00 steps from 500.00 up
    assert (await bid(b, lot, 55000))["userErrors"] == []
    assert (await bid(b, lot, 60000))["userErrors"][0]["code"] == "BIDDING_SALE_ALREADY_LEADING"
    anonymous = await graphql(kernel).mutate(BID, lot=lot, amount=70000)
    assert anonymous["userErrors"][0]["code"] == "KERNEL_UNAUTHENTICATED"
    async with kernel.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Bid)) == 2

    future_start = clock.now() + timedelta(hours=1)
    later = await graphql(kernel, staff(1, "admin")).mutate(CREATE, input={
        "skuId": shop.sku, "startPrice": CNY(10000), "increment": CNY(1000),
        "startsAt": future_start.isoformat(), "endsAt": (future_start + timedelta(hours=1)).isoformat()})
    assert (await bid(a, later["lot"]["id"], 10000))["userErrors"][0]["code"] == "BIDDING_SALE_LOT_NOT_OPEN"
    clock.advance(minutes=11)
    assert (await bid(a, lot, 60000))["userErrors"][0]["code"] == "BIDDING_SALE_LOT_CLOSED"
    async with kernel.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Bid)) == 2
