"""200 buyers for 20 flash-sale units through real HTTP (uvicorn on a socket), on SQLite and
PostgreSQL: exactly 20 orders, nothing oversold, no top-level errors, and what the database
holds is what the answers said. The issue's 2,000 for 100 runs in bench/hotspots.py."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from flash_sale_helpers import BUY, admin_of, make_session, start, state

from core.app import create_app
from core.testing import member, serve_app

BOTH = pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)


async def crowd(kernel: Any, sku: str, item: str, buyers: int) -> list[dict[str, Any]]:
    async with serve_app(create_app([kernel], run_worker=False), lifespan=False) as base:
        limits = httpx.Limits(max_connections=buyers, max_keepalive_connections=buyers)
        async with httpx.AsyncClient(base_url=base, timeout=300, limits=limits) as http:
            async def buy(n: int) -> dict[str, Any]:
                response = await http.post("/graphql", json={"query": BUY, "variables": {"sku": sku, "item": item}},
                                           headers={"authorization": f"Bearer {kernel.issue_token(member(n))}"})
                return {"member": n, "status": response.status_code, **(response.json() if response.status_code == 200 else {})}

            return await asyncio.gather(*(buy(n) for n in range(1, buyers + 1)))


@BOTH
async def test_200_buyers_for_20_units_over_http(kernel_factory, graphql, database, monkeypatch):
    # This test is about units, not timeouts: on a loaded machine a loser may queue behind the
    # hot rows' locks for longer than the default pool wait and 30 s statement timeout.
    monkeypatch.setenv("DOUGONG_POOL_TIMEOUT", "300")
    kernel, shop = await start(kernel_factory, database=database, members=200, stock=1000,
                               storage="storage: {statement_timeout: 300s}\n")
    _session, item = await make_session(admin_of(graphql, kernel), kernel, shop.sku, quantity=20, limit=1)
    answers = await crowd(kernel, shop.sku, item, 200)
    broken = [a for a in answers if a["status"] != 200 or a.get("errors")]
    assert broken == []
    payloads = [a["data"]["placeOrder"] for a in answers]
    won = [p for p in payloads if p["order"]]
    assert len(won) == 20
    assert {p["userErrors"][0]["code"] for p in payloads if not p["order"]} == {"FLASH_SALE_SOLD_OUT"}
    assert await state(kernel) == {"sold": 20, "held": 20, "bought": 20, "orders": 20, "reserved": 20}
    assert await shop.available() == 1000 - 20
