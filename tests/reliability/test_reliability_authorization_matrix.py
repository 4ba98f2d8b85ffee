"""Who may see and do what: every root field of the demo schema, called as seven actors.

The expectations live in one table, ``MATRIX``: for each query, mutation and subscription root
field a string of seven outcomes, one per actor in ``ACTORS`` order::

    anon  A  B  clerkX  clerkY  host  admin

Legend (one character per cell):

    +   allowed, and the call did what it was asked (data came back, no userErrors)
    ~   allowed past authorization, but a business rule said no (a userError that is no denial)
    u   refused: KERNEL_UNAUTHENTICATED (sign in first)
    f   refused: KERNEL_FORBIDDEN or a component's own denial (LIVE_ROOM_NOT_HOST,
        STORE_PICKUP_NOT_YOUR_STORE)
    h   hidden: null, an empty list or connection, or KERNEL_NOT_FOUND for someone else's object

The list of root fields is read from the schema at run time; a field missing from the table
fails the test, so a new field must be declared here before it ships. Every call points at
seeded or freshly made objects of member A (an order, a pickup at store X, points, a
redemption, a lot A bid on, a group A leads, the demo live room), so an allowed cell proves the
caller got through. Mutations that change state get a fresh object per cell.



At the time of writing the demo schema has 97 root fields (34 queries, 60 mutations, 3
subscriptions): 97 x 7 = 679 cells. The cells are checked in parts (``MATRIX_PARTS``, each on a
world of its own) so that both test workers share them; each part prints the count it checked. Revocation (rights
that change while a token lives) is in ``test_reliability_revocation.py``.

The other tests in this file look for leaks between members (B reaching A's orders, points,
pickups, bids through node/nodes, connections, nested fields and subscriptions) and check that
clerks verify pickups only at their own stores.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Awaitable, Callable

import pytest

from core.auth import ANONYMOUS, Actor
from core.gql.context import Context
from core.gql.relay import from_global_id, to_global_id
from core.testing import GraphQLWebSocket, member, serve_kernel, staff

DEMO = (Path(__file__).resolve().parents[2] / "blueprints" / "demo.yaml").read_text(encoding="utf-8")

ACTORS: dict[str, Actor] = {
    "anon": ANONYMOUS,
    "A": member(1),
    "B": member(2),
    "clerkX": staff(2, "store_clerk", stores=(1,)),
    "clerkY": staff(3, "store_clerk", stores=(2,)),
    "host": staff(4, "live_host"),
    "admin": staff(1, "admin"),
}
STORE_X, STORE_Y = 1, 2
ADDRESS = {"recipient": "王小明", "phone": "13812345678", "province": "浙江省", "city": "杭州市", "district": "西湖区",
           "detail": "龙井路 1 号"}

# Codes that mean "you may not": the kernel's and the components' own.
FORBIDDEN_CODES = {"KERNEL_FORBIDDEN", "LIVE_ROOM_NOT_HOST", "STORE_PICKUP_NOT_YOUR_STORE"}

# One row per root field; the literals join into seven cells, grouped as
#                          "anon A" "B" "clerkX clerkY" "host" "admin"
MATRIX: dict[str, str] = {
    # -- queries ---------------------------------------------------------------------------
    "node":                    "h+" "h" "+h" "h" "+",   # A's pickup order at store X
    "nodes":                   "h+" "h" "+h" "h" "+",   # A's pickup order and A's pickup
    "brand":                   "++" "+" "++" "+" "+",
    "storefrontPage":          "++" "+" "++" "+" "+",   # the demo's home page
    "storefrontBlockTypes":    "++" "+" "++" "+" "+",
    "products":                "++" "+" "++" "+" "+",
    "product":                 "++" "+" "++" "+" "+",
    "categories":              "++" "+" "++" "+" "+",
    "me":                      "h+" "+" "hh" "h" "h",
    "staffMe":                 "hh" "h" "++" "+" "+",
    "members":                 "uf" "f" "ff" "f" "+",
    "staffMembers":            "uf" "f" "ff" "f" "+",
    "myShareCode":             "h+" "+" "hh" "h" "h",   # members, and staff with the guide role
    "guideShareCode":          "uf" "f" "ff" "f" "+",   # staff 5, the demo guide
    "myOrders":                "u+" "+" "ff" "f" "f",
    "order":                   "h+" "h" "+h" "h" "+",   # A's pickup order at store X
    "orders":                  "uf" "f" "+h" "f" "+",
    "groupBuyOffer":           "++" "+" "++" "+" "+",
    "groupBuyOffers":          "++" "+" "++" "+" "+",
    "groupBuyGroup":           "++" "+" "++" "+" "+",
    "myGroupBuys":             "u+" "h" "ff" "f" "f",
    "groupBuyReferrals":       "u+" "f" "ff" "f" "+",   # memberId: A
    "myPoints":                "u+" "+" "ff" "f" "f",
    "myPointsLedger":          "u+" "+" "ff" "f" "f",
    "myPointsRedemptions":     "u+" "h" "ff" "f" "f",
    "memberPoints":            "uf" "f" "ff" "f" "+",   # memberId: A
    "pointsMallItems":         "++" "+" "++" "+" "+",
    "pointsMallItem":          "++" "+" "++" "+" "+",
    "auctionLots":             "++" "+" "++" "+" "+",
    "auctionLot":              "++" "+" "++" "+" "+",
    "myAuctionLots":           "u+" "h" "ff" "f" "f",
    "myAuctions":              "u+" "h" "ff" "f" "f",
    "pickupStoresNear":        "++" "+" "++" "+" "+",
    "pickupStore":             "++" "+" "++" "+" "+",
    "pickupStores":            "++" "+" "++" "+" "+",
    "myPickups":               "u+" "h" "ff" "f" "f",
    "storePickups":            "uf" "f" "+f" "f" "+",   # store X
    "pickupOrder":             "h+" "h" "+h" "h" "+",   # A's pickup at store X
    "liveRooms":               "++" "+" "++" "+" "+",
    "liveRoom":                "++" "+" "++" "+" "+",
    "liveRoomReservations":    "++" "+" "++" "+" "+",
    "liveRoomReservationBoard": "uf" "f" "++" "+" "+",  # every staff member follows the warm-up board
    "myCart":                  "u+" "+" "ff" "f" "f",
    "previewCheckout":         "u+" "+" "ff" "f" "f",
    "myShippingAddresses":     "u+" "h" "ff" "f" "f",   # A has an address, B none
    "refundRequests":          "uf" "f" "hh" "f" "+",   # A's request on a shipping order: no store's
    "myNotifications":         "u+" "+" "ff" "f" "f",
    "myNotificationConsents":  "u+" "+" "ff" "f" "f",
    "couponTemplates":         "++" "+" "++" "+" "+",   # the claim centre is public
    "couponTemplate":          "++" "+" "++" "+" "+",
    "insights":                "uf" "f" "ff" "f" "+",   # staff with insights.view (admin): the demo's paid orders
    "myCoupons":               "u+" "+" "ff" "f" "f",
    "myGuide":                 "u+" "+" "ff" "f" "f",   # the demo binds A and B to guide 5
    "myChannelCode":           "u+" "+" "hh" "h" "h",   # members, and staff with the guide role
    "storeChannelCode":        "uf" "f" "ff" "f" "+",   # store X
    "myGuideCustomers":        "uf" "f" "hh" "h" "h",   # none of these staff is a guide: nobody bound to them
    "guideCustomers":          "uf" "f" "ff" "f" "+",   # guide 5's customers (A, B)
    "guideBindingRules":       "uf" "f" "++" "+" "+",
    "myGuideFigures":          "uf" "f" "++" "+" "+",
    "guideFigures":            "uf" "f" "ff" "f" "+",   # guide 5 added A and B today
    "guideLeaderboard":        "uf" "f" "ff" "f" "+",
    "idleGuides":              "uf" "f" "ff" "f" "+",   # a period long ago: guide 5 added nobody then
    "flashSaleSessions":       "++" "+" "++" "+" "+",
    "flashSaleSession":        "++" "+" "++" "+" "+",
    # distribution: A and B are demo promoters (B bound to A, member 3 to B); a paid order of
    # member 3 and credited balances are made before the first cell (_distribution_world)
    "myPromoter":              "u+" "+" "ff" "f" "f",
    "myCustomers":             "u+" "+" "ff" "f" "f",
    "myCommissions":           "u+" "+" "ff" "f" "f",
    "myCommissionLedger":      "u+" "+" "ff" "f" "f",
    "myWithdrawals":           "u+" "+" "ff" "f" "f",
    "promoterLeaderboard":     "u+" "+" "ff" "f" "+",
    "promoters":               "uf" "f" "ff" "f" "+",
    "promoterWithdrawals":     "uf" "f" "ff" "f" "+",
    "commissionRules":         "uf" "f" "ff" "f" "+",
    "distributionReport":      "uf" "f" "ff" "f" "+",
    "myMemberTier":            "u+" "+" "ff" "f" "f",
    "myGrowthLedger":          "u+" "+" "ff" "f" "f",
    "memberTiers":             "++" "+" "++" "+" "+",
    "membershipTerms":         "++" "+" "++" "+" "+",
    "memberTierStatus":        "uf" "f" "ff" "f" "+",   # memberId: A
    "memberProfiles":          "uf" "f" "ff" "f" "+",   # segments and stages are staff-only, even one's own
    "memberProfile":           "uf" "f" "ff" "f" "+",   # memberId: A
    "memberTags":              "uf" "f" "ff" "f" "+",
    "memberTag":               "uf" "f" "ff" "f" "+",   # the demo's VIP tag

    # -- mutations -------------------------------------------------------------------------
    "createProduct":           "uf" "f" "ff" "f" "+",
    "updateProduct":           "uf" "f" "ff" "f" "+",
    "createSku":               "uf" "f" "ff" "f" "+",
    "updateSku":               "uf" "f" "ff" "f" "+",
    "createCategory":          "uf" "f" "ff" "f" "+",
    "setStock":                "uf" "f" "ff" "f" "+",
    "signInForDevelopment":    "++" "+" "++" "+" "+",   # dev_sign_in: true in the demo blueprint
    "signIn":                  "~~" "~" "~~" "~" "~",   # no identity provider installed
    "bindWeChatPhone":         "u~" "~" "ff" "f" "f",   # members only; WeChat is not configured in the demo
    # Staff administration is the admins'; every cell changes a fresh staff member of its own.
    "inviteStaff":             "uf" "f" "ff" "f" "+",
    "setStaffRoles":           "uf" "f" "ff" "f" "+",
    "deactivateStaff":         "uf" "f" "ff" "f" "+",
    "reactivateStaff":         "uf" "f" "ff" "f" "+",   # a fresh, deactivated host
    "renewStaffSignInCode":    "uf" "f" "ff" "f" "+",
    "createOrder":             "u+" "+" "ff" "f" "f",
    "payOrder":                "u+" "h" "ff" "f" "+",   # A's unpaid order
    "sandboxSettlePayment":    "u+" "h" "ff" "f" "+",   # a payment of A's order
    "sandboxSettlePaymentIntent": "u+" "h" "ff" "f" "+",   # a fresh payment intent of A (a deposit)
    "grantNotificationConsent": "u+" "+" "ff" "f" "f",   # members only: their own consents
    "cancelOrder":             "u+" "h" "ff" "f" "+",   # A's unpaid order
    "refundOrder":             "uf" "f" "ff" "f" "+",   # A's paid pickup order at store X
    # (A pickup still awaiting collection is fulfilled by nobody: only confirmPickup hands it
    # over. The clerk test below checks that; it was open before this matrix was written.)
    "fulfilOrder":             "uf" "f" "hh" "f" "+",   # A's paid shipping order: no store's business
    "completeOrder":           "u+" "h" "hh" "f" "+",   # A's fulfilled shipping order
    "createGroupBuyOffer":     "uf" "f" "ff" "f" "+",
    "updateGroupBuyOffer":     "uf" "f" "ff" "f" "+",   # a fresh offer per cell
    "endGroupBuyOffer":        "uf" "f" "ff" "f" "+",
    "withdrawGroupBuyOffer":   "uf" "f" "ff" "f" "+",
    "openGroup":               "u+" "+" "ff" "f" "f",
    "joinGroup":               "u+" "+" "ff" "f" "f",   # a fresh group of member 3
    "redeemPointsItem":        "u+" "+" "ff" "f" "f",
    "signInDaily":             "u+" "+" "ff" "f" "f",
    "checkInDaily":            "u+" "+" "ff" "f" "f",   # today's check-in forgotten first (signInDaily is the same one)
    "adjustPoints":            "uf" "f" "ff" "f" "+",
    "createPointsMallItem":    "uf" "f" "ff" "f" "+",
    "updatePointsMallItem":    "uf" "f" "ff" "f" "+",
    "setMemberTier":           "uf" "f" "ff" "f" "+",
    "createAuctionLot":        "uf" "f" "ff" "+" "+",
    "scheduleAuctionLot":      "uf" "f" "ff" "+" "+",
    "cancelAuctionLot":        "uf" "f" "ff" "+" "+",
    "payLotDeposit":           "u+" "+" "ff" "f" "f",
    "placeBid":                "u+" "+" "ff" "f" "f",
    "buyNow":                  "u+" "+" "ff" "f" "f",
    "createPickupStore":       "uf" "f" "ff" "f" "+",
    "updatePickupStore":       "uf" "f" "ff" "f" "+",
    "createPickupSlots":       "uf" "f" "ff" "f" "+",
    "checkoutPickup":          "u+" "+" "ff" "f" "f",
    "choosePickupStore":       "u+" "h" "ff" "f" "f",   # A's unpaid order
    # Verifying is done at a store's counter: an admin holds no store, so is refused too.
    "previewPickup":           "uf" "f" "+f" "f" "f",   # A's code at store X
    "confirmPickup":           "uf" "f" "+f" "f" "f",   # a fresh pickup of A at store X
    "createLiveRoom":          "uf" "f" "ff" "+" "+",
    "updateLiveRoom":          "uf" "f" "ff" "+" "+",   # rooms of the host
    "startLiveRoom":           "uf" "f" "ff" "+" "+",
    "pauseLiveRoom":           "uf" "f" "ff" "+" "+",
    "resumeLiveRoom":          "uf" "f" "ff" "+" "+",
    "endLiveRoom":             "uf" "f" "ff" "+" "+",
    "cancelLiveRoom":          "uf" "f" "ff" "+" "+",
    "setLiveRoomShelfItem":    "uf" "f" "ff" "+" "+",
    "presentLiveRoomProduct":  "uf" "f" "ff" "+" "+",
    "muteLiveRoomViewer":      "uf" "f" "ff" "+" "+",
    "muteLiveRoom":            "uf" "f" "ff" "+" "+",
    "joinLiveRoom":            "u+" "+" "ff" "f" "f",
    "leaveLiveRoom":           "u+" "+" "ff" "f" "f",
    "heartbeatLiveRoom":       "u+" "+" "ff" "f" "f",
    "sendLiveRoomComment":     "u+" "+" "ff" "f" "f",
    "likeLiveRoom":            "u+" "+" "ff" "f" "f",
    "createLiveRoomOrder":     "u+" "+" "ff" "f" "f",
    "reserveLiveRoom":         "u+" "+" "ff" "f" "f",   # a fresh upcoming room
    "cancelLiveRoomReservation": "u+" "+" "ff" "f" "f",  # a fresh room the member reserved
    "placeOrder":              "u+" "+" "ff" "f" "f",
    "addCartLine":             "u+" "+" "ff" "f" "f",
    "updateCartLine":          "u+" "h" "ff" "f" "f",   # a line of A's cart
    "removeCartLine":          "u+" "h" "ff" "f" "f",   # a line of A's cart
    "addShippingAddress":      "u+" "+" "ff" "f" "f",
    "updateShippingAddress":   "u+" "h" "ff" "f" "f",   # an address of A
    "removeShippingAddress":   "u+" "h" "ff" "f" "f",   # an address of A
    "shipOrder":               "uf" "f" "hh" "f" "+",   # A's paid shipping order
    "requestRefund":           "u+" "h" "ff" "f" "f",   # A's paid order
    "cancelRefundRequest":     "u+" "h" "ff" "f" "f",   # A's open request
    "approveRefundRequest":    "uf" "f" "ff" "f" "+",   # A's open request
    "rejectRefundRequest":     "uf" "f" "ff" "f" "+",   # A's open request
    "receiveReturnedGoods":    "uf" "f" "ff" "f" "+",   # A's approved return
    "createCouponTemplate":    "uf" "f" "ff" "f" "+",
    "setCouponTemplateActive": "uf" "f" "ff" "f" "+",
    "claimCoupon":             "u+" "+" "ff" "f" "f",   # a fresh claim-centre template per cell
    "pushCoupons":             "uf" "f" "ff" "f" "+",   # a fresh push template per cell, to A
    "touchChannelCode":        "u+" "+" "ff" "f" "f",   # guide 5's code (A, B already bound: nothing changes)
    "transferGuideCustomers":  "uf" "f" "ff" "f" "+",   # between two fresh guides
    "placeOrderForCustomer":   "uf" "f" "ff" "f" "~",   # the admin passes the permission but is no guide
    "createFlashSaleSession":  "uf" "f" "ff" "f" "+",
    "buyFlashSaleItem":        "u+" "+" "ff" "f" "f",   # the demo session running now
    "applyForPromoter":        "u~" "~" "ff" "f" "f",   # A and B are promoters already
    "bindPromoter":            "u+" "~" "ff" "f" "f",   # a fresh promoter per cell: A is unbound, B is A's for good
    "reviewPromoterApplication": "uf" "f" "ff" "f" "+",  # a fresh applicant per cell
    "setCommissionRule":       "uf" "f" "ff" "f" "+",
    "requestWithdrawal":       "u+" "+" "ff" "f" "f",   # A and B have credited balances
    "reviewWithdrawal":        "uf" "f" "ff" "f" "+",   # a fresh request of A per cell
    "buyMembershipTerm":       "u+" "+" "ff" "f" "f",   # the demo's SVIP 月卡: an order to pay
    "adjustMemberGrowth":      "uf" "f" "ff" "f" "+",   # +1 growth for A, with a reason
    "createMemberTag":         "uf" "f" "ff" "f" "+",   # a fresh name per cell
    "deleteMemberTag":         "uf" "f" "ff" "f" "+",   # a fresh manual tag per cell
    "tagMembers":              "uf" "f" "ff" "f" "+",   # A, with the demo's VIP tag
    "untagMembers":            "uf" "f" "ff" "f" "+",
    # -- subscriptions ---------------------------------------------------------------------
    "groupBuyProgress":        "++" "+" "++" "+" "+",   # the share page is public
    "auctionLotUpdates":       "++" "+" "++" "+" "+",   # bidders are masked labels
    "liveRoomEvents":          "++" "+" "++" "+" "+",
}


# -- the world every cell runs in --------------------------------------------------------------

CNY = lambda n: {"amountMinor": n, "currency": "CNY"}  # noqa: E731
G = to_global_id


@dataclass
class World:
    kernel: Any
    clients: dict[str, Any]
    sku: str = ""                 # a SKU with plenty of stock, for fresh orders
    a_order: str = ""             # A's seeded paid order (shipping)
    a_pickup: str = ""            # A's paid pickup at store X
    a_pickup_code: str = ""
    a_pickup_order: str = ""      # the order behind it
    a_redemption: str = ""
    lot: str = ""                 # the demo lot, A leads it
    offer: str = ""
    join_offer: str = ""          # generous limits: member 3 opens a fresh group per joinGroup cell
    group: str = ""               # A leads it, member 3 joined through A's link
    group_code: str = ""
    room: str = ""                # the demo room (scheduled)
    live_room: str = ""           # a room of the host that is live
    counter: itertools.count = field(default_factory=lambda: itertools.count(1))

    def c(self, actor: str) -> Any:
        return self.clients[actor]

    async def ok(self, actor: str, document: str, **variables: Any) -> dict[str, Any]:
        payload = await self.c(actor).mutate(document, variables)
        assert payload.get("userErrors") in (None, []), payload
        return payload

    # fresh objects -------------------------------------------------------------------------
    async def order_of_a(self, *, paid: bool = False, pickup: bool = False) -> str:
        if pickup:
            made = await self.ok("A", CHECKOUT, input={"storeId": G("PickupStore", STORE_X), "lines": [{"skuId": self.sku, "quantity": 1}]})
        else:
            made = await self.ok("A", CREATE_ORDER, input={"lines": [{"skuId": self.sku, "quantity": 1}]})
        order = made["order"]["id"]
        if paid:
            await self.pay("A", order)
        return order

    async def shipped_from_x(self, *, fulfilled: bool = False) -> str:
        """A paid shipping order of A. A shipping order names no store (only pickup orders do),
        so store clerks do not see it: shipping is the brand's business, not a store's."""
        async with self.kernel.transaction() as tx:
            pk = await self.kernel.service("orders").create_order(tx, member_id=1, lines=[(6, 1)])
        order = G("Order", pk)
        await self.pay("A", order)
        if fulfilled:
            await self.ok("admin", "mutation($id: ID!) { fulfilOrder(input: {orderId: $id}) { userErrors { code } } }", id=order)
        return order

    async def refund_request_of_a(self, *, kind: str = "REFUND_ONLY", approved: bool = False) -> str:
        """An after-sale request of A on a fresh paid (for a return: shipped) order."""
        order = await self.shipped_from_x(fulfilled=kind == "RETURN_AND_REFUND")
        line = (await self.c("A").data("query($id: ID!) { order(id: $id) { lines { id } } }", id=order))["order"]["lines"][0]["id"]
        made = await self.ok("A", """mutation($i: RequestRefundInput!) { requestRefund(input: $i) { request { id } userErrors { code } } }""",
                             i={"orderId": order, "kind": kind, "lines": [{"lineId": line, "quantity": 1}], "reason": "matrix"})
        request = made["request"]["id"]
        if approved:
            await self.ok("admin", """mutation($id: ID!) { approveRefundRequest(input: {requestId: $id}) { userErrors { code } } }""",
                          id=request)
        return request

    async def address_of_a(self) -> str:
        """An address in A's book (a new one while the book is short: removing cells use them up)."""
        book = (await self.c("A").data("{ myShippingAddresses { id } }"))["myShippingAddresses"]
        if len(book) >= 3:
            return book[-1]["id"]
        made = await self.ok("A", """mutation($i: ShippingAddressInput!) { addShippingAddress(input: $i) {
          address { id } userErrors { code } } }""", i=ADDRESS)
        return made["address"]["id"]

    async def pay(self, actor: str, order: str) -> str:
        payment = (await self.ok(actor, PAY, id=order))["payment"]["id"]
        await self.ok(actor, SETTLE, id=payment)
        return payment

    async def deposit(self, actor: str, lot: str) -> None:
        """A paid deposit: payLotDeposit places the deposit order, paid like any order."""
        await self.pay(actor, (await self.ok(actor, DEPOSIT, lot=lot))["order"]["id"])

    async def pickup_of_a(self) -> tuple[str, str]:
        made = await self.ok("A", CHECKOUT, input={"storeId": G("PickupStore", STORE_X), "lines": [{"skuId": self.sku, "quantity": 1}]})
        await self.pay("A", made["order"]["id"])
        mine = await self.c("A").data("query($id: ID!) { pickupOrder(id: $id) { code state } }", id=made["pickup"]["id"])
        assert mine["pickupOrder"]["state"] == "AWAITING_PICKUP", mine
        return made["pickup"]["id"], mine["pickupOrder"]["code"]

    async def lot_(self, *, schedule: bool = True, buy_now: bool = False) -> str:
        now = self.kernel.clock.now()
        fields = {"skuId": self.sku, "startPrice": CNY(10000), "increment": CNY(1000), "deposit": CNY(1000), "schedule": schedule,
                  "startsAt": (now - timedelta(minutes=1)).isoformat(), "endsAt": (now + timedelta(days=1)).isoformat()}
        if buy_now:
            fields["buyNowPrice"] = CNY(50000)
        return (await self.ok("admin", CREATE_LOT, input=fields))["lot"]["id"]

    async def room_(self, state: str = "scheduled") -> str:
        now = self.kernel.clock.now()
        room = (await self.ok("host", CREATE_ROOM, input={
            "title": f"room {next(self.counter)}", "scheduledStartAt": (now + timedelta(hours=1)).isoformat(),
            "scheduledEndAt": (now + timedelta(hours=3)).isoformat(),
            "shelf": [{"productId": G("Product", 3)}]}))["room"]["id"]
        for step in {"scheduled": (), "live": ("start",), "paused": ("start", "pause")}[state]:
            await self.ok("host", ROOM_STEP % step, id=room)
        return room

    async def group_of_member_3(self) -> str:
        opened = await self.ok("m3", OPEN_GROUP, offer=self.join_offer)
        await self.pay("m3", opened["order"]["id"])
        return opened["group"]["shareCode"]


