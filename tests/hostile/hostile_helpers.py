"""Shared by the hostile tests (a plain module): a small auction shop, clients, log checks."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from core.auth import Actor
from core.gql.relay import to_global_id

SHOP = """\
dougong: 1
brand: {slug: %s, name: Hostile, currency: CNY, timezone: Asia/Shanghai}
%scomponents:
  bidding_sale: {max_extensions: 0}
"""

LOT_UPDATES = "subscription($lot: ID!) { auctionLotUpdates(lotId: $lot) { bidCount seq stream { seq gap } } }"
BID = """mutation($lot: ID!, $amount: Long!) { placeBid(input: {lotId: $lot, amount: {amountMinor: $amount, currency: "CNY"}}) {
  userErrors { code } } }"""


def shop(slug: str = "hostile", extra: str = "") -> str:
    return SHOP % (slug, extra)


async def seed_lot(kernel: Any, members: int = 2) -> str:
    """Members 1..n, one open lot starting at 100 with increments of 1; its global id."""
    from components.catalog.models import Sku

    async with kernel.transaction() as tx:
        for i in range(members):
            await kernel.service("members").create_member(tx, phone=f"1370000{i:04d}")
        product = await kernel.service("catalog").create_product(tx, title="Jade", skus=[{"title": "one", "price_minor": 100}])
        sku = await tx.session.scalar(select(Sku.id).where(Sku.product_id == product))
        await kernel.service("inventory").set_stock(tx, sku, 1)
        now = kernel.clock.now()
        lot = await kernel.service("bidding_sale").create_lot(
            tx, sku_id=sku, start_price=100, increments=[(0, 1)], starts_at=now - timedelta(seconds=1),
            ends_at=now + timedelta(days=30))
    return to_global_id("AuctionLot", lot)


def http_client(app: Any, token: str | None = None) -> httpx.AsyncClient:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hostile.test", headers=headers)


def member_token(kernel: Any, member_id: int = 1) -> str:
    return kernel.issue_token(Actor("member", member_id))


def tracebacks(records: list[logging.LogRecord]) -> list[str]:
    """Log records that carry a traceback or are errors: a client's mistake must cause none."""
    return [f"{r.name}: {r.getMessage()}" for r in records if r.exc_info or r.levelno >= logging.ERROR]


def codes(body: dict) -> list[str | None]:
    return [(e.get("extensions") or {}).get("code") for e in body.get("errors") or []]
