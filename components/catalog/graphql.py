"""Catalog's GraphQL surface. Thin: rules live in service.py.

Leaf fields are plain attributes filled when an object is built (the storefront query touches
thousands of them); only relations go through DataLoaders, so a page costs one statement per
relation whatever its size.
"""

from __future__ import annotations

import enum
import json
from collections import defaultdict
from datetime import datetime
from typing import Annotated, Any

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
from core.gql.loaded import loaded
from core.gql.relay import After, Before, First, Last
from core.keys_in import keys_in

MANAGE = "catalog.manage"


@strawberry.enum(description="Whether shoppers can see and buy a product.")
class ProductStatus(enum.Enum):
    DRAFT = strawberry.enum_value("draft", description="Being prepared: only catalog staff see it.")
    ON_SALE = strawberry.enum_value("on_sale", description="Visible to shoppers and sellable.")
    OFF_SALE = strawberry.enum_value("off_sale", description="Withdrawn: only catalog staff see it; orders already placed stand.")


@strawberry.type(description="One named value of a SKU's spec, e.g. name 'colour', value 'red'.")
class SpecValue:
    name: str = strawberry.field(description="What the value varies, e.g. 'colour' or '规格'.")
    value: str = strawberry.field(description="This SKU's value of it, e.g. 'red' or '250g'.")


@strawberry.type(description="One named attribute of a product, e.g. name 'origin', value 'Hangzhou'.")
class ProductAttribute:
    name: str = strawberry.field(description="The attribute's name, e.g. 'origin'.")
    value: str = strawberry.field(description="Its value as text; numbers in decimal, yes/no as 'true'/'false'.")


def spec_values(spec: dict[str, Any] | None) -> list[SpecValue]:
    return [SpecValue(name=k, value=str(v)) for k, v in (spec or {}).items()]


