"""Store pickup's GraphQL inputs and payloads (the mutations are in graphql_mutations.py)."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from components.orders.graphql import Order, OrderLineInput
from components.store_pickup.graphql import PickupOrder, PickupSlot, PickupStore, PickupStoreStatus
from components.store_pickup.graphql_hours import PickupHoursInput
from core.errors import DomainError, refuse_both
from core.gql import Payload

STORE = "Global id of the PickupStore."
OLD_STORE = "Use pickupStoreId; removed in the next release."
SLOT = "Global id of a PickupSlot of that store; required when the brand asks for slots."
KEY = "A key of the client's choosing: a replay returns the first answer and changes nothing."
OLD_HOURS = "Use openingHours; removed in the next release."
HOURS_JSON = (
    '{"mon": ["09:00-21:00"], ..., "2027-02-10": []}: weekdays, and dates that replace them (holidays: [] closes the day); left out: always open.'
)


@strawberry.input(description="A new pickup store (admins).")
class CreatePickupStoreInput:
    name: str = strawberry.field(description="The store's name.")
    latitude: float = strawberry.field(description="Latitude in degrees (WGS 84), -90 to 90.")
    longitude: float = strawberry.field(description="Longitude in degrees (WGS 84), -180 to 180.")
    address: str = strawberry.field(default="", description="Its street address.")
    phone: str = strawberry.field(default="", description="Its phone number.")
    opening_hours: PickupHoursInput | None = strawberry.field(default=None, description="Its opening hours; left out: always open.")
    hours: JSON | None = strawberry.field(default=None, description=HOURS_JSON, deprecation_reason=OLD_HOURS)
    status: PickupStoreStatus = strawberry.field(default=PickupStoreStatus.OPEN, description="Whether it takes pickup orders; OPEN unless given.")


@strawberry.input(description="Changes to a pickup store; fields left out stay as they are.")
class UpdatePickupStoreInput:
    pickup_store_id: strawberry.ID | None = strawberry.field(default=None, description=STORE + " Required (or the deprecated storeId).")
    store_id: strawberry.ID | None = strawberry.field(default=None, description=STORE, deprecation_reason=OLD_STORE)
    name: str | None = strawberry.field(default=None, description="A new name.")
    latitude: float | None = strawberry.field(default=None, description="A new latitude in degrees (WGS 84).")
    longitude: float | None = strawberry.field(default=None, description="A new longitude in degrees (WGS 84).")
    address: str | None = strawberry.field(default=None, description="A new street address.")
    phone: str | None = strawberry.field(default=None, description="A new phone number.")
    opening_hours: PickupHoursInput | None = strawberry.field(
        default=None, description="New opening hours, replacing the old ones whole (no weekdays and no dates: always open)."
    )
    hours: JSON | None = strawberry.field(default=None, description=HOURS_JSON, deprecation_reason=OLD_HOURS)
    status: PickupStoreStatus | None = strawberry.field(default=None, description="A new status: CLOSED or SUSPENDED stores take no pickups.")


@strawberry.input(description="Consecutive slots for collecting at a store, each with the same capacity (admins).")
class CreatePickupSlotsInput:
    pickup_store_id: strawberry.ID | None = strawberry.field(default=None, description=STORE + " Required (or the deprecated storeId).")
    store_id: strawberry.ID | None = strawberry.field(default=None, description=STORE, deprecation_reason=OLD_STORE)
    starts_at: datetime = strawberry.field(description="When the first slot starts (ISO 8601).")
    ends_at: datetime = strawberry.field(description="When the last slot ends (ISO 8601).")
    slot_minutes: int = strawberry.field(default=60, description="Length of each slot in minutes.")
    capacity: int = strawberry.field(default=10, description="How many pickups each slot takes.")


@strawberry.input(description="An order to collect at a store.")
class CheckoutPickupInput:
    lines: list[OrderLineInput] = strawberry.field(description="What to buy.")
    pickup_store_id: strawberry.ID | None = strawberry.field(default=None, description=STORE + " Required (or the deprecated storeId).")
    store_id: strawberry.ID | None = strawberry.field(default=None, description=STORE, deprecation_reason=OLD_STORE)
    slot_id: strawberry.ID | None = strawberry.field(default=None, description=SLOT)
    idempotency_key: str | None = strawberry.field(default=None, description=KEY)


@strawberry.input(description="Collect an unpaid order at a store instead.")
class ChoosePickupStoreInput:
    order_id: strawberry.ID = strawberry.field(description="Global id of the member's unpaid Order.")
    pickup_store_id: strawberry.ID | None = strawberry.field(default=None, description=STORE + " Required (or the deprecated storeId).")
    store_id: strawberry.ID | None = strawberry.field(default=None, description=STORE, deprecation_reason=OLD_STORE)
    slot_id: strawberry.ID | None = strawberry.field(default=None, description=SLOT)


@strawberry.input(description="A pickup to look up at the clerk's store: by the code the member reads out, or by the scanned QR payload.")
class PreviewPickupInput:
    pickup_store_id: strawberry.ID | None = strawberry.field(
        default=None, description="Global id of the clerk's PickupStore. Required (or the deprecated storeId)."
    )
    store_id: strawberry.ID | None = strawberry.field(default=None, description="Global id of the clerk's PickupStore.", deprecation_reason=OLD_STORE)
    code: str | None = strawberry.field(default=None, description="The number the member reads out, or…")
    qr_payload: str | None = strawberry.field(default=None, description="…the scanned QR payload.")


@strawberry.input(description="A pickup to hand over at the clerk's store: by code or by scanned QR payload.")
class ConfirmPickupInput:
    pickup_store_id: strawberry.ID | None = strawberry.field(
        default=None, description="Global id of the clerk's PickupStore. Required (or the deprecated storeId)."
    )
    store_id: strawberry.ID | None = strawberry.field(default=None, description="Global id of the clerk's PickupStore.", deprecation_reason=OLD_STORE)
    code: str | None = strawberry.field(default=None, description="The number the member reads out, or…")
    qr_payload: str | None = strawberry.field(default=None, description="…the scanned QR payload.")
    idempotency_key: str | None = strawberry.field(default=None, description=KEY)


@strawberry.type(description="The result of a pickup store change.")
class PickupStorePayload(Payload):
    store: PickupStore | None = strawberry.field(default=None, description="The store as it is now; null when refused.")


@strawberry.type(description="The result of createPickupSlots.")
class PickupSlotsPayload(Payload):
    slots: list[PickupSlot] = strawberry.field(default_factory=list, description="The new slots in time order; empty when refused.")


@strawberry.type(description="The result of ordering for pickup or choosing a store.")
class PickupCheckoutPayload(Payload):
    order: Order | None = strawberry.field(default=None, description="The order; null when refused.")
    pickup: PickupOrder | None = strawberry.field(default=None, description="Its pickup (the code shows once paid); null when refused.")


@strawberry.type(description="The result of looking up or handing over a pickup.")
class PickupVerificationPayload(Payload):
    pickup: PickupOrder | None = strawberry.field(default=None, description="The pickup; null when refused.")
    order: Order | None = strawberry.field(default=None, description="Its order: the lines are what to hand over; null when refused.")


def store_choice(new: strawberry.ID | None, old: strawberry.ID | None, prefix: str = "input") -> tuple[str, str]:
    """The store's global id from either name, and the field errors about it should name
    (``prefix`` empty for a query argument)."""

    def named(name: str) -> str:
        return f"{prefix}.{name}" if prefix else name

    refuse_both(new, old, new_name="pickupStoreId", old_name="storeId", field=named("pickupStoreId"))
    if new is None and old is None:
        raise DomainError("KERNEL_INVALID_INPUT", "Name the store with pickupStoreId.", field=named("pickupStoreId"))
    return (str(new), named("pickupStoreId")) if new is not None else (str(old), named("storeId"))


def named_as_given(errors: list, field: str) -> list:
    """The services name the store ``input.storeId``; a caller who wrote pickupStoreId sees that name."""
    for error in errors:
        if error.field == "input.storeId":
            error.field = field
    return errors
