"""The storefront bench's baseline: a hand-written FastAPI endpoint, no GraphQL.

It answers the default storefront query of ``bench/storefront.py`` with the same JSON, byte
for byte after parsing, read from the same database with the same visibility rule (on sale
only) — the least work any Python server on this stack must do for that page: five SELECTs
on one connection, dicts, one JSON encode. The bench checks both bodies are equal before
timing anything, so the baseline cannot win by doing less.
"""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from datetime import datetime, timezone

from fastapi import FastAPI, Request
from fastapi.responses import Response
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine


def _gid(type_name: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


def _cursor(pk: int) -> str:
    return base64.urlsafe_b64encode(f"c:{pk}".encode()).decode().rstrip("=")


def _amount(minor: int) -> str:  # CNY: two decimals
    whole, frac = divmod(abs(minor), 100)
    return f"{'-' if minor < 0 else ''}{whole}.{frac:02d}"


def _utc(value: datetime | str) -> datetime:
    if isinstance(value, str):  # SQLite hands back text for raw SQL
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _images(value: object) -> list[str]:
    if isinstance(value, str):
        value = json.loads(value)
    return list(value or [])


def create_baseline_app(url: str, *, pool_size: int = 10) -> FastAPI:
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=20)
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.post("/storefront")
    async def storefront(request: Request) -> Response:
        body = await request.json()
        first = int((body.get("variables") or {}).get("first", 20))
        now = datetime.now(timezone.utc)
        async with engine.connect() as conn:
            products = (await conn.execute(text(
                "SELECT id, title, images, category_id FROM catalog_product WHERE status = 'on_sale' ORDER BY id LIMIT :n"
            ), {"n": first + 1})).all()
            has_next = len(products) > first
            products = products[:first]
            pids = [p.id for p in products] or [0]
            cids = sorted({p.category_id for p in products if p.category_id is not None}) or [0]
            categories = {r.id: r.name for r in (await conn.execute(
                text("SELECT id, name FROM catalog_category WHERE id IN :ids").bindparams(_in("ids")), {"ids": cids}))}
            skus = (await conn.execute(text(
                "SELECT id, product_id, title, price_minor FROM catalog_sku WHERE product_id IN :ids "
                "ORDER BY product_id, position, id").bindparams(_in("ids")), {"ids": pids})).all()
            sids = [s.id for s in skus] or [0]
            stock = {r.sku_id: int(r.n) for r in (await conn.execute(text(
                "SELECT sku_id, on_hand - reserved AS n FROM inventory_stock WHERE sku_id IN :ids AND location_id = 0"
            ).bindparams(_in("ids")), {"ids": sids}))}
            offers = (await conn.execute(text(
                "SELECT id, sku_id, product_id, group_price_minor, group_size, ends_at FROM group_buy_offer "
                "WHERE (product_id IN :pids OR sku_id IN :sids) AND status = 'active' AND ends_at > :now ORDER BY id"
            ).bindparams(_in("pids"), _in("sids")), {"pids": pids, "sids": sids, "now": now})).all()
        data = page(products, has_next, categories, skus, stock, offers)
        return Response(json.dumps({"data": data}, ensure_ascii=False, separators=(",", ":")).encode(), media_type="application/json")

    return app


def page(products: list, has_next: bool, categories: dict, skus: list, stock: dict, offers: list) -> dict:
    """The page's JSON from the five queries' rows (anything with the baseline's column
    attributes): shared with ``bench/storefront_floor.py`` so both answer the same bytes."""
    by_product: dict[int, list] = defaultdict(list)
    by_sku: dict[int, list] = defaultdict(list)
    for o in offers:
        gid, price = _gid("GroupBuyOffer", o.id), {"amountMinor": o.group_price_minor, "currency": "CNY"}
        if o.product_id is not None:
            by_product[o.product_id].append(
                {"id": gid, "groupPrice": price, "groupSize": o.group_size, "endsAt": _utc(o.ends_at).isoformat()})
        by_sku[o.sku_id].append({"id": gid, "groupPrice": price, "groupSize": o.group_size})
    skus_of: dict[int, list] = defaultdict(list)
    for s in skus:
        skus_of[s.product_id].append({
            "id": _gid("Sku", s.id), "title": s.title,
            "price": {"amountMinor": s.price_minor, "currency": "CNY", "amount": _amount(s.price_minor)},
            "stock": stock.get(s.id, 0), "groupBuyOffers": by_sku.get(s.id, []),
        })
    edges = [{
        "cursor": _cursor(p.id),
        "node": {
            "id": _gid("Product", p.id), "title": p.title, "images": _images(p.images),
            "category": {"id": _gid("Category", p.category_id), "name": categories[p.category_id]}
            if p.category_id in categories else None,
            "groupBuyOffers": by_product.get(p.id, []),
            "skus": skus_of.get(p.id, []),
        },
    } for p in products]
    data = {"products": {"edges": edges, "pageInfo": {"hasNextPage": has_next, "endCursor": edges[-1]["cursor"] if edges else None}}}
    return data


def _in(name: str):  # noqa: ANN202
    from sqlalchemy import bindparam

    return bindparam(name, expanding=True)
