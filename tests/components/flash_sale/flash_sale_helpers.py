"""Shared helpers for the flash_sale tests (not a test module: no test_ prefix)."""

from __future__ import annotations

from datetime import timedelta

from conftest import open_shop
from sqlalchemy import func, select

from components.flash_sale.models import Bought, Item, Purchase
from components.inventory.models import Stock
from components.orders.models import Order
from core.testing import staff

BLUEPRINT = """\
dougong: 1
brand: {slug: fs, name: FS, currency: CNY, timezone: Asia/Shanghai}
%(storage)scomponents:
  orders: {payment_timeout: 30m}
  flash_sale: {payment_window: 5m}
"""
CNY = lambda n: {"amountMinor": n, "currency": "CNY"}  # noqa: E731

CREATE = """mutation($input: CreateFlashSaleSessionInput!) { createFlashSaleSession(input: $input) {
  session { id status secondsToStart secondsToEnd items { id left quantity flashPrice { amountMinor } } }
  userErrors { code field message } } }"""
BUY = """mutation($sku: ID!, $item: ID!, $n: Int! = 1, $key: String) {
  placeOrder(input: {checkout: {lines: [{skuId: $sku, quantity: $n, flashSaleItemId: $item}]}, idempotencyKey: $key}) {
    order { id status kind total { amountMinor } paymentDueAt } userErrors { code field message details } } }"""
SESSION = """query($id: ID!) { flashSaleSession(id: $id) { status secondsToStart secondsToEnd items { stockLeft left } } }"""


async def start(kernel_factory, *, database="sqlite", members=5, stock=500, price=10000, storage=""):
    kernel = await kernel_factory(BLUEPRINT % {"storage": storage}, database=database)
    shop = await open_shop(kernel, members=members, stock=stock, price=price)
    return kernel, shop


def admin_of(graphql, kernel):
    return graphql(kernel, staff(1, "admin"))


async def make_session(admin, kernel, sku: str, *, quantity: int = 10, limit: int = 1, price: int = 5000,
                       starts_in: timedelta = timedelta(minutes=-1), lasts: timedelta = timedelta(hours=2)) -> tuple[str, str]:
    now = kernel.clock.now()
    made = await admin.mutate(CREATE, input={
        "title": "20:00", "startsAt": (now + starts_in).isoformat(), "endsAt": (now + starts_in + lasts).isoformat(),
        "items": [{"skuId": sku, "flashPrice": CNY(price), "quantity": quantity, "perMemberLimit": limit}]})
    assert made["userErrors"] == [], made
    return made["session"]["id"], made["session"]["items"][0]["id"]


async def state(kernel) -> dict[str, int]:
    """What the database holds: the session's sold units, purchases held or paid, orders,
    units reserved in inventory."""
    async with kernel.db.read() as session:
        return {
            "sold": int(await session.scalar(select(func.coalesce(func.sum(Item.sold), 0)))),
            "held": int(await session.scalar(select(func.coalesce(func.sum(Purchase.quantity), 0))
                                             .where(Purchase.status.in_(("held", "paid"))))),
            "bought": int(await session.scalar(select(func.coalesce(func.sum(Bought.units), 0)))),
            "orders": int(await session.scalar(select(func.count()).select_from(Order).where(Order.status != "cancelled"))),
            "reserved": int(await session.scalar(select(func.coalesce(func.sum(Stock.reserved), 0)))),
        }
