"""Catalog's GraphQL surface. Thin: rules live in service.py.

Leaf fields are plain attributes filled when an object is built (the storefront query touches
thousands of them); only relations go through DataLoaders, so a page costs one statement per
relation whatever its size.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from datetime import datetime
from typing import Any

import strawberry
from sqlalchemy import or_, select
from strawberry.scalars import JSON

from components.catalog import models
from core.clock import as_utc
from core.gql import (
    Connection,
    Context,
    Money,
    Node,
    connection,
    decode_id,
    fetch_page,
    money,
)

MANAGE = "catalog.manage"


@strawberry.enum
class ProductStatus(enum.Enum):
    DRAFT = "draft"
    ON_SALE = "on_sale"
    OFF_SALE = "off_sale"


@strawberry.type(description="A node of the category tree.")
class Category(Node):
    name: str
    position: int
    parent_pk: strawberry.Private[int | None]

    @strawberry.field
    async def parent(self, info: strawberry.Info) -> Category | None:
        if self.parent_pk is None:
            return None
        return await info.context.loader("catalog.categories").load(self.parent_pk)

    @strawberry.field
    async def children(self, info: strawberry.Info) -> list[Category]:
        return await info.context.loader("catalog.category_children").load(self.pk)


@strawberry.type(description="A sellable variant of a product: one colour, one size, one price.")
class Sku(Node):
    title: str
    spec: JSON
    price: Money
    list_price: Money | None
    barcode: str | None
    weight_grams: int | None
    product_pk: strawberry.Private[int]

    @strawberry.field
    async def product(self, info: strawberry.Info) -> Product | None:
        return await info.context.loader("catalog.products").load(self.product_pk)


@strawberry.type(description="A product (SPU) with its SKUs.")
class Product(Node):
    title: str
    description: str
    images: list[str]
    status: ProductStatus
    attributes: JSON
    created_at: datetime
    category_pk: strawberry.Private[int | None]

    @strawberry.field
    async def skus(self, info: strawberry.Info) -> list[Sku]:
        return await info.context.loader("catalog.skus_by_product").load(self.pk)

    @strawberry.field
    async def category(self, info: strawberry.Info) -> Category | None:
        if self.category_pk is None:
            return None
        return await info.context.loader("catalog.categories").load(self.category_pk)


def category_node(row: models.Category) -> Category:
    return Category(pk=row.id, name=row.name, position=row.position, parent_pk=row.parent_id)


def sku_node(row: models.Sku, currency: str) -> Sku:
    return Sku(
        pk=row.id,
        title=row.title,
        spec=row.spec or {},
        price=money(row.price_minor, currency),
        list_price=money(row.list_price_minor, currency) if row.list_price_minor is not None else None,
        barcode=row.barcode,
        weight_grams=row.weight_grams,
        product_pk=row.product_id,
    )


def product_node(row: models.Product) -> Product:
    return Product(
        pk=row.id,
        title=row.title,
        description=row.description or "",
        images=list(row.images or []),
        status=ProductStatus(row.status),
        attributes=row.attributes or {},
        created_at=as_utc(row.created_at),
        category_pk=row.category_id,
    )


def sees_everything(ctx: Context) -> bool:
    """Staff who manage the catalog see drafts and withdrawn products; everyone else sees what is on sale."""
    return ctx.actor.is_staff and ctx.can(MANAGE)


# -- loaders ------------------------------------------------------------------------------------

# Storefront reads select the tables, not the mapped classes: the *_node functions only read
# columns, and plain rows skip the ORM's identity map and instance state (the storefront
# loads ~400 rows a page; this was the largest cost left once the executor was fast).
PRODUCT = models.Product.__table__
SKU = models.Sku.__table__
CATEGORY = models.Category.__table__


async def load_products(ctx: Context, keys: list[int]) -> list[Product | None]:
    session = await ctx.session()
    stmt = select(PRODUCT).where(models.Product.id.in_(keys))
    if not sees_everything(ctx):
        stmt = stmt.where(models.Product.status == "on_sale")
    rows = {row.id: row for row in (await session.execute(stmt)).all()}
    return [product_node(rows[k]) if k in rows else None for k in keys]


async def load_skus(ctx: Context, keys: list[int]) -> list[Sku | None]:
    session = await ctx.session()
    currency = ctx.kernel.blueprint.brand.currency
    stmt = select(models.Sku).join(models.Product, models.Product.id == models.Sku.product_id).where(models.Sku.id.in_(keys))
    if not sees_everything(ctx):
        stmt = stmt.where(models.Product.status == "on_sale")
    rows = {row.id: row for row in (await session.scalars(stmt)).all()}
    return [sku_node(rows[k], currency) if k in rows else None for k in keys]


async def load_skus_by_product(ctx: Context, product_ids: list[int]) -> list[list[Sku]]:
    session = await ctx.session()
    currency = ctx.kernel.blueprint.brand.currency
    rows = await session.execute(
        select(SKU).where(models.Sku.product_id.in_(product_ids)).order_by(models.Sku.product_id, models.Sku.position, models.Sku.id)
    )
    grouped: dict[int, list[Sku]] = defaultdict(list)
    for row in rows.all():
        grouped[row.product_id].append(sku_node(row, currency))
    return [grouped.get(pid, []) for pid in product_ids]


async def load_categories(ctx: Context, keys: list[int]) -> list[Category | None]:
    session = await ctx.session()
    rows = {r.id: r for r in (await session.execute(select(CATEGORY).where(models.Category.id.in_(keys)))).all()}
    return [category_node(rows[k]) if k in rows else None for k in keys]


async def load_category_children(ctx: Context, keys: list[int]) -> list[list[Category]]:
    session = await ctx.session()
    rows = await session.scalars(
        select(models.Category).where(models.Category.parent_id.in_(keys)).order_by(models.Category.position, models.Category.id)
    )
    grouped: dict[int, list[Category]] = defaultdict(list)
    for row in rows.all():
        grouped[row.parent_id].append(category_node(row))
    return [grouped.get(k, []) for k in keys]


# -- queries ------------------------------------------------------------------------------------


@strawberry.input
class ProductFilter:
    category_id: strawberry.ID | None = None
    search: str | None = None
    status: ProductStatus | None = None


async def _subtree(session: Any, root: int) -> set[int]:
    """A category and everything below it (category trees are small: read them whole)."""
    rows = (await session.execute(select(models.Category.id, models.Category.parent_id))).all()
    children: dict[int | None, list[int]] = defaultdict(list)
    for cid, parent in rows:
        children[parent].append(cid)
    found, todo = set(), [root]
    while todo:
        current = todo.pop()
        if current not in found:
            found.add(current)
            todo.extend(children.get(current, []))
    return found


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@strawberry.type
class Query:
    @strawberry.field(description="Products, newest last; anonymous callers see only what is on sale.")
    async def products(
        self, info: strawberry.Info, first: int | None = 20, after: str | None = None, filter: ProductFilter | None = None
    ) -> Connection[Product]:
        ctx: Context = info.context
        session = await ctx.session()
        stmt = select(PRODUCT)
        if not sees_everything(ctx):
            stmt = stmt.where(models.Product.status == "on_sale")
        if filter is not None:
            if filter.status is not None:
                stmt = stmt.where(models.Product.status == filter.status.value)
            if filter.category_id is not None:
                root = decode_id(filter.category_id, "Category", field="filter.categoryId")
                stmt = stmt.where(models.Product.category_id.in_(await _subtree(session, root)))
            if filter.search:
                needle = f"%{_escape_like(filter.search.strip()[:100])}%"
                stmt = stmt.where(or_(models.Product.title.ilike(needle, escape="\\"), models.Product.description.ilike(needle, escape="\\")))
        page = await fetch_page(session, stmt, models.Product.id, first, after)
        return connection(page, product_node)

    @strawberry.field
    async def product(self, info: strawberry.Info, id: strawberry.ID) -> Product | None:  # noqa: A002
        return await info.context.loader("catalog.products").load(decode_id(id, "Product", field="id"))

    @strawberry.field(description="The top of the category tree; follow `children` downwards.")
    async def categories(self, info: strawberry.Info) -> list[Category]:
        session = await info.context.session()
        rows = await session.scalars(
            select(models.Category).where(models.Category.parent_id.is_(None)).order_by(models.Category.position, models.Category.id)
        )
        return [category_node(r) for r in rows.all()]
