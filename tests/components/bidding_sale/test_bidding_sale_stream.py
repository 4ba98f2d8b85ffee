"""auctionLotUpdates carries the lot node (its global id and what the page shows) and completes
on every terminal state, and at once when the lot is already terminal."""

from __future__ import annotations

import asyncio

from test_bidding_sale_auction import CANCEL, CNY, bid, pay_deposit, start

from core.testing import member, staff, watch_subscription

STREAM = """subscription($id: ID!) { auctionLotUpdates(lotId: $id) { seq lotId
  lot { id status currentPrice { amountMinor } nextMinimumBid { amountMinor } reserveMet bidCount leader
        timeLeftSeconds endsAt buyNowPrice { amountMinor } } } }"""


async def watch(kernel, lot) -> tuple[list[dict], asyncio.Task]:
    return await watch_subscription(kernel, STREAM, {"id": lot})


async def test_payloads_carry_the_lot_node_and_the_stream_ends_unsold(kernel_factory, graphql, clock):
    kernel, shop, lot = await start(kernel_factory, graphql, clock, reservePrice=CNY(50000), buyNowPrice=CNY(90000))
    seen, task = await watch(kernel, lot)
    bidder = graphql(kernel, member(1))
    await pay_deposit(bidder, lot)
    await bid(bidder, lot, 20000)
    clock.advance(minutes=11)
    await kernel.run_due()
    await asyncio.wait_for(task, 2)  # UNSOLD is terminal: the stream completed by itself
    assert {u["lot"]["id"] for u in seen} == {lot} and {u["lotId"] for u in seen} == {lot}
    first, after_bid, closed = seen
    assert first["lot"]["status"] == "OPEN" and first["lot"]["currentPrice"] is None and first["lot"]["bidCount"] == 0
    assert first["lot"]["nextMinimumBid"] == {"amountMinor": 10000} and first["lot"]["buyNowPrice"] == {"amountMinor": 90000}
    assert first["lot"]["reserveMet"] is False and first["lot"]["timeLeftSeconds"] > 500
    assert after_bid["lot"]["currentPrice"] == {"amountMinor": 20000} and after_bid["lot"]["bidCount"] == 1
    assert after_bid["lot"]["leader"] == "0***1" and after_bid["lot"]["nextMinimumBid"] == {"amountMinor": 21000}
    assert after_bid["lot"]["buyNowPrice"] is None  # withdrawn by the first bid
    assert closed["lot"]["status"] == "UNSOLD" and closed["lot"]["timeLeftSeconds"] == 0 and closed["lot"]["nextMinimumBid"] is None
    # The node in the payload is the node the query answers: a cache merging by id sees no difference.
    queried = await graphql(kernel).data(
        "query($id: ID!) { auctionLot(id: $id) { id status currentPrice { amountMinor } nextMinimumBid { amountMinor } reserveMet"
        " bidCount leader timeLeftSeconds endsAt buyNowPrice { amountMinor } } }",
        id=lot,
    )
    assert queried["auctionLot"] == closed["lot"]


async def test_cancel_completes_the_stream_and_a_terminal_snapshot_completes_at_once(kernel_factory, graphql, clock):
    kernel, shop, lot = await start(kernel_factory, graphql, clock)
    seen, task = await watch(kernel, lot)
    assert (await graphql(kernel, staff(1, "admin")).mutate(CANCEL, lot=lot))["lot"]["status"] == "CANCELLED"
    await asyncio.wait_for(task, 2)
    assert [(u["lot"]["id"], u["lot"]["status"]) for u in seen] == [(lot, "OPEN"), (lot, "CANCELLED")]
    again, task = await watch(kernel, lot)  # subscribing to a cancelled lot: its state, then done
    await asyncio.wait_for(task, 2)
    assert [(u["lot"]["id"], u["lot"]["status"]) for u in again] == [(lot, "CANCELLED")]
