"""Group-buy's decisions alone (components/group_buy/rules.py): no database, milliseconds."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from components.group_buy import rules
from components.group_buy.rules import SkuPrice

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def test_prices_for_leaders_and_members():
    sku = SkuPrice(1, 10000, 6900, leader_price=5900)
    assert rules.unit_price(sku, leader=True, leader_discount=None) == (5900, rules.LEADER_PRICE)
    assert rules.unit_price(sku, leader=False, leader_discount=None) == (6900, rules.GROUP_PRICE)
    plain = SkuPrice(1, 10000, 6900)
    assert rules.unit_price(plain, leader=True, leader_discount=1000) == (5900, rules.LEADER_DISCOUNT)
    assert rules.unit_price(SkuPrice(1, 10000, 0, leader_price=0), leader=True, leader_discount=None)[0] == 0  # 团长免单


def problems(**overrides):
    values = dict(skus=[SkuPrice(1, 10000, 6900)], group_size=3, starts_at=NOW, ends_at=NOW + timedelta(days=1), total_limit=10,
                  per_member_limit=1, leader_discount=None, virtual_fill_ratio=None)
    values.update(overrides)
    return [field for field, _ in rules.offer_problems(**values)]


def test_an_offer_is_checked_as_a_whole():
    assert problems() == []
    assert problems(total_limit=2) == ["input.totalLimit"]                       # not one whole group
    assert problems(skus=[SkuPrice(1, 10000, 10001)]) == ["input.groupPrice"]    # above the SKU's price
    assert problems(skus=[SkuPrice(1, 10000, 6900, 7000)]) == ["input.leaderPrice"]
    assert problems(skus=[SkuPrice(1, 10000, 6900, 5900)], leader_discount=100) == ["input.leaderDiscount"]
    assert problems(skus=[SkuPrice(1, 10000, 6900, quantity=1), SkuPrice(2, 20000, 9900, quantity=1)]) == ["input.totalLimit"]
    assert problems(skus=[SkuPrice(1, 10000, 6900), SkuPrice(1, 10000, 6000)]) == ["input.skus[1].skuId"]
    assert problems(group_size=1, ends_at=NOW) == ["input.groupSize", "input.endsAt"]


def test_what_may_change_once_groups_exist():
    assert rules.locked_fields(["endsAt", "totalLimit"], has_groups=True) == []
    assert rules.locked_fields(["groupPrice", "endsAt", "groupSize"], has_groups=True) == ["groupPrice", "groupSize"]
    assert rules.locked_fields(["groupPrice", "groupSize"], has_groups=False) == []


def test_seat_decisions():
    seat = dict(status="forming", paid_seats=1, size=3, deadline_at=NOW + timedelta(hours=1), now=NOW, is_leader=False)
    assert rules.takes_seat(**seat)
    assert not rules.takes_seat(**{**seat, "paid_seats": 3})                      # full
    assert not rules.takes_seat(**{**seat, "status": "failed"})
    assert not rules.takes_seat(**{**seat, "now": NOW + timedelta(hours=1)})       # at the deadline: late
    assert rules.takes_seat(**{**seat, "deadline_at": None, "paid_seats": 0, "is_leader": True})  # the leader starts the clock
    assert rules.late_payment_action("open_new_group", offer_running=True) == "open_new_group"
    assert rules.late_payment_action("open_new_group", offer_running=False) == "refund"
    assert rules.late_payment_action("refund", offer_running=True) == "refund"
    assert rules.leader_refund(paid_unit=6900, leader_unit=5900, quantity=2) == 2000
    assert rules.leader_refund(paid_unit=5900, leader_unit=6900, quantity=1) == 0
    assert rules.virtual_fill(paid_seats=2, size=3, ratio=0.6) == 1
    assert rules.virtual_fill(paid_seats=1, size=3, ratio=0.6) is None
    assert rules.virtual_fill(paid_seats=3, size=5, ratio=None) is None
