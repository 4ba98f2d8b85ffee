"""Shared by the store_pickup tests (a plain module, not a conftest): boot a shop with stores
and clerks, and the GraphQL documents the tests send."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from conftest import Shop, open_shop
from sqlalchemy import func, select

import components.store_pickup as store_pickup_package
from core.gql.relay import to_global_id
from registry.discovery import InstalledComponent

# Until the lead adds the entry point, the tests install the component themselves.
INSTALLED = [InstalledComponent(store_pickup_package.manifest, "components.store_pickup", None)]

BLUEPRINT = """\
dougong: 1
brand: {slug: sp, name: SP, currency: CNY, timezone: Asia/Shanghai}
auth: {dev_sign_in: true}
components:
  store_pickup: %s
"""

HOURS = {d: ["09:00-21:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}

NEAR = """query($lat: Float!, $lng: Float!, $first: Int = 2) { pickupStoresNear(latitude: $lat, longitude: $lng, first: $first) {
  distanceMeters store { id name openNow slots { id remaining startsAt } } } }"""
CHECKOUT = """mutation($input: CheckoutPickupInput!) { checkoutPickup(input: $input) {
  order { id status deliveryType storeId total { amountMinor } } pickup { id state code } userErrors { code field } } }"""
PAY = 'mutation($id: ID!) { payOrder(input: {orderId: $id}) { payment { id } userErrors { code } } }'
SETTLE = 'mutation($id: ID!) { sandboxSettlePayment(input: {paymentId: $id}) { order { status } userErrors { code } } }'
MY = "{ myPickups { nodes { id state code qrPayload expiresAt overdue store { name } slot { id } order { id status } } } }"
PREVIEW = """mutation($input: PreviewPickupInput!) { previewPickup(input: $input) {
  pickup { id state code customer { nickname phone } order { status lines { title quantity } } } userErrors { code field } } }"""
CONFIRM = """mutation($input: ConfirmPickupInput!) { confirmPickup(input: $input) {
  pickup { id state pickedUpAt } order { id status } userErrors { code field } } }"""
RESULTS = "query($id: ID!) { pickupStore(id: $id) { results { pickedUp sales { amountMinor } awaiting } } }"


@dataclass
class PickupShop:
    shop: Shop
    kernel: Any
    stores: list[int]
    store_ids: list[str]  # global ids
    clerks: dict[int, int]  # store id -> staff id of its clerk

    async def count(self, model: Any, *where: Any) -> int:
        async with self.kernel.db.read() as session:
            return int(await session.scalar(select(func.count()).select_from(model).where(*where)))

    async def slots(self, store: int, *, capacity: int = 10, hours_from_now: int = 2, count: int = 1) -> list[str]:
        service = self.kernel.service("store_pickup")
        start = self.kernel.clock.now().replace(minute=0, second=0, microsecond=0) + timedelta(hours=hours_from_now)
        async with self.kernel.transaction() as tx:
            ids = await service.create_slots(tx, store_id=store, starts_at=start, ends_at=start + timedelta(hours=count),
                                             minutes=60, capacity=capacity)
        return [to_global_id("PickupSlot", i) for i in ids]


async def boot(kernel_factory, *, settings: str = "{}", database: str = "sqlite", members: int = 5, stock: int = 50,
               extra_components: str = "", price: int = 10000) -> PickupShop:
    kernel = await kernel_factory(BLUEPRINT % settings + extra_components, database=database, installed=INSTALLED)
    shop = await open_shop(kernel, members=members, stock=stock, price=price)  # staff 1 is an admin
    service = kernel.service("store_pickup")
    stores, clerks = [], {}
    async with kernel.transaction() as tx:
        # Jing'an Temple and Lujiazui, about 5.3 km apart; a clerk for each.
        for name, lat, lng in (("Jing'an", 31.2235, 121.4453), ("Lujiazui", 31.2397, 121.4998)):
            store = await service.create_store(tx, name=name, latitude=lat, longitude=lng, hours=HOURS)
            stores.append(store)
            clerks[store] = await kernel.service("members").create_staff(tx, name=f"clerk of {name}", roles=("store_clerk",),
                                                                        store_ids=(store,))
    return PickupShop(shop, kernel, stores, [to_global_id("PickupStore", s) for s in stores], clerks)


async def pay(client: Any, order_id: str) -> dict:
    payment = await client.mutate(PAY, id=order_id)
    assert payment["userErrors"] == [], payment
    return await client.mutate(SETTLE, id=payment["payment"]["id"])