CREATE_ORDER = "mutation($input: CreateOrderInput!) { createOrder(input: $input) { order { id } userErrors { code } } }"
CHECKOUT = """mutation($input: CheckoutPickupInput!) { checkoutPickup(input: $input) {
  order { id } pickup { id } userErrors { code } } }"""
PAY = "mutation($id: ID!) { payOrder(input: {orderId: $id}) { payment { id } userErrors { code } } }"
SETTLE = "mutation($id: ID!) { sandboxSettlePayment(input: {paymentId: $id}) { order { status } userErrors { code } } }"
CREATE_LOT = "mutation($input: CreateAuctionLotInput!) { createAuctionLot(input: $input) { lot { id } userErrors { code message } } }"
DEPOSIT = "mutation($lot: ID!) { payLotDeposit(input: {lotId: $lot}) { lot { id } order { id } userErrors { code } } }"
BID = """mutation($lot: ID!, $amount: Long!) { placeBid(input: {lotId: $lot, amount: {amountMinor: $amount, currency: "CNY"}}) {
  leading userErrors { code } } }"""
CREATE_ROOM = "mutation($input: CreateLiveRoomInput!) { createLiveRoom(input: $input) { room { id } userErrors { code message } } }"
ROOM_STEP = "mutation($id: ID!) { %sLiveRoom(input: {roomId: $id}) { userErrors { code } } }"
OPEN_GROUP = """mutation($offer: ID!) { openGroup(input: {offerId: $offer}) {
  group { id shareCode } order { id } userErrors { code } } }"""
