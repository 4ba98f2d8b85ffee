"""groupBuyProgress carries the group node (its global id, seats, status, deadline) and completes
when the group succeeds or fails at its deadline, and at once when the group is already over."""

from __future__ import annotations

import asyncio

from group_buy_helpers import JOIN, OPEN, pay, start

from core.testing import member, staff, watch_subscription

STREAM = """subscription($id: ID!) { groupBuyProgress(groupId: $id) { groupId
  group { id status size seatsFilled seatsLeft placeholders deadline shareCode offer { id } } } }"""


async def watch(kernel, group_id) -> tuple[list[dict], asyncio.Task]:
    return await watch_subscription(kernel, STREAM, {"id": group_id}, staff(1, "admin"))


async def test_payloads_carry_the_group_node_and_the_stream_ends_when_the_deadline_fails_it(kernel_factory, graphql, clock):
    s = await start(kernel_factory, graphql, clock)
    a, b = graphql(s.kernel, member(1)), graphql(s.kernel, member(2))
    opened = await a.mutate(OPEN, offer=s.offer)
    group_id, code = opened["group"]["id"], opened["group"]["shareCode"]
    seen, task = await watch(s.kernel, group_id)
    await pay(a, opened["order"]["id"])
    await pay(b, (await b.mutate(JOIN, code=code))["order"]["id"])
    clock.advance(hours=24, seconds=1)
    await s.kernel.run_due()
    await asyncio.wait_for(task, 2)  # FAILED is terminal: the stream completed by itself
    assert {u["group"]["id"] for u in seen} == {group_id} and {u["groupId"] for u in seen} == {group_id}
    assert [(u["group"]["status"], u["group"]["seatsFilled"], u["group"]["seatsLeft"]) for u in seen] == [
        ("FORMING", 0, 3), ("FORMING", 1, 2), ("FORMING", 2, 1), ("FAILED", 2, 1)]
    assert seen[0]["group"]["deadline"] is None and seen[1]["group"]["deadline"] is not None  # the clock starts at the leader's payment
    assert {u["group"]["shareCode"] for u in seen} == {code} and {u["group"]["offer"]["id"] for u in seen} == {s.offer}
    # The payload's node is the node the query answers: a cache merging by id sees no difference.
    queried = await graphql(s.kernel, staff(1, "admin")).data(
        "query($id: ID!) { groupBuyGroup(id: $id) { id status size seatsFilled seatsLeft placeholders deadline shareCode offer { id } } }",
        id=group_id,
    )
    assert queried["groupBuyGroup"] == seen[-1]["group"]

    again, task = await watch(s.kernel, group_id)  # subscribing to a failed group: its state, then done
    await asyncio.wait_for(task, 2)
    assert [(u["group"]["id"], u["group"]["status"]) for u in again] == [(group_id, "FAILED")]


async def test_the_stream_ends_when_the_group_succeeds(kernel_factory, graphql, clock):
    s = await start(kernel_factory, graphql, clock, size=2)
    a, b = graphql(s.kernel, member(1)), graphql(s.kernel, member(2))
    opened = await a.mutate(OPEN, offer=s.offer)
    await pay(a, opened["order"]["id"])
    seen, task = await watch(s.kernel, opened["group"]["id"])
    await pay(b, (await b.mutate(JOIN, code=opened["group"]["shareCode"]))["order"]["id"])
    await asyncio.wait_for(task, 2)
    assert [(u["group"]["id"], u["group"]["status"], u["group"]["seatsLeft"]) for u in seen] == [
        (opened["group"]["id"], "FORMING", 1), (opened["group"]["id"], "SUCCEEDED", 0)]
