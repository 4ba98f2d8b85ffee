"""Shared by the group_buy tests (a plain module, not a conftest): a shop with an offer, the
GraphQL documents a frontend sends, and row counts to prove that refused input changed nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from conftest import Shop, open_shop
from sqlalchemy import func, select

from components.group_buy.models import Group, Membership, Offer
from components.inventory.models import Reservation
from components.orders.models import Order, Payment, Refund
from core.testing import staff

BLUEPRINT = """\
dougong: 1
brand: {slug: gb, name: GB, currency: CNY, timezone: Asia/Shanghai}
components:
  group_buy: %s
"""

OFFER = """mutation($input: CreateGroupBuyOfferInput!) { createGroupBuyOffer(input: $input) {
  offer { id groupSize remaining groupPrice { amountMinor } } userErrors { code field message } } }"""
OPEN = """mutation($offer: ID!, $quantity: Int = 1) { openGroup(input: {offerId: $offer, quantity: $quantity}) {
  group { id shareCode status seatsLeft } order { id total { amountMinor } } userErrors { code field } } }"""
JOIN = """mutation($code: String!, $quantity: Int = 1) { joinGroup(input: {shareCode: $code, quantity: $quantity}) {
  group { id seatsLeft myShareCode } order { id total { amountMinor } source { groupId sharerMemberId } }
  userErrors { code field } } }"""
PAY = 'mutation($id: ID!) { payOrder(input: {orderId: $id}) { payment { id } userErrors { code } } }'
SETTLE = 'mutation($id: ID!) { sandboxSettlePayment(input: {paymentId: $id}) { order { status } userErrors { code } } }'
GROUP = "query($id: ID!) { groupBuyGroup(id: $id) { status seatsFilled seatsLeft placeholders deadline } }"
PROGRESS = "subscription($id: ID!) { groupBuyProgress(groupId: $id) { status seatsFilled seatsLeft } }"
ORDER = "query($id: ID!) { order(id: $id) { status refunded { amountMinor } } }"


@dataclass
class Setup:
    kernel: Any
    shop: Shop
    offer: str  # global id


async def start(kernel_factory, graphql, clock, *, settings: str = "{}", size: int = 3, members: int = 10, total: int = 20,
                stock: int = 50, database: str = "sqlite", installed: Any = None, extra: str = "", **offer: Any) -> Setup:
    """A shop (SKU at 100.00) with a running offer: groups of ``size`` at 69.00, 24 h each."""
    kernel = await kernel_factory(BLUEPRINT % settings + extra, database=database, installed=installed)
    shop = await open_shop(kernel, members=members, stock=stock, price=10000)
    now = clock.now()
    payload = await graphql(kernel, staff(1, "admin")).mutate(OFFER, input={
        "skuId": shop.sku, "groupPrice": {"amountMinor": 6900, "currency": "CNY"}, "groupSize": size,
        "startsAt": (now - timedelta(hours=1)).isoformat(), "endsAt": (now + timedelta(days=3)).isoformat(),
        "totalLimit": total, "duration": "24h", **offer,
    })
    assert payload["userErrors"] == [], payload
    return Setup(kernel, shop, payload["offer"]["id"])


async def pay(client: Any, order_id: str) -> dict[str, Any]:
    payment = (await client.mutate(PAY, id=order_id))["payment"]["id"]
    return await client.mutate(SETTLE, id=payment)


async def counts(kernel: Any) -> dict[str, int]:
    """Rows that any group-buy change touches: equal before and after means nothing changed."""
    async with kernel.db.read() as session:
        found = {}
        for model in (Offer, Group, Membership, Order, Payment, Refund, Reservation):
            found[model.__tablename__] = int(await session.scalar(select(func.count()).select_from(model)))
        found["paid_seats"] = int(await session.scalar(select(func.coalesce(func.sum(Group.paid_seats), 0))))
        return found