ADJUST = "mutation($input: AdjustPointsInput!) { adjustPoints(input: $input) { balance userErrors { code } } }"
JOIN_GROUP = """mutation($code: String!) { joinGroup(input: {shareCode: $code}) { order { id } userErrors { code } } }"""


async def build_world(kernel_factory, graphql) -> World:
    kernel = await kernel_factory(DEMO, seed_demo=True)
    clients = {name: graphql(kernel, actor if actor.kind != "anonymous" else None) for name, actor in ACTORS.items()}
    clients["m3"] = graphql(kernel, member(3))
    w = World(kernel, clients)
    # Jasmine 50g (SKU 6): plenty of stock so that every fresh order finds some.
    w.sku = G("Sku", 6)
    await w.ok("admin", "mutation($sku: ID!) { setStock(input: {skuId: $sku, onHand: 100000}) { userErrors { code } } }", sku=w.sku)
    w.a_order = G("Order", 1)
    w.a_pickup, w.a_pickup_code = await w.pickup_of_a()
    w.a_pickup_order = (await w.c("A").data("query($id: ID!) { pickupOrder(id: $id) { order { id } } }", id=w.a_pickup))["pickupOrder"]["order"]["id"]
    for who in ("A", "B"):
        await w.ok("admin", ADJUST, input={"memberId": G("Member", ACTORS[who].id), "delta": 100000, "note": "matrix"})
    redeemed = await w.ok("A", "mutation { redeemPointsItem(input: {itemId: \"%s\"}) { redemption { id } userErrors { code } } }"
                          % G("PointsMallItem", 1))
    w.a_redemption = redeemed["redemption"]["id"]
    # The demo lot: A pays the deposit and leads.
    w.lot = G("AuctionLot", 1)
    await w.deposit("A", w.lot)
    assert (await w.ok("A", BID, lot=w.lot, amount=300000))["leading"] is True
    # The demo offer: A opens a group and pays; member 3 joins through A's share code and pays.
    w.offer = G("GroupBuyOffer", 1)
    opened = await w.ok("A", OPEN_GROUP, offer=w.offer)
    await w.pay("A", opened["order"]["id"])
    w.group, w.group_code = opened["group"]["id"], opened["group"]["shareCode"]
    joined = await w.ok("m3", JOIN_GROUP, code=w.group_code)
    await w.pay("m3", joined["order"]["id"])
    w.join_offer = (await w.ok("admin", """mutation($input: CreateGroupBuyOfferInput!) { createGroupBuyOffer(input: $input) {
      offer { id } userErrors { code } } }""", input={
        "skuId": w.sku, "groupPrice": CNY(500), "groupSize": 3, "totalLimit": 100, "perMemberLimit": 20,
        "startsAt": now_plus(w, hours=-1), "endsAt": now_plus(w, days=2)}))["offer"]["id"]
    w.room = G("LiveRoom", 1)
    w.live_room = await w.room_("live")
    await w.ok("m3", "mutation($id: ID!) { joinLiveRoom(input: {roomId: $id}) { userErrors { code } } }", id=w.live_room)
    return w


# -- one case per root field ---------------------------------------------------------------------

Vars = Callable[[World, str], Awaitable[dict[str, Any]]]


@dataclass
class Case:
    document: str
    variables: Vars | None = None


def static(**values: Any) -> Vars:
    """Variables that are the same for every actor (a callable value is given the world)."""

    async def make(w: World, actor: str) -> dict[str, Any]:
        return {k: (v(w) if callable(v) else v) for k, v in values.items()}
    return make


def mutation(name: str, input_type: str, make: Callable[[World, str], Awaitable[dict[str, Any]]] | None,
             extra: str = "") -> Case:
    """A mutation document selecting only ``userErrors`` (and ``extra``), with ``$input``."""
    if make is None:
        return Case(f"mutation {{ {name} {{ userErrors {{ code message }} {extra} }} }}")

    async def variables(w: World, actor: str) -> dict[str, Any]:
        return {"input": await make(w, actor)}

    return Case(f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ userErrors {{ code message }} {extra} }} }}", variables)


def now_plus(w: World, **delta: Any) -> str:
    return (w.kernel.clock.now() + timedelta(**delta)).isoformat()


async def _deposit_then(w: World, actor: str, lot: str) -> None:
    if ACTORS[actor].is_member:
        await w.deposit(actor, lot)


async def _place_bid(w: World, actor: str) -> dict[str, Any]:
    lot = await w.lot_()
    await _deposit_then(w, actor, lot)
    return {"lotId": lot, "amount": CNY(10000)}


async def _confirm(w: World, actor: str) -> dict[str, Any]:
    _pickup, code = await w.pickup_of_a()
    return {"storeId": G("PickupStore", STORE_X), "code": code}


async def _settle(w: World, actor: str) -> dict[str, Any]:
    order = await w.order_of_a()
    return {"paymentId": (await w.ok("A", PAY, id=order))["payment"]["id"]}


async def _joined_room(w: World, actor: str) -> dict[str, Any]:
    if ACTORS[actor].is_member:
        await w.ok(actor, "mutation($id: ID!) { joinLiveRoom(input: {roomId: $id}) { userErrors { code } } }", id=w.live_room)
    return {"roomId": w.live_room}


async def _consenting(w: World, actor: str) -> dict[str, Any]:
    """A member who accepted a template, so their consent list is not empty."""
    if ACTORS[actor].is_member:
        async with w.kernel.transaction() as tx:
            await w.kernel.service("notifications").grant(tx, ACTORS[actor].id, ["DEMO_PICKUP_READY"])
    return {}


async def _intent_of_a(w: World, actor: str) -> dict[str, Any]:
    async with w.kernel.transaction() as tx:
        intent, _ = await w.kernel.service("orders").intents.create(
            tx, member_id=1, amount_minor=500, purpose="bidding_sale.deposit", reference="matrix", description="matrix")
    return {"intentId": str(intent.id)}
async def _reserved_room(w: World, actor: str) -> dict[str, Any]:
    room = await w.room_("scheduled")
    if ACTORS[actor].is_member:
        await w.ok(actor, "mutation($id: ID!) { reserveLiveRoom(input: {roomId: $id}) { userErrors { code } } }", id=room)
    return {"roomId": room}


def room_step(state: str) -> Callable[[World, str], Awaitable[dict[str, Any]]]:
    async def make(w: World, actor: str) -> dict[str, Any]:
        return {"roomId": await w.room_(state)}
    return make


