"""The checkout bench's baseline: hand-written FastAPI endpoints, plain SQLAlchemy, no GraphQL.

``POST /preview`` reads the member and the SKUs' prices and on-sale state and prices the cart;
``POST /place`` does, in one transaction, the writes placeOrder does for a cart of plain
lines: one order row, one row per line, and one conditional stock update per line
(``reserved = reserved + n WHERE on_hand - reserved >= n``), all undone if any line lacks
stock. No auth, no events, no timers, no idempotency: the floor of the same writes on this
stack. Its tables (``bench_checkout_*``) sit in the same database as dougong's.
"""

from __future__ import annotations

from datetime import datetime, timezone

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import BigInteger, Column, DateTime, Integer, MetaData, String, Table, insert, select, update
from sqlalchemy.ext.asyncio import create_async_engine

metadata = MetaData()
orders = Table("bench_checkout_order", metadata, Column("id", Integer, primary_key=True), Column("member_id", Integer),
               Column("status", String(16)), Column("subtotal_minor", BigInteger), Column("total_minor", BigInteger),
               Column("created_at", DateTime(timezone=True)))
lines = Table("bench_checkout_line", metadata, Column("id", Integer, primary_key=True), Column("order_id", Integer, index=True),
              Column("sku_id", Integer), Column("quantity", Integer), Column("unit_price_minor", BigInteger),
              Column("total_minor", BigInteger))
stock = Table("bench_checkout_stock", metadata, Column("sku_id", Integer, primary_key=True), Column("on_hand", Integer),
              Column("reserved", Integer))
members = Table("members_member", MetaData(), Column("id", Integer, primary_key=True))
skus = Table("catalog_sku", MetaData(), Column("id", Integer, primary_key=True), Column("price_minor", BigInteger),
             Column("product_id", Integer))
products = Table("catalog_product", MetaData(), Column("id", Integer, primary_key=True), Column("status", String(16)))


class OutOfStock(Exception):
    pass


async def prepare(url: str, sku_ids: list[int], on_hand: int) -> None:
    """Create the baseline's tables and give each SKU ``on_hand`` units (run once, before serving)."""
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
        await conn.execute(stock.delete())
        await conn.execute(insert(stock), [{"sku_id": s, "on_hand": on_hand, "reserved": 0} for s in sku_ids])
    await engine.dispose()


def create_baseline_app(url: str) -> FastAPI:
    engine = create_async_engine(url, pool_size=10, max_overflow=20)
    app = FastAPI()

    async def priced(conn, body: dict) -> dict:  # noqa: ANN001
        wanted = [(int(line["skuId"]), int(line["quantity"])) for line in body["lines"]]
        if await conn.scalar(select(members.c.id).where(members.c.id == int(body["memberId"]))) is None:
            raise LookupError("no such member")
        rows = (await conn.execute(select(skus.c.id, skus.c.price_minor).join(products, products.c.id == skus.c.product_id)
                                   .where(skus.c.id.in_([s for s, _ in wanted]), products.c.status == "on_sale"))).all()
        price = dict(rows)
        priced_lines = [{"skuId": s, "quantity": q, "unitPriceMinor": price[s], "totalMinor": price[s] * q} for s, q in wanted]
        total = sum(line["totalMinor"] for line in priced_lines)
        return {"lines": priced_lines, "subtotalMinor": total, "totalMinor": total}

    @app.post("/preview")
    async def preview(request: Request) -> JSONResponse:
        async with engine.connect() as conn:
            return JSONResponse(await priced(conn, await request.json()))

    @app.post("/place")
    async def place(request: Request) -> JSONResponse:
        body = await request.json()
        try:
            async with engine.begin() as conn:
                cart = await priced(conn, body)
                order_id = (await conn.execute(insert(orders).values(
                    member_id=int(body["memberId"]), status="pending_payment", subtotal_minor=cart["subtotalMinor"],
                    total_minor=cart["totalMinor"], created_at=datetime.now(timezone.utc)))).inserted_primary_key[0]
                await conn.execute(insert(lines), [{"order_id": order_id, "sku_id": l["skuId"], "quantity": l["quantity"],
                                                    "unit_price_minor": l["unitPriceMinor"], "total_minor": l["totalMinor"]}
                                                   for l in cart["lines"]])
                for line in sorted(cart["lines"], key=lambda l: l["skuId"]):  # one lock order, as dougong's
                    held = await conn.execute(update(stock).where(
                        stock.c.sku_id == line["skuId"], stock.c.on_hand - stock.c.reserved >= line["quantity"])
                        .values(reserved=stock.c.reserved + line["quantity"]))
                    if held.rowcount != 1:
                        raise OutOfStock(line["skuId"])
        except OutOfStock as missing:
            return JSONResponse({"error": "OUT_OF_STOCK", "skuId": missing.args[0]})
        return JSONResponse({"orderId": order_id, "totalMinor": cart["totalMinor"]})

    @app.get("/nothing")
    async def nothing() -> dict:
        return {}

    return app
