"""SIGKILL a real server mid-load, restart it on the same database, and check that nothing
the crash interrupted left the data inconsistent.

The load is what a busy evening looks like: members buying (createOrder, and placeOrder with
two lines) and paying, asking for a unit back (requestRefund, approved by an admin at once),
bidding on one lot, redeeming points, opening/joining/paying groups, buying in a flash-sale
session and claiming and spending coupons, paying part of an order with points (积分抵现) and
buying in a live room at its live price from its live-only stock, buying paid membership
terms, all at once over
real HTTP. When enough requests have succeeded the server process
is killed with SIGKILL (no shutdown hook runs, transactions in flight are cut). The restarted
server must then serve again, deliver the events the crash left pending, and the database
must satisfy:

* per SKU: stock on hand + units sold (committed reservations not returned) = initial stock,
  and the ``reserved`` counter equals the sum of open reservations;
* per member: the points balance equals the sum of their ledger;
* at most one order per auction lot, and every bid the client was told was accepted is stored;
* no group has more paid members than seats, and ``paid_seats`` agrees with the memberships;
* every payment the client saw settle left its order paid (or later states);
* per order: the refunded amount is what its refunds paid back, equals the sum over its
  lines, and never exceeds the total;
* the flash-sale item's sold units equal its held and paid purchases (never above its
  quantity), and each member's counted units equal theirs;
* coupons issued equal the template's counter (never above its total), and every used coupon
  names an order that exists;
* every order paid partly with points took exactly those points from the ledger (and gave
  them back if cancelled), and no points were taken for an order that does not exist;
* the live room's live-only stock sold equals the units on live-priced lines not cancelled
  (and the room's purchase rows), and no member holds more than the per-member limit;
* per member: growth (member tiers) equals the sum of its ledger and of what the paid lines
  earned less their reversals, and a term purchase is active exactly when its order is paid.
"""

from __future__ import annotations

import asyncio
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from reliability_server import ServerProcess
from sqlalchemy import func, select

from components.bidding_sale.models import Bid, Bidder, DepositEntry, Lot, LotOrder
from components.catalog.models import Sku
from components.coupons.models import Coupon, Template
from components.distribution import ledger as commission_ledger
from components.distribution.models import Commission, Promoter, Withdrawal
from components.distribution.models import Entry as CommissionEntry
from components.flash_sale.models import Bought, Purchase
from components.flash_sale.models import Item as FlashItem
from components.group_buy.models import Group, Membership, Offer
from components.guide_attribution.models import Attribution, DailyFigure
from components.inventory.models import Reservation, Stock
from components.live_room.models import Purchase as LivePurchase
from components.live_room.models import ShelfItem
from components.live_room.shelf import ShelfEntry
from components.member_tiers.models import Account as TierAccount
from components.member_tiers.models import Entry as GrowthEntry
from components.member_tiers.models import Line as GrowthLine
from components.member_tiers.models import Purchase as TermPurchase
from components.orders.models import Order, OrderLine, Payment, Refund, RefundRequest
from components.points_mall.models import Account, Entry
from core.clock import MovableClock
from core.gql.relay import to_global_id
from core.kernel import Kernel
from core.models import EventRow
from core.testing import member, staff

BLUEPRINT = """\
dougong: 1
brand: {slug: crash, name: Crash, currency: CNY, timezone: Asia/Shanghai}
storage: {database: "%s"}
auth: {dev_sign_in: true}
components:
  orders: {payment_timeout: 30m}
  group_buy: {}
  points_mall: {earn_per_yuan: 1, expiry: {rule: end_of_next_year}, points_payment: {enabled: true, points_per_unit: 100, max_percent: 50}}
  bidding_sale: {}
  coupons: {}
  flash_sale: {}
  live_room: {live_price_for: anyone}
  distribution: {eligibility: everyone, levels: 2}
  guide_attribution: {}
  member_tiers: {terms: [{code: svip, name: SVIP, price: "19.00", days: 30}]}
"""

MEMBERS = 16
STOCK = 40  # per SKU of the tea; the lot's SKU has 1
WELCOME_POINTS = 5000
KILL_AFTER = 80  # successful requests before the SIGKILL
LIVE_STOCK, LIVE_LIMIT, LIVE_PRICE = 12, 2, 600  # the live room's only product: live-only units, per member, price
POINTS_OFFERED = 400  # points offered per 积分抵现 order (worth 4 yuan at 100 a yuan; capped at half the order)

CREATE = """mutation($sku: ID!, $key: String) { createOrder(input: {lines: [{skuId: $sku, quantity: 1}], idempotencyKey: $key}) {
  order { id } userErrors { code } } }"""
PLACE = """mutation($a: ID!, $b: ID!, $key: String) {
  placeOrder(input: {checkout: {lines: [{skuId: $a, quantity: 1}, {skuId: $b, quantity: 1}]}, idempotencyKey: $key}) {
    order { id } userErrors { code } } }"""
PAY = """mutation($id: ID!, $key: String) { payOrder(input: {orderId: $id, idempotencyKey: $key}) {
  payment { id } userErrors { code } } }"""
SETTLE = """mutation($id: ID!) { sandboxSettlePayment(input: {paymentId: $id}) { order { id status } userErrors { code } } }"""
BID = """mutation($lot: ID!, $amount: Long!, $key: String) {
  placeBid(input: {lotId: $lot, amount: {amountMinor: $amount, currency: "CNY"}, idempotencyKey: $key}) {
    leading userErrors { code details } } }"""
