"""Shipping or pickup of a group order waits for its group: the orders fulfilment guard refuses
both until the group succeeded (and for a late payer, until *their* new group succeeds)."""

from __future__ import annotations

from group_buy_helpers import JOIN, OPEN, pay, start

import components.store_pickup as store_pickup_package
from core.testing import member, staff
from registry.discovery import InstalledComponent

# store_pickup has no entry point yet: installed here, as its own tests do.
PICKUP = [InstalledComponent(store_pickup_package.manifest, "components.store_pickup", None)]
CHOOSE = """mutation($order: ID!, $store: ID!) { choosePickupStore(input: {orderId: $order, storeId: $store}) {
  userErrors { code } } }"""
CONFIRM = """mutation($store: ID!, $code: String!) { confirmPickup(input: {storeId: $store, code: $code}) {
  order { status } userErrors { code } } }"""
FULFIL = 'mutation($id: ID!) { fulfilOrder(input: {orderId: $id}) { order { status } userErrors { code } } }'


async def test_pickup_of_a_group_order_waits_for_the_group(kernel_factory, graphql, clock):
    s = await start(kernel_factory, graphql, clock, size=2, installed=PICKUP, extra="  store_pickup: {}\n")
    kernel = s.kernel
    async with kernel.transaction() as tx:
        store = await kernel.service("store_pickup").create_store(tx, name="Jing'an", latitude=31.2235, longitude=121.4453)
        clerk_id = await kernel.service("members").create_staff(tx, name="clerk", roles=("store_clerk",), store_ids=(store,))
    from core.gql.relay import to_global_id

    store_gid = to_global_id("PickupStore", store)
    clerk = graphql(kernel, staff(clerk_id, "store_clerk", stores=(store,)))
    a, b = graphql(kernel, member(1)), graphql(kernel, member(2))

    opened = await a.mutate(OPEN, offer=s.offer)
    chosen = await a.mutate(CHOOSE, order=opened["order"]["id"], store=store_gid)
    assert chosen["userErrors"] == [], chosen
    await pay(a, opened["order"]["id"])
    code = (await a.data("{ myPickups { nodes { code } } }"))["myPickups"]["nodes"][0]["code"]  # shown once paid
    # Paid, but the group has not formed: the clerk may not hand it over.
    refused = await clerk.mutate(CONFIRM, store=store_gid, code=code)
    assert refused["userErrors"] == [{"code": "STORE_PICKUP_GROUP_NOT_FORMED"}]

    joined = await b.mutate(JOIN, code=opened["group"]["shareCode"])
    await pay(b, joined["order"]["id"])  # the group succeeds
    handed = await clerk.mutate(CONFIRM, store=store_gid, code=code)
    assert handed["userErrors"] == [] and handed["order"]["status"] == "COMPLETED"


async def test_a_late_payer_leading_a_new_group_waits_for_that_group(kernel_factory, graphql, clock):
    # Late payers exist only when unpaid joins do not hold seats.
    s = await start(kernel_factory, graphql, clock, settings="{late_payment: open_new_group, hold_seats_for_unpaid_joins: false}", size=2)
    a, b, c = (graphql(s.kernel, member(i)) for i in (1, 2, 3))
    admin = graphql(s.kernel, staff(1, "admin"))
    opened = await a.mutate(OPEN, offer=s.offer)
    await pay(a, opened["order"]["id"])
    jb = await b.mutate(JOIN, code=opened["group"]["shareCode"])
    jc = await c.mutate(JOIN, code=jc_code(jb))
    await pay(b, jb["order"]["id"])  # fills A's group
    assert await pay(c, jc["order"]["id"]) == {"order": {"status": "PAID"}, "userErrors": []}  # C now leads a new group
    mine = (await c.data("{ myGroupBuys { edges { node { id status seatsFilled seatsLeft shareCode myShareCode } } } }"))
    groups = [e["node"] for e in mine["myGroupBuys"]["edges"]]
    assert len(groups) == 1 and groups[0]["id"] != opened["group"]["id"]
    assert (groups[0]["status"], groups[0]["seatsFilled"], groups[0]["seatsLeft"]) == ("FORMING", 1, 1)
    assert groups[0]["shareCode"] == groups[0]["myShareCode"]  # the link C already shared now leads to C's group
    # A's group succeeded, but C's order belongs to C's own group, which has not.
    assert (await admin.mutate(FULFIL, id=opened["order"]["id"]))["userErrors"] == []
    assert (await admin.mutate(FULFIL, id=jc["order"]["id"]))["userErrors"] == [{"code": "ORDERS_FULFILMENT_BLOCKED"}]
    d = graphql(s.kernel, member(4))
    jd = await d.mutate(JOIN, code=groups[0]["myShareCode"])
    await pay(d, jd["order"]["id"])
    assert (await admin.mutate(FULFIL, id=jc["order"]["id"]))["userErrors"] == []


def jc_code(joined: dict) -> str:
    # C joins through B's own link.
    return joined["group"]["myShareCode"]
