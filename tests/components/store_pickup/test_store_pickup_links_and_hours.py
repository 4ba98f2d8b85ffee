"""What issue 18 asked of store pickup: an order links to its pickup and store (the code only
for its member, the pickup only for its member and the store's clerks), members and staff link
to their stores, opening hours are typed in and out, a slot says capacityLeft, lists page both
ways, and staff-only fields null themselves instead of the page."""

from __future__ import annotations

from store_pickup_helpers import CHECKOUT, boot, pay

from components.store_pickup.graphql_hours import PickupHoursInput, PickupSpecialHoursInput, PickupWeekday, PickupWeekdayHoursInput, hours_from_input
from core.errors import DomainError
from core.gql.relay import to_global_id
from core.testing import member, staff

ORDER = """query($id: ID!) { node(id: $id) { ... on Order { id pickup { id state code store { name } } pickupStore { id name } } } }"""
CREATE_STORE = """mutation($input: CreatePickupStoreInput!) { createPickupStore(input: $input) {
  store { id openingHours { day weekday ranges } specialHours { date ranges } } userErrors { code field } } }"""
UPDATE_STORE = """mutation($input: UpdatePickupStoreInput!) { updatePickupStore(input: $input) {
  store { openingHours { day ranges } specialHours { date ranges } } userErrors { code field } } }"""


def test_typed_hours_become_the_stored_object():
    typed = PickupHoursInput(
        weekdays=[PickupWeekdayHoursInput(day=PickupWeekday.MONDAY, ranges=[" 09:00-21:00"]),
                  PickupWeekdayHoursInput(day=PickupWeekday.SATURDAY, ranges=["20:00-02:00"])],
        special_dates=[PickupSpecialHoursInput(date=__import__("datetime").date(2027, 2, 10), ranges=[])],
    )
    assert hours_from_input(typed, None) == {"mon": ["09:00-21:00"], "sat": ["20:00-02:00"], "2027-02-10": []}
    assert hours_from_input(None, None) is None and hours_from_input(None, {"mon": []}) == {"mon": []}
    assert hours_from_input(PickupHoursInput(), None) == {}  # always open
    twice = PickupHoursInput(weekdays=[PickupWeekdayHoursInput(day=PickupWeekday.MONDAY, ranges=[])] * 2)
    for new, old, field in [(typed, {"mon": []}, "input.openingHours"), (twice, None, "input.openingHours.weekdays[1]"),
                            (PickupHoursInput(weekdays=[PickupWeekdayHoursInput(day=PickupWeekday.FRIDAY, ranges=["9-5"])]), None,
                             "input.openingHours.weekdays[0].ranges"),
                            (None, ["mon"], "input.hours")]:
        try:
            hours_from_input(new, old)
        except DomainError as error:
            assert (error.code, error.field) == ("KERNEL_INVALID_INPUT", field)
        else:
            raise AssertionError(field)