CASES: dict[str, Case] = {
    # queries
    "node": Case("query($id: ID!) { node(id: $id) { id ... on Order { status } } }", static(id=lambda w: w.a_pickup_order)),
    "nodes": Case("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", static(ids=lambda w: [w.a_pickup_order, w.a_pickup])),
    "brand": Case("{ brand { slug } }"),
    "storefrontPage": Case('{ storefrontPage(slug: "home") { blocks { key blockType } } }'),
    "storefrontBlockTypes": Case("{ storefrontBlockTypes { name } }"),
    "products": Case("{ products { nodes { id } } }"),
    "product": Case("query($id: ID!) { product(id: $id) { id title } }", static(id=G("Product", 1))),
    "categories": Case("{ categories { id } }"),
    "me": Case("{ me { id } }"),
    "staffMe": Case("{ staffMe { id } }"),
    "members": Case("{ members { nodes { id } } }"),
    "staffMembers": Case("{ staffMembers { nodes { id } } }"),
    "myShareCode": Case("{ myShareCode }"),
    "guideShareCode": Case("query($id: ID!) { guideShareCode(staffId: $id) }", static(id=G("Staff", 5))),
    "myOrders": Case("{ myOrders { nodes { id } } }"),
    "order": Case("query($id: ID!) { order(id: $id) { id status } }", static(id=lambda w: w.a_pickup_order)),
    "orders": Case("{ orders { nodes { id } } }"),
    "groupBuyOffer": Case("query($id: ID!) { groupBuyOffer(id: $id) { id } }", static(id=lambda w: w.offer)),
    "groupBuyOffers": Case("{ groupBuyOffers { nodes { id } } }"),
    "groupBuyGroup": Case("query($id: ID!) { groupBuyGroup(id: $id) { id seatsFilled } }", static(id=lambda w: w.group)),
    "myGroupBuys": Case("{ myGroupBuys { nodes { id } } }"),
    "groupBuyReferrals": Case("query($m: ID!) { groupBuyReferrals(memberId: $m) { memberId joins } }", static(m=G("Member", 1))),
    "myPoints": Case("{ myPoints { balance } }"),
    "myPointsLedger": Case("{ myPointsLedger { nodes { id } } }"),
    "myPointsRedemptions": Case("{ myPointsRedemptions { nodes { id } } }"),
    "memberPoints": Case("query($m: ID!) { memberPoints(memberId: $m) { balance } }", static(m=G("Member", 1))),
    "pointsMallItems": Case("{ pointsMallItems { nodes { id } } }"),
    "pointsMallItem": Case("query($id: ID!) { pointsMallItem(id: $id) { id } }", static(id=G("PointsMallItem", 1))),
    "auctionLots": Case("{ auctionLots { nodes { id } } }"),
    "auctionLot": Case("query($id: ID!) { auctionLot(id: $id) { id leader } }", static(id=lambda w: w.lot)),
    "myAuctionLots": Case("{ myAuctionLots { id } }"),
    "myAuctions": Case("{ myAuctions { nodes { id } } }"),
    "pickupStoresNear": Case("{ pickupStoresNear(latitude: 31.23, longitude: 121.47, openOnly: false) { distanceMeters } }"),
    "pickupStore": Case("query($id: ID!) { pickupStore(id: $id) { id } }", static(id=G("PickupStore", STORE_X))),
    "pickupStores": Case("{ pickupStores { nodes { id } } }"),
    "myPickups": Case("{ myPickups { nodes { id } } }"),
    "storePickups": Case("query($s: ID!) { storePickups(storeId: $s) { nodes { id } } }", static(s=G("PickupStore", STORE_X))),
    "pickupOrder": Case("query($id: ID!) { pickupOrder(id: $id) { id state } }", static(id=lambda w: w.a_pickup)),
    "liveRooms": Case("{ liveRooms { nodes { id } } }"),
    "liveRoom": Case("query($id: ID!) { liveRoom(id: $id) { id } }", static(id=lambda w: w.room)),
    "liveRoomReservations": Case("query($id: ID!) { liveRoomReservations(roomId: $id) { reservationCount } }",
                                 static(id=lambda w: w.room)),
    "liveRoomReservationBoard": Case("query($id: ID!) { liveRoomReservationBoard(roomId: $id) { total } }",
                                     static(id=lambda w: w.room)),
    "myCart": Case("{ myCart { lines { id } } }"),
    "previewCheckout": Case("query($sku: ID!) { previewCheckout(input: {lines: [{skuId: $sku, quantity: 1}]}) { preview { total { amountMinor } } } }",
                            static(sku=lambda w: w.sku)),
    "myShippingAddresses": Case("{ myShippingAddresses { id } }", lambda w, a: _after(w.address_of_a())),
    "myNotifications": Case("{ myNotifications { edges { node { id } } } }"),
    "myNotificationConsents": Case("{ myNotificationConsents { templateId } }", lambda w, a: _consenting(w, a)),
    "refundRequests": Case("{ refundRequests { nodes { id } } }", lambda w, a: _after(w.refund_request_of_a())),
    "couponTemplates": Case("{ couponTemplates { nodes { id } } }"),
    "couponTemplate": Case("query($id: ID!) { couponTemplate(id: $id) { id } }", static(id=G("CouponTemplate", 1))),
    "memberProfiles": Case("{ memberProfiles(first: 5) { nodes { id stage segment } } }"),
    "memberProfile": Case("query($id: ID!) { memberProfile(memberId: $id) { id stage tags { name } } }", static(id=G("Member", 1))),
    "memberTags": Case("{ memberTags { nodes { id name memberCount } } }"),
    "memberTag": Case("query($id: ID!) { memberTag(id: $id) { id name } }", static(id=G("MemberTag", 1))),
    "insights": Case('{ insights(period: {from: "2026-01-01", to: "2026-01-31"}) { sales { orders } } }'),
    "myCoupons": Case("{ myCoupons { nodes { id } } }"),
    "myGuide": Case("{ myGuide { guideId } }"),
    "myChannelCode": Case("{ myChannelCode { code } }"),
    "storeChannelCode": Case("query($s: ID!) { storeChannelCode(storeId: $s) { code } }", static(s=G("PickupStore", STORE_X))),
    "myGuideCustomers": Case("{ myGuideCustomers { nodes { memberId } } }"),
    "guideCustomers": Case("query($g: ID!) { guideCustomers(guideId: $g) { nodes { memberId } } }", static(g=G("Staff", 5))),
    "guideBindingRules": Case("{ guideBindingRules { mode } }"),
    "myGuideFigures": Case("{ myGuideFigures { membersAdded } }"),
    "guideFigures": Case("{ guideFigures(holderKind: GUIDE) { nodes { holderId } } }"),
    "guideLeaderboard": Case("{ guideLeaderboard(holderKind: GUIDE, metric: MEMBERS_ADDED) { rank } }"),
    "idleGuides": Case('{ idleGuides(from: "2020-01-01", to: "2020-01-31") { nodes { id } } }'),
    "myMemberTier": Case("{ myMemberTier { growth tier { code } } }"),
    "myGrowthLedger": Case("{ myGrowthLedger { nodes { id } } }"),
    "memberTiers": Case("{ memberTiers { code } }"),
    "membershipTerms": Case("{ membershipTerms { code } }"),
    "memberTierStatus": Case("query($m: ID!) { memberTierStatus(memberId: $m) { growth } }", static(m=G("Member", 1))),
    "flashSaleSessions": Case("{ flashSaleSessions { nodes { id } } }"),
    "flashSaleSession": Case("query($id: ID!) { flashSaleSession(id: $id) { id } }", static(id=G("FlashSaleSession", 1))),
    "myPromoter": Case("{ myPromoter { id status } }"),
    "myCustomers": Case("{ myCustomers { nodes { memberId } } }"),
    "myCommissions": Case("{ myCommissions { nodes { id } } }", lambda w, a: _distribution_world(w)),
    "myCommissionLedger": Case("{ myCommissionLedger { nodes { id } } }", lambda w, a: _distribution_world(w)),
    "myWithdrawals": Case("{ myWithdrawals { nodes { id } } }", lambda w, a: _distribution_world(w)),
    "promoterLeaderboard": Case("{ promoterLeaderboard { rank } }", lambda w, a: _distribution_world(w)),
    "promoters": Case("{ promoters { nodes { id } } }"),
    "promoterWithdrawals": Case("{ promoterWithdrawals { nodes { id } } }", lambda w, a: _distribution_world(w)),
    "commissionRules": Case("{ commissionRules { nodes { id } } }"),
    "distributionReport": Case("{ distributionReport { activePromoters } }"),
    # mutations
    "createProduct": mutation("createProduct", "CreateProductInput", static(title="matrix tea", skus=[{"title": "1", "price": CNY(100)}])),
    "updateProduct": mutation("updateProduct", "UpdateProductInput", static(id=G("Product", 2), description="checked")),
    "createSku": mutation("createSku", "CreateSkuInput", lambda w, a: _v(productId=G("Product", 2), sku={"title": f"m{next(w.counter)}", "price": CNY(100)})),
    "updateSku": mutation("updateSku", "UpdateSkuInput", static(id=G("Sku", 4), title="357g 饼")),
    "createCategory": mutation("createCategory", "CreateCategoryInput", lambda w, a: _v(name=f"matrix {next(w.counter)}")),
    "setStock": mutation("setStock", "SetStockInput", static(skuId=G("Sku", 7), onHand=100)),
    "signInForDevelopment": mutation("signInForDevelopment", "SignInForDevelopmentInput", static(memberId=G("Member", 5)), "token"),
    "signIn": mutation("signIn", "SignInInput", static(provider="wechat", credential="code")),
    "bindWeChatPhone": mutation("bindWeChatPhone", "BindWeChatPhoneInput", static(code="phone-code")),
    "inviteStaff": mutation("inviteStaff", "InviteStaffInput", static(name="matrix host", roles=["live_host"])),
    "setStaffRoles": mutation("setStaffRoles", "SetStaffRolesInput", lambda w, a: _fresh_staff(
        w, roles=["store_clerk"], storeIds=[G("PickupStore", STORE_Y)])),
    "deactivateStaff": mutation("deactivateStaff", "StaffIdInput", lambda w, a: _fresh_staff(w)),
    "reactivateStaff": mutation("reactivateStaff", "StaffIdInput", lambda w, a: _fresh_staff(w, deactivated=True)),
    "renewStaffSignInCode": mutation("renewStaffSignInCode", "StaffIdInput", lambda w, a: _fresh_staff(w)),
    "createOrder": mutation("createOrder", "CreateOrderInput", lambda w, a: _v(lines=[{"skuId": w.sku, "quantity": 1}])),
    "payOrder": mutation("payOrder", "PayOrderInput", lambda w, a: _fresh_order(w)),
    "sandboxSettlePayment": mutation("sandboxSettlePayment", "SandboxSettlePaymentInput", _settle),
    "grantNotificationConsent": mutation("grantNotificationConsent", "GrantNotificationConsentInput",
                                         static(templateIds=["DEMO_PICKUP_READY"])),
    "sandboxSettlePaymentIntent": mutation("sandboxSettlePaymentIntent", "SandboxSettlePaymentIntentInput", _intent_of_a),
    "cancelOrder": mutation("cancelOrder", "OrderIdInput", lambda w, a: _fresh_order(w)),
    "refundOrder": mutation("refundOrder", "RefundOrderInput", lambda w, a: _fresh_order(w, paid=True, pickup=True)),
    "fulfilOrder": mutation("fulfilOrder", "OrderIdInput", lambda w, a: _from_x(w)),
    "completeOrder": mutation("completeOrder", "OrderIdInput", lambda w, a: _from_x(w, fulfilled=True)),
    "createGroupBuyOffer": mutation("createGroupBuyOffer", "CreateGroupBuyOfferInput", lambda w, a: _v(
        skuId=G("Sku", 8 + next(w.counter) % 3), groupPrice=CNY(500), groupSize=2, totalLimit=10,
        startsAt=now_plus(w, hours=-1), endsAt=now_plus(w, days=2))),
    "updateGroupBuyOffer": mutation("updateGroupBuyOffer", "UpdateGroupBuyOfferInput", lambda w, a: _fresh_offer(w, showJoinable=False)),
    "endGroupBuyOffer": mutation("endGroupBuyOffer", "GroupBuyOfferIdInput", lambda w, a: _fresh_offer(w)),
    "withdrawGroupBuyOffer": mutation("withdrawGroupBuyOffer", "GroupBuyOfferIdInput", lambda w, a: _fresh_offer(w)),
    "openGroup": mutation("openGroup", "OpenGroupInput", lambda w, a: _v(offerId=w.offer)),
    "joinGroup": mutation("joinGroup", "JoinGroupInput", lambda w, a: _join(w)),
    "redeemPointsItem": mutation("redeemPointsItem", "RedeemPointsItemInput", lambda w, a: _fresh_item(w)),
    "signInDaily": mutation("signInDaily", "SignInDailyInput", None),
    "checkInDaily": mutation("checkInDaily", "CheckInDailyInput", lambda w, a: _forget_check_ins(w)),
    "adjustPoints": mutation("adjustPoints", "AdjustPointsInput", static(memberId=G("Member", 1), delta=1, note="matrix")),
    "createPointsMallItem": mutation("createPointsMallItem", "CreatePointsMallItemInput", static(title="matrix", pointsPrice=10, stock=5)),
    "updatePointsMallItem": mutation("updatePointsMallItem", "UpdatePointsMallItemInput", static(itemId=G("PointsMallItem", 3), description="A one-hour class.")),
    "setMemberTier": mutation("setMemberTier", "SetMemberTierInput", static(memberId=G("Member", 5), tier=1)),
    "createAuctionLot": mutation("createAuctionLot", "CreateAuctionLotInput", lambda w, a: _v(
        skuId=w.sku, startPrice=CNY(10000), increment=CNY(1000), startsAt=now_plus(w, hours=1), endsAt=now_plus(w, hours=5))),
    "scheduleAuctionLot": mutation("scheduleAuctionLot", "LotIdInput", lambda w, a: _lot(w, schedule=False)),
    "cancelAuctionLot": mutation("cancelAuctionLot", "LotIdInput", lambda w, a: _lot(w)),
    "payLotDeposit": mutation("payLotDeposit", "LotIdInput", lambda w, a: _lot(w)),
    "placeBid": mutation("placeBid", "PlaceBidInput", _place_bid),
    "buyNow": mutation("buyNow", "BuyNowInput", lambda w, a: _lot(w, buy_now=True, deposit_for=a)),
    "createPickupStore": mutation("createPickupStore", "CreatePickupStoreInput", static(name="matrix store", latitude=31.2, longitude=121.4)),
    "updatePickupStore": mutation("updatePickupStore", "UpdatePickupStoreInput", static(storeId=G("PickupStore", 3), phone="021-64480003")),
    "createPickupSlots": mutation("createPickupSlots", "CreatePickupSlotsInput", lambda w, a: _slots(w)),
    "checkoutPickup": mutation("checkoutPickup", "CheckoutPickupInput", lambda w, a: _v(storeId=G("PickupStore", STORE_X), lines=[{"skuId": w.sku, "quantity": 1}])),
    "choosePickupStore": mutation("choosePickupStore", "ChoosePickupStoreInput", lambda w, a: _fresh_order(w, storeId=G("PickupStore", STORE_X))),
    "previewPickup": mutation("previewPickup", "PreviewPickupInput", lambda w, a: _v(storeId=G("PickupStore", STORE_X), code=w.a_pickup_code)),
    "confirmPickup": mutation("confirmPickup", "ConfirmPickupInput", _confirm),
    "createLiveRoom": mutation("createLiveRoom", "CreateLiveRoomInput", lambda w, a: _v(
        title="matrix room", scheduledStartAt=now_plus(w, hours=2), scheduledEndAt=now_plus(w, hours=4))),
    "updateLiveRoom": mutation("updateLiveRoom", "UpdateLiveRoomInput", lambda w, a: _room(w, "scheduled", title="renamed")),
    "startLiveRoom": mutation("startLiveRoom", "LiveRoomIdInput", room_step("scheduled")),
    "pauseLiveRoom": mutation("pauseLiveRoom", "LiveRoomIdInput", room_step("live")),
    "resumeLiveRoom": mutation("resumeLiveRoom", "LiveRoomIdInput", room_step("paused")),
    "endLiveRoom": mutation("endLiveRoom", "LiveRoomIdInput", room_step("live")),
    "cancelLiveRoom": mutation("cancelLiveRoom", "LiveRoomIdInput", room_step("scheduled")),
    "setLiveRoomShelfItem": mutation("setLiveRoomShelfItem", "SetLiveRoomShelfItemInput", lambda w, a: _room(w, "scheduled", item={"productId": G("Product", 4)})),
    "presentLiveRoomProduct": mutation("presentLiveRoomProduct", "PresentLiveRoomProductInput", lambda w, a: _room(w, "live", productId=G("Product", 3))),
    "muteLiveRoomViewer": mutation("muteLiveRoomViewer", "MuteLiveRoomViewerInput", lambda w, a: _v(roomId=w.live_room, memberId=G("Member", 3))),
    "muteLiveRoom": mutation("muteLiveRoom", "MuteLiveRoomInput", lambda w, a: _room(w, "live", muted=True)),
    "joinLiveRoom": mutation("joinLiveRoom", "JoinLiveRoomInput", lambda w, a: _v(roomId=w.live_room)),
    "leaveLiveRoom": mutation("leaveLiveRoom", "LiveRoomIdInput", _joined_room),
    "heartbeatLiveRoom": mutation("heartbeatLiveRoom", "LiveRoomIdInput", _joined_room),
    "sendLiveRoomComment": mutation("sendLiveRoomComment", "SendLiveRoomCommentInput", lambda w, a: _v(roomId=w.live_room, text="好茶")),
    "likeLiveRoom": mutation("likeLiveRoom", "LikeLiveRoomInput", lambda w, a: _v(roomId=w.live_room)),
    "createLiveRoomOrder": mutation("createLiveRoomOrder", "CreateLiveRoomOrderInput", lambda w, a: _v(
        roomId=w.live_room, lines=[{"skuId": G("Sku", 7), "quantity": 1}])),
    "reserveLiveRoom": mutation("reserveLiveRoom", "ReserveLiveRoomInput", room_step("scheduled")),
    "cancelLiveRoomReservation": mutation("cancelLiveRoomReservation", "CancelLiveRoomReservationInput", _reserved_room),
    "placeOrder": mutation("placeOrder", "PlaceOrderInput", lambda w, a: _v(checkout={"lines": [{"skuId": w.sku, "quantity": 1}]})),
    "addCartLine": mutation("addCartLine", "AddCartLineInput", lambda w, a: _v(line={"skuId": w.sku, "quantity": 1})),
    "updateCartLine": mutation("updateCartLine", "UpdateCartLineInput", lambda w, a: _cart_line_of_a(w, quantity=2)),
    "removeCartLine": mutation("removeCartLine", "RemoveCartLineInput", lambda w, a: _cart_line_of_a(w)),
    "addShippingAddress": mutation("addShippingAddress", "ShippingAddressInput", lambda w, a: _v(**ADDRESS)),
    "updateShippingAddress": mutation("updateShippingAddress", "UpdateShippingAddressInput",
                                      lambda w, a: _address(w, detail="新地址 2 号")),
    "removeShippingAddress": mutation("removeShippingAddress", "RemoveShippingAddressInput", lambda w, a: _address(w)),
    "shipOrder": mutation("shipOrder", "ShipOrderInput", lambda w, a: _shippable(w)),
    "requestRefund": mutation("requestRefund", "RequestRefundInput", lambda w, a: _refundable(w)),
    "cancelRefundRequest": mutation("cancelRefundRequest", "RefundRequestIdInput", lambda w, a: _request(w)),
    "approveRefundRequest": mutation("approveRefundRequest", "ApproveRefundRequestInput", lambda w, a: _request(w)),
    "rejectRefundRequest": mutation("rejectRefundRequest", "RejectRefundRequestInput", lambda w, a: _request(w, reason="不符合")),
    "receiveReturnedGoods": mutation("receiveReturnedGoods", "RefundRequestIdInput",
                                     lambda w, a: _request(w, kind="RETURN_AND_REFUND", approved=True)),
    "createCouponTemplate": mutation("createCouponTemplate", "CreateCouponTemplateInput", static(
        title="matrix coupon", kind="FIXED", amountOff=CNY(100), validDays=3)),
    "setCouponTemplateActive": mutation("setCouponTemplateActive", "SetCouponTemplateActiveInput", static(
        templateId=G("CouponTemplate", 2), active=True)),
    "claimCoupon": mutation("claimCoupon", "ClaimCouponInput", lambda w, a: _fresh_template(w, "CLAIM_CENTRE")),
    "pushCoupons": mutation("pushCoupons", "PushCouponsInput", lambda w, a: _fresh_template(w, "PUSH", memberIds=[G("Member", 1)])),
    "touchChannelCode": mutation("touchChannelCode", "TouchChannelCodeInput", lambda w, a: _guide_code(w)),
    "transferGuideCustomers": mutation("transferGuideCustomers", "TransferGuideCustomersInput", lambda w, a: _two_guides(w)),
    "placeOrderForCustomer": mutation("placeOrderForCustomer", "PlaceOrderForCustomerInput", lambda w, a: _v(
        memberId=G("Member", 1), lines=[{"skuId": w.sku, "quantity": 1}])),
    "createFlashSaleSession": mutation("createFlashSaleSession", "CreateFlashSaleSessionInput", lambda w, a: _v(
        title="matrix 20:00", startsAt=now_plus(w, hours=1), endsAt=now_plus(w, hours=2),
        items=[{"skuId": w.sku, "flashPrice": CNY(1), "quantity": 5}])),
    "buyFlashSaleItem": mutation("buyFlashSaleItem", "BuyFlashSaleItemInput", static(itemId=G("FlashSaleItem", 1))),
    "applyForPromoter": mutation("applyForPromoter", "ApplyForPromoterInput", static()),
    "bindPromoter": mutation("bindPromoter", "BindPromoterInput", lambda w, a: _fresh_promoter_code(w)),
    "reviewPromoterApplication": mutation("reviewPromoterApplication", "ReviewPromoterApplicationInput",
                                          lambda w, a: _fresh_applicant(w)),
    "setCommissionRule": mutation("setCommissionRule", "SetCommissionRuleInput", static(
        skuId=G("Sku", 7), level=1, kind="PERCENT", value=800)),
    "requestWithdrawal": mutation("requestWithdrawal", "RequestWithdrawalInput", lambda w, a: _withdrawal_input(w)),
    "reviewWithdrawal": mutation("reviewWithdrawal", "ReviewWithdrawalInput", lambda w, a: _fresh_withdrawal(w)),
    "buyMembershipTerm": mutation("buyMembershipTerm", "BuyMembershipTermInput", static(termCode="svip_month")),
    "adjustMemberGrowth": mutation("adjustMemberGrowth", "AdjustMemberGrowthInput", static(
        memberId=G("Member", 1), delta=1, reason="matrix")),
    "createMemberTag": mutation("createMemberTag", "CreateMemberTagInput", lambda w, a: _v(name=f"matrix tag {next(w.counter)}")),
    "deleteMemberTag": mutation("deleteMemberTag", "DeleteMemberTagInput", lambda w, a: _fresh_member_tag(w)),
    "tagMembers": mutation("tagMembers", "TagMembersInput", static(tagId=G("MemberTag", 1), memberIds=[G("Member", 1)])),
    "untagMembers": mutation("untagMembers", "UntagMembersInput", static(tagId=G("MemberTag", 1), memberIds=[G("Member", 1)])),
}


