"""member_tags end to end: real orders move a member's figures, segment, stage and rule tags;
the scheduled recompute moves them with time alone; every change is an event."""

from __future__ import annotations

from datetime import timedelta

from conftest import open_shop
from member_tags_helpers import BLUEPRINT, PROFILE, PROFILES, admin, gid, paid_event
from sqlalchemy import select

from core.models import EventRow
from core.testing import member

PLACE = """mutation($input: CheckoutInput!) { placeOrder(input: {checkout: $input}) {
  order { id lines { id } } userErrors { code message } } }"""
PAY = 'mutation($id: ID!) { payOrder(input: {orderId: $id}) { payment { id } userErrors { code } } }'
SETTLE = 'mutation($id: ID!) { sandboxSettlePayment(input: {paymentId: $id}) { order { status } userErrors { code } } }'
REFUND = """mutation($id: ID!, $lines: [RefundLineInput!]) { refundOrder(input: {orderId: $id, lines: $lines}) {
  order { status } userErrors { code } } }"""


async def events(kernel, name: str) -> list[dict]:
    async with kernel.db.read() as session:
        return [r.payload for r in (await session.scalars(select(EventRow).where(EventRow.name == name).order_by(EventRow.id))).all()]


async def test_a_real_order_paid_then_refunded_line_by_line(kernel_factory, graphql):
    kernel = await kernel_factory(BLUEPRINT)
    shop = await open_shop(kernel, members=3, price=10000)
    buyer, staff = graphql(kernel, member(1)), graphql(kernel, admin())
    placed = await buyer.mutate(PLACE, input={"lines": [{"skuId": shop.sku, "quantity": 3}]})
    assert placed["userErrors"] == [], placed
    order = placed["order"]
    payment = await buyer.mutate(PAY, id=order["id"])
    assert (await buyer.mutate(SETTLE, id=payment["payment"]["id"]))["userErrors"] == []

    profile = (await staff.data(PROFILE, id=gid("Member", 1)))["memberProfile"]
    assert (profile["ordersCount"], profile["paid"]["amountMinor"], profile["windowOrders"]) == (1, 30000, 1)
    assert profile["stage"] == "NEW"
    # R high (today ≤ 30 days), F low (no median yet: nothing is high), M high (30000 ≥ 20000).
    assert profile["segment"] == "IMPORTANT_DEVELOP"
    assert profile["member"] == {"id": gid("Member", 1)}

    line = order["lines"][0]["id"]
    assert (await staff.mutate(REFUND, id=order["id"], lines=[{"lineId": line, "quantity": 2}]))["userErrors"] == []
    profile = (await staff.data(PROFILE, id=gid("Member", 1)))["memberProfile"]
    assert (profile["ordersCount"], profile["paid"]["amountMinor"]) == (1, 10000)
    assert profile["segment"] == "GENERAL_DEVELOP"  # M fell below 20000

    assert (await staff.mutate(REFUND, id=order["id"]))["userErrors"] == []  # the rest: the whole order
    profile = (await staff.data(PROFILE, id=gid("Member", 1)))["memberProfile"]
    assert (profile["ordersCount"], profile["paid"]["amountMinor"], profile["lastOrderAt"]) == (0, 0, None)
    assert (profile["stage"], profile["segment"]) == ("PROSPECT", None)

    assert [(e["fromStage"], e["toStage"], e["memberIds"]) for e in await events(kernel, "member_tags.stage_changed")] == [
        ("prospect", "new", [1]), ("new", "prospect", [1])]
    assert [(e["fromSegment"], e["toSegment"]) for e in await events(kernel, "member_tags.segment_changed")] == [
        (None, "important_develop"), ("important_develop", "general_develop"), ("general_develop", None)]


