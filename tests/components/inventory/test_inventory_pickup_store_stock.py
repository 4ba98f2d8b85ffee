"""setStock takes the pickup store as a global id (the numeric locationId still works, never
both); Sku.stockLeft is the number shoppers see (Sku.stock its older name)."""

from __future__ import annotations

from core.gql.relay import to_global_id
from core.testing import staff
from tests.components.store_pickup.store_pickup_helpers import boot

SET = """mutation($input: SetStockInput!) {
  setStock(input: $input) { skuId pickupStoreId available userErrors { code field } } }"""


async def test_set_stock_by_pickup_store_global_id(kernel_factory, graphql):
    p = await boot(kernel_factory, stock=7)
    admin = graphql(p.kernel, staff(1, "admin"))
    sku, store = p.shop.sku, p.store_ids[0]

    answer = await admin.mutate(SET, input={"skuId": sku, "onHand": 4, "pickupStoreId": store})
    assert answer == {"skuId": sku, "pickupStoreId": store, "available": 4, "userErrors": []}
    old_form = await admin.mutate(SET, input={"skuId": sku, "onHand": 6, "locationId": p.stores[1]})
    assert (old_form["available"], old_form["pickupStoreId"]) == (6, p.store_ids[1])
    central = await admin.mutate(SET, input={"skuId": sku, "onHand": 9})
    assert (central["available"], central["pickupStoreId"]) == (9, None)
    async with p.kernel.db.read() as session:
        inventory = p.kernel.service("inventory")
        assert [(await inventory.available(session, [p.shop.sku_id], where))[p.shop.sku_id] for where in (0, *p.stores)] == [9, 4, 6]

    refused = [
        ({"pickupStoreId": store, "locationId": p.stores[0]}, "KERNEL_INVALID_INPUT", "input.pickupStoreId"),
        ({"pickupStoreId": to_global_id("PickupStore", 999)}, "INVENTORY_UNKNOWN_PICKUP_STORE", "input.pickupStoreId"),
        ({"pickupStoreId": sku}, "KERNEL_INVALID_ID", "input.pickupStoreId"),
        ({"pickupStoreId": "garbage"}, "KERNEL_INVALID_ID", "input.pickupStoreId"),
    ]
    for extra, code, field in refused:
        answer = await admin.mutate(SET, input={"skuId": sku, "onHand": 1, **extra})
        assert answer["userErrors"] == [{"code": code, "field": field}], extra
    async with p.kernel.db.read() as session:
        assert (await inventory.available(session, [p.shop.sku_id], p.stores[0]))[p.shop.sku_id] == 4

    read = await graphql(p.kernel).data("query($id: ID!) { node(id: $id) { ... on Sku { stockLeft stock } } }", id=sku)
    assert read["node"] == {"stockLeft": 9, "stock": 9}
    # The older name is marked deprecated in the schema (a component's extension can say so).
    stock = p.kernel.schema._schema.type_map["Sku"].fields["stock"]
    assert stock.deprecation_reason == "Use stockLeft; removed in the next release."