async def test_order_links_hours_and_nullable_staff_fields(kernel_factory, graphql):
    ps = await boot(kernel_factory)
    slot = (await ps.slots(ps.stores[0], capacity=3))[0]
    alice, bob = graphql(ps.kernel, member(1)), graphql(ps.kernel, member(2))
    store = ps.stores[0]
    own_clerk = graphql(ps.kernel, staff(ps.clerks[store], "store_clerk", stores=(store,)))
    other_clerk = graphql(ps.kernel, staff(ps.clerks[ps.stores[1]], "store_clerk", stores=(ps.stores[1],)))

    placed = await alice.mutate(CHECKOUT, input={"lines": [{"skuId": ps.shop.sku, "quantity": 1}], "storeId": ps.store_ids[0], "slotId": slot})
    order_id = placed["order"]["id"]
    await pay(alice, order_id)
    mine = (await alice.data(ORDER, id=order_id))["node"]
    assert mine["pickup"]["state"] == "AWAITING_PICKUP" and len(mine["pickup"]["code"]) == 8
    assert mine["pickupStore"] == {"id": ps.store_ids[0], "name": "Jing'an"} and mine["pickup"]["store"]["name"] == "Jing'an"
    seen_by_clerk = (await own_clerk.data(ORDER, id=order_id))["node"]  # the store's clerk: the pickup, never the code
    assert seen_by_clerk["pickup"] == {**mine["pickup"], "code": None} and seen_by_clerk["pickupStore"] == mine["pickupStore"]
    assert (await other_clerk.data(ORDER, id=order_id))["node"] is None  # another store's clerk sees neither
    assert (await bob.data(ORDER, id=order_id))["node"] is None  # another member's order is not theirs to see
    shipped = await alice.mutate("mutation($sku: ID!) { createOrder(input: {lines: [{skuId: $sku, quantity: 1}]}) { order { id } } }",
                                 sku=ps.shop.sku)
    not_pickup = (await alice.data(ORDER, id=shipped["order"]["id"]))["node"]
    assert (not_pickup["pickup"], not_pickup["pickupStore"]) == (None, None)

    slot_left = await alice.data("query($id: ID!) { node(id: $id) { ... on PickupSlot { capacityLeft remaining } } }", id=slot)
    assert slot_left["node"] == {"capacityLeft": 2, "remaining": 2}
    newest = await alice.data("{ myPickups(last: 1) { nodes { id } pageInfo { hasPreviousPage } } }")
    assert newest["myPickups"] == {"nodes": [{"id": mine["pickup"]["id"]}], "pageInfo": {"hasPreviousPage": False}}
    assert len((await alice.data("{ pickupStoresNear(latitude: 31.2240, longitude: 121.4460) { distanceMeters } }"))["pickupStoresNear"]) == 2

    async with ps.kernel.transaction() as tx:
        walk_in = await ps.kernel.service("members").create_member(tx, phone="13955556666", source_channel="store", source_store_id=store)
    linked = await graphql(ps.kernel, member(walk_in)).data("{ me { sourcePickupStore { name } } }")
    assert linked["me"]["sourcePickupStore"] == {"name": "Jing'an"}
    clerk_stores = await own_clerk.data("{ staffMe { pickupStores { id } } }")
    assert clerk_stores["staffMe"]["pickupStores"] == [{"id": ps.store_ids[0]}]

    # Refused staff-only fields on a public type null themselves with an error at their path.
    answer = await alice.execute("query($id: ID!) { pickupStore(id: $id) { name results { awaiting } clerks { id } } myPickups { nodes { id } } }",
                                 id=ps.store_ids[0])
    assert answer["data"]["pickupStore"] == {"name": "Jing'an", "results": None, "clerks": None}
    assert answer["data"]["myPickups"]["nodes"]
    assert sorted(e["path"][-1] for e in answer["errors"]) == ["clerks", "results"]
    anonymous = await graphql(ps.kernel).execute("{ myPickups { nodes { id } } pickupStores(last: 1) { nodes { name } } }")
    assert anonymous["data"] == {"myPickups": None, "pickupStores": {"nodes": [{"name": "Lujiazui"}]}}

    admin = graphql(ps.kernel, staff(1, "admin"))
    created = await admin.mutate(CREATE_STORE, input={
        "name": "West Lake", "latitude": 30.25, "longitude": 120.15,
        "openingHours": {"weekdays": [{"day": "SATURDAY", "ranges": ["20:00-02:00"]}, {"day": "MONDAY", "ranges": ["09:00-21:00"]}],
                         "specialDates": [{"date": "2027-02-10", "ranges": []}]}})
    assert created["userErrors"] == []
    assert created["store"]["openingHours"] == [{"day": "MONDAY", "weekday": "mon", "ranges": ["09:00-21:00"]},
                                                {"day": "SATURDAY", "weekday": "sat", "ranges": ["20:00-02:00"]}]
    assert created["store"]["specialHours"] == [{"date": "2027-02-10", "ranges": []}]
    west = created["store"]["id"]
    old_form = await admin.mutate(UPDATE_STORE, input={"storeId": west, "hours": {"sun": ["10:00-16:00"]}})
    assert old_form == {"store": {"openingHours": [{"day": "SUNDAY", "ranges": ["10:00-16:00"]}], "specialHours": []}, "userErrors": []}
    for payload, field in [({"openingHours": {"weekdays": []}, "hours": {}}, "input.openingHours"),
                           ({"openingHours": {"weekdays": [{"day": "MONDAY", "ranges": ["25:00-26:00"]}]}}, "input.openingHours.weekdays[0].ranges"),
                           ({"openingHours": {"specialDates": [{"date": "2027-02-10", "ranges": []}] * 2}}, "input.openingHours.specialDates[1]")]:
        refused = await admin.mutate(UPDATE_STORE, input={"storeId": west, **payload})
        assert refused["userErrors"] == [{"code": "KERNEL_INVALID_INPUT", "field": field}], payload
    cleared = await admin.mutate(UPDATE_STORE, input={"storeId": west, "openingHours": {}})
    assert cleared["store"] == {"openingHours": [], "specialHours": []}  # always open
    assert to_global_id("PickupStore", 3) == west