async def _fresh_member_tag(w: World) -> dict[str, Any]:
    async with w.kernel.transaction() as tx:
        made = await w.kernel.service("member_tags").tagging.create(tx, f"matrix fresh tag {next(w.counter)}")
    return {"tagId": G("MemberTag", made)}

SUBSCRIPTIONS: dict[str, tuple[str, Callable[[World], dict[str, Any]]]] = {
    "groupBuyProgress": ("subscription($id: ID!) { groupBuyProgress(groupId: $id) { groupId status seatsFilled } }",
                         lambda w: {"id": w.group}),
    "auctionLotUpdates": ("subscription($id: ID!) { auctionLotUpdates(lotId: $id) { lotId leader bidCount } }",
                          lambda w: {"id": w.lot}),
    "liveRoomEvents": ("subscription($id: ID!) { liveRoomEvents(roomId: $id) { kind roomId status } }",
                       lambda w: {"id": w.room}),
}


async def _v(**values: Any) -> dict[str, Any]:
    return values


async def _after(made: Awaitable[Any]) -> dict[str, Any]:
    """No variables: the object the cell reads is made first."""
    await made
    return {}


async def _address(w: World, **extra: Any) -> dict[str, Any]:
    return {"addressId": await w.address_of_a(), **extra}


async def _shippable(w: World) -> dict[str, Any]:
    return {"orderId": await w.shipped_from_x(), "carrier": "顺丰", "trackingNumber": "SF1"}