REDEEM = """mutation($item: ID!, $key: String) { redeemPointsItem(input: {itemId: $item, idempotencyKey: $key}) {
  redemption { id } userErrors { code } } }"""
OPEN = """mutation($offer: ID!, $key: String) { openGroup(input: {offerId: $offer, idempotencyKey: $key}) {
  group { shareCode } order { id } userErrors { code } } }"""
FOR_CUSTOMER = """mutation($m: ID!, $sku: ID!, $key: String) { placeOrderForCustomer(input: {memberId: $m,
  lines: [{skuId: $sku, quantity: 1}], idempotencyKey: $key}) { orderId userErrors { code } } }"""
FLASH = """mutation($sku: ID!, $item: ID!, $key: String) {
  placeOrder(input: {checkout: {lines: [{skuId: $sku, quantity: 1, flashSaleItemId: $item}]}, idempotencyKey: $key}) {
    order { id } userErrors { code } } }"""
BUY_FLASH = """mutation($item: ID!, $key: String) { buyFlashSaleItem(input: {itemId: $item, idempotencyKey: $key}) {
  order { id } userErrors { code } } }"""
CLAIM = """mutation($t: ID!, $key: String) { claimCoupon(input: {templateId: $t, idempotencyKey: $key}) {
  coupon { id } userErrors { code } } }"""
WITH_COUPON = """mutation($sku: ID!, $coupon: ID!, $key: String) {
  placeOrder(input: {checkout: {lines: [{skuId: $sku, quantity: 1}], couponIds: [$coupon]}, idempotencyKey: $key}) {
    order { id } userErrors { code } } }"""
WITH_POINTS = """mutation($sku: ID!, $points: Int!, $key: String) {
  placeOrder(input: {checkout: {lines: [{skuId: $sku, quantity: 1}], usePoints: $points}, idempotencyKey: $key}) {
    order { id } userErrors { code } } }"""
IN_ROOM = """mutation($sku: ID!, $room: ID!, $key: String) {
  placeOrder(input: {checkout: {lines: [{skuId: $sku, quantity: 1, liveRoomId: $room}]}, idempotencyKey: $key}) {
    order { id } userErrors { code } } }"""
LINES = """query($id: ID!) { order(id: $id) { lines { id } } }"""
DEPOSIT = """mutation($lot: ID!, $key: String) { payLotDeposit(input: {lotId: $lot, idempotencyKey: $key}) {
  order { id } userErrors { code } } }"""
WITHDRAW = """mutation($offer: ID!, $key: String) { withdrawGroupBuyOffer(input: {offerId: $offer, idempotencyKey: $key}) {
  offer { status } userErrors { code } } }"""
ASK_REFUND = """mutation($i: RequestRefundInput!) { requestRefund(input: $i) { request { id } userErrors { code } } }"""
APPROVE = """mutation($id: ID!, $key: String) { approveRefundRequest(input: {requestId: $id, idempotencyKey: $key}) {
  request { id } userErrors { code } } }"""
WITHDRAW_COMMISSION = """mutation($amount: Long!, $key: String) { requestWithdrawal(input: {
  amount: {amountMinor: $amount, currency: "CNY"}, idempotencyKey: $key}) { withdrawal { id } userErrors { code } } }"""
REVIEW_WITHDRAWAL = """mutation($id: ID!, $ok: Boolean!, $key: String) { reviewWithdrawal(input: {withdrawalId: $id, approve: $ok,
  reason: "crash test", idempotencyKey: $key}) { withdrawal { id } userErrors { code } } }"""
PROMOTER_CREDIT = 5000  # settled commission each of the two promoters starts with
BUY_TERM = """mutation($key: String) { buyMembershipTerm(input: {termCode: "svip", idempotencyKey: $key}) {
  order { id } userErrors { code } } }"""
JOIN = """mutation($code: String!, $key: String) { joinGroup(input: {shareCode: $code, idempotencyKey: $key}) {
  group { shareCode } order { id } userErrors { code } } }"""


