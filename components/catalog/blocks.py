"""Catalog's storefront blocks: a banner, a product grid, a search bar."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import literal, select, union_all

from components.catalog import models
from components.catalog.graphql import PRODUCT, Product, product_node
from core.storefront import PageRequest, StorefrontBlock

MAX_GRID = 50
TEXT = {"type": "string", "maxLength": 500}


@strawberry.type(description="A picture with a link (轮播/海报).")
class CatalogBannerBlock(StorefrontBlock):
    image: str = strawberry.field(description="The picture's URL.")
    link: str | None = strawberry.field(description="Where a tap goes (a mini-program path or URL).")
    alt: str | None = strawberry.field(description="What the picture shows, for screen readers.")


@strawberry.type(description="Products of a category, or a chosen list of products, in a grid.")
class CatalogProductGridBlock(StorefrontBlock):
    columns: int = strawberry.field(description="Products per row (1 to 4).")
    products: list[Product] = strawberry.field(description="On-sale products, in the grid's order.")


@strawberry.type(description="A search box opening the product search.")
class CatalogSearchBarBlock(StorefrontBlock):
    placeholder: str = strawberry.field(description="The hint inside the empty search box.")


BANNER = {
    "type": "object",
    "additionalProperties": False,
    "required": ["image"],
    "properties": {
        "image": {**TEXT, "pattern": "^(https?://|/)", "description": "the picture's URL"},
        "link": {**TEXT, "description": "where a tap goes (a mini-program path or URL)"},
        "alt": {"type": "string", "maxLength": 100, "description": "what the picture shows, for screen readers"},
    },
}
GRID = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "category_id": {"type": "integer", "minimum": 1, "description": "show this category (and those below it)"},
        "product_ids": {
            "type": "array",
            "items": {"type": "integer", "minimum": 1},
            "maxItems": MAX_GRID,
            "uniqueItems": True,
            "description": "or exactly these products, in this order (all of them: limit does not apply)",
        },
        "limit": {"type": "integer", "minimum": 1, "maximum": MAX_GRID, "default": 8},
        "columns": {"type": "integer", "minimum": 1, "maximum": 4, "default": 2},
    },
}
SEARCH = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "placeholder": {"type": "string", "maxLength": 50, "default": "搜索商品 Search"},
    },
}


async def banner(page: PageRequest, settings: dict[str, Any]) -> dict[str, Any]:
    return {"image": settings["image"], "link": settings.get("link"), "alt": settings.get("alt")}


async def product_grid(page: PageRequest, settings: dict[str, Any]) -> dict[str, Any]:
    return (await product_grids(page, [settings]))[0]


async def product_grids(page: PageRequest, every: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every grid of a page in one statement (a UNION ALL of one limited SELECT per grid, each
    tagged with its grid's position; a category grid finds the categories below its own with a
    recursive CTE inside that statement): the statements of a page do not grow with its grids,
    their settings or their products. On-sale products only."""
    session = await page.session()
    parts = []
    for index, settings in enumerate(every):
        stmt = select(literal(index).label("grid"), *PRODUCT.c).where(models.Product.status == "on_sale")
        chosen = settings.get("product_ids")
        if chosen:
            stmt = stmt.where(models.Product.id.in_(chosen))
        elif settings.get("category_id") is not None:
            stmt = stmt.where(models.Product.category_id.in_(select(_below(settings["category_id"], index).c.id)))
        # Each SELECT keeps its own ORDER BY and LIMIT inside a subquery (SQLite and PostgreSQL
        # both refuse them on a bare member of a UNION).
        # A chosen list is shown whole (it is capped by its schema): `limit` would cut it by id,
        # not by the order the operator gave.
        inner = stmt.order_by(models.Product.id).limit(len(chosen) if chosen else settings["limit"]).subquery()
        parts.append(select(inner))
    rows = (await session.execute(union_all(*parts) if len(parts) > 1 else parts[0])).all()
    grids: list[list[Any]] = [[] for _ in every]
    for row in rows:
        grids[row.grid].append(row)
    found = []
    for settings, grid in zip(every, grids, strict=True):
        chosen = settings.get("product_ids")
        if chosen:
            position = {pid: i for i, pid in enumerate(chosen)}
            grid.sort(key=lambda row: position[row.id])
        else:
            grid.sort(key=lambda row: row.id)  # a UNION keeps no order of its members
        found.append({"columns": settings["columns"], "products": [product_node(row) for row in grid]})
    return found


def _below(root: int, index: int) -> Any:
    """``root`` and every category under it: a recursive CTE, named after its grid (one WITH
    clause holds the CTEs of every grid of the page)."""
    below = select(models.Category.id).where(models.Category.id == root).cte(f"below_{index}", recursive=True)
    return below.union_all(select(models.Category.id).where(models.Category.parent_id == below.c.id))


async def search_bar(page: PageRequest, settings: dict[str, Any]) -> dict[str, Any]:
    return {"placeholder": settings["placeholder"]}


def register(registrar: Any) -> None:
    registrar.page_block(
        "catalog.banner", titles={"zh": "轮播海报", "en": "Banner"}, settings_schema=BANNER, graphql_type=CatalogBannerBlock, resolve=banner
    )
    registrar.page_block(
        "catalog.product_grid",
        titles={"zh": "商品列表", "en": "Product grid"},
        settings_schema=GRID,
        graphql_type=CatalogProductGridBlock,
        resolve=product_grid,
        resolve_many=product_grids,
    )
    registrar.page_block(
        "catalog.search_bar",
        titles={"zh": "搜索框", "en": "Search bar"},
        settings_schema=SEARCH,
        graphql_type=CatalogSearchBarBlock,
        resolve=search_bar,
    )