def attribute_text(value: Any) -> str:
    """An attribute value as text: older attributes (JSON) may hold numbers and booleans."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


@strawberry.type(description="A node of the category tree.")
class Category(Node):
    name: str = strawberry.field(description="The category's display name.")
    position: int = strawberry.field(description="Sort position among its siblings, smallest first.")
    parent_pk: strawberry.Private[int | None]

    @strawberry.field(description="The category above this one; null at the top of the tree.")
    async def parent(self, info: strawberry.Info) -> Category | None:
        if self.parent_pk is None:
            return None
        return await info.context.loader("catalog.categories").load(self.parent_pk)

    @strawberry.field(description="The categories directly below this one, by position.")
    async def children(self, info: strawberry.Info) -> list[Category]:
        return await info.context.loader("catalog.category_children").load(self.pk)


@strawberry.type(description="A sellable variant of a product: one colour, one size, one price.")
class Sku(Node):
    title: str = strawberry.field(description="The variant's name shown next to the product's, e.g. '250g 礼盒'.")
    spec: JSON = strawberry.field(
        description="The spec as a JSON object of name to value.", deprecation_reason="Use specValues; removed in the next release."
    )

    @strawberry.field(description="What makes this variant differ from its siblings, in the order staff gave.")
    def spec_values(self) -> list[SpecValue]:
        # Computed when asked for, not for every SKU of a page that does not show it.
        return spec_values(self.spec)

    image: str | None = strawberry.field(description="URL of the SKU's own picture, else the product's first image; null when neither has one.")
    price: Money = strawberry.field(description="What one unit costs before any activity or discount (minor units of the brand currency).")
    list_price: Money | None = strawberry.field(description="A reference price shown struck through; null when there is none.")
    barcode: str | None = strawberry.field(description="The SKU's barcode (EAN/UPC or the brand's own); null when none.")
    weight_grams: int | None = strawberry.field(description="Shipping weight of one unit in grams; null when unknown.")
    product_pk: strawberry.Private[int]

    @strawberry.field(description="The product this SKU belongs to; null when the caller may not see it.")
    async def product(self, info: strawberry.Info) -> Product | None:
        return await info.context.loader("catalog.products").load(self.product_pk)


@strawberry.type(description="A product (SPU) with its SKUs.")
class Product(Node):
    title: str = strawberry.field(description="The product's name.")
    description: str = strawberry.field(description="Long text shown on the product page; empty when none.")
    images: list[str] = strawberry.field(description="Picture URLs, the cover first.")
    status: ProductStatus = strawberry.field(description="Whether shoppers can see and buy it.")
    attributes: JSON = strawberry.field(
        description="The attributes as a JSON object of name to value.", deprecation_reason="Use attributeValues; removed in the next release."
    )

    @strawberry.field(description="Facts about the product (origin, shelf life…), in the order staff gave.")
    def attribute_values(self) -> list[ProductAttribute]:
        return [ProductAttribute(name=k, value=attribute_text(v)) for k, v in self.attributes.items()]

    created_at: datetime = strawberry.field(description="When it was created (ISO 8601 UTC).")
    category_pk: strawberry.Private[int | None]

    @strawberry.field(description="The product's SKUs in display order; a product has at least one.")
    @loaded("catalog.skus_by_product", key="pk")
    async def skus(self, info: strawberry.Info) -> list[Sku]:
        """Answered by the loader (core.gql.loaded)."""

    @strawberry.field(description="The category it is filed under; null when none.")
    @loaded("catalog.categories", key="category_pk")
    async def category(self, info: strawberry.Info) -> Category | None:
        """Answered by the loader (core.gql.loaded); null without a category."""


def category_node(row: models.Category) -> Category:
    return Category(pk=row.id, name=row.name, position=row.position, parent_pk=row.parent_id)


def sku_node(row: Any, currency: str, product_images: list[str] | None = None) -> Sku:
    """``row`` is a SKU row; ``product_images`` its product's images, for the picture fallback."""
    return Sku(
        pk=row.id,
        title=row.title,
        spec=row.spec or {},
        image=row.image or next(iter(product_images or ()), None),
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
# loads ~400 rows a page; this was the largest cost left once the executor was fast). Their
# columns too (PRODUCT.c.id, not models.Product.id): one mapped attribute in a statement sends
# it through the ORM's compile and result machinery all the same.
PRODUCT = models.Product.__table__
SKU = models.Sku.__table__
CATEGORY = models.Category.__table__

# The loaders' statements are built once and executed with the keys as a parameter (every
# storefront page runs them; building one and its cache key cost more than running it).
_SKU_WITH_IMAGES = select(SKU, PRODUCT.c.images.label("product_images")).join(PRODUCT, PRODUCT.c.id == SKU.c.product_id)
PRODUCTS_BY_ID = select(PRODUCT).where(keys_in(PRODUCT.c.id, name="keys"))
PRODUCTS_ON_SALE_BY_ID = PRODUCTS_BY_ID.where(PRODUCT.c.status == "on_sale")
SKUS_BY_ID = _SKU_WITH_IMAGES.where(keys_in(SKU.c.id, name="keys"))
SKUS_ON_SALE_BY_ID = SKUS_BY_ID.where(PRODUCT.c.status == "on_sale")
SKUS_OF_PRODUCTS = _SKU_WITH_IMAGES.where(keys_in(SKU.c.product_id, name="keys")).order_by(SKU.c.product_id, SKU.c.position, SKU.c.id)
CATEGORIES_BY_ID = select(CATEGORY).where(keys_in(CATEGORY.c.id, name="keys"))


async def load_products(ctx: Context, keys: list[int]) -> list[Product | None]:
    session = await ctx.session()
    stmt = PRODUCTS_BY_ID if sees_everything(ctx) else PRODUCTS_ON_SALE_BY_ID
    rows = {row.id: row for row in (await session.execute(stmt, {"keys": keys})).all()}
    return [product_node(rows[k]) if k in rows else None for k in keys]


async def load_skus(ctx: Context, keys: list[int]) -> list[Sku | None]:
    session = await ctx.session()
    currency = ctx.kernel.blueprint.brand.currency
    stmt = SKUS_BY_ID if sees_everything(ctx) else SKUS_ON_SALE_BY_ID
    rows = {row.id: row for row in (await session.execute(stmt, {"keys": keys})).all()}
    return [sku_node(rows[k], currency, rows[k].product_images) if k in rows else None for k in keys]


async def load_skus_by_product(ctx: Context, product_ids: list[int]) -> list[list[Sku]]:
    session = await ctx.session()
    currency = ctx.kernel.blueprint.brand.currency
    rows = await session.execute(SKUS_OF_PRODUCTS, {"keys": product_ids})
    grouped: dict[int, list[Sku]] = defaultdict(list)
    for row in rows.all():
        grouped[row.product_id].append(sku_node(row, currency, row.product_images))
    return [grouped.get(pid, []) for pid in product_ids]


async def load_categories(ctx: Context, keys: list[int]) -> list[Category | None]:
    session = await ctx.session()
    rows = {r.id: r for r in (await session.execute(CATEGORIES_BY_ID, {"keys": keys})).all()}
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


@strawberry.input(description="Narrows the products list; every given condition must hold.")
class ProductFilter:
    category_id: strawberry.ID | None = strawberry.field(
        default=None, description="Global id of a Category: products in it or any category below it."
    )
    search: str | None = strawberry.field(default=None, description="Text to find in the title or description (case-insensitive, taken literally).")
    status: ProductStatus | None = strawberry.field(
        default=None, description="Only products in this status (staff with catalog.manage; shoppers only see ON_SALE)."
    )


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
        self,
        info: strawberry.Info,
        first: First = None,
        after: After = None,
        filter: Annotated[ProductFilter | None, strawberry.argument(description="Conditions the products must meet.")] = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Product]:
        ctx: Context = info.context
        session = await ctx.session()
        stmt = select(PRODUCT)
        if not sees_everything(ctx):
            stmt = stmt.where(PRODUCT.c.status == "on_sale")
        if filter is not None:
            if filter.status is not None:
                stmt = stmt.where(PRODUCT.c.status == filter.status.value)
            if filter.category_id is not None:
                root = decode_id(filter.category_id, "Category", field="filter.categoryId")
                stmt = stmt.where(PRODUCT.c.category_id.in_(await _subtree(session, root)))
            if filter.search:
                needle = f"%{_escape_like(filter.search.strip()[:100])}%"
                stmt = stmt.where(or_(PRODUCT.c.title.ilike(needle, escape="\\"), PRODUCT.c.description.ilike(needle, escape="\\")))
        page = await fetch_page(session, stmt, PRODUCT.c.id, first, after, last=last, before=before)
        return connection(page, product_node)

    @strawberry.field(description="One product by id; null when it does not exist or the caller may not see it.")
    async def product(
        self,
        info: strawberry.Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the Product.")],  # noqa: A002
    ) -> Product | None:
        return await info.context.loader("catalog.products").load(decode_id(id, "Product", field="id"))

    @strawberry.field(description="The top of the category tree; follow `children` downwards.")
    async def categories(self, info: strawberry.Info) -> list[Category]:
        session = await info.context.session()
        rows = await session.scalars(
            select(models.Category).where(models.Category.parent_id.is_(None)).order_by(models.Category.position, models.Category.id)
        )
        return [category_node(r) for r in rows.all()]