async def seed(blueprint: Path) -> dict[str, Any]:
    """Seed through the services, in-process, before the server first starts."""
    kernel = Kernel.from_file(blueprint)
    await kernel.start()
    try:
        async with kernel.transaction() as tx:
            members = kernel.service("members")
            await members.create_staff(tx, name="admin", roles=("admin",))
            guide = await members.create_staff(tx, name="guide", roles=("guide",))
            member_ids = [(await members.create_member(tx, phone=f"1370000{i:04d}", nickname=f"m{i}")) for i in range(MEMBERS)]
            product = await kernel.service("catalog").create_product(
                tx, title="Longjing", skus=[{"title": "50g", "price_minor": 1000}, {"title": "100g", "price_minor": 2000}])
            bangle = await kernel.service("catalog").create_product(tx, title="Jade bangle", skus=[{"title": "one", "price_minor": 100000}])
            tea = (await tx.session.scalars(select(Sku.id).where(Sku.product_id == product).order_by(Sku.id))).all()
            jade = await tx.session.scalar(select(Sku.id).where(Sku.product_id == bangle))
            for sku_id in tea:
                await kernel.service("inventory").set_stock(tx, sku_id, STOCK)
            await kernel.service("inventory").set_stock(tx, jade, 1)
            now = tx.now()
            lot = await kernel.service("bidding_sale").create_lot(
                tx, sku_id=jade, start_price=10000, increments=[(0, 100)], starts_at=now - timedelta(minutes=1),
                ends_at=now + timedelta(hours=2))
            # A second lot asks a deposit (paid through the provider, as an order), and a second
            # offer is withdrawn by an admin mid-load (its forming groups refunded).
            vase = await kernel.service("catalog").create_product(tx, title="Vase", skus=[{"title": "one", "price_minor": 100000}])
            vase_sku = await tx.session.scalar(select(Sku.id).where(Sku.product_id == vase))
            await kernel.service("inventory").set_stock(tx, vase_sku, 1)
            deposit_lot = await kernel.service("bidding_sale").create_lot(
                tx, sku_id=vase_sku, start_price=10000, increments=[(0, 100)], starts_at=now - timedelta(minutes=1),
                ends_at=now + timedelta(hours=2), deposit=500)
            withdrawn = await kernel.service("group_buy").create_offer(
                tx, sku_id=tea[1], group_price_minor=1500, group_size=4, starts_at=now - timedelta(hours=1),
                ends_at=now + timedelta(days=2), total_limit=30, per_member_limit=2, duration=timedelta(hours=24))
            offer = await kernel.service("group_buy").create_offer(
                tx, sku_id=tea[0], group_price_minor=700, group_size=3, starts_at=now - timedelta(hours=1),
                ends_at=now + timedelta(days=2), total_limit=30, per_member_limit=2, duration=timedelta(hours=24))
            points = kernel.service("points_mall")
            item = await points.create_item(tx, title="Tea class", points_price=300, stock=60, per_member_limit=5)
            for member_id in member_ids:
                await points.credit(tx, member_id, WELCOME_POINTS, reason="staff_adjust", note="welcome", key=f"welcome:{member_id}")
            template = await kernel.service("coupons").create_template(tx, {
                "title": "¥2 off", "kind": "fixed", "amount_minor": 200, "valid_days": 3, "total_quantity": 30, "per_member_limit": 3})
            flash_session = await kernel.service("flash_sale").create_session(
                tx, title="now", starts_at=now - timedelta(minutes=1), ends_at=now + timedelta(hours=2),
                items=[{"sku_id": tea[1], "flash_price_minor": 500, "quantity": 20, "per_member_limit": 2}])
            flash_item = (await kernel.service("flash_sale").item_ids(tx, flash_session))[0]
            # A live room, live now, selling a cake at its live price from live-only stock.
            cake = await kernel.service("catalog").create_product(tx, title="Pu'er cake", skus=[{"title": "357g", "price_minor": 1000}])
            cake_sku = await tx.session.scalar(select(Sku.id).where(Sku.product_id == cake))
            await kernel.service("inventory").set_stock(tx, cake_sku, STOCK)
            rooms = kernel.service("live_room")
            room = await rooms.create_room(
                tx, staff(1, "admin"), title="Tea night", host_staff_id=None, scheduled_start_at=now,
                scheduled_end_at=now + timedelta(hours=3),
                shelf=[ShelfEntry(product_id=cake, live_prices=((cake_sku, LIVE_PRICE),), live_stock=LIVE_STOCK,
                                  per_member_limit=LIVE_LIMIT)])
            await rooms.start(tx, staff(1, "admin"), room)
            # Distribution: the first two members are promoters (the second bound to the first),
            # every other member a customer of one of them; both start with settled commission.
            distribution = kernel.service("distribution")
            promoters = member_ids[:2]
            for promoter_id in promoters:
                made = await distribution.promoters.apply(tx, promoter_id)
                await commission_ledger.post(tx, made.id, "available", "settled", PROMOTER_CREDIT, f"crash:{promoter_id}")
            await distribution.promoters.bind(tx, promoters[1], promoters[0], strict=True)
            for index, customer in enumerate(member_ids[2:]):
                await distribution.promoters.bind(tx, customer, promoters[index % 2], strict=True)
        tokens = {m: kernel.issue_token(member(m), timedelta(hours=2)) for m in member_ids}
        admin_token = kernel.issue_token(staff(1, "admin"), timedelta(hours=2))
        guide_token = kernel.issue_token(staff(guide, "guide"), timedelta(hours=2))
        async with kernel.db.read() as session:
            initial = {row.sku_id: row.on_hand for row in (await session.scalars(select(Stock))).all()}
    finally:
        await kernel.stop()
    return {"tokens": tokens, "admin": admin_token, "guide": guide_token, "tea": [to_global_id("Sku", s) for s in tea], "lot": to_global_id("AuctionLot", lot),
            "offer": to_global_id("GroupBuyOffer", offer), "item": to_global_id("PointsMallItem", item), "initial": initial,
            "deposit_lot": to_global_id("AuctionLot", deposit_lot), "withdrawn": to_global_id("GroupBuyOffer", withdrawn),
            "template": to_global_id("CouponTemplate", template), "flash": to_global_id("FlashSaleItem", flash_item),
            "room": to_global_id("LiveRoom", room), "cake": to_global_id("Sku", cake_sku), "promoters": promoters}


