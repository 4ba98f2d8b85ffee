"""Auctions through GraphQL: a whole auction with its stream, reserve, no bids, buy-now,
default, cancel, restart, and bad input that changes nothing."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from conftest import open_shop
from sqlalchemy import func, select

from components.bidding_sale.models import Bid, Bidder, Lot, LotOrder
from components.orders.models import Order
from core.gql.context import Context
from core.gql.relay import to_global_id
from core.models import TimerRow
from core.testing import member, staff

BLUEPRINT = """\
dougong: 1
brand: {slug: auction, name: Auction, currency: CNY, timezone: Asia/Shanghai}
components:
  bidding_sale: {extend_window: 60s, extend_by: 120s, max_extensions: 3, payment_due: 24h}
"""
CREATE = """mutation($input: CreateAuctionLotInput!) { createAuctionLot(input: $input) {
  lot { id status endsAt } userErrors { code field message } } }"""
SCHEDULE = """mutation($lot: ID!) { scheduleAuctionLot(input: {lotId: $lot}) { lot { status } userErrors { code } } }"""
CANCEL = """mutation($lot: ID!) { cancelAuctionLot(input: {lotId: $lot}) { lot { status } userErrors { code } } }"""
BID = """mutation($lot: ID!, $amount: Long!, $max: MoneyInput, $key: String) {
  placeBid(input: {lotId: $lot, amount: {amountMinor: $amount, currency: "CNY"}, maximum: $max, idempotencyKey: $key}) {
    leading lot { currentPrice { amountMinor } leader bidCount endsAt } userErrors { code field details } } }"""
BUY_NOW = """mutation($lot: ID!) { buyNow(input: {lotId: $lot}) {
  lot { status currentPrice { amountMinor } } userErrors { code } } }"""
DEPOSIT = 'mutation($lot: ID!) { payLotDeposit(input: {lotId: $lot}) { lot { id } order { id kind status total { amountMinor } } userErrors { code } } }'
PAY = 'mutation($id: ID!) { payOrder(input: {orderId: $id}) { payment { id } userErrors { code } } }'
SETTLE = 'mutation($id: ID!) { sandboxSettlePayment(input: {paymentId: $id}) { order { status } userErrors { code } } }'
LOT = """query($id: ID!) { auctionLot(id: $id) { status currentPrice { amountMinor } reserveMet bidCount leader
  buyNowPrice { amountMinor } nextMinimumBid { amountMinor } myMaximum { amountMinor } myDeposit myDepositState
  winnerOrder { id status kind total { amountMinor } lines { unitPrice { amountMinor } adjustments { component stage amount { amountMinor } } } } } }"""
UPDATES = "subscription($id: ID!) { auctionLotUpdates(lotId: $id) { status currentPrice { amountMinor } leader seq endsAt } }"
CNY = lambda n: {"amountMinor": n, "currency": "CNY"}  # noqa: E731


async def start(kernel_factory, graphql, clock, *, database="sqlite", members=5, stock=5, **lot):
    kernel = await kernel_factory(BLUEPRINT, database=database)
    shop = await open_shop(kernel, members=members, stock=stock, price=500000)
    lot_id = await create(kernel, graphql, clock, shop, **lot)
    return kernel, shop, lot_id


async def create(kernel, graphql, clock, shop, **lot):
    now = clock.now()
    fields = {"skuId": shop.sku, "startPrice": CNY(10000), "increment": CNY(1000), "deposit": CNY(1000),
              "startsAt": (now - timedelta(minutes=1)).isoformat(), "endsAt": (now + timedelta(minutes=10)).isoformat(), **lot}
    fields = {k: v for k, v in fields.items() if v is not None}
    payload = await graphql(kernel, staff(1, "admin")).mutate(CREATE, input=fields)
    assert payload["userErrors"] == [], payload
    return payload["lot"]["id"]


async def pay_deposit(client, lot) -> dict:
    """payLotDeposit places the deposit order; the member pays it through the payment provider."""
    placed = await client.mutate(DEPOSIT, lot=lot)
    assert placed["userErrors"] == [] and placed["order"]["kind"] == "auction_deposit", placed
    payment = await client.mutate(PAY, id=placed["order"]["id"])
    assert payment["userErrors"] == [], payment
    settled = await client.mutate(SETTLE, id=payment["payment"]["id"])
    assert settled == {"order": {"status": "PAID"}, "userErrors": []}, settled
    return {"userErrors": [], **placed}


async def bid(client, lot, amount, maximum=None, key=None):
    return await client.mutate(BID, lot=lot, amount=amount, max=CNY(maximum) if maximum else None, key=key)


async def count(kernel, model, *where) -> int:
    async with kernel.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)))


async def state(kernel) -> tuple:
    """Everything a refused bid must leave alone."""
    async with kernel.db.read() as session:
        lots = (await session.execute(select(Lot.id, Lot.status, Lot.current_price, Lot.leader_member_id, Lot.leader_max,
                                             Lot.seq, Lot.bid_count, Lot.ends_at, Lot.extensions).order_by(Lot.id))).all()
        bidders = (await session.execute(select(Bidder.lot_id, Bidder.member_id, Bidder.max_amount, Bidder.deposit_state,
                                                Bidder.first_bid_at).order_by(Bidder.id))).all()
        bids = int(await session.scalar(select(func.count()).select_from(Bid)))
        timers = (await session.execute(select(TimerRow.key, TimerRow.due_at, TimerRow.state).order_by(TimerRow.id))).all()
    return lots, bidders, bids, timers


async def test_an_auction_through_graphql(kernel_factory, graphql, clock):
    kernel, shop, lot = await start(kernel_factory, graphql, clock, schedule=False)
    admin = graphql(kernel, staff(1, "admin"))
    assert (await graphql(kernel).data(LOT, id=lot))["auctionLot"] is None  # drafts are for staff only
    assert (await admin.mutate(SCHEDULE, lot=lot)) == {"lot": {"status": "OPEN"}, "userErrors": []}
    assert await shop.available() == 4  # the unit on the block is held for the winner

    a, b, c = (graphql(kernel, member(i)) for i in (1, 2, 3))
    stream = await kernel.schema.subscribe(UPDATES, variable_values={"id": lot}, context_value=Context(kernel))
    seen: list[dict] = []

    async def watch() -> None:
        async for result in stream:
            assert result.errors is None, result.errors
            seen.append(result.data["auctionLotUpdates"])

    watcher = asyncio.create_task(watch())
    await asyncio.sleep(0.05)
    for client in (a, b, c):
        assert (await pay_deposit(client, lot))["userErrors"] == []

    assert (await bid(a, lot, 10000))["leading"] is True
    b_first = await bid(b, lot, 11000, 20000)                # B leads, with a hidden maximum
    assert b_first["leading"] is True and b_first["lot"]["currentPrice"]["amountMinor"] == 11000
    c_first = await bid(c, lot, 15000)                       # B's maximum answers at once
    assert c_first["leading"] is False and c_first["lot"]["currentPrice"]["amountMinor"] == 16000
    assert c_first["lot"]["leader"] == "0***2"
    c_second = await bid(c, lot, 25000)                      # above B's maximum: C leads at what C bid
    assert c_second["leading"] is True and c_second["lot"]["currentPrice"]["amountMinor"] == 25000
    assert (await bid(c, lot, 26000))["userErrors"][0]["code"] == "BIDDING_SALE_ALREADY_LEADING"

    clock.advance(minutes=9, seconds=30)                     # 30 s before the end: soft close
    late = await bid(b, lot, 26000, 30000)
    assert late["leading"] is True and late["lot"]["currentPrice"]["amountMinor"] == 26000
    assert late["lot"]["endsAt"] == (clock.now() + timedelta(seconds=120)).isoformat()
    clock.advance(seconds=31)                                # past the original end
    await kernel.run_due()
    assert (await graphql(kernel).data(LOT, id=lot))["auctionLot"]["status"] == "OPEN"  # the end moved
    clock.advance(seconds=90)
    await kernel.run_due()                                   # the close timer, at the extended end

    body = (await b.data(LOT, id=lot))["auctionLot"]
    assert body["status"] == "SOLD" and body["currentPrice"]["amountMinor"] == 26000
    order = body["winnerOrder"]
    assert order["kind"] == "auction" and order["status"] == "PENDING_PAYMENT"
    assert order["total"]["amountMinor"] == 25000            # the final price minus the deposit
    assert order["lines"][0]["unitPrice"]["amountMinor"] == 26000
    assert {(x["component"], x["stage"], x["amount"]["amountMinor"]) for x in order["lines"][0]["adjustments"]} == {
        ("bidding_sale", "activity", 26000 - 500000), ("bidding_sale", "activity", -1000)}
    assert (body["myDeposit"], body["myDepositState"]) == ("applied", "APPLIED")
    for loser in (a, c):
        mine = (await loser.data(LOT, id=lot))["auctionLot"]
        assert (mine["myDeposit"], mine["myDepositState"]) == ("released", "RELEASED") and mine["winnerOrder"] is None
    assert await count(kernel, Order, Order.kind == "auction") == 1 and await count(kernel, LotOrder) == 1
    # The losers' deposits went back through the provider: their deposit orders are refunded in full.
    async with kernel.db.read() as session:
        deposits = dict((await session.execute(select(Order.member_id, Order.status).where(Order.kind == "auction_deposit"))).all())
    assert deposits == {1: "refunded", 2: "paid", 3: "refunded"}
    assert await shop.available() == 4                       # the held unit became the order's; deposits hold none

    await asyncio.wait_for(watcher, 2)                       # bidding is over: the stream completed at SOLD
    payment = await b.mutate('mutation($id: ID!) { payOrder(input: {orderId: $id}) { payment { id } } }', id=order["id"])
    await b.mutate('mutation($id: ID!) { sandboxSettlePayment(input: {paymentId: $id}) { order { status } } }', id=payment["payment"]["id"])
    assert (await b.data(LOT, id=lot))["auctionLot"]["status"] == "PAID"
    ledger = await graphql(kernel, staff(1, "admin")).data(
        "query($id: ID!) { auctionLot(id: $id) { depositDiscrepancies depositLedger { kind movement amount { amountMinor } } } }", id=lot)
    assert ledger["auctionLot"]["depositDiscrepancies"] == []
    assert sorted((e["movement"], e["amount"]["amountMinor"]) for e in ledger["auctionLot"]["depositLedger"]) == [
        ("APPLIED", 1000), ("PAID", 1000), ("PAID", 1000), ("PAID", 1000), ("REFUNDED", 1000), ("REFUNDED", 1000)]
    # The deprecated text keeps answering for one release, the same movement in lower case.
    assert all(e["kind"] == e["movement"].lower() for e in ledger["auctionLot"]["depositLedger"])

    extended = (clock.now() - timedelta(seconds=1)).isoformat()
    # Every committed change, in order: the state at subscription, each bid (a proxy answer is
    # part of the bid that caused it), the extension, the close (then the stream completed).
    assert [(u["seq"], u["currentPrice"] and u["currentPrice"]["amountMinor"], u["leader"], u["status"]) for u in seen] == [
        (0, None, None, "OPEN"), (1, 10000, "0***1", "OPEN"), (2, 11000, "0***2", "OPEN"), (4, 16000, "0***2", "OPEN"),
        (5, 25000, "0***3", "OPEN"), (6, 26000, "0***2", "OPEN"), (6, 26000, "0***2", "SOLD")]
    assert [u["endsAt"] for u in seen] == [seen[0]["endsAt"]] * 5 + [extended] * 2
    assert seen[0]["endsAt"] != extended
    history = await graphql(kernel).data("query($id: ID!) { auctionLot(id: $id) { bids { seq amount { amountMinor } bidder isProxy } } }", id=lot)
    assert [(x["seq"], x["amount"]["amountMinor"], x["bidder"], x["isProxy"]) for x in reversed(history["auctionLot"]["bids"])] == [
        (1, 10000, "0***1", False), (2, 11000, "0***2", False), (3, 15000, "0***3", False), (4, 16000, "0***2", True),
        (5, 25000, "0***3", False), (6, 26000, "0***2", False)]


async def test_reserve_not_met_is_unsold_and_releases_everything(kernel_factory, graphql, clock):
    kernel, shop, lot = await start(kernel_factory, graphql, clock, reservePrice=CNY(50000))
    bidder = graphql(kernel, member(1))
    await pay_deposit(bidder, lot)
    await bid(bidder, lot, 20000)
    body = (await graphql(kernel).data(LOT, id=lot))["auctionLot"]
    assert body["reserveMet"] is False and "50000" not in str(body)  # yes/no only, never the reserve
    clock.advance(minutes=11)
    await kernel.run_due()
    body = (await bidder.data(LOT, id=lot))["auctionLot"]
    assert body["status"] == "UNSOLD" and body["winnerOrder"] is None and body["myDeposit"] == "released"
    assert await count(kernel, Order, Order.kind == "auction") == 0 and await count(kernel, LotOrder) == 0
    assert await shop.available() == 5


async def test_no_bids_is_unsold(kernel_factory, graphql, clock):
    kernel, shop, lot = await start(kernel_factory, graphql, clock)
    clock.advance(minutes=10)
    await kernel.run_due()
    assert (await graphql(kernel).data(LOT, id=lot))["auctionLot"]["status"] == "UNSOLD"
    assert await count(kernel, Order, Order.kind == "auction") == 0 and await shop.available() == 5
    listed = await graphql(kernel).data("{ auctionLots(status: UNSOLD) { edges { node { id } } } }")
    assert [e["node"]["id"] for e in listed["auctionLots"]["edges"]] == [lot]


async def test_a_maximum_above_the_reserve_takes_the_price_to_it(kernel_factory, graphql, clock):
    kernel, shop, lot = await start(kernel_factory, graphql, clock, reservePrice=CNY(50000), deposit=None)
    payload = await bid(graphql(kernel, member(1)), lot, 10000, 60000)
    assert payload["lot"]["currentPrice"]["amountMinor"] == 50000
    assert (await graphql(kernel).data(LOT, id=lot))["auctionLot"]["reserveMet"] is True


async def test_buy_now_closes_at_once_and_is_refused_after_the_first_bid(kernel_factory, graphql, clock):
    # 80500 is not a whole number of 1000 steps above the start: buy-now does not care.
    kernel, shop, lot = await start(kernel_factory, graphql, clock, buyNowPrice=CNY(80500), deposit=None)
    buyer = graphql(kernel, member(1))
    assert await buyer.mutate(BUY_NOW, lot=lot) == {"lot": {"status": "SOLD", "currentPrice": {"amountMinor": 80500}}, "userErrors": []}
    assert (await buyer.data(LOT, id=lot))["auctionLot"]["winnerOrder"]["total"]["amountMinor"] == 80500
    assert await count(kernel, TimerRow, TimerRow.job == "bidding_sale.close", TimerRow.state == "pending") == 0
    assert (await bid(graphql(kernel, member(2)), lot, 90000))["userErrors"][0]["code"] == "BIDDING_SALE_LOT_CLOSED"

    other = await create(kernel, graphql, clock, shop, buyNowPrice=CNY(80000), deposit=None)
    assert (await graphql(kernel).data(LOT, id=other))["auctionLot"]["buyNowPrice"]["amountMinor"] == 80000
    await bid(graphql(kernel, member(1)), other, 10000)
    before = await state(kernel)
    refused = await graphql(kernel, member(2)).mutate(BUY_NOW, lot=other)
    assert refused["userErrors"] == [{"code": "BIDDING_SALE_BUY_NOW_UNAVAILABLE"}]
    assert await state(kernel) == before
    assert (await graphql(kernel).data(LOT, id=other))["auctionLot"]["buyNowPrice"] is None


async def test_the_winner_who_does_not_pay_defaults_and_forfeits_the_deposit(kernel_factory, graphql, clock):
    kernel, shop, lot = await start(kernel_factory, graphql, clock)
    winner = graphql(kernel, member(1))
    await pay_deposit(winner, lot)
    await bid(winner, lot, 10000)
    clock.advance(minutes=11)
    await kernel.run_due()
    assert (await winner.data(LOT, id=lot))["auctionLot"]["status"] == "SOLD"
    assert await shop.available() == 4
    clock.advance(hours=23, minutes=59)
    await kernel.run_due()
    assert (await winner.data(LOT, id=lot))["auctionLot"]["status"] == "SOLD"  # not yet
    clock.advance(minutes=2)
    await kernel.run_due()
    body = (await winner.data(LOT, id=lot))["auctionLot"]
    assert body["status"] == "DEFAULTED" and body["myDeposit"] == "forfeited"
    assert body["winnerOrder"]["status"] == "CANCELLED"
    assert await shop.available() == 5                     # the unit is back on the shelf


async def test_staff_cancel_releases_deposits_and_stock(kernel_factory, graphql, clock):
    kernel, shop, lot = await start(kernel_factory, graphql, clock)
    bidder = graphql(kernel, member(1))
    await pay_deposit(bidder, lot)
    await bid(bidder, lot, 10000)
    assert (await bidder.mutate(CANCEL, lot=lot))["userErrors"][0]["code"] == "KERNEL_FORBIDDEN"
    assert (await graphql(kernel, staff(1, "admin")).mutate(CANCEL, lot=lot))["lot"]["status"] == "CANCELLED"
    assert (await bidder.data(LOT, id=lot))["auctionLot"]["myDeposit"] == "released"
    assert await shop.available() == 5
    clock.advance(minutes=11)
    await kernel.run_due()
    assert await count(kernel, Order, Order.kind == "auction") == 0


async def test_the_close_timer_survives_a_restart(kernel_factory, graphql, clock, tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'restart.sqlite'}"
    first = await kernel_factory(BLUEPRINT, database=url)
    shop = await open_shop(first, members=2, stock=1)
    lot = await create(first, graphql, clock, shop, deposit=None)
    await bid(graphql(first, member(2)), lot, 12000)
    await first.stop()
    second = await kernel_factory(BLUEPRINT, database=url)
    clock.advance(minutes=10)
    await second.run_due()
    body = (await graphql(second, member(2)).data(LOT, id=lot))["auctionLot"]
    assert body["status"] == "SOLD" and body["winnerOrder"]["total"]["amountMinor"] == 12000


async def test_bad_bids_get_typed_errors_and_change_nothing(kernel_factory, graphql, clock):
    kernel, shop, lot = await start(kernel_factory, graphql, clock, increment=None,
                                    ladder=[{"fromPrice": CNY(0), "step": CNY(1000)}, {"fromPrice": CNY(50000), "step": CNY(5000)}])
    a, b = graphql(kernel, member(1)), graphql(kernel, member(2))

    async def refused(client, code, *args, query=None, **variables):
        before = await state(kernel)
        payload = await client.mutate(query, **variables) if query else await bid(client, lot, *args)
        assert [e["code"] for e in payload["userErrors"]] == [code], payload
        assert await state(kernel) == before
        return payload["userErrors"][0]

    await refused(a, "BIDDING_SALE_DEPOSIT_REQUIRED", 10000)   # no deposit: no bidder row either
    assert await count(kernel, Bidder) == 0
    await pay_deposit(a, lot)
    await pay_deposit(b, lot)
    low = await refused(a, "BIDDING_SALE_BID_TOO_LOW", 9000)
    assert low["details"] == {"currentPrice": None, "minimumBid": 10000} and low["field"] == "input.amount"
    await refused(a, "BIDDING_SALE_BID_NOT_ON_LADDER", 10500)
    await refused(a, "BIDDING_SALE_INVALID_MAXIMUM", 12000, 11000)
    await refused(a, "KERNEL_INVALID_INPUT", query='mutation($lot: ID!) { placeBid(input: {lotId: $lot, amount: {amountMinor: 20000, currency: "USD"}}) { userErrors { code field } } }', lot=lot)
    await refused(a, "KERNEL_INVALID_ID", query='mutation { placeBid(input: {lotId: "nonsense", amount: {amountMinor: 20000, currency: "CNY"}}) { userErrors { code field } } }')
    await refused(graphql(kernel), "KERNEL_UNAUTHENTICATED", query=BID, lot=lot, amount=70000, max=None, key=None)

    assert (await bid(a, lot, 50000))["userErrors"] == []
    await refused(b, "BIDDING_SALE_BID_NOT_ON_LADDER", 57000)     # 50.00 steps from 500.00 up
    assert (await bid(b, lot, 55000, 70000))["userErrors"] == []
    # The leader cannot outbid themselves: neither a bid nor a maximum that is not higher.
    own = await refused(b, "BIDDING_SALE_ALREADY_LEADING", 60000)
    assert own["details"] == {"currentPrice": 55000}
    await refused(b, "BIDDING_SALE_ALREADY_LEADING", 60000, 70000)
    raised = await bid(b, lot, 60000, 90000)                      # only raise the maximum
    assert raised["userErrors"] == [] and raised["lot"]["currentPrice"]["amountMinor"] == 55000
    assert (await b.data(LOT, id=lot))["auctionLot"]["myMaximum"] == {"amountMinor": 90000}
    assert (await a.data(LOT, id=lot))["auctionLot"]["myMaximum"] == {"amountMinor": 50000}
    assert await count(kernel, Bid) == 2

    # A bid key replayed returns the first answer and bids nothing more.
    first = await bid(a, lot, 95000, key="k1")
    assert first["userErrors"] == [] and first["leading"] is True
    before = await state(kernel)
    assert await bid(a, lot, 95000, key="k1") == first
    assert await state(kernel) == before
    conflict = await bid(a, lot, 99000, key="k1")
    assert conflict["userErrors"][0]["code"] == "KERNEL_IDEMPOTENCY_CONFLICT"

    future = clock.now() + timedelta(hours=1)
    later = await create(kernel, graphql, clock, shop, startsAt=future.isoformat(), endsAt=(future + timedelta(hours=1)).isoformat())
    assert (await pay_deposit(a, later))["userErrors"] == []  # a deposit may be paid ahead
    await refused(a, "BIDDING_SALE_LOT_NOT_OPEN", query=BID, lot=later, amount=10000, max=None, key=None)
    clock.advance(minutes=11)
    await refused(b, "BIDDING_SALE_LOT_CLOSED", 200000)
    await refused(a, "BIDDING_SALE_LOT_CLOSED", query=DEPOSIT, lot=lot)


async def test_bad_lots_are_refused(kernel_factory, graphql, clock):
    kernel = await kernel_factory(BLUEPRINT)
    shop = await open_shop(kernel, members=1, stock=1)
    now = clock.now()
    good = {"skuId": shop.sku, "startPrice": CNY(10000), "increment": CNY(1000),
            "startsAt": now.isoformat(), "endsAt": (now + timedelta(hours=1)).isoformat()}
    for change, code in [
        ({"endsAt": (now - timedelta(minutes=1)).isoformat()}, "BIDDING_SALE_INVALID_LOT"),
        ({"ladder": [{"fromPrice": CNY(0), "step": CNY(100)}]}, "BIDDING_SALE_INVALID_LOT"),  # both increment and ladder
        ({"buyNowPrice": CNY(5000)}, "BIDDING_SALE_INVALID_LOT"),
        ({"increment": CNY(0)}, "KERNEL_INVALID_INPUT"),
        ({"skuId": to_global_id("Sku", 999)}, "KERNEL_NOT_FOUND"),
    ]:
        payload = await graphql(kernel, staff(1, "admin")).mutate(CREATE, input={**good, **change})
        assert [e["code"] for e in payload["userErrors"]] == [code], (change, payload)
    assert (await graphql(kernel, member(1)).mutate(CREATE, input=good))["userErrors"][0]["code"] == "KERNEL_FORBIDDEN"
    assert await count(kernel, Lot) == 0
    assert (await graphql(kernel, staff(1, "admin")).mutate(CREATE, input=good))["userErrors"] == []
    # The only unit is held by the first lot: a second cannot be scheduled, and nothing is written.
    assert (await graphql(kernel, staff(1, "admin")).mutate(CREATE, input=good))["userErrors"][0]["code"] == "INVENTORY_OUT_OF_STOCK"
    assert await count(kernel, Lot) == 1
