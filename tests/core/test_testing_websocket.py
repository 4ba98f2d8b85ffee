"""core.testing's real-server helpers: serve_app runs an app on a port, GraphQLWebSocket
speaks graphql-transport-ws to it (token in ?token=, several subscriptions on one socket)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.testing import GraphQLSubscriptionError, GraphQLWebSocket, member, serve_app

BLUEPRINT = """\
dougong: 1
brand: {slug: ws, name: WS, currency: CNY, timezone: Asia/Shanghai}
components:
  bidding_sale: {max_extensions: 0}
"""
UPDATES = "subscription($lot: ID!) { auctionLotUpdates(lotId: $lot) { currentPrice { amountMinor } bidCount } }"


async def test_subscriptions_over_a_real_websocket(kernel_factory):
    from components.catalog.models import Sku
    from core.app import create_app
    from core.gql.relay import to_global_id

    kernel = await kernel_factory(BLUEPRINT)
    async with kernel.transaction() as tx:
        for i in range(2):
            await kernel.service("members").create_member(tx, phone=f"1330000{i:04d}")
        product = await kernel.service("catalog").create_product(tx, title="Jade", skus=[{"title": "one", "price_minor": 100}])
        sku = await tx.session.scalar(select(Sku.id).where(Sku.product_id == product))
        await kernel.service("inventory").set_stock(tx, sku, 2)
        now = kernel.clock.now()
        lots = [await kernel.service("bidding_sale").create_lot(tx, sku_id=sku, start_price=100, increments=[(0, 1)],
                                                                 starts_at=now - timedelta(seconds=1), ends_at=now + timedelta(hours=1))
                for _ in range(2)]
    token = kernel.issue_token(member(1))
    async with serve_app(create_app([kernel], run_worker=False)) as base:
        async with GraphQLWebSocket.connect(base + "/graphql", token) as ws:
            one = ws.subscribe(UPDATES, {"lot": to_global_id("AuctionLot", lots[0])})
            two = ws.subscribe(UPDATES, {"lot": to_global_id("AuctionLot", lots[1])})
            assert (await anext(one))["auctionLotUpdates"]["bidCount"] == 0
            assert (await anext(two))["auctionLotUpdates"]["bidCount"] == 0
            async with kernel.transaction() as tx:
                await kernel.service("bidding_sale").place_bid(tx, lots[1], 2, 130)
            update = (await asyncio.wait_for(anext(two), 5))["auctionLotUpdates"]
            assert update == {"currentPrice": {"amountMinor": 130}, "bidCount": 1}
            await one.aclose()
            await two.aclose()
            # A bad document comes back as an error, not as silence.
            with pytest.raises(GraphQLSubscriptionError):
                async for _ in ws.subscribe("subscription { noSuchField }"):
                    pass
        # A bad token is refused before the socket opens.
        with pytest.raises(Exception):
            async with GraphQLWebSocket.connect(base + "/graphql", "not-a-token"):
                pass
