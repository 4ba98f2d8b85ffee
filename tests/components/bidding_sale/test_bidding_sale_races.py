"""Concurrency on one lot, on SQLite and PostgreSQL: 100 bidders at once, and the close timer
racing last bids and a second worker."""

from __future__ import annotations

import asyncio
import random
from datetime import datetime, timedelta

import pytest
from conftest import open_shop
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from components.bidding_sale.models import Bid, Bidder, Lot, LotOrder
from components.orders.models import Order
from core.clock import as_utc
from core.gql.context import Context
from core.gql.relay import decode_id
from core.models import TimerRow
from core.testing import member, staff
from core.timers import Timer

BLUEPRINT = """\
dougong: 1
brand: {slug: race, name: Race, currency: CNY, timezone: Asia/Shanghai}
components:
  bidding_sale: {max_extensions: %d}
"""
CREATE = """mutation($input: CreateAuctionLotInput!) { createAuctionLot(input: $input) { lot { id } userErrors { code } } }"""
BID = """mutation($lot: ID!, $amount: Long!, $max: MoneyInput) {
  placeBid(input: {lotId: $lot, amount: {amountMinor: $amount, currency: "CNY"}, maximum: $max}) {
    leading userErrors { code details } } }"""
UPDATES = "subscription($id: ID!) { auctionLotUpdates(lotId: $id) { seq currentPrice { amountMinor } } }"
CNY = lambda n: {"amountMinor": n, "currency": "CNY"}  # noqa: E731


async def auction(kernel_factory, graphql, clock, database, *, members, max_extensions=10, minutes=10):
    kernel = await kernel_factory(BLUEPRINT % max_extensions, database=database)
    shop = await open_shop(kernel, members=members, stock=1)
    now = clock.now()
    payload = await graphql(kernel, staff(1, "admin")).mutate(CREATE, input={
        "skuId": shop.sku, "startPrice": CNY(10000), "increment": CNY(1000),
        "startsAt": (now - timedelta(minutes=1)).isoformat(), "endsAt": (now + timedelta(minutes=minutes)).isoformat()})
    assert payload["userErrors"] == []
    return kernel, shop, payload["lot"]["id"]


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_100_bidders_race_on_one_lot(kernel_factory, graphql, clock, database):
    kernel, _, lot = await auction(kernel_factory, graphql, clock, database, members=100)
    rng = random.Random(7)
    # Every third member opens with a maximum above its bid; the odd offsets keep maxima distinct.
    opening = {m: 10000 + rng.randrange(0, 5) * 1000 for m in range(1, 101)}
    maxima = {m: opening[m] + rng.randrange(0, 60) * 1000 + 7 * m for m in range(1, 101, 3)}
    calls: dict[int, list[tuple[int, int | None]]] = {m: [] for m in range(1, 101)}  # accepted (amount, maximum)
    errors: list[tuple[int, dict]] = []

    stream = await kernel.schema.subscribe(UPDATES, variable_values={"id": lot}, context_value=Context(kernel))
    seen: list[tuple[int, int | None]] = []

    async def watch() -> None:
        async for result in stream:
            update = result.data["auctionLotUpdates"]
            seen.append((update["seq"], update["currentPrice"] and update["currentPrice"]["amountMinor"]))

    async def bidder(m: int) -> None:
        client = graphql(kernel, member(m))
        amount, maximum = opening[m], maxima.get(m)
        for _ in range(2):  # bid, and after a lost race bid again above the price the error reported
            payload = await client.mutate(BID, lot=lot, amount=amount, max=CNY(maximum) if maximum else None)
            if not payload["userErrors"]:
                calls[m].append((amount, maximum))
                return
            error = payload["userErrors"][0]
            errors.append((amount, error))
            if error["code"] == "BIDDING_SALE_ALREADY_LEADING":
                return  # our maximum is answering for us
            amount, maximum = error["details"]["minimumBid"] + rng.randrange(0, 8) * 1000, None

    watcher = asyncio.create_task(watch())
    await asyncio.sleep(0.05)
    await asyncio.gather(*(bidder(m) for m in range(1, 101)))

    accepted = {m: c for m, c in calls.items() if c}
    assert len(accepted) >= 3 and len(errors) >= 50, (len(accepted), len(errors))  # a real race, both ways
    for amount, error in errors:
        # Every losing race got a typed error carrying the price that beat it.
        assert error["code"] in ("BIDDING_SALE_BID_TOO_LOW", "BIDDING_SALE_BID_NOT_ON_LADDER", "BIDDING_SALE_ALREADY_LEADING"), error
        assert error["details"]["currentPrice"] is not None
        if error["code"] == "BIDDING_SALE_BID_TOO_LOW":
            assert amount < error["details"]["minimumBid"]

    async with kernel.db.read() as session:
        history = (await session.execute(select(Bid.seq, Bid.member_id, Bid.amount, Bid.kind).where(Bid.lot_id == lot_pk(lot))
                                         .order_by(Bid.seq))).all()
        bidders = {b.member_id: b.max_amount for b in (await session.scalars(select(Bidder))).all()}
        row = await session.get(Lot, lot_pk(lot))
    assert [seq for seq, *_ in history] == list(range(1, len(history) + 1))      # no gaps, no duplicates
    prices = [amount for _, _, amount, _ in history]
    assert all(a < b for a, b in zip(prices, prices[1:]))                       # strictly increasing
    # Every bid a client was told was accepted is in the history, once: a plain bid at its
    # amount; a bid with a maximum at its amount or above (its proxy may bid higher at once).
    own: dict[int, list[int]] = {}
    for _, member_id, amount, kind in history:
        if kind == "bid":
            own.setdefault(member_id, []).append(amount)
    assert set(own) == set(accepted)
    for member_id, made in accepted.items():
        assert len(own[member_id]) == len(made)
        for (amount, maximum), stored in zip(sorted(made), own[member_id]):
            assert stored == amount if maximum is None else amount <= stored <= maximum
    # Only accepted bidders hold a maximum, and the leader holds the highest valid one.
    assert set(bidders) == set(accepted)
    ranked = sorted(bidders.values(), reverse=True)
    assert bidders[row.leader_member_id] == ranked[0] == row.leader_max
    assert ranked[1] <= row.current_price <= ranked[0]
    assert row.current_price == prices[-1] and row.seq == history[-1][0] == row.bid_count

    for _ in range(100):  # the stream follows in order and catches up with the last commit
        if seen and seen[-1][0] == row.seq:
            break
        await asyncio.sleep(0.02)
    watcher.cancel()
    assert seen[-1] == (row.seq, row.current_price)
    assert all(a[0] <= b[0] and (a[1] or 0) <= (b[1] or 0) for a, b in zip(seen, seen[1:]))


