"""bench/mutations.py's baseline: hand-written FastAPI endpoints calling the **same services** on
the same database as dougong's mutations, with no GraphQL.

Each endpoint does what a careful hand-written API would: reads the bearer token with the
kernel's own token reader, checks the member against the database (``current_actor``, the same
primary-key read dougong's context does), runs the service in one ``kernel.transaction()`` and
answers a small JSON object (Starlette's ``JSONResponse``: the same stdlib encoder dougong's
answer goes through). Refusals come back as ``{"error": code, "details": ...}``.

- ``POST /bid``    ``{"lotId": int, "amount": int}`` → ``bidding_sale.place_bid``
- ``POST /order``  ``{"skuId": int, "quantity": int}`` → ``orders.place`` (one checkout, plain line)
- ``POST /redeem`` ``{"itemId": int}`` → ``points_mall.redeem``

What it leaves out, beside GraphQL: the idempotency-key claim (none is sent to either side)
and reading the payload back (dougong's payloads load the lot, the order, the redemption and
the balance after the commit; here the ids the service returned are the answer).
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from core.authority import current_actor
from core.checkout import CheckoutRequest, LineRequest
from core.errors import DomainError


def create_baseline_app(kernel: Any) -> FastAPI:
    app = FastAPI()

    async def member(request: Request) -> int:
        token = request.headers.get("authorization", "").partition(" ")[2]
        actor = await current_actor(kernel, kernel.tokens.decode(token))
        if not actor.is_member or actor.id is None:
            raise PermissionError("members only")
        return int(actor.id)

    async def write(request: Request, work: Callable[[Any, int, dict], Awaitable[dict]]) -> JSONResponse:
        member_id = await member(request)
        body = await request.json()
        try:
            async with kernel.transaction() as tx:
                answer = await work(tx, member_id, body)
        except DomainError as error:
            return JSONResponse({"error": error.code, "details": error.details})
        return JSONResponse(answer)

    @app.post("/bid")
    async def bid(request: Request) -> JSONResponse:
        async def work(tx: Any, member_id: int, body: dict) -> dict:
            result = await kernel.service("bidding_sale").place_bid(tx, int(body["lotId"]), member_id, int(body["amount"]), None)
            return {"lotId": result["lotId"], "leading": result["leading"]}

        return await write(request, work)

    @app.post("/order")
    async def order(request: Request) -> JSONResponse:
        async def work(tx: Any, member_id: int, body: dict) -> dict:
            placed = CheckoutRequest(member_id=member_id, lines=[LineRequest(int(body["skuId"]), int(body["quantity"]))])
            return {"orderId": await kernel.service("orders").place(tx, placed)}

        return await write(request, work)

    @app.post("/redeem")
    async def redeem(request: Request) -> JSONResponse:
        async def work(tx: Any, member_id: int, body: dict) -> dict:
            redemption = await kernel.service("points_mall").redeem(tx, member_id=member_id, item_id=int(body["itemId"]))
            return {"redemptionId": redemption.id}

        return await write(request, work)

    @app.get("/nothing")
    async def nothing() -> dict:
        return {}

    return app
