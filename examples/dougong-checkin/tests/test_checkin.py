"""dougong-checkin through GraphQL as a frontend uses it, its pure rules, a race of taps, and the
component contract. kernel_factory, graphql and clock come from dougong's pytest plugin."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta, timezone

import pytest
from dougong_checkin import models
from dougong_checkin.rules import brand_day, clean_note, next_streak
from sqlalchemy import func, select

from core.conformance.run import check_async
from core.errors import DomainError
from core.testing import member

BLUEPRINT = """\
dougong: 1
brand: {slug: teahouse, name: Teahouse, currency: CNY, timezone: Asia/Shanghai}
components:
  checkin: {streak_goal: 3, max_note_length: 10}
"""
CHECK_IN = """mutation($note: String, $key: String) { checkIn(input: {note: $note, idempotencyKey: $key}) {
  checkin { day streak note } streak { days goal checkedInToday } userErrors { code field } } }"""
STREAK = "{ myCheckinStreak { days goal checkedInToday } }"
SHANGHAI_NOON = datetime(2026, 12, 1, 4, 0, tzinfo=timezone.utc)


async def count(kernel) -> int:
    async with kernel.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(models.Checkin)))


def test_the_day_is_the_brand_s_not_utc_s() -> None:
    late = datetime(2026, 12, 1, 15, 30, tzinfo=timezone.utc)  # 23:30 in Shanghai
    assert brand_day(late, "Asia/Shanghai") == date(2026, 12, 1)
    assert brand_day(late + timedelta(hours=1), "Asia/Shanghai") == date(2026, 12, 2)


@pytest.mark.parametrize(("previous", "streak", "expected"), [
    (None, 0, 1), (date(2026, 11, 30), 1, 2), (date(2026, 11, 29), 2, 1), (date(2026, 11, 30), 3, 1)])
def test_next_streak(previous, streak, expected) -> None:
    assert next_streak(previous, streak, date(2026, 12, 1), goal=3) == expected


def test_a_long_note_is_refused() -> None:
    assert clean_note("  早安 ", 10) == "早安"
    with pytest.raises(DomainError) as refused:
        clean_note("x" * 11, 10)
    assert refused.value.code == "CHECKIN_NOTE_TOO_LONG"


async def test_a_streak_over_days_resets_after_a_gap_and_after_the_goal(kernel_factory, graphql, clock) -> None:
    clock.set(SHANGHAI_NOON)
    kernel = await kernel_factory(BLUEPRINT, seed_demo=True)  # the demo member 1 checked in today
    client = graphql(kernel, member(2))
    assert (await client.data(STREAK))["myCheckinStreak"] == {"days": 0, "goal": 3, "checkedInToday": False}
    streaks = []
    for _ in range(4):
        payload = await client.mutate(CHECK_IN, note="早安")
        assert payload["userErrors"] == []
        streaks.append(payload["checkin"]["streak"])
        clock.advance(days=1)
    clock.advance(days=1)  # a day missed
    streaks.append((await client.mutate(CHECK_IN))["checkin"]["streak"])
    assert streaks == [1, 2, 3, 1, 1]
    assert (await client.data(STREAK))["myCheckinStreak"]["checkedInToday"] is True


async def test_twice_a_day_and_a_long_note_are_refused_and_write_nothing(kernel_factory, graphql, clock) -> None:
    clock.set(SHANGHAI_NOON)
    kernel = await kernel_factory(BLUEPRINT, seed_demo=True)
    client = graphql(kernel, member(1))  # checked in by the demo seed
    before = await count(kernel)
    again = await client.mutate(CHECK_IN)
    assert again["checkin"] is None and again["userErrors"] == [{"code": "CHECKIN_ALREADY_TODAY", "field": None}]
    long = await graphql(kernel, member(2)).mutate(CHECK_IN, note="x" * 11)
    assert long["userErrors"] == [{"code": "CHECKIN_NOTE_TOO_LONG", "field": "input.note"}]
    assert await count(kernel) == before


async def test_a_retried_tap_with_its_key_gets_the_first_answer(kernel_factory, graphql, clock) -> None:
    clock.set(SHANGHAI_NOON)
    kernel = await kernel_factory(BLUEPRINT, seed_demo=True)
    client = graphql(kernel, member(2))
    first = await client.mutate(CHECK_IN, key="tap-1")
    again = await client.mutate(CHECK_IN, key="tap-1")
    assert first["userErrors"] == [] and again == first


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_thirty_racing_taps_check_in_once(kernel_factory, graphql, clock, database) -> None:
    clock.set(SHANGHAI_NOON)
    kernel = await kernel_factory(BLUEPRINT, seed_demo=True, database=database)
    clients = [graphql(kernel, member(2)) for _ in range(30)]
    answers = await asyncio.gather(*(c.mutate(CHECK_IN) for c in clients))
    codes = sorted(a["userErrors"][0]["code"] if a["userErrors"] else "ok" for a in answers)
    assert codes == ["CHECKIN_ALREADY_TODAY"] * 29 + ["ok"]
    async with kernel.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(models.Checkin).where(models.Checkin.member_id == 2)) == 1


async def test_it_keeps_the_component_contract() -> None:
    failures = await check_async("checkin")
    assert failures == [], "\n".join(map(str, failures))


async def test_the_check_in_block_shows_the_goal_and_a_member_s_streak(kernel_factory, graphql, clock) -> None:
    clock.set(SHANGHAI_NOON)
    page = BLUEPRINT + "pages:\n  - slug: home\n    blocks:\n      - {type: checkin.streak, settings: {label: 签到}}\n"
    kernel = await kernel_factory(page, seed_demo=True)
    query = "{ storefrontPage(slug: \"home\") { blocks { blockType ... on CheckinBlock { goal days label } } } }"
    anonymous = (await graphql(kernel).data(query))["storefrontPage"]["blocks"]
    assert anonymous == [{"blockType": "checkin.streak", "goal": 3, "days": None, "label": "签到"}]
    client = graphql(kernel, member(2))
    assert (await client.data(CHECK_IN, note="早"))["checkIn"]["userErrors"] == []
    assert (await client.data(query))["storefrontPage"]["blocks"][0]["days"] == 1
