"""Insights from real orders: payments, a share, a guide, a refund a day later, through GraphQL."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from insights_helpers import ADMIN, GMV_BY, INSIGHTS, buy, figures, refund_units, share_code, start, table_rows
from sqlalchemy import delete

from components.insights.models import Customer, Daily, Fact
from core.gql.relay import to_global_id
from core.testing import member, staff

DAY1, DAY2 = "2026-01-05", "2026-01-06"  # the test clock starts at 10:00 in Shanghai on day 1


async def _story(kernel_factory, clock):
    """Day 1: m1 buys 2 units by themselves, m2 buys 1 through m1's code.
    Day 2: m1 buys again, m3 buys through a guide's code, 1 unit of m1's first order is refunded;
    m4 places an order and never pays."""
    kernel, shop = await start(kernel_factory)
    async with kernel.transaction() as tx:
        guide = await kernel.service("members").create_staff(tx, name="guide", roles=("guide",))
    async with kernel.db.read() as session:
        guide_code = await kernel.service("members.share_codes").issue_for_guide(session, guide)
    first = await buy(kernel, 1, shop.sku_id, 2)
    await buy(kernel, 2, shop.sku_id, source={"shareCode": await share_code(kernel, 1)})
    clock.advance(days=1)
    await buy(kernel, 1, shop.sku_id)
    await buy(kernel, 3, shop.sku_id, source={"shareCode": guide_code})
    await refund_units(kernel, first, 1)
    await buy(kernel, 4, shop.sku_id, pay=False)
    return kernel, shop, guide, first


async def test_the_figures_of_two_days(kernel_factory, graphql, clock):
    kernel, _shop, guide, _first = await _story(kernel_factory, clock)
    got = await figures(graphql, kernel, DAY1, DAY2)
    assert got["sales"] == {
        "orders": 4, "gross": {"amountMinor": 50000}, "refunded": {"amountMinor": 10000}, "net": {"amountMinor": 40000},
        "averageOrderValue": {"amountMinor": 12500},
        "days": [
            {"day": DAY1, "orders": 2, "gross": {"amountMinor": 30000}, "refunded": {"amountMinor": 0}, "net": {"amountMinor": 30000}},
            {"day": DAY2, "orders": 2, "gross": {"amountMinor": 20000}, "refunded": {"amountMinor": 10000}, "net": {"amountMinor": 10000}},
        ]}
    # m1, m2, m3 won; m1 bought twice; (50000 - 10000) / 3 rounds to 13333.
    assert got["customerValue"] == {"newCustomers": 3, "repeatCustomers": 1, "repurchaseRate": pytest.approx(1 / 3),
                                    "orders": 4, "lifetimeValue": {"amountMinor": 13333}, "averageOrderValue": {"amountMinor": 12500}}
    assert got["referral"]["newCustomers"] == 3 and got["referral"]["referredNewCustomers"] == 1
    assert got["referral"]["days"] == [
        {"day": DAY1, "newCustomers": 2, "referredNewCustomers": 1, "rate": 0.5},
        {"day": DAY2, "newCustomers": 1, "referredNewCustomers": 0, "rate": 0.0}]
    assert got["reach"] == {"members": 5, "wechatConnected": 0, "unionIdConnected": 0, "phoneReachable": 5,
                            "subscriptionReachable": None, "newMembers": 5,
                            "days": [{"day": DAY1, "newMembers": 5}, {"day": DAY2, "newMembers": 0}]}
    # Day 2 alone: m3 is its only new customer; m1's second order is no new customer.
    day2 = await figures(graphql, kernel, DAY2, DAY2)
    assert day2["customerValue"]["newCustomers"] == 1 and day2["sales"]["orders"] == 2

    admin = graphql(kernel, ADMIN)
    channels = (await admin.data(GMV_BY, {"from": DAY1, "to": DAY2, "d": "CHANNEL"}))["insights"]["gmvBy"]
    assert [(e["node"]["channel"], e["node"]["sales"]["net"]["amountMinor"]) for e in channels["edges"]] == [
        ("DIRECT", 20000), ("GUIDE", 10000), ("MEMBER_SHARE", 10000)]
    assert sum(e["node"]["sales"]["gross"]["amountMinor"] for e in channels["edges"]) == 50000  # channels add up
    page = (await admin.data(GMV_BY, {"from": DAY1, "to": DAY2, "d": "CHANNEL", "first": 1}))["insights"]["gmvBy"]
    assert page["pageInfo"]["hasNextPage"] and [e["node"]["channel"] for e in page["edges"]] == ["DIRECT"]
    rest = (await admin.data(GMV_BY, {"from": DAY1, "to": DAY2, "d": "CHANNEL", "first": 5,
                                      "after": page["pageInfo"]["endCursor"]}))["insights"]["gmvBy"]
    assert [e["node"]["channel"] for e in rest["edges"]] == ["GUIDE", "MEMBER_SHARE"] and rest["pageInfo"]["hasPreviousPage"]
    span = {"from": DAY1, "to": DAY2, "d": "CHANNEL"}
    tail = (await admin.data(GMV_BY, {**span, "last": 2}))["insights"]["gmvBy"]
    assert [e["node"]["channel"] for e in tail["edges"]] == ["GUIDE", "MEMBER_SHARE"]
    assert (tail["pageInfo"]["hasPreviousPage"], tail["pageInfo"]["hasNextPage"]) == (True, False)
    head = (await admin.data(GMV_BY, {**span, "last": 5, "before": tail["pageInfo"]["startCursor"]}))["insights"]["gmvBy"]
    assert [e["node"]["channel"] for e in head["edges"]] == ["DIRECT"] and head["pageInfo"]["hasNextPage"]
    between = (await admin.data(GMV_BY, {**span, "first": 5, "after": page["pageInfo"]["endCursor"],
                                         "before": rest["pageInfo"]["endCursor"]}))["insights"]["gmvBy"]
    assert [e["node"]["channel"] for e in between["edges"]] == ["GUIDE"]
    refused = await graphql(kernel, member(1)).execute(GMV_BY, span)
    assert refused["data"] == {"insights": None} and refused["errors"][0]["path"] == ["insights"]
    guides = (await admin.data(GMV_BY, {"from": DAY1, "to": DAY2, "d": "GUIDE"}))["insights"]["gmvBy"]["edges"]
    assert [(e["node"]["targetId"], e["node"]["sales"]["orders"], e["node"]["channel"]) for e in guides] == [
        (to_global_id("Staff", guide), 1, None)]
    assert [d["net"]["amountMinor"] for d in guides[0]["node"]["sales"]["days"]] == [0, 10000]


async def test_a_payment_late_at_night_counts_on_the_brands_next_day(kernel_factory, graphql, clock):
    kernel, shop = await start(kernel_factory)
    clock.advance(hours=14, minutes=30)  # 16:30 UTC on the 5th is 00:30 on the 6th in Shanghai
    await buy(kernel, 1, shop.sku_id)
    got = await figures(graphql, kernel, DAY1, DAY2)
    assert [d["orders"] for d in got["sales"]["days"]] == [0, 1]


async def test_events_delivered_again_count_once(kernel_factory, clock):
    kernel, _shop, _guide, first = await _story(kernel_factory, clock)
    before = await table_rows(kernel)
    service = kernel.service("insights")
    again = SimpleNamespace(payload={"orderId": first, "memberId": 1}, created_at=clock.now(), id=0)
    await service.on_order_paid(kernel, again)
    await service.on_order_refunded(kernel, again)
    await service.on_member_registered(kernel, SimpleNamespace(payload={"memberId": 1}, created_at=clock.now(), id=0))
    assert await table_rows(kernel) == before


async def test_the_rebuild_agrees_with_the_events_and_is_idempotent(kernel_factory, clock):
    kernel, _shop, _guide, _first = await _story(kernel_factory, clock)
    from datetime import date

    kept = await table_rows(kernel)
    assert kept["daily"] and kept["customers"]
    service = kernel.service("insights")
    async with kernel.transaction() as tx:
        counts = await service.rebuild(tx, date(2026, 1, 5), date(2026, 1, 6))
    assert counts == {"orders": 4, "refunds": 1, "customers": 3}
    assert await table_rows(kernel) == kept
    # From nothing (insights installed on a brand with history), one day at a time, twice over.
    async with kernel.transaction() as tx:
        for model in (Fact, Daily, Customer):
            await tx.session.execute(delete(model))
    for _ in range(2):
        for day in (date(2026, 1, 6), date(2026, 1, 5)):
            async with kernel.transaction() as tx:
                await service.rebuild(tx, day, day)
    assert await table_rows(kernel) == kept


async def test_the_rebuild_runs_as_a_timer_job(kernel_factory, clock):
    kernel, _shop, _guide, _first = await _story(kernel_factory, clock)
    from datetime import date

    kept = await table_rows(kernel)
    async with kernel.transaction() as tx:
        for model in (Fact, Daily, Customer):
            await tx.session.execute(delete(model))
        await kernel.service("insights").schedule_rebuild(tx, date(2026, 1, 1), date(2026, 1, 6))
    assert (await table_rows(kernel))["daily"] == []
    assert await kernel.run_due() == 1
    assert await table_rows(kernel) == kept


@pytest.mark.parametrize(("first", "last", "code"), [
    (DAY2, DAY1, "INSIGHTS_PERIOD_REVERSED"),
    ("2026-01-01", "2026-04-03", "INSIGHTS_PERIOD_TOO_LONG"),  # 92 days allowed, this is 93
])
async def test_a_bad_period_is_a_typed_error(kernel_factory, graphql, first, last, code):
    kernel, _shop = await start(kernel_factory)
    body = await graphql(kernel, ADMIN).execute(INSIGHTS, {"from": first, "to": last})
    assert body.get("data") is None or body["data"].get("insights") is None
    assert [e.get("extensions", {}).get("code") for e in body["errors"]] == [code], body


@pytest.mark.parametrize("first", ["2026-02-30", "yesterday", "2026-1-5"])
async def test_a_malformed_date_is_refused_by_the_date_scalar(kernel_factory, graphql, first):
    kernel, _shop = await start(kernel_factory)
    body = await graphql(kernel, ADMIN).execute(INSIGHTS, {"from": first, "to": DAY1})
    assert body["data"] is None and "cannot represent a Date" in body["errors"][0]["message"], body


async def test_a_long_period_within_the_limit_is_fine(kernel_factory, graphql):
    kernel, _shop = await start(kernel_factory)
    got = await figures(graphql, kernel, "2026-01-01", "2026-04-01")  # 91 days
    assert len(got["sales"]["days"]) == 91 and got["sales"]["orders"] == 0 and got["referral"]["rate"] is None


@pytest.mark.parametrize(("actor", "code"), [
    (None, "KERNEL_UNAUTHENTICATED"), (member(1), "KERNEL_FORBIDDEN"),
    (staff(2, "store_clerk", stores=(1,)), "KERNEL_FORBIDDEN"), (staff(3, "live_host"), "KERNEL_FORBIDDEN"),
])
async def test_only_staff_with_the_permission_see_insights(kernel_factory, graphql, actor, code):
    kernel, _shop = await start(kernel_factory)
    if actor is not None and actor.is_staff:
        async with kernel.transaction() as tx:
            await kernel.service("members").create_staff(tx, name="clerk", roles=("store_clerk",), store_ids=(1,))
            await kernel.service("members").create_staff(tx, name="host", roles=("live_host",))
    body = await graphql(kernel, actor).execute(INSIGHTS, {"from": DAY1, "to": DAY1})
    assert [e["extensions"]["code"] for e in body["errors"]] == [code]


@pytest.mark.parametrize(("first", "after"), [(101, None), (-1, None), (5, "not-a-cursor")])
async def test_a_bad_page_of_slices_is_a_typed_error(kernel_factory, graphql, first, after):
    kernel, _shop = await start(kernel_factory)
    body = await graphql(kernel, ADMIN).execute(GMV_BY, {"from": DAY1, "to": DAY1, "d": "STORE", "first": first, "after": after})
    assert [e["extensions"]["code"] for e in body["errors"]] == ["KERNEL_INVALID_INPUT"], body


NOTIFICATIONS = """\
  notifications:
    rules:
      - event: order.refund_resolved
        template: T_REFUND
        fields: {phrase1: "{requestStatus}"}
"""


async def test_subscription_reach_counts_members_with_an_unspent_consent(kernel_factory, graphql):
    kernel, _shop = await start(kernel_factory, extra=NOTIFICATIONS)
    notifications = kernel.service("notifications")
    async with kernel.transaction() as tx:
        for member_id in (1, 2):
            await notifications.grant(tx, member_id, ["T_REFUND"])
        await notifications.grant(tx, 1, ["T_REFUND"])  # twice: still one member
    got = await figures(graphql, kernel, DAY1, DAY1)
    assert got["reach"]["subscriptionReachable"] == 2 and got["reach"]["members"] == 5