async def test_time_alone_moves_stages_and_rule_tags_through_the_scheduled_recompute(kernel_factory, graphql, clock):
    kernel = await kernel_factory(BLUEPRINT)
    await open_shop(kernel, members=3)
    service, staff = kernel.service("member_tags"), graphql(kernel, admin())
    now = clock.now()
    for n, days in enumerate((1, 100, 200, 300)):  # four orders a year, the last yesterday
        await service.on_order_paid(kernel, paid_event(2, 500 + n, 8000, now - timedelta(days=days)))
    await service.on_order_paid(kernel, paid_event(3, 600, 1000, now - timedelta(days=2)))

    async def state(member_id: int) -> tuple[str, str | None, list[str]]:
        p = (await staff.data(PROFILE, id=gid("Member", member_id)))["memberProfile"]
        return p["stage"], p["segment"], sorted(t["name"] for t in p["tags"])

    assert await state(2) == ("REPEAT", "IMPORTANT_DEVELOP", ["big spender", "活跃复购 active repeat"])
    assert await state(3) == ("NEW", "GENERAL_DEVELOP", [])

    clock.advance(timedelta(days=120))  # the last order 121 days ago: the rule lapses, the member is dormant
    assert await kernel.run_due() >= 1   # the recurring recompute was due
    # Now the median is known: member 2's four orders in the window beat member 3's one.
    # Three orders (24000) left in the window: below big spender's 30000 too.
    assert await state(2) == ("DORMANT", "IMPORTANT_KEEP", [])
    assert await state(3) == ("DORMANT", "GENERAL_WIN_BACK", [])
    moves = await events(kernel, "member_tags.stage_changed")
    assert {"memberIds": [2, 3], "fromStage": "new", "toStage": "dormant"} not in moves  # member 2 was repeat
    assert {"memberIds": [2], "fromStage": "repeat", "toStage": "dormant"} in moves
    assert {"memberIds": [3], "fromStage": "new", "toStage": "dormant"} in moves
    untagged = await events(kernel, "member_tags.untagged")
    assert sorted((e["tagId"], e["memberIds"], e["source"]) for e in untagged) == [(1, [2], "rule"), (2, [2], "rule")]

    clock.advance(timedelta(days=60))
    await kernel.run_due()
    assert (await state(2))[0] == (await state(3))[0] == "CHURNED"
    churned = (await staff.data(PROFILES, filter={"stage": "CHURNED"}))["memberProfiles"]["nodes"]
    assert [n["member"]["id"] for n in churned] == [gid("Member", 2), gid("Member", 3)]

    # A new order wakes member 3 at once, without waiting for the recompute.
    await service.on_order_paid(kernel, paid_event(3, 601, 1000, clock.now()))
    assert (await state(3))[0] == "REPEAT"


async def test_a_redelivered_event_counts_once(kernel_factory, graphql, clock):
    kernel = await kernel_factory(BLUEPRINT)
    await open_shop(kernel, members=2)
    service = kernel.service("member_tags")
    event = paid_event(1, 900, 4200, clock.now())
    for _ in range(3):
        await service.on_order_paid(kernel, event)
    from member_tags_helpers import refunded_event

    refund = refunded_event(1, 900, 1200, "paid", clock.now())
    for _ in range(2):
        await service.on_order_refunded(kernel, refund)
    await service.on_order_refunded(kernel, refunded_event(1, 900, 700, "paid", clock.now()))  # older, delivered late
    p = (await graphql(kernel, admin()).data(PROFILE, id=gid("Member", 1)))["memberProfile"]
    assert (p["ordersCount"], p["paid"]["amountMinor"]) == (1, 3000)


async def test_a_recompute_with_nothing_new_changes_nothing_and_one_heals_lost_figures(kernel_factory, graphql, clock):
    kernel = await kernel_factory(BLUEPRINT)
    await open_shop(kernel, members=3)
    service = kernel.service("member_tags")
    for n in range(3):
        await service.on_order_paid(kernel, paid_event(1 + n, 300 + n, 10000 * (n + 1), clock.now() - timedelta(days=n)))
    async with kernel.transaction() as tx:
        first = await service.recompute(tx)
    assert first.members == 3  # the three members of the shop
    events_before = len(await events(kernel, "member_tags.segment_changed"))
    async with kernel.transaction() as tx:
        again = await service.recompute(tx)
    assert (again.stage_changes, again.segment_changes, again.tags_added, again.tags_removed) == (0, 0, 0, 0)
    assert len(await events(kernel, "member_tags.segment_changed")) == events_before

    from sqlalchemy import update

    from components.member_tags.models import Profile

    async with kernel.transaction() as tx:  # figures lost (a bad restore): the recompute recounts them
        await tx.session.execute(update(Profile).where(Profile.member_id == 3).values(orders_count=0, paid_minor=0))
    async with kernel.transaction() as tx:
        await service.recompute(tx)
    p = (await graphql(kernel, admin()).data(PROFILE, id=gid("Member", 3)))["memberProfile"]
    assert (p["ordersCount"], p["paid"]["amountMinor"]) == (1, 30000)
