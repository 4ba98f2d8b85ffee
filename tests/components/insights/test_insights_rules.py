"""The pure rules behind every definition in the README, on plain data."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from components.insights import rules
from core.errors import DomainError
from core.gql.relay import to_global_id

SHANGHAI = ZoneInfo("Asia/Shanghai")
SHARER = to_global_id("Member", 7)
ROOM = to_global_id("LiveRoom", 3)
GUIDE = to_global_id("Staff", 4)


@pytest.mark.parametrize(("source", "expected"), [
    ({}, "DIRECT"),
    ({"groupId": "g"}, "GROUP_BUY"),
    ({"liveRoomId": ROOM, "groupId": "g"}, "LIVE_ROOM"),
    ({"liveRoomId": ROOM, "sharerMemberId": SHARER}, "MEMBER_SHARE"),
    ({"guideId": GUIDE, "sharerMemberId": SHARER, "liveRoomId": ROOM}, "GUIDE"),
    ({"shareCode": "m1.x", "creditRefused": "SELF_SHARE"}, "DIRECT"),  # one's own code credits nobody
])
def test_the_channel_follows_the_attribution_precedence(source, expected):
    assert rules.channel(source) == expected


def test_days_are_the_brands_calendar_days():
    assert rules.local_day(datetime(2026, 1, 5, 15, 59, tzinfo=timezone.utc), SHANGHAI) == date(2026, 1, 5)
    assert rules.local_day(datetime(2026, 1, 5, 16, 0, tzinfo=timezone.utc), SHANGHAI) == date(2026, 1, 6)
    assert rules.local_day(datetime(2026, 1, 5, 16, 0), SHANGHAI) == date(2026, 1, 6)  # naive is UTC (SQLite)
    start, end = rules.day_bounds(date(2026, 1, 5), date(2026, 1, 6), SHANGHAI)
    assert (start, end) == (datetime(2026, 1, 4, 16, tzinfo=timezone.utc), datetime(2026, 1, 6, 16, tzinfo=timezone.utc))


def test_a_period_is_checked():
    assert rules.check_period(date(2026, 1, 1), date(2026, 1, 1), 1).days == 1
    assert rules.check_period(date(2026, 1, 1), date(2026, 1, 31), 31).each_day()[-1] == date(2026, 1, 31)
    with pytest.raises(DomainError) as reversed_:
        rules.check_period(date(2026, 1, 2), date(2026, 1, 1), 31)
    assert reversed_.value.code == "INSIGHTS_PERIOD_REVERSED"
    with pytest.raises(DomainError) as too_long:
        rules.check_period(date(2026, 1, 1), date(2026, 2, 1), 31)
    assert too_long.value.code == "INSIGHTS_PERIOD_TOO_LONG" and too_long.value.details == {"maxDays": 31}


def test_an_order_feeds_its_slices_and_an_offer_only_its_lines():
    day = date(2026, 1, 5)
    offer = {"component": "group_buy", "ref": "9"}
    order = {"source": {"liveRoomId": ROOM, "guideId": GUIDE}, "storeId": 2, "totalMinor": 5000,
             "lines": [{"totalMinor": 3000, "activity": offer}, {"totalMinor": 2000, "activity": None}]}
    deltas: rules.Deltas = {}
    rules.add_paid(deltas, day, order)
    rules.add_refund(deltas, date(2026, 1, 7), {**order, "amountMinor": 1200,
                                                "lines": [{"amountMinor": 1200, "activity": offer}]})
    assert deltas == {
        (day, "ALL", ""): [1, 5000, 0], (day, "CHANNEL", "GUIDE"): [1, 5000, 0], (day, "LIVE_ROOM", ROOM): [1, 5000, 0],
        (day, "GUIDE", GUIDE): [1, 5000, 0], (day, "STORE", to_global_id("PickupStore", 2)): [1, 5000, 0],
        (day, "GROUP_BUY_OFFER", to_global_id("GroupBuyOffer", 9)): [1, 3000, 0],
        (date(2026, 1, 7), "ALL", ""): [0, 0, 1200], (date(2026, 1, 7), "CHANNEL", "GUIDE"): [0, 0, 1200],
        (date(2026, 1, 7), "LIVE_ROOM", ROOM): [0, 0, 1200], (date(2026, 1, 7), "GUIDE", GUIDE): [0, 0, 1200],
        (date(2026, 1, 7), "STORE", to_global_id("PickupStore", 2)): [0, 0, 1200],
        (date(2026, 1, 7), "GROUP_BUY_OFFER", to_global_id("GroupBuyOffer", 9)): [0, 0, 1200],
    }


def test_averages_round_half_up_and_ratios_need_a_denominator():
    assert rules.average(10, 4) == 3 and rules.average(10, 3) == 3 and rules.average(11, 2) == 6 and rules.average(5, 0) == 0
    assert rules.ratio(1, 4) == 0.25 and rules.ratio(0, 0) is None


def test_a_sharer_is_a_member_global_id():
    assert rules.member_pk(SHARER) == 7
    assert rules.member_pk(GUIDE) is None and rules.member_pk("not an id") is None and rules.member_pk(None) is None
