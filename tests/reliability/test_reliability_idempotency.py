"""Every mutation that moves money, stock or points, replayed with its idempotency key.

For each mutation the test sends one call with key ``A`` and records what it changed (row
counts, balances, stock, statuses: the *delta*). Then:

* the same call with key ``A`` again answers exactly as the first did and changes nothing;
* eight concurrent calls with a fresh key ``B`` (on a fresh target of the same kind) all answer
  alike, and together change exactly what one call changed.

The first delta must not be empty, so a mutation that silently did nothing could not pass.
``sandboxSettlePayment`` and ``sandboxSettlePaymentIntent`` (the payment provider's callback) have no key: it is idempotent by the
provider's reference, and are replayed the same way.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Awaitable, Callable

import pytest
from sqlalchemy import func, select

from components.bidding_sale.models import Bid, Bidder, Lot, LotOrder
from components.catalog.models import Sku
from components.coupons.models import Coupon, Template
from components.distribution import ledger
from components.distribution.models import Entry as CommissionEntry
from components.distribution.models import Promoter, Withdrawal
from components.flash_sale.models import Item as FlashItem
from components.flash_sale.models import Purchase
from components.group_buy.models import Group, Membership
from components.guide_attribution.models import Attribution
from components.inventory.models import Reservation, Stock
from components.member_tiers.models import Account as TierAccount
from components.member_tiers.models import Entry as TierEntry
from components.member_tiers.models import Purchase as TermPurchase
from components.orders.models import CartLine, Order, Payment, PaymentIntent, Refund, RefundRequest, Shipment
from components.points_mall.models import Account, Entry, Item, Redemption
from components.store_pickup.models import Pickup
from core.gql.relay import from_global_id, to_global_id
from core.models import EventRow, IdempotencyRow
from core.testing import member, staff

BLUEPRINT = """\
dougong: 1
brand: {slug: replay, name: Replay, currency: CNY, timezone: Asia/Shanghai}
components:
  orders: {}
  group_buy: {}
  bidding_sale: {}
  points_mall: {earn_per_yuan: 1, expiry: {rule: end_of_next_year}, points_payment: {enabled: true}}
  store_pickup: {pickup_window: 3d}
  coupons: {}
  flash_sale: {}
  distribution: {eligibility: everyone}
  guide_attribution: {}
  member_tiers: {terms: [{code: svip, name: SVIP, price: "19.00", days: 30}]}
