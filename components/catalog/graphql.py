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
from core.errors import DomainError
from core.gql import (
    Connection, Context, Money, MoneyInput, Node, Payload, connection, decode_id, fetch_page,
    minor_from_input, money, run_mutation,
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
        pk=row.id, title=row.title, spec=row.spec or {}, price=money(row.price_minor, currency),
        list_price=money(row.list_price_minor, currency) if row.list_price_minor is not None else None,
        barcode=row.barcode, weight_grams=row.weight_grams, product_pk=row.product_id,
    )


def product_node(row: models.Product) -> Product:
    return Product(
        pk=row.id, title=row.title, description=row.description or "", images=list(row.images or []),
        status=ProductStatus(row.status), attributes=row.attributes or {}, created_at=as_utc(row.created_at),
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


# -- mutations ----------------------------------------------------------------------------------

@strawberry.input
class SkuInput:
    title: str
    price: MoneyInput
    spec: JSON | None = None
    list_price: MoneyInput | None = None
    barcode: str | None = None
    weight_grams: int | None = None


@strawberry.input
class CreateProductInput:
    title: str
    skus: list[SkuInput]
    description: str = ""
    images: list[str] = strawberry.field(default_factory=list)
    category_id: strawberry.ID | None = None
    status: ProductStatus = ProductStatus.ON_SALE
    attributes: JSON | None = None


@strawberry.input
class UpdateProductInput:
    id: strawberry.ID
    title: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    images: list[str] | None = strawberry.UNSET
    category_id: strawberry.ID | None = strawberry.UNSET
    status: ProductStatus | None = strawberry.UNSET


@strawberry.input
class CreateSkuInput:
    product_id: strawberry.ID
    sku: SkuInput


@strawberry.input
class UpdateSkuInput:
    id: strawberry.ID
    title: str | None = strawberry.UNSET
    price: MoneyInput | None = strawberry.UNSET
    list_price: MoneyInput | None = strawberry.UNSET
    spec: JSON | None = strawberry.UNSET


@strawberry.input
class CreateCategoryInput:
    name: str
    parent_id: strawberry.ID | None = None
    position: int = 0


@strawberry.type
class ProductPayload(Payload):
    product: Product | None = None


@strawberry.type
class SkuPayload(Payload):
    sku: Sku | None = None


@strawberry.type
class CategoryPayload(Payload):
    category: Category | None = None


def _sku_data(sku: SkuInput, currency: str, field: str) -> dict[str, Any]:
    return {
        "title": sku.title,
        "spec": sku.spec,
        "price_minor": minor_from_input(sku.price, currency, f"{field}.price"),
        "list_price_minor": minor_from_input(sku.list_price, currency, f"{field}.listPrice") if sku.list_price else None,
        "barcode": sku.barcode,
        "weight_grams": sku.weight_grams,
    }


def _service(ctx: Context):  # noqa: ANN202
    return ctx.kernel.service("catalog")


async def _reload_product(ctx: Context, product_id: int) -> Product | None:
    return (await load_products_for_staff(ctx, [product_id]))[0]


async def load_products_for_staff(ctx: Context, keys: list[int]) -> list[Product | None]:
    session = await ctx.session()
    rows = {r.id: r for r in (await session.scalars(select(models.Product).where(models.Product.id.in_(keys)))).all()}
    return [product_node(rows[k]) if k in rows else None for k in keys]


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Staff: create a product with its SKUs.")
    async def create_product(self, info: strawberry.Info, input: CreateProductInput) -> ProductPayload:  # noqa: A002
        ctx: Context = info.context
        currency = ctx.kernel.blueprint.brand.currency

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require(MANAGE)
            category = decode_id(input.category_id, "Category", field="input.categoryId") if input.category_id else None
            skus = [_sku_data(s, currency, f"input.skus[{i}]") for i, s in enumerate(input.skus)]
            product_id = await _service(ctx).create_product(
                tx, title=input.title, skus=skus, category_id=category, description=input.description,
                images=input.images, status=input.status.value, attributes=input.attributes,
            )
            return {"id": product_id}

        result, errors = await run_mutation(ctx, work)
        if errors:
            return ProductPayload(user_errors=errors)
        return ProductPayload(product=await _reload_product(ctx, result["id"]))

    @strawberry.mutation(description="Staff: change a product's title, text, images, category or status.")
    async def update_product(self, info: strawberry.Info, input: UpdateProductInput) -> ProductPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require(MANAGE)
            product_id = decode_id(input.id, "Product", field="input.id")
            changes: dict[str, Any] = {}
            for name in ("title", "description", "images"):
                value = getattr(input, name)
                if value is not strawberry.UNSET:
                    changes[name] = value
            if input.status is not strawberry.UNSET:
                if input.status is None:
                    raise DomainError("CATALOG_INVALID_STATUS", "Status cannot be null.", field="input.status")
                changes["status"] = input.status.value
            if input.category_id is not strawberry.UNSET:
                changes["category_id"] = decode_id(input.category_id, "Category", field="input.categoryId") if input.category_id else None
            await _service(ctx).update_product(tx, product_id, changes)
            return {"id": product_id}

        result, errors = await run_mutation(ctx, work)
        if errors:
            return ProductPayload(user_errors=errors)
        return ProductPayload(product=await _reload_product(ctx, result["id"]))

    @strawberry.mutation(description="Staff: add a SKU to a product.")
    async def create_sku(self, info: strawberry.Info, input: CreateSkuInput) -> SkuPayload:  # noqa: A002
        ctx: Context = info.context
        currency = ctx.kernel.blueprint.brand.currency

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require(MANAGE)
            product_id = decode_id(input.product_id, "Product", field="input.productId")
            return {"id": await _service(ctx).add_sku(tx, product_id, _sku_data(input.sku, currency, "input.sku"))}

        result, errors = await run_mutation(ctx, work)
        if errors:
            return SkuPayload(user_errors=errors)
        return SkuPayload(sku=(await load_skus(ctx, [result["id"]]))[0])

    @strawberry.mutation(description="Staff: change a SKU's title, price or spec.")
    async def update_sku(self, info: strawberry.Info, input: UpdateSkuInput) -> SkuPayload:  # noqa: A002
        ctx: Context = info.context
        currency = ctx.kernel.blueprint.brand.currency

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require(MANAGE)
            sku_id = decode_id(input.id, "Sku", field="input.id")
            changes: dict[str, Any] = {}
            if input.title is not strawberry.UNSET:
                changes["title"] = input.title
            if input.spec is not strawberry.UNSET:
                changes["spec"] = input.spec
            if input.price is not strawberry.UNSET:
                if input.price is None:
                    raise DomainError("CATALOG_INVALID_PRICE", "A SKU must have a price.", field="input.price")
                changes["price_minor"] = minor_from_input(input.price, currency, "input.price")
            if input.list_price is not strawberry.UNSET:
                changes["list_price_minor"] = minor_from_input(input.list_price, currency, "input.listPrice") if input.list_price else None
            await _service(ctx).update_sku(tx, sku_id, changes)
            return {"id": sku_id}

        result, errors = await run_mutation(ctx, work)
        if errors:
            return SkuPayload(user_errors=errors)
        return SkuPayload(sku=(await load_skus(ctx, [result["id"]]))[0])

    @strawberry.mutation(description="Staff: add a category, at the top or under a parent.")
    async def create_category(self, info: strawberry.Info, input: CreateCategoryInput) -> CategoryPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require(MANAGE)
            parent = decode_id(input.parent_id, "Category", field="input.parentId") if input.parent_id else None
            return {"id": await _service(ctx).create_category(tx, input.name, parent, input.position)}

        result, errors = await run_mutation(ctx, work)
        if errors:
            return CategoryPayload(user_errors=errors)
        return CategoryPayload(category=(await load_categories(ctx, [result["id"]]))[0])
