"""The auction schema as a frontend reads it: the member's lots as a connection (the old list kept,
deprecated), a refusal that nulls one field instead of the page, open lots through the status
filter, deposit states as an enum, an order's lot, and a stream that completes when a lot sells."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from test_bidding_sale_auction import DEPOSIT, bid, create, pay_deposit, start

from core.testing import member, watch_subscription

MINE = """query($first: Int, $after: String, $last: Int, $before: String) {
  myAuctions(first: $first, after: $after, last: $last, before: $before) {
    nodes { id } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""
STATE = """query($id: ID!) { auctionLot(id: $id) { myDeposit myDepositState } }"""
ORDER_LOT = """query($id: ID!) { order(id: $id) { id auctionLot { id status } } }"""
OPEN = """{ auctionLots(status: OPEN) { nodes { id status } } }"""
STAFF_ONLY = """query($ids: [ID!]!) { nodes(ids: $ids) { ... on AuctionLot { id myDepositOrder { id } depositDiscrepancies
  depositLedger { movement } } } }"""


async def test_my_auctions_is_a_connection_both_ways_and_the_old_list_still_answers(kernel_factory, graphql, clock):
    kernel, shop, first_lot = await start(kernel_factory, graphql, clock, deposit=None)
    lots = [first_lot, *[await create(kernel, graphql, clock, shop, deposit=None) for _ in range(2)]]
    me = graphql(kernel, member(1))
    for lot in lots:
        assert (await bid(me, lot, 10000))["userErrors"] == []
    newest_first = list(reversed(lots))
    page = (await me.data(MINE, first=2))["myAuctions"]
    assert [n["id"] for n in page["nodes"]] == newest_first[:2] and page["pageInfo"]["hasNextPage"] is True
    rest = (await me.data(MINE, first=2, after=page["pageInfo"]["endCursor"]))["myAuctions"]
    assert [n["id"] for n in rest["nodes"]] == newest_first[2:] and rest["pageInfo"]["hasPreviousPage"] is True
    back = (await me.data(MINE, last=2))["myAuctions"]
    assert [n["id"] for n in back["nodes"]] == newest_first[1:] and back["pageInfo"]["hasPreviousPage"] is True
    before = (await me.data(MINE, last=2, before=back["pageInfo"]["startCursor"]))["myAuctions"]
    assert [n["id"] for n in before["nodes"]] == newest_first[:1]
    assert [n["id"] for n in (await me.data("{ myAuctionLots { id } }"))["myAuctionLots"]] == newest_first
    assert (await graphql(kernel, member(2)).data(MINE))["myAuctions"]["nodes"] == []  # bids of others are not theirs
    # Signed out: the field is null with one typed error at its path; the rest of the page answers.
    body = await graphql(kernel).execute("{ myAuctions { nodes { id } } auctionLots { nodes { id } } }")
    assert body["data"]["myAuctions"] is None and len(body["data"]["auctionLots"]["nodes"]) == 3
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [(["myAuctions"], "KERNEL_UNAUTHENTICATED")]


async def test_open_lots_are_the_status_filter_and_deposit_states_are_an_enum(kernel_factory, graphql, clock):
    kernel, shop, running = await start(kernel_factory, graphql, clock)
    later = await create(kernel, graphql, clock, shop, startsAt=(clock.now() + timedelta(hours=1)).isoformat(),
                         endsAt=(clock.now() + timedelta(hours=2)).isoformat())
    assert (await graphql(kernel).data(OPEN))["auctionLots"]["nodes"] == [{"id": running, "status": "OPEN"}]
    scheduled = await graphql(kernel).data("{ auctionLots(status: SCHEDULED) { nodes { id } } }")
    assert scheduled["auctionLots"]["nodes"] == [{"id": later}]
    me = graphql(kernel, member(1))
    assert (await me.data(STATE, id=running))["auctionLot"] == {"myDeposit": "none", "myDepositState": "NONE"}
    placed = await me.mutate(DEPOSIT, lot=running)
    assert (await me.data(STATE, id=running))["auctionLot"] == {"myDeposit": "pending", "myDepositState": "PENDING"}
    # The deposit order links to its lot.
    assert (await me.data(ORDER_LOT, id=placed["order"]["id"]))["order"]["auctionLot"] == {"id": running, "status": "OPEN"}
    await pay_deposit(graphql(kernel, member(2)), running)
    assert (await graphql(kernel, member(2)).data(STATE, id=running))["auctionLot"]["myDepositState"] == "FROZEN"
    assert (await graphql(kernel).data(STATE, id=running))["auctionLot"] == {"myDeposit": None, "myDepositState": None}
    # Staff-only fields on the public lot: a member gets the lot, those fields null with errors at their paths, even
    # beside a field reading the database (the fast query path used to answer an internal error here).
    body = await asyncio.wait_for(me.execute(STAFF_ONLY, ids=[running]), 20)
    assert body["data"]["nodes"] == [{"id": running, "myDepositOrder": {"id": placed["order"]["id"]}, "depositDiscrepancies": None,
                                      "depositLedger": None}]
    assert sorted((e["path"][-1], e["extensions"]["code"]) for e in body["errors"]) == [
        ("depositDiscrepancies", "KERNEL_FORBIDDEN"), ("depositLedger", "KERNEL_FORBIDDEN")]


async def test_the_stream_completes_when_the_lot_sells_and_the_winners_order_links_to_it(kernel_factory, graphql, clock):
    kernel, shop, lot = await start(kernel_factory, graphql, clock, deposit=None)
    seen, task = await watch_subscription(kernel, "subscription($id: ID!) { auctionLotUpdates(lotId: $id) { lot { id status } } }", {"id": lot})
    winner = graphql(kernel, member(1))
    assert (await bid(winner, lot, 10000))["userErrors"] == []
    clock.advance(minutes=11)
    await kernel.run_due()
    await asyncio.wait_for(task, 2)  # SOLD: bidding is over, the stream completed by itself
    assert [u["lot"]["status"] for u in seen] == ["OPEN", "OPEN", "SOLD"]
    order = (await winner.data("query($id: ID!) { auctionLot(id: $id) { winnerOrder { id } } }", id=lot))["auctionLot"]["winnerOrder"]
    assert (await winner.data(ORDER_LOT, id=order["id"]))["order"]["auctionLot"] == {"id": lot, "status": "SOLD"}
    # Subscribing to a sold lot: its state, then done.
    again, task = await watch_subscription(kernel, "subscription($id: ID!) { auctionLotUpdates(lotId: $id) { lot { status } } }", {"id": lot})
    await asyncio.wait_for(task, 2)
    assert again == [{"lot": {"status": "SOLD"}}]


async def test_bid_history_is_a_connection_newest_first_both_ways(kernel_factory, graphql, clock):
    kernel, _shop, lot = await start(kernel_factory, graphql, clock, deposit=None)
    a, b = graphql(kernel, member(1)), graphql(kernel, member(2))
    for client, amount in ((a, 10000), (b, 11000), (a, 12000), (b, 13000)):
        assert (await bid(client, lot, amount))["userErrors"] == []
    history = """query($id: ID!, $first: Int, $after: String, $last: Int) { auctionLot(id: $id) {
      bidHistory(first: $first, after: $after, last: $last) { nodes { seq isMine } pageInfo { hasNextPage endCursor } }
      bids { seq } } }"""
    newest = (await a.data(history, id=lot, first=3))["auctionLot"]
    assert [(n["seq"], n["isMine"]) for n in newest["bidHistory"]["nodes"]] == [(4, False), (3, True), (2, False)]
    assert newest["bidHistory"]["pageInfo"]["hasNextPage"] is True and [x["seq"] for x in newest["bids"]] == [4, 3, 2, 1]
    older = (await a.data(history, id=lot, first=3, after=newest["bidHistory"]["pageInfo"]["endCursor"]))["auctionLot"]["bidHistory"]
    assert [n["seq"] for n in older["nodes"]] == [1] and older["pageInfo"]["hasNextPage"] is False
    oldest = (await a.data(history, id=lot, last=2))["auctionLot"]["bidHistory"]
    assert [n["seq"] for n in oldest["nodes"]] == [2, 1]