class Load:
    """Drives the server until it dies; remembers what the clients were told."""

    def __init__(self, base: str, world: dict[str, Any]) -> None:
        self.base = base
        self.world = world
        self.succeeded = 0  # requests whose payload had no userErrors
        self.refused = 0  # well-formed refusals (out of stock, bid too low, ...)
        self.in_flight = 0
        self.enough = asyncio.Event()
        self.accepted_bids: list[tuple[int, int]] = []  # (member id, amount)
        self.settled_orders: list[str] = []  # order ids the client saw paid
        self.mine: dict[int, list[str]] = {}  # member -> plain orders they saw paid (for after-sale)
        self.share_codes: list[str] = []
        self.minimum_bid = 10000
        self.broken: list[str] = []  # anything but a clean answer or a cut connection

    async def call(self, http: httpx.AsyncClient, token: str, query: str, **variables: Any) -> dict[str, Any] | None:
        """The payload, or None once the server is gone (connection refused/reset)."""
        self.in_flight += 1
        try:
            response = await http.post("/graphql", json={"query": query, "variables": variables},
                                       headers={"authorization": f"Bearer {token}"})
        except httpx.TransportError:
            return None
        finally:
            self.in_flight -= 1
        body = response.json() if response.status_code == 200 else {}
        if response.status_code != 200 or body.get("errors"):
            self.broken.append(f"{response.status_code}: {response.text[:300]}")
            return None
        payload = next(iter(body["data"].values()))
        if payload["userErrors"]:
            self.refused += 1
        else:
            self.succeeded += 1
            if self.succeeded >= KILL_AFTER:
                self.enough.set()
        return payload

    async def pay(self, http: httpx.AsyncClient, token: str, order_id: str, key: str) -> bool:
        paid = await self.call(http, token, PAY, id=order_id, key=key)
        if not paid or paid["userErrors"]:
            return paid is not None
        settled = await self.call(http, token, SETTLE, id=paid["payment"]["id"])
        if settled is None:
            return False
        if not settled["userErrors"]:
            self.settled_orders.append(order_id)
        return True

    async def refund(self, http: httpx.AsyncClient, token: str, order_id: str, key: str) -> bool:
        try:
            response = await http.post("/graphql", json={"query": LINES, "variables": {"id": order_id}},
                                       headers={"authorization": f"Bearer {token}"})
        except httpx.TransportError:
            return False
        line = response.json()["data"]["order"]["lines"][0]["id"]
        asked = await self.call(http, token, ASK_REFUND, i={"orderId": order_id, "kind": "REFUND_ONLY", "reason": "crash test",
                                                            "lines": [{"lineId": line, "quantity": 1}], "idempotencyKey": key})
        if asked is None or asked["userErrors"]:
            return asked is not None
        return await self.call(http, self.world["admin"], APPROVE, id=asked["request"]["id"], key=key) is not None

    async def member(self, member_id: int, token: str, rng: random.Random) -> None:
        async with httpx.AsyncClient(base_url=self.base, timeout=30.0) as http:
            for i in range(10_000):
                key = f"m{member_id}-{i}"
                action = rng.choice(("order", "place", "bid", "redeem", "group", "refund", "deposit", "flash", "coupon",
                                     "points", "live", "guide", "term"))
                if member_id in self.world["promoters"] and rng.random() < 0.5:
                    action = "withdraw"  # the two promoters withdraw often, so the kill can meet one
                if action == "withdraw":
                    # A promoter asks for commission; the admin approves (pays out) or rejects at once.
                    asked = await self.call(http, token, WITHDRAW_COMMISSION, amount=rng.randint(100, 900), key=key)
                    alive = asked is not None and (asked["userErrors"] != [] or await self.call(
                        http, self.world["admin"], REVIEW_WITHDRAWAL, id=asked["withdrawal"]["id"], ok=rng.random() < 0.7,
                        key=key) is not None)
                elif action == "refund" and self.mine.get(member_id):
                    # After-sale: ask for one unit of a paid order back; the admin approves at once.
                    alive = await self.refund(http, token, self.mine[member_id].pop(), key)
                elif action in ("order", "place", "refund"):
                    if action == "order":
                        made = await self.call(http, token, CREATE, sku=rng.choice(self.world["tea"]), key=key)
                    else:  # the checkout path: both teas in one order
                        made = await self.call(http, token, PLACE, a=self.world["tea"][0], b=self.world["tea"][1], key=key)
                    alive = made is not None and (made["userErrors"] or await self.pay(http, token, made["order"]["id"], key))
                    if alive and made and not made["userErrors"] and made["order"]["id"] in self.settled_orders:
                        self.mine.setdefault(member_id, []).append(made["order"]["id"])
                elif action == "bid":
                    amount = self.minimum_bid + 100 * rng.randint(0, 2)
                    bid = await self.call(http, token, BID, lot=self.world["lot"], amount=amount, key=key)
                    alive = bid is not None
                    if alive and not bid["userErrors"]:
                        self.accepted_bids.append((member_id, amount))
                        self.minimum_bid = max(self.minimum_bid, amount + 100)
                    elif alive and bid["userErrors"][0]["code"] == "BIDDING_SALE_BID_TOO_LOW":
                        self.minimum_bid = max(self.minimum_bid, bid["userErrors"][0]["details"]["minimumBid"])
                elif action == "deposit":  # the deposit order, paid through the provider
                    placed = await self.call(http, token, DEPOSIT, lot=self.world["deposit_lot"], key=key)
                    alive = placed is not None and (placed["userErrors"] != [] or await self.pay(http, token, placed["order"]["id"], key))
                elif action in ("flash", "coupon"):
                    if action == "flash" and rng.random() < 0.5:
                        made = await self.call(http, token, FLASH, sku=self.world["tea"][1], item=self.world["flash"], key=key)
                    elif action == "flash":
                        made = await self.call(http, token, BUY_FLASH, item=self.world["flash"], key=key)
                    else:
                        got = await self.call(http, token, CLAIM, t=self.world["template"], key=key)
                        made = got if got is None or got["userErrors"] else await self.call(
                            http, token, WITH_COUPON, sku=self.world["tea"][0], coupon=got["coupon"]["id"], key=key)
                    alive = made is not None and (made["userErrors"] or await self.pay(http, token, made["order"]["id"], key))
                elif action in ("points", "live"):
                    if action == "points":  # 积分抵现: part of the order paid with points, taken as it is placed
                        made = await self.call(http, token, WITH_POINTS, sku=rng.choice(self.world["tea"]),
                                               points=POINTS_OFFERED, key=key)
                    else:  # in the live room: the live price, from the live-only stock, within the member's limit
                        made = await self.call(http, token, IN_ROOM, sku=self.world["cake"], room=self.world["room"], key=key)
                    alive = made is not None and (made["userErrors"] or await self.pay(http, token, made["order"]["id"], key))
                elif action == "guide":  # 代客下单: the guide places it for this member, who pays it
                    made = await self.call(http, self.world["guide"], FOR_CUSTOMER, m=to_global_id("Member", member_id),
                                           sku=rng.choice(self.world["tea"]), key=key)
                    alive = made is not None and (made["userErrors"] or await self.pay(http, token, made["orderId"], key))
                elif action == "term":  # a paid membership term: its own order, paid like any
                    made = await self.call(http, token, BUY_TERM, key=key)
                    alive = made is not None and (made["userErrors"] or await self.pay(http, token, made["order"]["id"], key))
                elif action == "redeem":
                    alive = await self.call(http, token, REDEEM, item=self.world["item"], key=key) is not None
                else:
                    if self.share_codes and rng.random() < 0.6:
                        group = await self.call(http, token, JOIN, code=rng.choice(self.share_codes), key=key)
                    else:
                        offer = self.world["withdrawn"] if rng.random() < 0.3 else self.world["offer"]
                        group = await self.call(http, token, OPEN, offer=offer, key=key)
                    alive = group is not None
                    if alive and not group["userErrors"]:
                        if group["group"] and group["group"]["shareCode"] not in self.share_codes:
                            self.share_codes.append(group["group"]["shareCode"])
                        alive = await self.pay(http, token, group["order"]["id"], key)
                if not alive:
                    return

    async def withdraw_midway(self) -> None:
        """An admin withdraws the second offer once a third of the load has succeeded."""
        while self.succeeded < KILL_AFTER // 3:
            await asyncio.sleep(0.02)
        async with httpx.AsyncClient(base_url=self.base, timeout=30.0) as http:
            await self.call(http, self.world["admin"], WITHDRAW, offer=self.world["withdrawn"], key="withdraw")


