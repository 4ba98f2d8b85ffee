"""The auction's arithmetic alone (components/bidding_sale/rules.py): no database, milliseconds."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from components.bidding_sale import rules
from components.bidding_sale.rules import Step

LADDER = [[0, 100], [10000, 500]]  # 1.00 steps below 100.00, then 5.00


def test_increments_follow_the_ladder_by_price():
    assert [rules.increment_at(LADDER, p) for p in (0, 9999, 10000, 50000)] == [100, 100, 500, 500]
    assert rules.minimum_bid(LADDER, 5000, None) == 5000          # the first bid: the start price
    assert rules.minimum_bid(LADDER, 5000, 9900) == 10000
    assert rules.minimum_bid(LADDER, 5000, 10000) == 10500


def test_ladders_that_cannot_be_used():
    assert rules.ladder_problem([]) is not None
    assert rules.ladder_problem([[0, 0]]) is not None
    assert rules.ladder_problem([[100, 1], [0, 2]]) is not None   # not ascending
    assert rules.ladder_problem([[0, 1], [0, 2]]) is not None     # one price twice
    assert rules.ladder_problem(LADDER) is None


def test_the_first_bid_leads_at_its_amount():
    out = rules.resolve_bid(ladder=LADDER, leader=None, leader_max=None, bidder=1, amount=5000, maximum=8000)
    assert (out.leader, out.leader_max, out.steps, out.leading, out.outbid) == (1, 8000, [Step(1, 5000, "bid")], True, None)


def test_a_higher_maximum_takes_the_lead_one_step_above_the_old_maximum():
    out = rules.resolve_bid(ladder=LADDER, leader=1, leader_max=8000, bidder=2, amount=5100, maximum=9000)
    assert (out.leader, out.leader_max, out.steps, out.outbid) == (2, 9000, [Step(2, 8100, "bid")], 1)


def test_a_plain_bid_above_the_leader_maximum_sets_the_price_to_the_amount():
    out = rules.resolve_bid(ladder=LADDER, leader=1, leader_max=8000, bidder=2, amount=9500, maximum=None)
    assert (out.steps, out.leading, out.outbid) == ([Step(2, 9500, "bid")], True, 1)


def test_the_leader_maximum_answers_a_lower_bid_at_once():
    out = rules.resolve_bid(ladder=LADDER, leader=1, leader_max=8000, bidder=2, amount=6000, maximum=None)
    assert (out.leader, out.steps, out.leading, out.outbid) == (1, [Step(2, 6000, "bid"), Step(1, 6100, "proxy")], False, None)


def test_equal_maxima_the_earlier_leads_at_that_maximum():
    out = rules.resolve_bid(ladder=LADDER, leader=1, leader_max=8000, bidder=2, amount=5000, maximum=8000)
    assert (out.leader, out.steps[-1], out.leading) == (1, Step(1, 8000, "proxy"), False)


def test_the_reserve_step_and_the_soft_close():
    assert rules.reserve_step(reserve=9000, current=5000, leader_max=9500) == 9000
    assert rules.reserve_step(reserve=9000, current=5000, leader_max=8000) is None
    assert rules.reserve_step(reserve=None, current=5000, leader_max=8000) is None
    end = datetime(2026, 1, 1, tzinfo=timezone.utc)
    window, by = timedelta(seconds=60), timedelta(seconds=120)
    assert rules.soft_close_end(ends_at=end, now=end - timedelta(seconds=30), window=window, extend_by=by, extensions=0,
                                max_extensions=3) == end + timedelta(seconds=90)
    assert rules.soft_close_end(ends_at=end, now=end - timedelta(seconds=61), window=window, extend_by=by, extensions=0,
                                max_extensions=3) is None                     # outside the window
    assert rules.soft_close_end(ends_at=end, now=end - timedelta(seconds=1), window=window, extend_by=by, extensions=3,
                                max_extensions=3) is None                     # no extensions left
    assert rules.soft_close_end(ends_at=end, now=end - timedelta(seconds=50), window=window, extend_by=timedelta(seconds=10),
                                extensions=0, max_extensions=3) is None       # would shorten the lot


def test_the_runner_up_and_whole_lot_checks():
    assert rules.runner_up([(1, 9000), (2, 7000), (3, 7000)], winner=1) == 2  # equal maxima: the earlier
    assert rules.runner_up([(1, 9000)], winner=1) is None
    assert rules.lot_problems(start_price=1000, reserve_price=None, buy_now_price=None, deposit=1000) == []
    assert [f for f, _ in rules.lot_problems(start_price=1000, reserve_price=5000, buy_now_price=4000, deposit=1001)] == [
        "input.deposit", "input.reservePrice"]
