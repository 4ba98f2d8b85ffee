"""Shared helpers for the points_mall tests (not a test module: no test_ prefix)."""

from __future__ import annotations

from typing import Any

from conftest import open_shop
from sqlalchemy import func, select

from components.orders.models import Order
from components.points_mall.models import Account, Entry, Item, Lot, Redemption
from core.gql.relay import to_global_id
from core.testing import staff

BLUEPRINT = """\
dougong: 1
brand: {slug: pm, name: PM, currency: CNY, timezone: Asia/Shanghai}
components:
  points_mall:
    earn_per_yuan: 1
    expiry: {rule: %(rule)s, days: 30}
    refund_shortfall: %(shortfall)s
    grant_on: %(grant_on)s
    freeze_days: %(freeze)s
%(extra)s"""

ORDER = """mutation($sku: ID!, $n: Int!) { createOrder(input: {lines: [{skuId: $sku, quantity: $n}]}) {
  order { id } userErrors { code } } }"""
PAY = 'mutation($id: ID!) { payOrder(input: {orderId: $id}) { payment { id } userErrors { code } } }'
SETTLE = 'mutation($id: ID!) { sandboxSettlePayment(input: {paymentId: $id}) { order { status } userErrors { code } } }'
REFUND = """mutation($id: ID!, $lines: [RefundLineInput!]) { refundOrder(input: {orderId: $id, lines: $lines}) {
  order { status } userErrors { code } } }"""
REDEEM = """mutation($item: ID!, $key: String, $n: Int! = 1, $delivery: DeliveryType! = SHIPPING, $store: ID) {
  redeemPointsItem(input: {itemId: $item, quantity: $n, idempotencyKey: $key, deliveryType: $delivery, storeId: $store}) {
    redemption { id points quantity returnedQuantity status deliveryType storeId
                 order { id status deliveryType storeId total { amountMinor } } }
    balance userErrors { code field message details } } }"""
ITEM = """mutation($input: CreatePointsMallItemInput!) { createPointsMallItem(input: $input) {
  item { id stockLeft } userErrors { code field } } }"""
ADJUST = """mutation($m: ID!, $d: Int!, $note: String!, $key: String) {
  adjustPoints(input: {memberId: $m, delta: $d, note: $note, idempotencyKey: $key}) {
    balance entry { delta reason note } userErrors { code field } } }"""
MY_POINTS = "{ myPoints { balance signInStreak signedInToday expiringSoon(days: 800) { points expiresAt } } }"
LEDGER = """{ myPointsLedger(first: 100) { edges { node { delta reason reference balanceAfter shortfall note } } } }"""


# store_pickup is built elsewhere; a stand-in of the same name joins checkout as it does.
PICKUP_STAND_IN = """
import strawberry
from core.hookspecs import hookimpl
from core.gql.relay import from_global_id


@strawberry.input
class PickupChoiceInput:
    store_id: strawberry.ID
    slot_id: strawberry.ID | None = None


class Participant:
    def __init__(self, per_store):
        self.per_store = per_store

    def prepare(self, tx, draft):
        choice = draft.input("pickup")
        if draft.delivery_type != "pickup" or not choice:
            return
        text = str(choice["storeId"])
        store = int(text) if text.isdigit() else int(from_global_id(text)[1])
        draft.claim_delivery("store_pickup")
        draft.store_id = store
        draft.location_id = store if self.per_store else 0


@hookimpl
def dougong_checkout(registrar):
    registrar.extend_input("CheckoutInput", "pickup", PickupChoiceInput)
    registrar.checkout_participant(Participant(registrar.settings.get("stock") == "per_store"))
"""


async def start(kernel_factory, *, rule="end_of_next_year", shortfall="deduct_available", grant_on="paid", freeze=0,
                extra="", database="sqlite", members=5, stock=500, price=10000):
    text = BLUEPRINT % {"rule": rule, "shortfall": shortfall, "grant_on": grant_on, "freeze": freeze, "extra": extra}
    kernel = await kernel_factory(text, database=database)
    shop = await open_shop(kernel, members=members, stock=stock, price=price)
    return kernel, shop


async def check_invariant(kernel: Any, member_id: int) -> int:
    """balance = sum of entries = sum of unexpired lot remainders (a debt lot is negative)."""
    now = kernel.clock.now()
    async with kernel.db.read() as session:
        balance = await session.scalar(select(Account.balance).where(Account.member_id == member_id)) or 0
        entries = await session.scalar(select(func.coalesce(func.sum(Entry.delta), 0)).where(Entry.member_id == member_id))
        lots = (await session.scalars(select(Lot).where(Lot.member_id == member_id))).all()
    unexpired = sum(l.remaining for l in lots if l.expires_at is None or l.expires_at.replace(tzinfo=None) > now.replace(tzinfo=None))
    assert balance == entries == unexpired, (balance, entries, unexpired)
    return balance


async def counts(kernel: Any) -> dict[str, int]:
    """Row counts and totals that bad input must leave unchanged."""
    async with kernel.db.read() as session:
        result = {}
        for name, model in {"entries": Entry, "lots": Lot, "redemptions": Redemption, "orders": Order, "items": Item}.items():
            result[name] = int(await session.scalar(select(func.count()).select_from(model)))
        result["balance"] = int(await session.scalar(select(func.coalesce(func.sum(Account.balance), 0))))
        result["stock"] = int(await session.scalar(select(func.coalesce(func.sum(Item.stock_left), 0))))
    return result


async def buy(client, shop, quantity=1) -> str:
    payload = await client.mutate(ORDER, sku=shop.sku, n=quantity)
    assert payload["userErrors"] == [], payload
    order = payload["order"]["id"]
    await pay(client, order)
    return order


async def pay(client, order_id: str) -> None:
    payment = (await client.mutate(PAY, id=order_id))["payment"]["id"]
    assert (await client.mutate(SETTLE, id=payment))["order"]["status"] == "PAID"


async def make_item(admin, **fields) -> str:
    payload = await admin.mutate(ITEM, input={"title": "gift", "pointsPrice": 100, "stock": 20, **fields})
    assert payload["userErrors"] == [], payload
    return payload["item"]["id"]


async def grant(admin, member_id: int, points: int, key: str | None = None) -> dict:
    payload = await admin.mutate(ADJUST, m=to_global_id("Member", member_id), d=points, note="grant", key=key)
    assert payload["userErrors"] == [], payload
    return payload


def admin_of(graphql, kernel):
    return graphql(kernel, staff(1, "admin"))