async def _refundable(w: World) -> dict[str, Any]:
    order = await w.shipped_from_x()
    line = (await w.c("A").data("query($id: ID!) { order(id: $id) { lines { id } } }", id=order))["order"]["lines"][0]["id"]
    return {"orderId": order, "kind": "REFUND_ONLY", "lines": [{"lineId": line, "quantity": 1}], "reason": "matrix"}


async def _request(w: World, *, kind: str = "REFUND_ONLY", approved: bool = False, **extra: Any) -> dict[str, Any]:
    return {"requestId": await w.refund_request_of_a(kind=kind, approved=approved), **extra}


async def _cart_line_of_a(w: World, **extra: Any) -> dict[str, Any]:
    """A line in A's cart (added again if an earlier cell removed it)."""
    added = await w.ok("A", """mutation($sku: ID!) { addCartLine(input: {line: {skuId: $sku, quantity: 1}}) {
      cart { lines { id sku { id } } } userErrors { code } } }""", sku=w.sku)
    return {"lineId": next(l["id"] for l in added["cart"]["lines"] if l["sku"]["id"] == w.sku), **extra}


async def _fresh_order(w: World, *, paid: bool = False, pickup: bool = False, **extra: Any) -> dict[str, Any]:
    return {"orderId": await w.order_of_a(paid=paid, pickup=pickup), **extra}


async def _fresh_staff(w: World, *, deactivated: bool = False, **extra: Any) -> dict[str, Any]:
    invited = await w.ok("admin", """mutation($input: InviteStaffInput!) { inviteStaff(input: $input) {
      staff { id } userErrors { code } } }""", input={"name": f"matrix staff {next(w.counter)}", "roles": ["live_host"]})
    staff_id = invited["staff"]["id"]
    if deactivated:
        await w.ok("admin", "mutation($id: ID!) { deactivateStaff(input: {staffId: $id}) { userErrors { code } } }", id=staff_id)
    return {"staffId": staff_id, **extra}


async def _from_x(w: World, *, fulfilled: bool = False) -> dict[str, Any]:
    return {"orderId": await w.shipped_from_x(fulfilled=fulfilled)}


async def _join(w: World) -> dict[str, Any]:
    return {"shareCode": await w.group_of_member_3()}


async def _fresh_offer(w: World, **extra: Any) -> dict[str, Any]:
    """An offer of its own, in a window of its own (a SKU is in one active offer at a time)."""
    days = 10 + 3 * next(w.counter)
    made = await w.ok("admin", """mutation($input: CreateGroupBuyOfferInput!) { createGroupBuyOffer(input: $input) {
      offer { id } userErrors { code } } }""", input={
        "skuId": w.sku, "groupPrice": CNY(500), "groupSize": 2, "totalLimit": 10,
        "startsAt": now_plus(w, days=days), "endsAt": now_plus(w, days=days + 1)})
    return {"offerId": made["offer"]["id"], **extra}
async def _fresh_template(w: World, channel: str, **extra: Any) -> dict[str, Any]:
    made = await w.ok("admin", """mutation($c: CouponChannel!) { createCouponTemplate(input: {title: "matrix", kind: FIXED,
      amountOff: {amountMinor: 100, currency: "CNY"}, validDays: 3, channel: $c}) { template { id } userErrors { code } } }""", c=channel)
    return {"templateId": made["template"]["id"], **extra}


async def _distribution_world(w: World) -> dict[str, Any]:
    """Once: member 3 (B's customer) pays an order, so B (level one) and A (level two) earn
    commission; A and B get a settled balance and each asks for a withdrawal."""
    if getattr(w, "distribution_ready", False):
        return {}
    w.distribution_ready = True  # type: ignore[attr-defined]
    async with w.kernel.transaction() as tx:
        order = await w.kernel.service("orders").create_order(tx, member_id=3, lines=[(6, 1)])
    await w.pay("admin", G("Order", order))
    for member_id in (1, 2):
        await _credit_promoter(w, member_id, 100_000)
        async with w.kernel.transaction() as tx:
            await w.kernel.service("distribution").withdrawals.request(tx, member_id, 1000)
    return {}


async def _credit_promoter(w: World, member_id: int, amount: int) -> None:
    from components.distribution import ledger

    async with w.kernel.transaction() as tx:
        promoter = await w.kernel.service("distribution").promoters.active(tx.session, member_id)
        await ledger.post(tx, promoter.id, "available", "settled", amount, f"matrix:{member_id}:{next(w.counter)}")


async def _fresh_applicant(w: World) -> dict[str, Any]:
    """A new member who applied (the demo brand reviews applications)."""
    service = w.kernel.service("distribution")
    async with w.kernel.transaction() as tx:
        member_id = await w.kernel.service("members").create_member(tx, phone=f"1377{next(w.counter):07d}", nickname="matrix")
        promoter = await service.promoters.apply(tx, member_id)
    return {"promoterId": G("Promoter", promoter.id), "approve": True}


async def _fresh_promoter_code(w: World) -> dict[str, Any]:
    made = await _fresh_applicant(w)
    service = w.kernel.service("distribution")
    async with w.kernel.transaction() as tx:
        promoter = await service.promoters.decide(tx, int(from_global_id(made["promoterId"])[1]), approve=True)
        code = await w.kernel.service("members.share_codes").issue_for_member(tx.session, promoter.member_id)
    return {"shareCode": code}


async def _withdrawal_input(w: World) -> dict[str, Any]:
    await _distribution_world(w)
    return {"amount": CNY(1000)}


async def _fresh_withdrawal(w: World) -> dict[str, Any]:
    await _distribution_world(w)
    async with w.kernel.transaction() as tx:
        row = await w.kernel.service("distribution").withdrawals.request(tx, 1, 1000)
    return {"withdrawalId": G("PromoterWithdrawal", row.id), "approve": True}
async def _guide_code(w: World) -> dict[str, Any]:
    async with w.kernel.db.read() as session:
        return {"code": await w.kernel.service("members.share_codes").issue_for_guide(session, 5)}


async def _two_guides(w: World) -> dict[str, Any]:
    async with w.kernel.transaction() as tx:
        made = [await w.kernel.service("members").create_staff(tx, name=f"matrix guide {i}", roles=("guide",)) for i in (1, 2)]
    return {"fromGuideId": G("Staff", made[0]), "toGuideId": G("Staff", made[1])}


async def _forget_check_ins(w: World) -> dict[str, Any]:
    from sqlalchemy import update

    from components.points_mall.models import Account

    async with w.kernel.transaction() as tx:
        await tx.session.execute(update(Account).values(last_sign_in=None))
    return {}


async def _fresh_item(w: World) -> dict[str, Any]:
    made = await w.ok("admin", """mutation { createPointsMallItem(input: {title: "matrix gift", pointsPrice: 10, stock: 10}) {
      item { id } userErrors { code } } }""")
    return {"itemId": made["item"]["id"]}


async def _lot(w: World, *, schedule: bool = True, buy_now: bool = False, deposit_for: str | None = None) -> dict[str, Any]:
    lot = await w.lot_(schedule=schedule, buy_now=buy_now)
    if deposit_for is not None:
        await _deposit_then(w, deposit_for, lot)
    return {"lotId": lot}


async def _slots(w: World) -> dict[str, Any]:
    start = (w.kernel.clock.now() + timedelta(days=3 + next(w.counter))).replace(minute=0, second=0, microsecond=0)
    return {"storeId": G("PickupStore", 3), "startsAt": start.isoformat(), "endsAt": (start + timedelta(hours=2)).isoformat()}


async def _room(w: World, state: str, **extra: Any) -> dict[str, Any]:
    return {"roomId": await w.room_(state), **extra}


# -- reading an outcome ---------------------------------------------------------------------------

def _denial(code: str | None) -> str | None:
    if code == "KERNEL_UNAUTHENTICATED":
        return "u"
    if code in FORBIDDEN_CODES:
        return "f"
    if code == "KERNEL_NOT_FOUND":
        return "h"
    return None


def _empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, list):
        return all(_empty(v) for v in value)
    if isinstance(value, dict) and set(value) == {"nodes"}:
        return not value["nodes"]
    return False


def outcome_of_query(body: dict[str, Any], name: str) -> str:
    if body.get("errors"):
        code = (body["errors"][0].get("extensions") or {}).get("code")
        return _denial(code) or f"!{code}:{body['errors'][0].get('message')}"
    value = body["data"][name]
    if isinstance(value, list) and value and any(v is None for v in value) and not all(v is None for v in value):
        return "p"  # partly visible: never expected
    return "h" if _empty(value) else "+"


def outcome_of_mutation(body: dict[str, Any], name: str) -> str:
    if body.get("errors"):
        return f"!{body['errors']}"
    codes = [e["code"] for e in body["data"][name]["userErrors"]]
    for code in codes:
        if (denied := _denial(code)) is not None:
            return denied
    return "~" if codes else "+"


async def outcome_of_subscription(w: World, name: str, actor: Actor) -> tuple[str, Any]:
    document, variables = SUBSCRIPTIONS[name]
    stream = await w.kernel.schema.subscribe(document, variable_values=variables(w), context_value=Context(w.kernel, actor))
    if not hasattr(stream, "__anext__"):
        errors = stream.errors or []
        original = getattr(errors[0], "original_error", None) if errors else None
        return (_denial(getattr(original, "code", None)) or f"!{errors}"), None
    try:
        first = await asyncio.wait_for(stream.__anext__(), 5)
    except StopAsyncIteration:
        return "h", None
    finally:
        await stream.aclose()
    if first.errors:
        original = getattr(first.errors[0], "original_error", None)
        return (_denial(getattr(original, "code", None)) or f"!{first.errors}"), None
    return ("h" if first.data is None else "+"), first.data[name]


def root_fields(schema: Any) -> dict[str, list[str]]:
    gql = schema._schema
    found = {}
    for kind, root in (("query", gql.query_type), ("mutation", gql.mutation_type), ("subscription", gql.subscription_type)):
        found[kind] = list(root.fields) if root is not None else []
    return found


# -- the tests ------------------------------------------------------------------------------------

