"""Store pickup in the one checkout: the ``pickup: {pickupStoreId, slotId}`` field of CheckoutInput.

Whichever mutation places a pickup order (placeOrder, the deprecated createOrder, a group-buy,
a points redemption), this participant checks the store (exists, open, takes pickups) and the
slot, makes the store's own stock the one held when stock is kept per store, and — once the
order exists — takes the slot with a conditional update and allocates the pickup code. An
order is therefore never a pickup order without its store checked and its slot taken.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import strawberry
from sqlalchemy import select

from components.store_pickup.models import Slot, Store
from core.checkout import Draft
from core.clock import as_utc
from core.errors import DomainError, refuse_both
from core.gql.relay import from_global_id, parse_key, to_global_id
from core.transaction import Transaction

COMPONENT = "store_pickup"
OPTION_STORES = 20  # stores listed in a preview's pickup option
OPTION_SLOTS = 12  # free slots listed per store
OPTION_DAYS = 7


@strawberry.input(description="Collect the order at a store (deliveryType PICKUP).")
class PickupChoiceInput:
    pickup_store_id: strawberry.ID | None = strawberry.field(
        default=None, description="Global id of the PickupStore to collect at. Required (or the deprecated storeId)."
    )
    store_id: strawberry.ID | None = strawberry.field(
        default=None, description="Global id of the PickupStore to collect at.", deprecation_reason="Use pickupStoreId; removed in the next release."
    )
    slot_id: strawberry.ID | None = strawberry.field(
        default=None, description="Global id of a PickupSlot of that store; required when the brand asks for slots."
    )


def _key(value: Any, type_name: str, field: str) -> int:
    """A global id of ``type_name``; a bare number is accepted for the deprecated createOrder(storeId: Int)."""
    text = str(value)
    key = parse_key(text)
    if key is None:
        try:
            found_type, pk = from_global_id(text)
        except DomainError:
            found_type, pk = None, None
        key = parse_key(pk) if found_type == type_name and pk is not None else None
    if key is None:
        raise DomainError("KERNEL_INVALID_ID", f"expected the id of a {type_name}", field=field)
    return key


class PickupCheckout:
    def __init__(self, service: Any) -> None:
        self.service = service

    async def prepare(self, tx: Transaction, draft: Draft) -> None:
        choice = draft.input("pickup")
        if draft.delivery_type != "pickup":
            if choice:
                raise DomainError("ORDERS_STORE_NOT_ALLOWED", "Only pickup orders name a store; choose deliveryType PICKUP.", field="input.pickup")
            return
        draft.claim_delivery(COMPONENT)
        new, old = (choice or {}).get("pickupStoreId"), (choice or {}).get("storeId")
        refuse_both(new, old, new_name="pickupStoreId", old_name="storeId", field="input.pickup.pickupStoreId")
        # Errors name the field the caller wrote. storeId is the deprecated name, and the key the
        # components that build this input for their own mutations pass (orders' createOrder,
        # live-room orders, points redemptions map it back to their own field); with no pickup
        # object at all, that older name is the one they map.
        field = "input.pickup.storeId" if old is not None or choice is None else "input.pickup.pickupStoreId"
        if new is None and old is None:
            if not draft.previewing:
                raise DomainError("ORDERS_STORE_REQUIRED", "Pickup orders choose a store.", field=field)
            draft.need(COMPONENT, field, "Choose the store to collect at.")
            return
        store = await self.service.store(tx.session, _key(new if new is not None else old, "PickupStore", field), field=field)
        if store.status != "open":
            raise DomainError("STORE_PICKUP_STORE_CLOSED", f"This store is {store.status} and takes no pickups.", field=field)
        draft.store_id = store.id
        if self.service.stock == "per_store":
            draft.location_id = store.id  # the store's own shelf, not the central warehouse
        slot_id = choice.get("slotId")
        if slot_id is None:
            if self.service.slots_required:
                if not draft.previewing:
                    raise DomainError("STORE_PICKUP_SLOT_REQUIRED", "Choose a pickup time slot.", field="input.pickup.slotId")
                draft.need(COMPONENT, "input.pickup.slotId", "Choose a pickup time slot.")
            return
        slot = await tx.session.get(Slot, _key(slot_id, "PickupSlot", "input.pickup.slotId"))
        if slot is None or slot.store_id != store.id:
            raise DomainError("STORE_PICKUP_SLOT_UNAVAILABLE", "That slot is not one of this store's.", field="input.pickup.slotId")
        if as_utc(slot.starts_at) <= tx.now():
            raise DomainError("STORE_PICKUP_SLOT_UNAVAILABLE", "That slot has already started.", field="input.pickup.slotId")
        if slot.taken >= slot.capacity:
            raise DomainError("STORE_PICKUP_SLOT_FULL", "That slot is fully booked; choose another.", field="input.pickup.slotId")
        draft.attributes["storePickupSlotId"] = slot.id

    async def placed(self, tx: Transaction, draft: Draft, order_id: int) -> None:
        if draft.delivery_claimed_by != COMPONENT:
            return
        # Takes the slot (one conditional UPDATE: the last place cannot be sold twice) and
        # allocates the code, in the order's own transaction.
        await self.service._open_pickup(
            tx,
            order_id=order_id,
            member_id=draft.member_id,
            store_id=draft.store_id,
            slot_id=draft.attributes.get("storePickupSlotId"),
            kind=draft.kind,
            total_minor=draft.total_minor,
            currency=draft.currency,
        )

    async def delivery_options(self, tx: Transaction, draft: Draft) -> list[dict[str, Any]]:
        """The open stores (the chosen one first) with their free slots of the coming week."""
        stores = list((await tx.session.scalars(select(Store).where(Store.status == "open").order_by(Store.id).limit(OPTION_STORES))).all())
        if draft.store_id is not None:
            stores.sort(key=lambda s: s.id != draft.store_id)
        now = tx.now()
        slots_by_store: dict[int, list[Slot]] = {}
        if stores:
            rows = await tx.session.scalars(
                select(Slot)
                .where(
                    Slot.store_id.in_([s.id for s in stores]),
                    Slot.starts_at > now,
                    Slot.starts_at < now + timedelta(days=OPTION_DAYS),
                    Slot.taken < Slot.capacity,
                )
                .order_by(Slot.store_id, Slot.starts_at)
            )
            for slot in rows.all():
                slots_by_store.setdefault(slot.store_id, []).append(slot)
        return [
            {
                "type": "pickup",
                "stores": [
                    {
                        "id": to_global_id("PickupStore", store.id),
                        "name": store.name,
                        "address": store.address,
                        "distanceMeters": None,
                        "slots": [
                            {
                                "id": to_global_id("PickupSlot", slot.id),
                                "startsAt": as_utc(slot.starts_at),
                                "endsAt": as_utc(slot.ends_at),
                                "remaining": slot.capacity - slot.taken,
                            }
                            for slot in slots_by_store.get(store.id, [])[:OPTION_SLOTS]
                        ],
                    }
                    for store in stores
                ],
            }
        ]