def lot_pk(global_id: str) -> int:
    return decode_id(global_id, "AuctionLot")


def hold_bid_at_the_end(monkeypatch, kernel, clock, workers, *, member_id: int) -> tuple[datetime, asyncio.Event]:
    """The lot's end comes 5 ms from now. ``member_id``'s next bid is held open inside its
    transaction (lot locked, price written) while the clock passes the end and one of
    ``workers``' close timers starts its transaction. Returns the end and the event set once
    the bid is held (the moment to start the workers)."""
    end = clock.now() + timedelta(minutes=10)
    clock.set(end - timedelta(milliseconds=5))
    service = kernel.service("bidding_sale")
    record, bell, closing = service._record, asyncio.Event(), asyncio.Event()

    async def slow_record(tx, lot_row, step):  # noqa: ANN001, ANN202
        await record(tx, lot_row, step)
        if step.member_id == member_id:
            clock.set(end)
            bell.set()
            await closing.wait()      # a close timer has started its transaction...
            await asyncio.sleep(0.3)  # ...and claimed its row, or waits for the lot (or SQLite's writer slot)

    def announcing(run_one):  # noqa: ANN001, ANN202
        async def run(timer_id):  # noqa: ANN001, ANN202
            closing.set()
            return await run_one(timer_id)
        return run

    monkeypatch.setattr(service, "_record", slow_record)
    for worker in workers:
        monkeypatch.setattr(worker.timers, "_run_one", announcing(worker.timers._run_one))
    return end, bell


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_the_close_racing_last_bids_makes_one_order_at_the_final_price(kernel_factory, graphql, clock, database, monkeypatch):
    # No extensions, so a bid in time cannot move the end: it must be part of the close.
    kernel, _, lot = await auction(kernel_factory, graphql, clock, database, members=12, max_extensions=0)
    await graphql(kernel, member(1)).mutate(BID, lot=lot, amount=10000, max=None)
    second_worker = await kernel_factory(BLUEPRINT % 0, database=kernel.db.url.render_as_string(hide_password=False))
    # The last bid in time is held open, lock taken and price written, while the end passes and
    # both workers' close timers start: they must wait for it and then close at its price.
    end, bell = hold_bid_at_the_end(monkeypatch, kernel, clock, (kernel, second_worker), member_id=2)
    service = kernel.service("bidding_sale")

    async def close() -> list[int]:
        await bell.wait()
        return await asyncio.gather(kernel.timers.run_due(), second_worker.timers.run_due())

    async def too_late(i: int) -> dict:
        await bell.wait()
        return await graphql(kernel, member(i)).mutate(BID, lot=lot, amount=100000 + i * 1000, max=None)

    ran, last, *late = await asyncio.gather(
        close(), graphql(kernel, member(2)).mutate(BID, lot=lot, amount=30000, max=None), *(too_late(i) for i in range(3, 13)))
    assert last["userErrors"] == [] and last["leading"] is True
    assert sum(ran) == 1                                   # one worker closed it, after the bid
    assert {r["userErrors"][0]["code"] for r in late} == {"BIDDING_SALE_LOT_CLOSED"}

    async with kernel.db.read() as session:
        orders = (await session.scalars(select(LotOrder))).all()
        row = await session.get(Lot, lot_pk(lot))
        order = await session.get(Order, orders[0].order_id)
    assert row.status == "sold" and len(orders) == 1
    assert orders[0].price == row.current_price == 30000   # never a stale price
    assert order.total_minor == 30000 and order.member_id == 2
    # A replayed close (the job run again by hand) finds the lot closed and makes nothing.
    async with kernel.transaction() as tx:
        await service.closing.close_due(tx, Timer("bidding_sale.close", str(lot_pk(lot)), end, {}, 0))
    async with kernel.db.read() as session:
        assert len((await session.scalars(select(Order))).all()) == 1