async def check_invariants(blueprint: Path, world: dict[str, Any], load: Load) -> dict[str, int]:
    kernel = Kernel.from_file(blueprint)  # only its database is used: the server is the one running
    try:
        async with kernel.db.read() as session:
            stocks = (await session.scalars(select(Stock))).all()
            reservations = (await session.scalars(select(Reservation))).all()
            for stock in stocks:
                mine = [r for r in reservations if r.sku_id == stock.sku_id and r.location_id == stock.location_id]
                sold = sum(r.quantity - r.returned_quantity for r in mine if r.state in ("committed", "returned"))
                held = sum(r.quantity for r in mine if r.state == "reserved")
                assert stock.on_hand + sold == world["initial"][stock.sku_id], (stock.sku_id, stock.on_hand, sold)
                assert stock.reserved == held, (stock.sku_id, stock.reserved, held)
                assert 0 <= stock.reserved <= stock.on_hand

            balances = dict((await session.execute(select(Account.member_id, Account.balance))).all())
            ledger = dict((await session.execute(select(Entry.member_id, func.sum(Entry.delta)).group_by(Entry.member_id))).all())
            assert balances == ledger
            assert all(b >= 0 for b in balances.values())

            lot_orders = (await session.execute(select(LotOrder.lot_id, func.count()).group_by(LotOrder.lot_id))).all()
            assert all(n <= 1 for _lot, n in lot_orders)
            lot = await session.get(Lot, int(from_gid(world["lot"])))
            stored = set((await session.execute(select(Bid.member_id, Bid.amount).where(Bid.lot_id == lot.id))).all())
            missing = [b for b in load.accepted_bids if b not in stored]
            assert missing == [], f"bids acknowledged to clients but not stored: {missing}"
            assert lot.bid_count == len(stored)

            for group in (await session.scalars(select(Group))).all():
                paid = await session.scalar(select(func.coalesce(func.sum(Membership.quantity), 0)).where(
                    Membership.group_id == group.id, Membership.state == "seated"))
                assert paid <= group.size, (group.id, paid, group.size)
                if group.status == "failed":  # its paid_seats tell how far it got; every seat was refunded
                    assert paid == 0, (group.id, paid)
                else:
                    assert group.paid_seats == paid, (group.id, group.paid_seats, paid)

            # Money: every order's refunded amount is what its refunds paid back, spread over its
            # lines, never more than was paid (after-sale requests cut mid-refund included). A
            # payment that arrived for an order no longer awaiting one (cancelled by its payment
            # window meanwhile) was handed back whole: its refund row is that payment's, not the order's.
            refunds = dict((await session.execute(select(Refund.order_id, func.sum(Refund.amount_minor)).group_by(Refund.order_id))).all())
            returned = dict((await session.execute(select(Payment.order_id, func.sum(Payment.amount_minor))
                                                   .where(Payment.status == "refunded").group_by(Payment.order_id))).all())
            line_sums = dict((await session.execute(select(OrderLine.order_id, func.sum(OrderLine.refunded_minor))
                                                    .group_by(OrderLine.order_id))).all())
            for order in (await session.scalars(select(Order))).all():
                assert order.refunded_minor + int(returned.get(order.id, 0)) == int(refunds.get(order.id, 0)), (order.id, order.refunded_minor)
                assert order.refunded_minor <= order.total_minor, (order.id, order.refunded_minor)
                assert int(line_sums.get(order.id, 0)) == order.refunded_minor, (order.id, line_sums.get(order.id))
            open_requests = (await session.scalars(select(RefundRequest).where(RefundRequest.status == "refunded"))).all()
            assert all(r.refunded_minor is not None and r.refunded_minor <= r.requested_minor for r in open_requests)

            # A withdrawn offer has no group under way and no seated member left (the withdrawal
            # committed whole, or not at all; a group opened as it committed waits for a leader
            # whose payment will be refunded).
            offer = await session.get(Offer, int(from_gid(world["withdrawn"])))
            if offer.status == "withdrawn":
                assert await session.scalar(select(func.count()).select_from(Group).where(
                    Group.offer_id == offer.id, Group.status == "forming", Group.deadline_at.is_not(None))) == 0
                assert await session.scalar(select(func.count()).select_from(Membership).where(
                    Membership.offer_id == offer.id, Membership.state == "seated")) == 0
            # Deposits: the ledger agrees with the deposit orders (what they took and gave back),
            # and a bidder whose deposit counts holds exactly the lot's deposit.
            orders_by_id = {o.id: o for o in (await session.scalars(select(Order).where(Order.kind == "auction_deposit"))).all()}
            entries = (await session.scalars(select(DepositEntry))).all()
            for order in orders_by_id.values():
                paid = sum(e.amount_minor for e in entries if e.order_id == order.id and e.kind == "paid")
                back = sum(e.amount_minor for e in entries if e.order_id == order.id and e.kind == "refunded")
                took = order.total_minor if order.status not in ("pending_payment", "cancelled") else 0
                assert (paid, back) == (took, order.refunded_minor), (order.id, paid, back, took, order.refunded_minor)
            for bidder in (await session.scalars(select(Bidder).where(Bidder.deposit_order_id.is_not(None)))).all():
                order = orders_by_id[bidder.deposit_order_id]
                held = order.total_minor - order.refunded_minor if order.status not in ("pending_payment", "cancelled") else 0
                assert held == (500 if bidder.deposit_state in ("frozen", "applied", "forfeited") else 0), (bidder.id, held)
            # Flash sale: the guarded counters agree with the purchases they count.
            item = await session.scalar(select(FlashItem))
            held = int(await session.scalar(select(func.coalesce(func.sum(Purchase.quantity), 0))
                                            .where(Purchase.status.in_(("held", "paid")))))
            assert item.sold == held <= item.quantity, (item.sold, held)
            counted = dict((await session.execute(select(Bought.member_id, Bought.units))).all())
            per_member = dict((await session.execute(select(Purchase.member_id, func.sum(Purchase.quantity))
                                                     .where(Purchase.status.in_(("held", "paid"))).group_by(Purchase.member_id))).all())
            assert {m: u for m, u in counted.items() if u} == {m: int(u) for m, u in per_member.items()}
            # Coupons: the counter is the coupons, never above the total; a used coupon names an order.
            template = await session.scalar(select(Template))
            issued = int(await session.scalar(select(func.count()).select_from(Coupon)))
            assert template.issued == issued <= template.total_quantity
            used_on = [o for (o,) in (await session.execute(select(Coupon.order_id).where(Coupon.status == "used"))).all()]
            assert None not in used_on and len(used_on) == len(set(used_on))
            if used_on:
                assert int(await session.scalar(select(func.count()).select_from(Order).where(Order.id.in_(used_on)))) == len(used_on)

            # 积分抵现: an order's points came off the ledger with it (a cancelled one gave them
            # back), and no points left for an order the crash did not keep.
            orders = {o.id: o for o in (await session.scalars(select(Order))).all()}
            taken = dict((await session.execute(select(Entry.reference, func.sum(Entry.delta))
                                                .where(Entry.reason == "order_pay").group_by(Entry.reference))).all())
            for reference, delta in taken.items():
                order = orders.get(int(reference.split(":")[1]))
                assert order is not None, reference
                used = ((order.attributes or {}).get("pointsPayment") or {}).get("points")
                assert used and -int(delta) == used, (order.id, delta, used)
            with_points = [o for o in orders.values() if ((o.attributes or {}).get("pointsPayment") or {}).get("points")]
            assert {f"order:{o.id}" for o in with_points} == set(taken), "orders paid with points without their ledger entry"
            returned = dict((await session.execute(select(Entry.reference, func.sum(Entry.delta))
                                                   .where(Entry.reason == "order_pay_returned").group_by(Entry.reference))).all())
            line_orders = dict((await session.execute(select(OrderLine.id, OrderLine.order_id))).all())
            back: dict[int, int] = {}
            for reference, delta in returned.items():
                order_id = line_orders[int(reference.split(":")[1])]
                back[order_id] = back.get(order_id, 0) + int(delta)
            for order in with_points:
                used = order.attributes["pointsPayment"]["points"]
                given = back.get(order.id, 0)
                assert (given == used) if order.status == "cancelled" else (0 <= given <= used), (order.id, given, used)

            # The live room: live-only units sold are the live-priced lines still standing.
            shelf = await session.scalar(select(ShelfItem))
            live_lines = (await session.execute(
                select(OrderLine.quantity, OrderLine.refunded_quantity, Order.status).join(Order, Order.id == OrderLine.order_id)
                .where(OrderLine.sku_id == int(from_gid(world["cake"])), OrderLine.unit_price_minor == LIVE_PRICE))).all()
            standing = sum(q - r for q, r, status in live_lines if status != "cancelled")
            assert LIVE_STOCK - shelf.live_stock == standing >= 0, (shelf.live_stock, standing)
            purchases = (await session.scalars(select(LivePurchase))).all()
            assert sum(p.quantity - p.returned for p in purchases) == standing
            per_member: dict[int, int] = {}
            for p in purchases:
                per_member[p.member_id] = per_member.get(p.member_id, 0) + p.quantity - p.returned
            assert all(units <= LIVE_LIMIT for units in per_member.values()), per_member

            distribution = await check_distribution(session)
            # Guide attribution: every order has its reason (written with it); every paid one was
            # counted once in the daily figures, its refunds once too.
            orders_total = int(await session.scalar(select(func.count()).select_from(Order)))
            assert int(await session.scalar(select(func.count()).select_from(Attribution))) == orders_total
            counted = (await session.execute(select(func.count(), func.coalesce(func.sum(Attribution.paid_minor), 0))
                                             .where(Attribution.paid_minor.isnot(None), Attribution.guide_id.isnot(None)))).one()
            daily = (await session.execute(select(func.coalesce(func.sum(DailyFigure.orders), 0), func.coalesce(func.sum(DailyFigure.gmv_minor), 0))
                                           .where(DailyFigure.holder_kind == "guide"))).one()
            assert tuple(daily) == tuple(counted), (tuple(daily), tuple(counted))
            refunded = await session.scalar(select(func.coalesce(func.sum(Attribution.refunded_minor), 0)).where(Attribution.guide_id.isnot(None)))
            assert await session.scalar(select(func.coalesce(func.sum(DailyFigure.refunds_minor), 0))
                                        .where(DailyFigure.holder_kind == "guide")) == refunded
            # Member tiers: growth is the sum of its ledger and of what each line earned less its reversals;
            # a term purchase is active exactly when its order stands paid.
            growth = dict((await session.execute(select(TierAccount.member_id, TierAccount.growth))).all())
            tier_ledger = dict((await session.execute(
                select(GrowthEntry.member_id, func.sum(GrowthEntry.delta)).group_by(GrowthEntry.member_id))).all())
            by_lines = dict((await session.execute(select(GrowthLine.member_id, func.sum(GrowthLine.growth - GrowthLine.reversed))
                                                   .group_by(GrowthLine.member_id))).all())
            assert {m: g for m, g in growth.items() if g} == {m: int(v) for m, v in tier_ledger.items() if v} \
                == {m: int(v) for m, v in by_lines.items() if v}, (growth, tier_ledger, by_lines)
            terms = (await session.execute(select(TermPurchase.status, Order.status).join(Order, Order.id == TermPurchase.order_id))).all()
            assert all((term == "active") == (order in ("paid", "fulfilled", "completed")) for term, order in terms), terms

            paid_states = {"paid", "fulfilled", "completed", "refunded", "partially_refunded"}
            ids = [int(pk) for pk in (from_gid(o) for o in load.settled_orders)]
            statuses = dict((await session.execute(select(Order.id, Order.status).where(Order.id.in_(ids)))).all()) if ids else {}
            assert all(statuses.get(i) in paid_states for i in ids), statuses
            return {
                "orders": int(await session.scalar(select(func.count()).select_from(Order))),
                "bids": len(stored),
                "groups": int(await session.scalar(select(func.count()).select_from(Group))),
                "ledger_entries": int(await session.scalar(select(func.count()).select_from(Entry))),
                "points_orders": len(with_points),
                "live_units": standing,
                **distribution,
                "guide_orders": int(await session.scalar(select(func.count()).select_from(Attribution)
                                                         .where(Attribution.reason == "guide_placed"))),
                "term_purchases": len(terms),
            }
    finally:
        await kernel.db.dispose()


