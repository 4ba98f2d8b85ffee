"""Store pickup's inputs name the store `pickupStoreId` like the rest of the schema; the older
`storeId` still works (its errors keep its name), and both at once or neither is refused."""

from __future__ import annotations

from store_pickup_helpers import boot, pay

from components.store_pickup.models import Pickup
from core.gql.relay import to_global_id
from core.testing import member, staff

CHECKOUT = """mutation($input: CheckoutPickupInput!) { checkoutPickup(input: $input) {
  order { id } pickup { id } userErrors { code field } } }"""
PLACE = """mutation($c: CheckoutInput!) { placeOrder(input: {checkout: $c}) { order { id deliveryType } userErrors { code field } } }"""
VERIFY = """mutation($input: PreviewPickupInput!) { previewPickup(input: $input) { pickup { id } userErrors { code field } } }"""
WAITING = "query($s: ID) { storePickups(pickupStoreId: $s) { nodes { id } } }"


async def test_pickup_store_id_in_every_input(kernel_factory, graphql):
    ps = await boot(kernel_factory)
    alice = graphql(ps.kernel, member(1))
    line = [{"skuId": ps.shop.sku, "quantity": 1}]
    one, two = ps.store_ids

    placed = await alice.mutate(CHECKOUT, input={"lines": line, "pickupStoreId": one})
    assert placed["userErrors"] == [] and placed["pickup"]["id"]
    await pay(alice, placed["order"]["id"])
    through_checkout = await alice.mutate(PLACE, c={"lines": line, "deliveryType": "PICKUP", "pickup": {"pickupStoreId": two}})
    assert through_checkout["userErrors"] == [] and through_checkout["order"]["deliveryType"] == "PICKUP"

    before = await ps.count(Pickup)
    refused = [
        (CHECKOUT, {"input": {"lines": line, "pickupStoreId": one, "storeId": one}}, "KERNEL_INVALID_INPUT", "input.pickupStoreId"),
        (CHECKOUT, {"input": {"lines": line}}, "KERNEL_INVALID_INPUT", "input.pickupStoreId"),
        (CHECKOUT, {"input": {"lines": line, "pickupStoreId": to_global_id("PickupStore", 99)}}, "STORE_PICKUP_UNKNOWN_STORE", "input.pickupStoreId"),
        (CHECKOUT, {"input": {"lines": line, "storeId": to_global_id("PickupStore", 99)}}, "STORE_PICKUP_UNKNOWN_STORE", "input.storeId"),
        (CHECKOUT, {"input": {"lines": line, "pickupStoreId": ps.shop.sku}}, "KERNEL_INVALID_ID", "input.pickupStoreId"),
        (PLACE, {"c": {"lines": line, "deliveryType": "PICKUP", "pickup": {"pickupStoreId": one, "storeId": one}}},
         "KERNEL_INVALID_INPUT", "input.pickup.pickupStoreId"),
        (PLACE, {"c": {"lines": line, "deliveryType": "PICKUP", "pickup": {}}}, "ORDERS_STORE_REQUIRED", "input.pickup.pickupStoreId"),
        (PLACE, {"c": {"lines": line, "deliveryType": "PICKUP", "pickup": {"pickupStoreId": to_global_id("PickupStore", 99)}}},
         "STORE_PICKUP_UNKNOWN_STORE", "input.pickup.pickupStoreId"),
    ]
    for document, variables, code, field in refused:
        answer = await alice.mutate(document, variables)
        assert answer["userErrors"] == [{"code": code, "field": field}], variables
    assert await ps.count(Pickup) == before

    clerk = graphql(ps.kernel, staff(ps.clerks[ps.stores[0]], "store_clerk", stores=(ps.stores[0],)))
    assert len((await clerk.data(WAITING, s=one))["storePickups"]["nodes"]) == 1
    old_arg = await clerk.data("query($s: ID!) { storePickups(storeId: $s) { nodes { id } } }", s=one)
    assert old_arg == (await clerk.data(WAITING, s=one))
    assert (await clerk.execute("{ storePickups { nodes { id } } }"))["errors"][0]["extensions"]["code"] == "KERNEL_INVALID_INPUT"
    wrong_store = await clerk.mutate(VERIFY, input={"pickupStoreId": two, "code": "12345678"})
    assert wrong_store["userErrors"] == [{"code": "STORE_PICKUP_NOT_YOUR_STORE", "field": "input.pickupStoreId"}]
    old_name = await clerk.mutate(VERIFY, input={"storeId": two, "code": "12345678"})
    assert old_name["userErrors"] == [{"code": "STORE_PICKUP_NOT_YOUR_STORE", "field": "input.storeId"}]