async def test_the_database_refuses_a_second_winner_order(kernel_factory, graphql, clock):
    """The backstop under the lock: even a close that ran twice could not save two orders."""
    kernel, shop, lot = await auction(kernel_factory, graphql, clock, "sqlite", members=2)
    await graphql(kernel, member(1)).mutate(BID, lot=lot, amount=10000, max=None)
    clock.advance(minutes=10)
    await kernel.run_due()
    with pytest.raises(IntegrityError):
        async with kernel.transaction() as tx:
            order = await kernel.service("orders").create_order(tx, member_id=2, lines=[(shop.second_sku_id, 1)])
            tx.session.add(LotOrder(lot_id=lot_pk(lot), order_id=order, price=1))
            await tx.session.flush()
    async with kernel.db.read() as session:
        assert len((await session.scalars(select(Order))).all()) == 1




@pytest.mark.parametrize("database", ["postgresql"], indirect=True)  # SQLite's single writer cannot deadlock
async def test_a_late_bid_moving_the_end_and_the_close_timer_never_deadlock(kernel_factory, graphql, clock, database, monkeypatch):
    """A bid in the soft-close window holds the lot while the end passes and another worker's
    close timer starts. Before the fix the timer job held its timer row and waited for the lot,
    while the bid held the lot and waited to move the timer row: PostgreSQL broke the deadlock by
    aborting one of them. Now the bid takes the timer row first: the worker skips the timer, the
    bid extends the lot, and the timer waits, untouched, for the new end."""
    kernel, _, lot = await auction(kernel_factory, graphql, clock, database, members=3, max_extensions=5)
    second_worker = await kernel_factory(BLUEPRINT % 5, database=kernel.db.url.render_as_string(hide_password=False))
    end, bell = hold_bid_at_the_end(monkeypatch, kernel, clock, (second_worker,), member_id=2)

    async def close() -> int:
        await bell.wait()
        return await second_worker.timers.run_due()

    ran, answer = await asyncio.gather(close(), graphql(kernel, member(2)).mutate(BID, lot=lot, amount=10000, max=None))
    assert answer == {"leading": True, "userErrors": []} and ran == 0
    async with kernel.db.read() as session:
        row = await session.get(Lot, lot_pk(lot))
        timer = await session.scalar(select(TimerRow).where(TimerRow.job == "bidding_sale.close"))
    assert (row.status, row.extensions, as_utc(row.ends_at)) == ("scheduled", 1, end - timedelta(milliseconds=5) + timedelta(seconds=120))
    assert (timer.state, timer.attempts, timer.last_error, as_utc(timer.due_at)) == ("pending", 0, None, as_utc(row.ends_at))

