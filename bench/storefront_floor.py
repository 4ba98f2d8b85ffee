"""The storefront bench's floor: the same page with no framework and a synchronous driver.

A raw ASGI app (no FastAPI, no Starlette) answers ``POST /storefront`` with the five SELECTs of
``bench/storefront_baseline.py`` run through the database's synchronous driver (``sqlite3``,
or ``psycopg`` for PostgreSQL) on one connection kept for the worker's life, the page built by
the baseline's own ``page()`` and encoded with ``orjson``. It blocks the event loop while it
queries, which is fine for one worker and nothing else: this is how far Python can go on this
machine for this page, the floor both the hand-written FastAPI endpoint and dougong sit above.
The bench checks its body equals the baseline's before timing it.

Needs ``orjson`` (and ``psycopg`` for PostgreSQL): ``pip install -e '.[bench]'``; without
them the bench skips this row and says why.
"""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from datetime import datetime, timezone
from typing import Any

from sqlalchemy.engine import make_url

from bench.storefront_baseline import page

Product = namedtuple("Product", "id title images category_id")
Sku = namedtuple("Sku", "id product_id title price_minor")
Offer = namedtuple("Offer", "id sku_id product_id group_price_minor group_size ends_at")


def missing() -> str | None:
    """Why the floor cannot run here, or None."""
    try:
        import orjson  # noqa: F401
    except ImportError:
        return "orjson is not installed (pip install orjson)"
    return None


class _Sqlite:
    def __init__(self, path: str) -> None:
        self.connection = sqlite3.connect(path, isolation_level=None)
        self.connection.execute("PRAGMA busy_timeout=30000")

    def rows(self, sql: str, params: list) -> list:
        return self.connection.execute(sql.replace("%s", "?"), params).fetchall()

    @staticmethod
    def many(values: list) -> tuple[str, list]:
        return f"({','.join('?' * len(values))})", list(values)


class _Postgres:
    def __init__(self, url: str) -> None:
        import psycopg

        self.connection = psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False), autocommit=True)

    def rows(self, sql: str, params: list) -> list:
        return self.connection.execute(sql, params).fetchall()

    @staticmethod
    def many(values: list) -> tuple[str, list]:
        return "(SELECT unnest(%s::bigint[]))", [list(values)]


def _database(url: str) -> Any:
    parsed = make_url(url)
    return _Sqlite(parsed.database or "") if parsed.get_backend_name() == "sqlite" else _Postgres(url)


def fetch(db: Any, first: int) -> dict:
    """The page through the synchronous driver: the baseline's five statements."""
    now = datetime.now(timezone.utc)
    products = [Product(*r) for r in db.rows(
        "SELECT id, title, images, category_id FROM catalog_product WHERE status = 'on_sale' ORDER BY id LIMIT %s", [first + 1])]
    has_next = len(products) > first
    products = products[:first]
    pids = [p.id for p in products] or [0]
    cids = sorted({p.category_id for p in products if p.category_id is not None}) or [0]
    in_c, c_params = db.many(cids)
    categories = dict(db.rows(f"SELECT id, name FROM catalog_category WHERE id IN {in_c}", c_params))
    in_p, p_params = db.many(pids)
    skus = [Sku(*r) for r in db.rows(
        f"SELECT id, product_id, title, price_minor FROM catalog_sku WHERE product_id IN {in_p} ORDER BY product_id, position, id", p_params)]
    sids = [s.id for s in skus] or [0]
    in_s, s_params = db.many(sids)
    stock = {sku: int(n) for sku, n in db.rows(
        f"SELECT sku_id, on_hand - reserved AS n FROM inventory_stock WHERE sku_id IN {in_s} AND location_id = 0", s_params)}
    offers = [Offer(*r) for r in db.rows(
        "SELECT id, sku_id, product_id, group_price_minor, group_size, ends_at FROM group_buy_offer "
        f"WHERE (product_id IN {in_p} OR sku_id IN {in_s}) AND status = 'active' AND ends_at > %s ORDER BY id",
        [*p_params, *s_params, now])]
    return page(products, has_next, categories, skus, stock, offers)


def create_floor_app(url: str) -> Any:
    import orjson

    db: list[Any] = []

    async def app(scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    db.append(_database(url))
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    db[0].connection.close()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http" or scope["path"] != "/storefront" or scope["method"] != "POST":
            await send({"type": "http.response.start", "status": 404, "headers": [(b"content-length", b"0")]})
            await send({"type": "http.response.body", "body": b""})
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        first = int((orjson.loads(b"".join(chunks)).get("variables") or {}).get("first", 20))
        body = orjson.dumps({"data": fetch(db[0], first)})
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    return app