"""
HOURS = {d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
BURST = 8

CREATE = """mutation($sku: ID!, $key: String) { createOrder(input: {lines: [{skuId: $sku, quantity: 1}], idempotencyKey: $key}) {
  order { id status total { amountMinor } } userErrors { code } } }"""
PAY = """mutation($id: ID!, $key: String) { payOrder(input: {orderId: $id, idempotencyKey: $key}) {
  order { id status } payment { id status } userErrors { code } } }"""
SETTLE = """mutation($id: ID!) { sandboxSettlePayment(input: {paymentId: $id}) { order { id status } userErrors { code } } }"""
SETTLE_INTENT = """mutation($id: ID!) { sandboxSettlePaymentIntent(input: {intentId: $id}) {
  paymentIntent { id status } userErrors { code } } }"""
REFUND = """mutation($id: ID!, $key: String) { refundOrder(input: {orderId: $id, idempotencyKey: $key}) {
  order { id status refunded { amountMinor } } userErrors { code } } }"""
CANCEL = """mutation($id: ID!, $key: String) { cancelOrder(input: {orderId: $id, idempotencyKey: $key}) {
  order { id status } userErrors { code } } }"""
BID = """mutation($lot: ID!, $amount: Long!, $key: String) {
  placeBid(input: {lotId: $lot, amount: {amountMinor: $amount, currency: "CNY"}, idempotencyKey: $key}) {
    lot { id bidCount } leading userErrors { code } } }"""
BUY_NOW = """mutation($lot: ID!, $key: String) { buyNow(input: {lotId: $lot, idempotencyKey: $key}) {
  lot { id status } leading userErrors { code } } }"""
DEPOSIT = """mutation($lot: ID!, $key: String) { payLotDeposit(input: {lotId: $lot, idempotencyKey: $key}) {
  lot { id } order { id kind status } userErrors { code } } }"""
WITHDRAW = """mutation($offer: ID!, $key: String) { withdrawGroupBuyOffer(input: {offerId: $offer, idempotencyKey: $key}) {
  offer { id status } userErrors { code } } }"""
CANCEL_LOT = """mutation($lot: ID!, $key: String) { cancelAuctionLot(input: {lotId: $lot, idempotencyKey: $key}) {
  lot { id status } userErrors { code } } }"""
OPEN = """mutation($offer: ID!, $key: String) { openGroup(input: {offerId: $offer, idempotencyKey: $key}) {
  group { id shareCode } order { id } userErrors { code } } }"""
JOIN = """mutation($code: String!, $key: String) { joinGroup(input: {shareCode: $code, idempotencyKey: $key}) {
  group { id } order { id } userErrors { code } } }"""
REDEEM = """mutation($item: ID!, $key: String) { redeemPointsItem(input: {itemId: $item, idempotencyKey: $key}) {
  redemption { id points } balance userErrors { code } } }"""
ADJUST = """mutation($m: ID!, $key: String) { adjustPoints(input: {memberId: $m, delta: 50, note: "goodwill", idempotencyKey: $key}) {
  balance entry { delta } userErrors { code } } }"""
SIGN_IN = """mutation($key: String) { signInDaily(input: {idempotencyKey: $key}) { balance entry { delta } userErrors { code } } }"""
CHECK_IN = """mutation($key: String) { checkInDaily(input: {idempotencyKey: $key}) { balance entry { delta } userErrors { code } } }"""
CHECKOUT = """mutation($sku: ID!, $store: ID!, $key: String) {
  checkoutPickup(input: {lines: [{skuId: $sku, quantity: 1}], storeId: $store, idempotencyKey: $key}) {
    order { id status } userErrors { code field } } }"""
PAY_WITH_POINTS = """mutation($sku: ID!, $key: String) {
  placeOrder(input: {checkout: {lines: [{skuId: $sku, quantity: 1}], usePoints: 300}, idempotencyKey: $key}) {
  order { id total { amountMinor } } userErrors { code field } } }"""
FOR_CUSTOMER = """mutation($m: ID!, $sku: ID!, $key: String) { placeOrderForCustomer(input: {memberId: $m,
  lines: [{skuId: $sku, quantity: 1}], idempotencyKey: $key}) { orderId attribution { reason guideId } userErrors { code } } }"""
PLACE = """mutation($sku: ID!, $key: String) { placeOrder(input: {checkout: {lines: [{skuId: $sku, quantity: 1}]}, idempotencyKey: $key}) {
  order { id status total { amountMinor } } userErrors { code } } }"""
ADD_TO_CART = """mutation($sku: ID!, $key: String) { addCartLine(input: {line: {skuId: $sku, quantity: 2}, idempotencyKey: $key}) {
  cart { lines { quantity } } userErrors { code } } }"""
SHIP = """mutation($id: ID!, $key: String) { shipOrder(input: {orderId: $id, carrier: "顺丰", trackingNumber: "SF1", idempotencyKey: $key}) {
  order { id status } userErrors { code } } }"""
ASK_REFUND = """mutation($i: RequestRefundInput!) { requestRefund(input: $i) { request { id status } userErrors { code } } }"""
APPROVE = """mutation($id: ID!, $key: String) { approveRefundRequest(input: {requestId: $id, idempotencyKey: $key}) {
  request { id status refunded { amountMinor } } order { id refunded { amountMinor } } userErrors { code } } }"""
RECEIVE = """mutation($id: ID!, $key: String) { receiveReturnedGoods(input: {requestId: $id, idempotencyKey: $key}) {
  request { id status refunded { amountMinor } } order { id refunded { amountMinor } } userErrors { code } } }"""
CLAIM = """mutation($t: ID!, $key: String) { claimCoupon(input: {templateId: $t, idempotencyKey: $key}) {
  coupon { id status } userErrors { code } } }"""
PUSH = """mutation($t: ID!, $m: ID!, $key: String) { pushCoupons(input: {templateId: $t, memberIds: [$m], idempotencyKey: $key}) {
  issued skipped { code } userErrors { code } } }"""
FLASH = """mutation($sku: ID!, $item: ID!, $key: String) {
  placeOrder(input: {checkout: {lines: [{skuId: $sku, quantity: 1, flashSaleItemId: $item}]}, idempotencyKey: $key}) {
    order { id status total { amountMinor } } userErrors { code } } }"""
BUY_FLASH = """mutation($item: ID!, $key: String) { buyFlashSaleItem(input: {itemId: $item, idempotencyKey: $key}) {
  order { id status } userErrors { code } } }"""
WITHDRAW_COMMISSION = """mutation($key: String) { requestWithdrawal(input: {amount: {amountMinor: 1000, currency: "CNY"},
  idempotencyKey: $key}) { withdrawal { id status } userErrors { code } } }"""
REVIEW_WITHDRAWAL = """mutation($id: ID!, $key: String) { reviewWithdrawal(input: {withdrawalId: $id, approve: true, idempotencyKey: $key}) {
  withdrawal { id status } userErrors { code } } }"""
BUY_TERM = """mutation($key: String) { buyMembershipTerm(input: {termCode: "svip", idempotencyKey: $key}) {
  order { id status total { amountMinor } } userErrors { code } } }"""
GROWTH = """mutation($m: ID!, $key: String) { adjustMemberGrowth(input: {memberId: $m, delta: 40, reason: "goodwill", idempotencyKey: $key}) {
  status { growth } entry { delta } userErrors { code } } }"""
CONFIRM = """mutation($store: ID!, $code: String!, $key: String) {
  confirmPickup(input: {storeId: $store, code: $code, idempotencyKey: $key}) {
    pickup { id state } order { id status } userErrors { code } } }"""


async def state(kernel: Any) -> Counter:
    """Everything these mutations can change, as numbers."""
    found: Counter = Counter()
    async with kernel.db.read() as session:
        for model in (Order, Payment, Refund, Reservation, EventRow, Bid, Group, Membership, Redemption, Entry, Pickup,
                      LotOrder, IdempotencyRow, CartLine, RefundRequest, Shipment, Coupon, Purchase, Withdrawal,
                      CommissionEntry, Attribution, TierEntry, TermPurchase):
            found[model.__tablename__] = int(await session.scalar(select(func.count()).select_from(model)))
        sums = {"balance": Account.balance, "item_stock": Item.stock_left, "on_hand": Stock.on_hand,
                "reserved": Stock.reserved, "refunded": Order.refunded_minor, "paid_seats": Group.paid_seats,
                "cart_units": CartLine.quantity, "coupons_issued": Template.issued, "flash_sold": FlashItem.sold,
                "commission_available": Promoter.available_minor, "commission_withdrawn": Promoter.withdrawn_minor,
                "growth": TierAccount.growth}
        for name, column in sums.items():
            found[name] = int(await session.scalar(select(func.coalesce(func.sum(column), 0))))
        for label, column in (("order", Order.status), ("lot", Lot.status), ("pickup", Pickup.state),
                              ("request", RefundRequest.status), ("intent", PaymentIntent.status),
                              ("deposit", Bidder.deposit_state), ("reservation", Reservation.state),
                              ("withdrawal", Withdrawal.status)):
            for value, n in (await session.execute(select(column, func.count()).group_by(column))).all():
                found[f"{label}:{value}"] = n
    return found


def delta(after: Counter, before: Counter) -> dict[str, int]:
    keys = set(after) | set(before)
    return {k: after[k] - before[k] for k in keys if after[k] != before[k]}


@dataclass
class Case:
    name: str
    # send(target, key) -> the mutation's payload; targets[0] takes key A, targets[1] the burst.
    send: Callable[[Any, str | None], Awaitable[dict[str, Any]]]
    targets: tuple[Any, Any]
    before_burst: Callable[[], None] | None = None


class World:
    """One shop with everything the mutations need, built through the services and GraphQL."""

    async def build(self, kernel: Any, graphql: Any, clock: Any) -> None:
        self.kernel, self.graphql, self.clock = kernel, graphql, clock
        now = clock.now()
        async with kernel.transaction() as tx:
            people = kernel.service("members")
            await people.create_staff(tx, name="admin", roles=("admin",))
            for i in range(12):
                await people.create_member(tx, phone=f"1390000{i:04d}", nickname=f"m{i + 1}")
            catalog, inventory = kernel.service("catalog"), kernel.service("inventory")
            tea = await catalog.create_product(tx, title="Longjing", skus=[{"title": "50g", "price_minor": 1000}])
            self.tea_id = await tx.session.scalar(select(Sku.id).where(Sku.product_id == tea))
            await inventory.set_stock(tx, self.tea_id, 500)
            auctions = kernel.service("bidding_sale")
            self.lots = {}
            for name, kwargs in {"bid": {}, "buy1": {"buy_now_price": 50000}, "buy2": {"buy_now_price": 50000},
                                 "deposit": {"deposit": 5000}, "cancel1": {"deposit": 5000}, "cancel2": {"deposit": 5000}}.items():
                product = await catalog.create_product(tx, title=f"Jade {name}", skus=[{"title": "one", "price_minor": 99000}])
                sku = await tx.session.scalar(select(Sku.id).where(Sku.product_id == product))
                await inventory.set_stock(tx, sku, 1)
                lot = await auctions.create_lot(tx, sku_id=sku, start_price=10000, increments=[(0, 100)],
                                                starts_at=now - timedelta(minutes=1), ends_at=now + timedelta(days=5), **kwargs)
                self.lots[name] = to_global_id("AuctionLot", lot)
            offer = await kernel.service("group_buy").create_offer(
                tx, sku_id=self.tea_id, group_price_minor=700, group_size=5, starts_at=now - timedelta(hours=1),
                ends_at=now + timedelta(days=7), total_limit=100, per_member_limit=5, duration=timedelta(hours=48))
            self.offer = to_global_id("GroupBuyOffer", offer)
            self.withdrawn = []  # offers to withdraw, one per SKU (a SKU is in one active offer at a time)
            for name in ("w1", "w2"):
                product = await catalog.create_product(tx, title=f"Pu'er {name}", skus=[{"title": "357g", "price_minor": 2000}])
                sku = await tx.session.scalar(select(Sku.id).where(Sku.product_id == product))
                await inventory.set_stock(tx, sku, 10)
                self.withdrawn.append(to_global_id("GroupBuyOffer", await kernel.service("group_buy").create_offer(
                    tx, sku_id=sku, group_price_minor=1500, group_size=3, starts_at=now - timedelta(hours=1),
                    ends_at=now + timedelta(days=7), total_limit=10)))
            points = kernel.service("points_mall")
            self.item = to_global_id("PointsMallItem", await points.create_item(tx, title="Class", points_price=300, stock=50,
                                                                             per_member_limit=20))
            for m in range(1, 13):
                await points.credit(tx, m, 5000, reason="staff_adjust", note="welcome", key=f"welcome:{m}")
            store = await kernel.service("store_pickup").create_store(tx, name="Jing'an", latitude=31.22, longitude=121.44, hours=HOURS)
            self.store_id = store
            self.clerk = await people.create_staff(tx, name="clerk", roles=("store_clerk",), store_ids=(store,))
            self.guide = await people.create_staff(tx, name="guide", roles=("guide",))
            coupons = kernel.service("coupons")
            self.claimable = to_global_id("CouponTemplate", await coupons.create_template(tx, {
                "title": "claim", "kind": "fixed", "amount_minor": 100, "valid_days": 3, "per_member_limit": 20}))
            self.pushed = to_global_id("CouponTemplate", await coupons.create_template(tx, {
                "title": "push", "kind": "fixed", "amount_minor": 100, "valid_days": 3, "channel": "push"}))
            tiers = kernel.service("member_tiers")
            await tiers.sku_of(tx, tiers.terms["svip"])  # the term's SKU exists before the first purchase
            flash = await kernel.service("flash_sale").create_session(
                tx, title="now", starts_at=now - timedelta(minutes=1), ends_at=now + timedelta(days=6),
                items=[{"sku_id": self.tea_id, "flash_price_minor": 500, "quantity": 100, "per_member_limit": 20}])
            self.flash_item = to_global_id("FlashSaleItem", (await kernel.service("flash_sale").item_ids(tx, flash))[0])
            # Member 12 is a promoter with settled commission to withdraw.
            promoter = await kernel.service("distribution").promoters.apply(tx, 12)
            await ledger.post(tx, promoter.id, "available", "settled", 100_000, "replay:credit")
        self.tea = to_global_id("Sku", self.tea_id)
        self.store = to_global_id("PickupStore", store)
        self.admin = graphql(kernel, staff(1, "admin"))
        self.clerk_client = graphql(kernel, staff(self.clerk, "store_clerk", stores=(store,)))

    def m(self, n: int) -> Any:
        return self.graphql(self.kernel, member(n))

    async def order(self, n: int, *, paid: bool = False) -> str:
        made = await self.m(n).mutate(CREATE, sku=self.tea)
        assert made["userErrors"] == [], made
        if paid:
            await self.settle(n, made["order"]["id"])
        return made["order"]["id"]

    async def settle(self, n: int, order_id: str) -> None:
        payment = await self.m(n).mutate(PAY, id=order_id)
        settled = await self.m(n).mutate(SETTLE, id=payment["payment"]["id"])
        assert settled["userErrors"] == [], settled

    async def paid_pickup_code(self, n: int) -> str:
        made = await self.m(n).mutate(CHECKOUT, sku=self.tea, store=self.store)
        assert made["userErrors"] == [], made
        await self.settle(n, made["order"]["id"])
        async with self.kernel.db.read() as session:
            return await session.scalar(select(Pickup.code).where(Pickup.order_id == int(from_global_id(made["order"]["id"])[1])))

    async def paid_deposit(self, n: int, lot: str) -> str:
        placed = await self.m(n).mutate(DEPOSIT, lot=lot)
        await self.settle(n, placed["order"]["id"])
        return lot

    async def group_code(self, n: int, offer: str | None = None) -> str:
        opened = await self.m(n).mutate(OPEN, offer=offer or self.offer)
        await self.settle(n, opened["order"]["id"])
        return opened["group"]["shareCode"]

    async def refund_request(self, n: int, *, kind: str = "REFUND_ONLY", approved: bool = False) -> str:
        """An after-sale request of member n for one unit of a paid (for a return: shipped) order."""
        order_id = await self.order(n, paid=True)
        if kind == "RETURN_AND_REFUND":
            await self.admin.mutate(SHIP, id=order_id)
        line = (await self.m(n).data("query($id: ID!) { order(id: $id) { lines { id } } }", id=order_id))["order"]["lines"][0]["id"]
        made = await self.m(n).mutate(ASK_REFUND, i={"orderId": order_id, "kind": kind, "reason": "idempotency",
                                                     "lines": [{"lineId": line, "quantity": 1}]})
        assert made["userErrors"] == [], made
        if approved:
            assert (await self.admin.mutate(APPROVE, id=made["request"]["id"]))["userErrors"] == []
        return made["request"]["id"]

    async def payment(self, n: int) -> str:
        order_id = await self.order(n)
        return (await self.m(n).mutate(PAY, id=order_id))["payment"]["id"]

    async def intent(self, n: int) -> str:
        """A pending payment intent of member n (a deposit, as bidding_sale opens them)."""
        async with self.kernel.transaction() as tx:
            made, _ = await self.kernel.service("orders").intents.create(
                tx, member_id=n, amount_minor=5000, purpose="bidding_sale.deposit", reference="replay", description="replay")
        return str(made.id)

    async def withdrawal(self) -> str:
        async with self.kernel.transaction() as tx:
            made = await self.kernel.service("distribution").withdrawals.request(tx, 12, 1000)
        return to_global_id("PromoterWithdrawal", made.id)

    async def cases(self) -> list[Case]:
        w = self
        return [
            Case("createOrder", lambda t, k: w.m(1).mutate(CREATE, sku=w.tea, key=k), (None, None)),
            Case("placeOrder", lambda t, k: w.m(1).mutate(PLACE, sku=w.tea, key=k), (None, None)),
            # The other cart mutations set a quantity or remove a line: a replay changes nothing anyway.
            Case("addCartLine", lambda t, k: w.m(t).mutate(ADD_TO_CART, sku=w.tea, key=k), (10, 11)),
            Case("payOrder", lambda t, k: w.m(1).mutate(PAY, id=t, key=k), (await w.order(1), await w.order(1))),
            Case("sandboxSettlePayment", lambda t, k: w.m(1).mutate(SETTLE, id=t), (await w.payment(1), await w.payment(1))),
            Case("sandboxSettlePaymentIntent", lambda t, k: w.m(1).mutate(SETTLE_INTENT, id=t), (await w.intent(1), await w.intent(1))),
            Case("refundOrder", lambda t, k: w.admin.mutate(REFUND, id=t, key=k),
                 (await w.order(2, paid=True), await w.order(2, paid=True))),
            Case("cancelOrder", lambda t, k: w.m(2).mutate(CANCEL, id=t, key=k), (await w.order(2), await w.order(2))),
            # Member 2 leads first, so each of these bids outbids someone (one bidding_sale.outbid event each).
            Case("placeBid", lambda t, k: w.m(t[0]).mutate(BID, lot=w.lots["bid"], amount=t[1], key=k),
                 ((3, 10100), (4, 10200)) if not (await w.m(2).mutate(BID, lot=w.lots["bid"], amount=10000))["userErrors"] else None),
            Case("buyNow", lambda t, k: w.m(3).mutate(BUY_NOW, lot=t, key=k), (w.lots["buy1"], w.lots["buy2"])),
            Case("payLotDeposit", lambda t, k: w.m(t).mutate(DEPOSIT, lot=w.lots["deposit"], key=k), (5, 6)),
            # A paid deposit on each: cancelling refunds it through the provider.
            Case("cancelAuctionLot", lambda t, k: w.admin.mutate(CANCEL_LOT, lot=t, key=k), (
                await w.paid_deposit(7, w.lots["cancel1"]), await w.paid_deposit(7, w.lots["cancel2"]))),
            Case("openGroup", lambda t, k: w.m(8).mutate(OPEN, offer=w.offer, key=k), (None, None)),
            Case("joinGroup", lambda t, k: w.m(t[0]).mutate(JOIN, code=t[1], key=k), ((9, await w.group_code(10)), (9, await w.group_code(11)))),
            # A group whose leader paid on each: withdrawing the offer refunds them.
            Case("withdrawGroupBuyOffer", lambda t, k: w.admin.mutate(WITHDRAW, offer=t, key=k),
                 (w.withdrawn[0] if await w.group_code(1, w.withdrawn[0]) else None,
                  w.withdrawn[1] if await w.group_code(1, w.withdrawn[1]) else None)),
            Case("redeemPointsItem", lambda t, k: w.m(4).mutate(REDEEM, item=w.item, key=k), (None, None)),
            # 积分抵现: points paid at checkout are taken once, however often the order is replayed.
            Case("placeOrder", lambda t, k: w.m(3).mutate(PAY_WITH_POINTS, sku=w.tea, key=k), (None, None)),
            Case("adjustPoints", lambda t, k: w.admin.mutate(ADJUST, m=to_global_id("Member", 5), key=k), (None, None)),
            Case("signInDaily", lambda t, k: w.m(6).mutate(SIGN_IN, key=k), (None, None),
                 before_burst=lambda: w.clock.advance(days=1)),
            Case("checkInDaily", lambda t, k: w.m(12).mutate(CHECK_IN, key=k), (None, None),
                 before_burst=lambda: w.clock.advance(days=1)),
            Case("checkoutPickup", lambda t, k: w.m(7).mutate(CHECKOUT, sku=w.tea, store=w.store, key=k), (None, None)),
            Case("confirmPickup", lambda t, k: w.clerk_client.mutate(CONFIRM, store=w.store, code=t, key=k),
                 (await w.paid_pickup_code(8), await w.paid_pickup_code(9))),
            Case("shipOrder", lambda t, k: w.admin.mutate(SHIP, id=t, key=k), (await w.order(10, paid=True), await w.order(10, paid=True))),
            Case("approveRefundRequest", lambda t, k: w.admin.mutate(APPROVE, id=t, key=k),
                 (await w.refund_request(11), await w.refund_request(11))),
            Case("receiveReturnedGoods", lambda t, k: w.admin.mutate(RECEIVE, id=t, key=k),
                 (await w.refund_request(12, kind="RETURN_AND_REFUND", approved=True),
                  await w.refund_request(12, kind="RETURN_AND_REFUND", approved=True))),
            Case("claimCoupon", lambda t, k: w.m(1).mutate(CLAIM, t=w.claimable, key=k), (None, None)),
            Case("pushCoupons", lambda t, k: w.admin.mutate(PUSH, t=w.pushed, m=to_global_id("Member", t), key=k), (2, 3)),
            Case("placeOrder (flash sale)", lambda t, k: w.m(5).mutate(FLASH, sku=w.tea, item=w.flash_item, key=k), (None, None)),
            Case("buyFlashSaleItem", lambda t, k: w.m(6).mutate(BUY_FLASH, item=w.flash_item, key=k), (None, None)),
            Case("requestWithdrawal", lambda t, k: w.m(12).mutate(WITHDRAW_COMMISSION, key=k), (None, None)),
            Case("reviewWithdrawal", lambda t, k: w.admin.mutate(REVIEW_WITHDRAWAL, id=t, key=k),
                 (await w.withdrawal(), await w.withdrawal())),
            # 代客下单: a guide places an order for member 4; a replay places nothing more.
            Case("placeOrderForCustomer", lambda t, k: w.graphql(w.kernel, staff(w.guide, "guide")).mutate(
                FOR_CUSTOMER, m=to_global_id("Member", 4), sku=w.tea, key=k), (None, None)),
            Case("buyMembershipTerm", lambda t, k: w.m(t).mutate(BUY_TERM, key=k), (7, 8)),
            Case("adjustMemberGrowth", lambda t, k: w.admin.mutate(GROWTH, m=to_global_id("Member", t), key=k), (9, 10)),
        ]


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_every_money_stock_and_points_mutation_replays_without_effect(kernel_factory, graphql, clock, database):
    kernel = await kernel_factory(BLUEPRINT, database=database)
    world = World()
    await world.build(kernel, graphql, clock)
    cases = await world.cases()
    for case in cases:
        before = await state(kernel)
        first = await case.send(case.targets[0], f"{case.name}-A")
        assert first["userErrors"] == [], (case.name, first)
        once = delta(await state(kernel), before)
        assert once, f"{case.name} changed nothing at all: the test would prove nothing"

        after_first = await state(kernel)
        again = await case.send(case.targets[0], f"{case.name}-A")
        assert again == first, (case.name, first, again)
        assert delta(await state(kernel), after_first) == {}, (case.name, "sequential replay changed", delta(await state(kernel), after_first))

        if case.before_burst:
            case.before_burst()
        before_burst = await state(kernel)
        burst = await asyncio.gather(*(case.send(case.targets[1], f"{case.name}-B") for _ in range(BURST)))
        assert all(b["userErrors"] == [] for b in burst), (case.name, burst)
        assert all(b == burst[0] for b in burst), (case.name, burst)
        assert delta(await state(kernel), before_burst) == once, (case.name, once, delta(await state(kernel), before_burst))
    assert len(cases) == 34  # checkInDaily beside signInDaily, placeOrder twice (plain, and paying with points: 积分抵现), the payment intent, the offer withdrawal, coupons, flash sale, commission withdrawals, 代客下单, member tiers


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_racing_payment_callbacks_never_refund_a_payment_that_succeeded(kernel_factory, graphql, clock, database):
    """Found by the test above: on PostgreSQL a callback that lost the race to its twin read the
    payment it had loaded before the order lock ("pending"), saw the order already paid and
    refunded the payment — leaving a PAID order whose only payment was marked refunded."""
    kernel = await kernel_factory(BLUEPRINT, database=database)
    world = World()
    await world.build(kernel, graphql, clock)
    payment = await world.payment(1)
    burst = await asyncio.gather(*(world.m(1).mutate(SETTLE, id=payment) for _ in range(BURST)))
    assert [b["userErrors"] for b in burst] == [[]] * BURST
    async with kernel.db.read() as session:
        assert (await session.scalar(select(Payment.status))) == "succeeded"
        assert (await session.scalar(select(Order.status))) == "paid"
        assert await session.scalar(select(func.count()).select_from(Refund)) == 0