# The matrix runs in parts, each on a world of its own, so that pytest-xdist can spread it over
# both workers (as one test it was the suite's longest, ~60 s idle, and pinned one worker to the
# end of the run). A part is every MATRIX_PARTS-th row of MATRIX; within a part the rows run in
# schema order as they always did. Every row still runs as all seven actors on a world built
# exactly as before, so no cell loses any power: only which world a row meets changes, and
# every row that changes state already makes its own fresh objects. Two parts, not more: each
# part builds a world (~4 s of CPU), and a third or fourth cost more than their balance saved.
MATRIX_PARTS = 2


def matrix_part(index: int) -> list[str]:
    # Every MATRIX_PARTS-th row, not a run of rows: mutations (slow, fresh objects) and queries
    # (quick) are then spread evenly over the parts.
    return list(MATRIX)[index::MATRIX_PARTS]


async def test_every_root_field_is_declared_in_the_matrix(kernel_factory):
    kernel = await kernel_factory(DEMO)
    fields = root_fields(kernel.schema)
    every = [f for kind in fields.values() for f in kind]
    undeclared = [f for f in every if f not in MATRIX]
    assert not undeclared, f"root fields missing from MATRIX (declare who may call them): {undeclared}"
    stale = [f for f in MATRIX if f not in every]
    assert not stale, f"MATRIX names fields the schema no longer has: {stale}"
    assert all(len(MATRIX[f]) == len(ACTORS) for f in MATRIX), [f for f in MATRIX if len(MATRIX[f]) != len(ACTORS)]
    assert set(CASES) | set(SUBSCRIPTIONS) == set(MATRIX)
    # The parts cover every row once: none is left out by the split.
    parts = [name for index in range(MATRIX_PARTS) for name in matrix_part(index)]
    assert sorted(parts) == sorted(MATRIX) and len(parts) == len(set(parts))


@pytest.mark.parametrize("part", range(MATRIX_PARTS), ids=lambda i: f"part{i + 1}of{MATRIX_PARTS}")
async def test_every_cell_of_the_matrix_holds(kernel_factory, graphql, capsys, part):
    started = time.monotonic()
    w = await build_world(kernel_factory, graphql)
    fields = root_fields(w.kernel.schema)
    mine = set(matrix_part(part))
    rows = [f for kind in fields.values() for f in kind if f in mine]
    assert len(rows) == len(mine), f"rows of this part missing from the schema: {sorted(mine - set(rows))}"

    observed: dict[str, str] = {}
    details: dict[tuple[str, str], Any] = {}
    for name in rows:
        row = ""
        for actor_name, actor in ACTORS.items():
            if name in SUBSCRIPTIONS:
                cell, data = await outcome_of_subscription(w, name, actor)
                details[name, actor_name] = data
            else:
                case = CASES[name]
                variables = await case.variables(w, actor_name) if case.variables else None
                body = await w.c(actor_name).execute(case.document, variables)
                cell = (outcome_of_query if name in fields["query"] else outcome_of_mutation)(body, name)
                details[name, actor_name] = body
            row += cell if len(cell) == 1 else "!"
            if len(cell) > 1:
                details[name, actor_name] = cell
        observed[name] = row

    cells = len(rows) * len(ACTORS)
    wrong = {name: (MATRIX[name], observed[name]) for name in rows if observed[name] != MATRIX[name]}
    report = "\n".join(f"  {name:24} expected {exp}  got {got}  "
                       + "; ".join(f"{a}: {details[name, a]}" for a, e, g in zip(ACTORS, exp, got) if e != g)
                       for name, (exp, got) in wrong.items())
    with capsys.disabled():
        print(f"\nauthorization matrix part {part + 1}/{MATRIX_PARTS}: {len(rows)} root fields x {len(ACTORS)} actors = "
              f"{cells} cells, {time.monotonic() - started:.1f}s")
    assert not wrong, f"{len(wrong)} rows of the authorization matrix differ:\n{report}"


# -- member B against member A's things ----------------------------------------------------------

A_NICKNAME, A_PHONE = "小雨 Xiaoyu", "13800000001"


def _reveals_a(value: Any) -> bool:
    """Whether anything in a response names member A: nickname, phone, or global id."""
    text = repr(value)
    return A_NICKNAME in text or A_PHONE in text or A_PHONE[-4:] in text or G("Member", 1) in text


async def test_member_b_never_reaches_member_a_s_orders_points_pickups_or_bids(kernel_factory, graphql):
    w = await build_world(kernel_factory, graphql)
    a, b = w.c("A"), w.c("B")
    # What A owns, as A sees it: the references B will try.
    mine = await a.data("""{ myOrders(first: 100) { nodes { id } } myPickups { nodes { id code } }
      myPointsLedger(first: 100) { nodes { id } } myPointsRedemptions { nodes { id } } myPoints { balance }
      myAuctionLots { id } myGroupBuys { nodes { id } } me { id } }""")
    a_orders = {n["id"] for n in mine["myOrders"]["nodes"]}
    a_entries = {n["id"] for n in mine["myPointsLedger"]["nodes"]}
    assert {w.a_order, w.a_pickup_order} <= a_orders and len(a_entries) >= 2
    assert [n["id"] for n in mine["myPickups"]["nodes"]] == [w.a_pickup] and mine["myPickups"]["nodes"][0]["code"]
    assert [n["id"] for n in mine["myPointsRedemptions"]["nodes"]] == [w.a_redemption]
    assert [lot["id"] for lot in mine["myAuctionLots"]] == [w.lot]
    assert [n["id"] for n in mine["myGroupBuys"]["nodes"]] == [w.group]
    a_things = sorted(a_orders) + sorted(a_entries) + [w.a_pickup, w.a_redemption, G("Member", 1)]

    # node / nodes: every one of A's objects is null for B, as it is for anonymous callers.
    for client in (b, w.c("anon")):
        for thing in a_things:
            body = await client.data("query($id: ID!) { node(id: $id) { id } }", id=thing)
            assert body["node"] is None, thing
        found = await client.data("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", ids=a_things)
        assert found["nodes"] == [None] * len(a_things)
    # ... while A gets every one of them back (so the ids above are real).
    found = await a.data("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", ids=a_things)
    assert [n and n["id"] for n in found["nodes"]] == a_things

    # B's own lists hold only B's things.
    theirs = await b.data("""{ myOrders(first: 100) { nodes { id member { id nickname } } } myPickups { nodes { id } }
      myPointsLedger(first: 100) { nodes { id } } myPointsRedemptions { nodes { id } } myPoints { balance ledger(first: 100) { nodes { id } } }
      myAuctionLots { id } myGroupBuys { nodes { id } } me { id nickname phone } }""")
    assert theirs["me"]["id"] == G("Member", 2)
    b_orders = theirs["myOrders"]["nodes"]
    assert b_orders and all(o["member"]["id"] == G("Member", 2) for o in b_orders)  # B's demo order
    assert not a_orders & {o["id"] for o in b_orders}
    assert theirs["myPickups"]["nodes"] == [] and theirs["myPointsRedemptions"]["nodes"] == []
    assert theirs["myAuctionLots"] == [] and theirs["myGroupBuys"]["nodes"] == []
    b_entries = {n["id"] for n in theirs["myPointsLedger"]["nodes"]} | {n["id"] for n in theirs["myPoints"]["ledger"]["nodes"]}
    assert b_entries and not b_entries & a_entries
    assert theirs["myPoints"]["balance"] != mine["myPoints"]["balance"]
    assert not _reveals_a(theirs)

    # Direct lookups of A's things: null, or refused.
    for query, variables in (("query($id: ID!) { order(id: $id) { id } }", {"id": w.a_order}),
                             ("query($id: ID!) { order(id: $id) { id } }", {"id": w.a_pickup_order}),
                             ("query($id: ID!) { pickupOrder(id: $id) { id code } }", {"id": w.a_pickup})):
        assert next(iter((await b.data(query, variables)).values())) is None, query
    refused = await b.execute("query($m: ID!) { memberPoints(memberId: $m) { balance ledger { nodes { id } } } }", m=G("Member", 1))
    # memberPoints is nullable (issue 18's error model): the refusal nulls just that field.
    assert refused["errors"][0]["extensions"]["code"] == "KERNEL_FORBIDDEN" and refused.get("data") == {"memberPoints": None}
    refused = await b.execute("query($m: ID!) { groupBuyReferrals(memberId: $m) { memberId joins } }", m=G("Member", 1))
    assert refused["errors"][0]["extensions"]["code"] == "KERNEL_FORBIDDEN"
    # Without a member id, a member's referral counts are their own: B has none, A has member 3's join.
    assert (await b.data("{ groupBuyReferrals { memberId joins } }"))["groupBuyReferrals"] == []
    assert (await a.data("{ groupBuyReferrals { memberId joins } }"))["groupBuyReferrals"] == [
        {"memberId": G("Member", 1), "joins": 1}]

    # A lot A leads: B sees the price and a masked leader, never who it is, A's maximum or deposit.
    lot_doc = """query($id: ID!) { auctionLot(id: $id) { leader bidCount myMaximum { amountMinor } myDeposit
      winnerOrder { id } bids { bidder isMine amount { amountMinor } } } }"""
    seen_by_b = (await b.data(lot_doc, id=w.lot))["auctionLot"]
    seen_by_a = (await a.data(lot_doc, id=w.lot))["auctionLot"]
    assert seen_by_b["bidCount"] == 1 and seen_by_b["leader"] == "0***1" == seen_by_a["leader"]
    assert seen_by_b["myMaximum"] is None and seen_by_b["myDeposit"] == "none" and seen_by_b["winnerOrder"] is None
    assert [(x["bidder"], x["isMine"]) for x in seen_by_b["bids"]] == [("0***1", False)]
    assert [(x["bidder"], x["isMine"]) for x in seen_by_a["bids"]] == [("0***1", True)] and seen_by_a["myDeposit"] == "frozen"
    assert not _reveals_a(seen_by_b)

    # A group A leads (member 3 joined through A's link): B sees seats, not people or A's link.
    group_doc = "query($id: ID!) { groupBuyGroup(id: $id) { seatsFilled seatsLeft shareCode myShareCode offer { id } } }"
    group_b = (await b.data(group_doc, id=w.group))["groupBuyGroup"]
    group_a = (await a.data(group_doc, id=w.group))["groupBuyGroup"]
    assert group_b["seatsFilled"] == 2 and group_b["myShareCode"] is None and group_a["myShareCode"]
    assert not _reveals_a(group_b)  # the group's own share code is public: it is the share page's address

    # Subscriptions: the lot's stream and the group's progress, as B.
    # `stream` is the kernel's StreamPosition (a sequence number and a gap flag): nobody's data.
    # `lot` and `group` are the query's nodes, with the query's per-actor rules (checked below as B).
    leak_fields = {"AuctionLotUpdate": {"lot", "lotId", "status", "currentPrice", "leader", "endsAt", "bidCount", "seq", "stream"},
                   "GroupBuyProgress": {"group", "groupId", "status", "seatsFilled", "seatsLeft", "deadline", "stream"}}
    types = w.kernel.schema._schema.type_map
    for type_name, allowed in leak_fields.items():
        # A field added to a stream type must be looked at here: it goes to anyone who subscribes.
        assert set(types[type_name].fields) == allowed, type_name
    stream_doc = """subscription($id: ID!) { auctionLotUpdates(lotId: $id) { lotId status currentPrice { amountMinor } leader
      endsAt bidCount seq lot { id leader myMaximum { amountMinor } myDeposit bids { bidder isMine } winnerOrder { id } } } }"""
    stream = await w.kernel.schema.subscribe(stream_doc, variable_values={"id": w.lot}, context_value=Context(w.kernel, ACTORS["B"]))
    first = await asyncio.wait_for(stream.__anext__(), 5)
    # B bids (after paying a deposit) while watching: the update names B by mask too, and A by nothing more.
    await w.deposit("B", w.lot)
    assert (await w.ok("B", BID, lot=w.lot, amount=310000))["leading"] is True
    second = await asyncio.wait_for(stream.__anext__(), 5)
    await stream.aclose()
    assert first.errors is None and second.errors is None
    assert first.data["auctionLotUpdates"]["leader"] == "0***1" and second.data["auctionLotUpdates"]["leader"] == "0***2"
    assert not _reveals_a(first.data) and not _reveals_a(second.data)
    assert first.data["auctionLotUpdates"]["lot"]["myMaximum"] is None and first.data["auctionLotUpdates"]["lot"]["myDeposit"] == "none"
    assert [x["isMine"] for x in first.data["auctionLotUpdates"]["lot"]["bids"]] == [False]  # A's bid, not B's
    progress = await w.kernel.schema.subscribe("subscription($id: ID!) { groupBuyProgress(groupId: $id) { groupId status seatsFilled seatsLeft deadline "
                                               "group { id shareCode myShareCode } } }",
                                               variable_values={"id": w.group}, context_value=Context(w.kernel, ACTORS["B"]))
    event = await asyncio.wait_for(progress.__anext__(), 5)
    await progress.aclose()
    assert event.errors is None and event.data["groupBuyProgress"]["seatsFilled"] == 2
    assert not _reveals_a(event.data) and w.group_code not in repr(event.data)
    assert event.data["groupBuyProgress"]["group"] == {"id": w.group, "shareCode": None, "myShareCode": None}

    # Mutations on A's things by B: refused as not found, and nothing changed.
    order = await w.order_of_a()
    for document in ("mutation($id: ID!) { payOrder(input: {orderId: $id}) { userErrors { code } } }",
                     "mutation($id: ID!) { cancelOrder(input: {orderId: $id}) { userErrors { code } } }",
                     "mutation($id: ID!) { completeOrder(input: {orderId: $id}) { userErrors { code } } }",
                     """mutation($id: ID!, $s: ID!) { choosePickupStore(input: {orderId: $id, storeId: $s}) { order { id } pickup { id code } userErrors { code } } }"""):
        payload = await b.mutate(document, id=order, s=G("PickupStore", STORE_X)) if "$s" in document else await b.mutate(document, id=order)
        assert [e["code"] for e in payload["userErrors"]] == ["KERNEL_NOT_FOUND"], (document, payload)
        assert not _reveals_a(payload)
    still = await a.data("query($id: ID!) { order(id: $id) { status deliveryType payments { id } } }", id=order)
    assert still["order"] == {"status": "PENDING_PAYMENT", "deliveryType": "SHIPPING", "payments": []}