@pytest.mark.parametrize("database", ["postgresql"], indirect=True)  # SQLite's single writer cannot deadlock
async def test_soft_close_under_a_crowd_of_last_second_bids_never_deadlocks(kernel_factory, graphql, clock, database):
    """Extensions on (a per-lot 1 s extension): 40 members bid at once in the lot's last
    seconds while the clock runs fast and a worker keeps running the close timer, which comes
    due, is moved by a bid, comes due again. Bids that may move the timer and the close both
    take the timer's row before the lot, so PostgreSQL never has to break a deadlock: every
    request is answered (accepted, or a typed refusal), the history rises strictly, and the
    lot closes once, at its last price, never before its last extended end."""
    kernel = await kernel_factory(BLUEPRINT % 1000, database=database)
    shop = await open_shop(kernel, members=40, stock=1)
    end = clock.now() + timedelta(minutes=10)
    created = await graphql(kernel, staff(1, "admin")).mutate(CREATE, input={
        "skuId": shop.sku, "startPrice": CNY(10000), "increment": CNY(1000), "extendWindow": "60s", "extendBy": "1s",
        "startsAt": (clock.now() - timedelta(minutes=1)).isoformat(), "endsAt": end.isoformat()})
    assert created["userErrors"] == []
    lot = created["lot"]["id"]
    clock.set(end - timedelta(milliseconds=500))
    first = await graphql(kernel, member(40)).mutate(BID, lot=lot, amount=10000, max=None)
    assert first["userErrors"] == [] and first["leading"] is True  # in the window: the end is now 1 s away
    racing = asyncio.Event()

    async def bid(m: int) -> dict:
        await asyncio.sleep(0.002 * (m % 5))
        return await graphql(kernel, member(m)).mutate(BID, lot=lot, amount=10000 + 1000 * m, max=None)

    async def time_runs_fast() -> None:  # 5x: the end and the timer pass while bids are in flight
        while not racing.is_set():
            await asyncio.sleep(0.01)
            clock.advance(milliseconds=50)

    async def workers() -> None:
        while not racing.is_set():
            await kernel.timers.run_due()  # (two workers racing one close: see the test above)
            await asyncio.sleep(0.01)

    async def bids() -> list[dict]:
        try:
            return [first, *await asyncio.gather(*(bid(m) for m in range(1, 40)))]
        finally:
            racing.set()

    answers, *_ = await asyncio.gather(bids(), time_runs_fast(), workers())
    accepted = [a for a in answers if not a["userErrors"]]
    codes = {a["userErrors"][0]["code"] for a in answers if a["userErrors"]}
    assert accepted and codes <= {"BIDDING_SALE_BID_TOO_LOW", "BIDDING_SALE_BID_NOT_ON_LADDER", "BIDDING_SALE_LOT_CLOSED",
                                  "BIDDING_SALE_ALREADY_LEADING"}, codes
    async with kernel.db.read() as session:
        row = await session.get(Lot, lot_pk(lot))
        prices = (await session.scalars(select(Bid.amount).where(Bid.lot_id == row.id).order_by(Bid.seq))).all()
    assert len(prices) == len(accepted) and all(a < b for a, b in zip(prices, prices[1:]))
    assert 1 <= row.extensions <= len(accepted)            # in-time bids in the window moved the end
    if row.status == "scheduled":                          # not closed during the race: close it at its end
        clock.set(as_utc(row.ends_at) - timedelta(milliseconds=1))
        assert await kernel.run_due() == 0                 # never before the last extended end
        clock.set(as_utc(row.ends_at))
        await kernel.run_due()
    async with kernel.db.read() as session:
        row = await session.get(Lot, lot_pk(lot))
        orders = (await session.scalars(select(LotOrder))).all()
        timer = await session.scalar(select(TimerRow).where(TimerRow.job == "bidding_sale.close"))
    assert row.status == "sold" and len(orders) == 1 and orders[0].price == prices[-1]
    assert as_utc(row.closed_at) >= as_utc(row.ends_at)    # closed at or after its (extended) end
    # The close never failed: a deadlock PostgreSQL broke by aborting the worker would show here.
    assert (timer.state, timer.attempts, timer.last_error) == ("done", 0, None)