async def check_distribution(session: Any) -> dict[str, int]:
    """Commission and withdrawals: each promoter's balances are their ledger's sums; every
    withdrawal took its amount exactly once and gave it back exactly once if rejected; paid
    withdrawals are what was paid out; every commission follows its order line's refunds (the
    payment, the refund and the commission committed together or not at all)."""
    for promoter in (await session.scalars(select(Promoter))).all():
        sums = dict((await session.execute(select(CommissionEntry.bucket, func.sum(CommissionEntry.amount_minor))
                                           .where(CommissionEntry.promoter_id == promoter.id).group_by(CommissionEntry.bucket))).all())
        assert (sums.get("frozen", 0), sums.get("available", 0)) == (promoter.frozen_minor, promoter.available_minor), promoter.id
        assert promoter.available_minor >= 0 and promoter.frozen_minor >= 0, promoter.id  # nothing settled, so no clawback
        frozen = await session.scalar(select(func.coalesce(func.sum(Commission.amount_minor), 0))
                                      .where(Commission.promoter_id == promoter.id, Commission.status == "frozen"))
        assert promoter.frozen_minor == frozen, promoter.id
        paid = await session.scalar(select(func.coalesce(func.sum(Withdrawal.payout_minor), 0))
                                    .where(Withdrawal.promoter_id == promoter.id, Withdrawal.status == "paid"))
        assert promoter.withdrawn_minor == paid, promoter.id
    for withdrawal in (await session.scalars(select(Withdrawal))).all():
        kinds = sorted((await session.scalars(select(CommissionEntry.kind).where(CommissionEntry.withdrawal_id == withdrawal.id))).all())
        back = withdrawal.status in ("rejected", "failed")
        assert kinds == sorted(["withdrawal"] + ([f"withdrawal_{withdrawal.status}"] if back else [])), (withdrawal.id, kinds)
    lines = dict((await session.execute(select(OrderLine.id, OrderLine.refunded_minor))).all())
    commissions = (await session.scalars(select(Commission))).all()
    for row in commissions:
        assert row.refunded_minor == lines[row.order_line_id], (row.id, row.refunded_minor, lines[row.order_line_id])
    return {"commissions": len(commissions), "withdrawals": int(await session.scalar(select(func.count()).select_from(Withdrawal)))}