# -- clerks and their stores ---------------------------------------------------------------------

PREVIEW = """mutation($s: ID!, $code: String!) { previewPickup(input: {storeId: $s, code: $code}) {
  pickup { id state code customer { nickname phone } } order { id status } userErrors { code } } }"""
CONFIRM = """mutation($s: ID!, $code: String!) { confirmPickup(input: {storeId: $s, code: $code}) {
  pickup { id state } order { id status } userErrors { code } } }"""


async def test_a_clerk_verifies_and_sees_pickups_only_at_their_own_stores(kernel_factory, graphql):
    w = await build_world(kernel_factory, graphql)
    a, x, y, admin = w.c("A"), w.c("clerkX"), w.c("clerkY"), w.c("admin")
    store_x, store_y = G("PickupStore", STORE_X), G("PickupStore", STORE_Y)
    state_doc = "query($id: ID!) { pickupOrder(id: $id) { state code order { id status } } }"
    before = await a.data(state_doc, id=w.a_pickup)
    assert before["pickupOrder"]["state"] == "AWAITING_PICKUP" and before["pickupOrder"]["order"]["status"] == "PAID"

    # Clerk Y, with A's store-X code: refused at store X, and at Y the code matches nothing.
    for document in (PREVIEW, CONFIRM):
        refused = await y.mutate(document, s=store_x, code=w.a_pickup_code)
        assert refused["userErrors"] == [{"code": "STORE_PICKUP_NOT_YOUR_STORE"}] and refused["pickup"] is None
        assert refused["order"] is None
        elsewhere = await y.mutate(document, s=store_y, code=w.a_pickup_code)
        assert elsewhere["userErrors"] == [{"code": "STORE_PICKUP_WRONG_CODE"}] and elsewhere["pickup"] is None
    assert await a.data(state_doc, id=w.a_pickup) == before  # nothing changed

    # What clerk Y may look at: not store X's pickups, orders or figures.
    refused = await y.execute("query($s: ID!) { storePickups(storeId: $s) { nodes { id } } }", s=store_x)
    # storePickups is nullable (issue 18's error model): the refusal nulls the field, with the error at its path.
    assert refused["errors"][0]["extensions"]["code"] == "STORE_PICKUP_NOT_YOUR_STORE" and refused["data"] == {"storePickups": None}
    assert (await y.data("query($s: ID!) { storePickups(storeId: $s) { nodes { id } } }", s=store_y))["storePickups"]["nodes"] == []
    refused = await y.execute("query($s: ID!) { pickupStore(id: $s) { results { awaiting } } }", s=store_x)
    assert refused["errors"][0]["extensions"]["code"] == "STORE_PICKUP_NOT_YOUR_STORE"
    for filter_ in ({}, {"storeId": STORE_X}, {"memberId": G("Member", 1)}):
        listed = (await y.data("query($f: OrderFilter) { orders(first: 100, filter: $f) { nodes { id storeId } } }", f=filter_))
        assert all(n["storeId"] == STORE_Y for n in listed["orders"]["nodes"]), filter_
        assert w.a_pickup_order not in repr(listed)
    assert (await y.data(state_doc, id=w.a_pickup))["pickupOrder"] is None

    # Clerk X sees the pickup and order of their store (never the code), and only their store's orders.
    waiting = (await x.data("query($s: ID!) { storePickups(storeId: $s) { nodes { id code customer { nickname phone } } } }",
                            s=store_x))["storePickups"]["nodes"]
    assert [p["id"] for p in waiting] == [w.a_pickup] and waiting[0]["code"] is None
    assert waiting[0]["customer"] == {"nickname": A_NICKNAME, "phone": "138****0001"}  # to recognise, not to call
    seen_orders = (await x.data("{ orders(first: 100) { nodes { id storeId member { id } } } }"))["orders"]["nodes"]
    assert w.a_pickup_order in {n["id"] for n in seen_orders}
    assert all(n["storeId"] == STORE_X and n["member"] is None for n in seen_orders)
    assert w.a_order not in {n["id"] for n in seen_orders}  # A's shipped order is no store's

    # Clerk X may not hand the pickup over by moving its order along (that would skip the code).
    # (store_pickup's fulfilment guard; an admin is held to it too.)
    for document, code in (("mutation($id: ID!) { fulfilOrder(input: {orderId: $id}) { userErrors { code } } }",
                             "ORDERS_FULFILMENT_BLOCKED"),
                            ("mutation($id: ID!) { completeOrder(input: {orderId: $id}) { userErrors { code } } }",
                             "ORDERS_ILLEGAL_TRANSITION")):
        for client in (x, admin):
            assert (await client.mutate(document, id=w.a_pickup_order))["userErrors"] == [{"code": code}]
    assert await a.data(state_doc, id=w.a_pickup) == before

    # With the customer's code at their own store, clerk X previews (changing nothing) and hands it over.
    preview = await x.mutate(PREVIEW, s=store_x, code=w.a_pickup_code)
    assert preview["userErrors"] == [] and preview["pickup"]["id"] == w.a_pickup and preview["pickup"]["code"] is None
    assert await a.data(state_doc, id=w.a_pickup) == before
    handed = await x.mutate(CONFIRM, s=store_x, code=w.a_pickup_code)
    assert handed["userErrors"] == [] and handed["pickup"]["state"] == "PICKED_UP" and handed["order"]["status"] == "COMPLETED"
    after = (await a.data(state_doc, id=w.a_pickup))["pickupOrder"]
    assert after["state"] == "PICKED_UP" and after["code"] is None and after["order"]["status"] == "COMPLETED"
    # ... and clerk Y still cannot so much as see that it happened.
    assert (await y.data(state_doc, id=w.a_pickup))["pickupOrder"] is None


# -- over a real websocket -------------------------------------------------------------------------

ROOM_EVENTS = """subscription($id: ID!) { liveRoomEvents(roomId: $id) { kind comment { author authorMemberId text } } }"""


async def test_over_websockets_a_room_s_stream_names_commenters_to_its_host_only(kernel_factory, graphql):
    kernel = await kernel_factory(DEMO, seed_demo=True)
    room = G("LiveRoom", 1)
    host = graphql(kernel, ACTORS["host"])
    assert (await host.mutate(ROOM_STEP % "start", id=room))["userErrors"] == []
    a = graphql(kernel, ACTORS["A"])
    assert (await a.mutate("mutation($id: ID!) { joinLiveRoom(input: {roomId: $id}) { userErrors { code } } }", id=room))["userErrors"] == []

    async def first_comment(socket: GraphQLWebSocket) -> dict[str, Any]:
        async for data in socket.subscribe(ROOM_EVENTS, {"id": room}):
            if data["liveRoomEvents"]["kind"] == "COMMENT":
                return data["liveRoomEvents"]["comment"]
        raise AssertionError("the stream ended without the comment")

    async with serve_kernel(kernel) as url:
        tokens = {name: (kernel.issue_token(actor) if actor.kind != "anonymous" else None) for name, actor in ACTORS.items()}
        async with contextlib.AsyncExitStack() as stack:
            sockets = {name: await stack.enter_async_context(GraphQLWebSocket.connect(url, token)) for name, token in tokens.items()}
            watchers = {name: asyncio.create_task(first_comment(socket)) for name, socket in sockets.items()}
            await asyncio.sleep(0.3)  # every subscriber has its snapshot and waits
            said = await a.mutate("""mutation($id: ID!) { sendLiveRoomComment(input: {roomId: $id, text: "好香"}) {
              userErrors { code } } }""", id=room)
            assert said["userErrors"] == []
            seen = {name: await asyncio.wait_for(task, 10) for name, task in watchers.items()}
    for name, comment in seen.items():
        assert comment["text"] == "好香" and comment["author"] == A_NICKNAME  # the name shown in the chat
        # The member id (to mute someone) goes to the room's host and managers only; clerks,
        # members and anonymous viewers get null.
        expected = G("Member", 1) if name in ("host", "admin") else None
        assert comment["authorMemberId"] == expected, name

    # A token that does not check out is refused at the door, never downgraded to anonymous.
    async with serve_kernel(kernel) as url:
        with pytest.raises(Exception) as refused:
            async with GraphQLWebSocket.connect(url, tokens["A"][:-2] + "xx", timeout=5) as socket:
                async for _ in socket.subscribe(ROOM_EVENTS, {"id": room}):
                    break
        assert "401" in str(refused.value) or "403" in str(refused.value), refused.value
