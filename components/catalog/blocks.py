"""Catalog's storefront blocks: a banner, a product grid, a search bar."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import select

from components.catalog import models
from components.catalog.graphql import PRODUCT, Product, _subtree, product_node
from core.storefront import PageRequest, StorefrontBlock

MAX_GRID = 50
TEXT = {"type": "string", "maxLength": 500}


@strawberry.type(description="A picture with a link (轮播/海报).")
class CatalogBannerBlock(StorefrontBlock):
    image: str
    link: str | None
    alt: str | None


@strawberry.type(description="Products of a category, or a chosen list of products, in a grid.")
class CatalogProductGridBlock(StorefrontBlock):
    columns: int
    products: list[Product]


@strawberry.type(description="A search box opening the product search.")
class CatalogSearchBarBlock(StorefrontBlock):
    placeholder: str


BANNER = {"type": "object", "additionalProperties": False, "required": ["image"], "properties": {
    "image": {**TEXT, "pattern": "^(https?://|/)", "description": "the picture's URL"},
    "link": {**TEXT, "description": "where a tap goes (a mini-program path or URL)"},
    "alt": {"type": "string", "maxLength": 100, "description": "what the picture shows, for screen readers"},
}}
GRID = {"type": "object", "additionalProperties": False, "properties": {
    "category_id": {"type": "integer", "minimum": 1, "description": "show this category (and those below it)"},
    "product_ids": {"type": "array", "items": {"type": "integer", "minimum": 1}, "maxItems": MAX_GRID, "uniqueItems": True,
                    "description": "or exactly these products, in this order"},
    "limit": {"type": "integer", "minimum": 1, "maximum": MAX_GRID, "default": 8},
    "columns": {"type": "integer", "minimum": 1, "maximum": 4, "default": 2},
}}
SEARCH = {"type": "object", "additionalProperties": False, "properties": {
    "placeholder": {"type": "string", "maxLength": 50, "default": "搜索商品 Search"},
}}


async def banner(page: PageRequest, settings: dict[str, Any]) -> dict[str, Any]:
    return {"image": settings["image"], "link": settings.get("link"), "alt": settings.get("alt")}


async def product_grid(page: PageRequest, settings: dict[str, Any]) -> dict[str, Any]:
    """On-sale products only, one statement (plus the category tree when a category is named)."""
    session = await page.session()
    stmt = select(PRODUCT).where(models.Product.status == "on_sale")
    chosen = settings.get("product_ids")
    if chosen:
        stmt = stmt.where(models.Product.id.in_(chosen))
    elif settings.get("category_id") is not None:
        stmt = stmt.where(models.Product.category_id.in_(await _subtree(session, settings["category_id"])))
    rows = (await session.execute(stmt.order_by(models.Product.id).limit(settings["limit"]))).all()
    if chosen:
        position = {pid: i for i, pid in enumerate(chosen)}
        rows = sorted(rows, key=lambda row: position[row.id])
    return {"columns": settings["columns"], "products": [product_node(row) for row in rows]}


async def search_bar(page: PageRequest, settings: dict[str, Any]) -> dict[str, Any]:
    return {"placeholder": settings["placeholder"]}


def register(registrar: Any) -> None:
    registrar.page_block("catalog.banner", titles={"zh": "轮播海报", "en": "Banner"}, settings_schema=BANNER,
                         graphql_type=CatalogBannerBlock, resolve=banner)
    registrar.page_block("catalog.product_grid", titles={"zh": "商品列表", "en": "Product grid"}, settings_schema=GRID,
                         graphql_type=CatalogProductGridBlock, resolve=product_grid)
    registrar.page_block("catalog.search_bar", titles={"zh": "搜索框", "en": "Search bar"}, settings_schema=SEARCH,
                         graphql_type=CatalogSearchBarBlock, resolve=search_bar)
