"""Group-buy's closed sets and small types: the statuses, an offer's SKU, a referral count and the
checkout line's input. Offers, groups and the queries are in graphql.py."""

from __future__ import annotations

import enum

import strawberry

from components.catalog.graphql import Sku
from components.group_buy.checkout import ACTIVITY
from core.gql import Money


@strawberry.enum(description="Where a group is: forming until every seat is paid (succeeded) or its deadline passes (failed).")
class GroupBuyGroupStatus(enum.Enum):
    FORMING = strawberry.enum_value("forming", description="Open: waiting for the leader's payment, then for its seats to be paid.")
    SUCCEEDED = strawberry.enum_value("succeeded", description="Every seat was paid (or virtually filled): the orders go on to fulfilment.")
    FAILED = strawberry.enum_value("failed", description="Its deadline passed, or the offer was withdrawn: paid members were refunded.")


@strawberry.enum(description="An offer's own state; whether it runs now also depends on its window (startsAt, endsAt).")
class GroupBuyOfferStatus(enum.Enum):
    ACTIVE = strawberry.enum_value("active", description="Open to new groups inside its window.")
    ENDED = strawberry.enum_value("ended", description="Ended early by staff: no new groups; groups already forming run to their deadline.")
    WITHDRAWN = strawberry.enum_value("withdrawn", description="Taken down by staff: forming groups failed and were refunded.")


@strawberry.enum(description="Which offers a list shows by their window.")
class GroupBuyOfferWindow(enum.Enum):
    RUNNING = strawberry.enum_value("running", description="Active and inside the window now: a member may open or join a group.")
    UPCOMING = strawberry.enum_value("upcoming", description="Active, starting later (for a teaser).")


@strawberry.type(description="One SKU of an offer with its own group price. Money in minor units of the brand currency.")
class GroupBuyOfferSku:
    group_price: Money = strawberry.field(description="What a member pays for this SKU in a group.")
    leader_price: Money | None = strawberry.field(description="团长价: what the leader pays instead; null: the offer's leader discount, if any.")
    quantity: int = strawberry.field(description="This SKU's own quantity in the offer.")
    sku_pk: strawberry.Private[int]
    offer_pk: strawberry.Private[int]

    @strawberry.field(description="The SKU; null if the catalog no longer has it.")
    async def sku(self, info: strawberry.Info) -> Sku | None:
        return await info.context.loader("catalog.skus").load(self.sku_pk)

    @strawberry.field(description="Units of this SKU's quantity in the offer still to sell (not held by unpaid orders, not sold).")
    async def stock_left(self, info: strawberry.Info) -> int:
        return await info.context.kernel.service("inventory").activity_left(await info.context.session(), ACTIVITY, str(self.offer_pk), self.sku_pk)

    @strawberry.field(description="Units of this SKU's quantity still available.", deprecation_reason="Use stockLeft; removed in the next release.")
    async def remaining(self, info: strawberry.Info) -> int:
        return await self.stock_left(info)


@strawberry.type(description="How many paid joiners a member brought into an offer through their share links (裂变).")
class GroupBuyReferral:
    offer_id: strawberry.ID = strawberry.field(description="The offer (a GroupBuyOffer global id).")
    member_id: strawberry.ID = strawberry.field(description="The sharer (a Member global id).")
    joins: int = strawberry.field(description="Members who joined through the sharer's links and paid (seated).")


@strawberry.input(description="A checkout line bought in a group-buy (拼团).")
class GroupBuyLineInput:
    offer_id: strawberry.ID = strawberry.field(description="The offer; alone, the buyer opens a group and leads it.")
    share_code: str | None = strawberry.field(
        default=None, description="From a share link (the group's code or a member's myShareCode): join that group."
    )


@strawberry.input(description="Narrows groupBuyOffers; every field left out matches all.")
class GroupBuyOfferFilter:
    window: GroupBuyOfferWindow = strawberry.field(default=GroupBuyOfferWindow.RUNNING, description="RUNNING by default.")
    product_id: strawberry.ID | None = strawberry.field(default=None, description="Only offers on this product (global id).")
    sku_id: strawberry.ID | None = strawberry.field(default=None, description="Only offers that include this SKU (global id).")
