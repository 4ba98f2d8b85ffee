"""The closed sets of states orders shows on GraphQL, one enum each, values as stored.

The Python values are the strings the tables hold, so a row's column becomes an enum with
``OrderStatus(row.status)``; GraphQL shows the UPPER_CASE names.
"""

from __future__ import annotations

import enum

import strawberry

from core.pricing import STAGES


@strawberry.enum(description="Where an order is in its life (see the orders README for the transitions).")
class OrderStatus(enum.Enum):
    PENDING_PAYMENT = strawberry.enum_value("pending_payment", description="Placed, stock held, waiting for payment until paymentDueAt.")
    PAID = strawberry.enum_value("paid", description="Paid; waiting to be shipped or handed over (partly shipped orders stay here).")
    FULFILLED = strawberry.enum_value("fulfilled", description="Everything left was shipped or handed over; completes by itself later.")
    COMPLETED = strawberry.enum_value("completed", description="Received or completed; after-sale requests are open within the window.")
    CANCELLED = strawberry.enum_value("cancelled", description="Cancelled before payment; held stock went back. Final.")
    REFUNDED = strawberry.enum_value("refunded", description="Every unit of every line was refunded. Final.")


@strawberry.enum(description="How an order reaches the member.")
class DeliveryType(enum.Enum):
    SHIPPING = strawberry.enum_value("shipping", description="Shipped by a carrier to a shipping address.")
    PICKUP = strawberry.enum_value("pickup", description="Collected by the member at a pickup store.")


@strawberry.enum(description="What the sandbox provider answers for a payment (development only).")
class PaymentOutcome(enum.Enum):
    SUCCEEDED = strawberry.enum_value("succeeded", description="The money arrived.")
    FAILED = strawberry.enum_value("failed", description="The payer's bank or wallet refused.")


@strawberry.enum(
    description="What made the order: a plain checkout or an activity. OTHER is a kind set by a component this "
    "release does not list (the deprecated `kind` string still names it)."
)
class OrderKind(enum.Enum):
    PLAIN = strawberry.enum_value("plain", description="A plain checkout of catalogue SKUs.")
    GROUP_BUY = strawberry.enum_value("group_buy", description="A group-buy order (opening or joining a group).")
    AUCTION = strawberry.enum_value("auction", description="The winning bidder's order for an auction lot.")
    AUCTION_DEPOSIT = strawberry.enum_value("auction_deposit", description="An auction deposit paid as an order.")
    FLASH_SALE = strawberry.enum_value("flash_sale", description="A flash-sale purchase.")
    POINTS = strawberry.enum_value("points", description="A points-mall redemption placed as an order.")
    MEMBERSHIP_TERM = strawberry.enum_value("membership_term", description="A paid membership term (member tiers).")
    OTHER = strawberry.enum_value("other", description="A kind another component set that this enum does not list yet.")


def order_kind(value: str) -> OrderKind:
    """The enum for a stored kind; components may set kinds this release does not know."""
    try:
        return OrderKind(value)
    except ValueError:
        return OrderKind.OTHER


@strawberry.enum(description="Where one payment attempt of an order stands.")
class OrderPaymentStatus(enum.Enum):
    PENDING = strawberry.enum_value("pending", description="Started; the provider has not confirmed it yet.")
    SUCCEEDED = strawberry.enum_value("succeeded", description="The provider confirmed the money arrived.")
    FAILED = strawberry.enum_value("failed", description="The provider refused or closed it; no money moved.")
    REFUNDED = strawberry.enum_value(
        "refunded", description="It arrived for an order that could no longer take it and went straight back (order refunds do not change it)."
    )


@strawberry.enum(description="Where a payment intent (a payment that is not a goods order, e.g. an auction deposit) stands.")
class PaymentIntentStatus(enum.Enum):
    PENDING = strawberry.enum_value("pending", description="Waiting for the provider to confirm the payment.")
    SUCCEEDED = strawberry.enum_value("succeeded", description="Paid (part of it may have been refunded since: see refunded).")
    FAILED = strawberry.enum_value("failed", description="The provider refused or closed it; no money moved.")
    REFUNDED = strawberry.enum_value("refunded", description="All of the money went back to the payer.")


# One sentence per kernel price stage (core.pricing.STAGES); a stage the kernel adds without one
# here fails tests/components/orders/test_orders_schema_types.py rather than going undocumented.
STAGE_DESCRIPTIONS = {
    "activity": "The activity's own price (group buy, auction, flash sale, live room, points mall).",
    "discount": "A member or tier discount.",
    "threshold": "A spend-threshold reduction (满减).",
    "coupon": "A coupon.",
    "points": "Points spent to pay part of the order.",
    "delivery": "The delivery fee.",
}

# Not a pipeline stage: a placed line's share of the order-level adjustments (largest remainder),
# stored with the line's own adjustments so the lines sum to the total.
APPORTIONED = "apportioned"

# Built from the kernel's fixed list, so the enum never drifts from the pipeline that runs.
PriceStage = strawberry.enum(
    enum.Enum(  # type: ignore[misc]
        "PriceStage",
        {
            **{stage.upper(): strawberry.enum_value(stage, description=STAGE_DESCRIPTIONS.get(stage, "")) for stage in STAGES},
            APPORTIONED.upper(): strawberry.enum_value(
                APPORTIONED, description="On a placed line only: its share of the order-level adjustments, so lines sum to the total."
            ),
        },
    ),
    description="A stage of the price pipeline, in the order the kernel runs them (activity, discount, threshold, coupon, points, "
    "delivery), and APPORTIONED for a line's share of order-level amounts.",
)


@strawberry.enum(description="Why a share code on an order credits nobody (the order itself went ahead).")
class ShareCreditRefusal(enum.Enum):
    SELF_SHARE = strawberry.enum_value("SELF_SHARE", description="The buyer used their own share code.")
    GUIDE_INACTIVE = strawberry.enum_value("GUIDE_INACTIVE", description="The code's guide left or is no longer a guide.")


@strawberry.enum(description="Whether a cart line can be bought now.")
class CartLineAvailability(enum.Enum):
    AVAILABLE = strawberry.enum_value("AVAILABLE", description="On sale with enough stock for the line's quantity.")
    NOT_ON_SALE = strawberry.enum_value("NOT_ON_SALE", description="The SKU was withdrawn from sale.")
    OUT_OF_STOCK = strawberry.enum_value("OUT_OF_STOCK", description="None left.")
    NOT_ENOUGH_STOCK = strawberry.enum_value("NOT_ENOUGH_STOCK", description="Fewer units left than the line asks for.")


def optional_enum(kind: type[enum.Enum], value: str | None) -> enum.Enum | None:
    """The enum member of a stored code, or None for none or one this release does not know
    (the deprecated string field beside it still shows it)."""
    try:
        return kind(value) if value is not None else None
    except ValueError:
        return None