def from_gid(global_id: str) -> str:
    from core.gql.relay import from_global_id

    return from_global_id(global_id)[1]


async def deliver_pending_events(blueprint: Path) -> tuple[int, int]:
    """(events the crash left committed but undelivered, left after the worker's sweep).

    The worker re-delivers an event once it is 30 s old (younger ones may still be in their
    first delivery); rather than wait, the sweep runs here with the clock 31 s ahead — the
    same code the restarted server's worker would run."""
    kernel = Kernel.from_file(blueprint, clock=MovableClock(datetime.now(timezone.utc) + timedelta(seconds=31)))

    async def count() -> int:
        async with kernel.db.read() as session:
            return int(await session.scalar(select(func.count()).select_from(EventRow).where(EventRow.delivered_at.is_(None))))

    try:
        pending = await count()
        while await kernel.events.redeliver():
            pass
        return pending, await count()
    finally:
        await kernel.db.dispose()


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_sigkill_mid_load_then_restart_keeps_every_invariant(tmp_path, request, database, capsys):
    if database == "postgresql":
        url = request.getfixturevalue("postgres_server").create_database()
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'crash.sqlite'}"
    blueprint = tmp_path / "crash.yaml"
    blueprint.write_text(BLUEPRINT % url, encoding="utf-8")
    world = await seed(blueprint)

    server = ServerProcess(blueprint, tmp_path / "server.log")
    server.start()
    try:
        await server.wait_ready()
        load = Load(server.base, world)
        rng = random.Random(9)
        workers = [asyncio.create_task(load.member(m, token, random.Random(rng.random())))
                   for m, token in world["tokens"].items()]
        workers.append(asyncio.create_task(load.withdraw_midway()))
        finished = asyncio.ensure_future(asyncio.gather(*workers))
        done, _ = await asyncio.wait([finished, asyncio.ensure_future(load.enough.wait())],
                                     timeout=120, return_when=asyncio.FIRST_COMPLETED)
        assert load.enough.is_set(), f"the load stopped early: {load.succeeded} succeeded, broken={load.broken[:3]}"
        in_flight_at_kill, before_kill = load.in_flight, load.succeeded
        server.kill()
        await asyncio.wait_for(finished, timeout=60)  # every client sees its connection cut
        assert in_flight_at_kill > 0, "the kill must land while requests are in flight"
        assert load.broken == [], load.broken[:5]

        server.start()  # same blueprint, same database
        await server.wait_ready()
        # It serves again: a fresh order goes through.
        async with httpx.AsyncClient(base_url=server.base, timeout=30.0) as http:
            token = next(iter(world["tokens"].values()))
            again = Load(server.base, world)
            made = await again.call(http, token, CREATE, sku=world["tea"][1], key="after-restart")
            assert made is not None and (made["userErrors"] == [] or made["userErrors"][0]["code"] == "INVENTORY_OUT_OF_STOCK")
    finally:
        server.stop()
    # Events committed before the kill but never delivered (points for a paid order, ...) go
    # out now, after which the books must balance.
    pending, left = await deliver_pending_events(blueprint)
    assert left == 0
    totals = await check_invariants(blueprint, world, load)
    assert totals["withdrawals"] > 0, totals  # the load reached the commission withdrawals
    with capsys.disabled():
        print(f"\n[crash/{database}] {before_kill} requests succeeded ({load.refused} refused) before SIGKILL with "
              f"{in_flight_at_kill} in flight; {pending} events left undelivered by the crash; after restart: {totals}, {len(load.accepted_bids)} acknowledged bids stored")
