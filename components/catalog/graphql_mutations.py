"""Catalog's mutations on GraphQL (products, SKUs, categories) and their inputs and payloads;
the types they answer with are in ``graphql``. Thin: rules live in service.py."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import select
from strawberry.scalars import JSON

from components.catalog import models
from components.catalog.graphql import MANAGE, Category, Product, ProductStatus, Sku, load_categories, load_skus, product_node
from core.errors import DomainError
from core.gql import Context, MoneyInput, Payload, decode_id, minor_from_input, run_mutation


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
                tx,
                title=input.title,
                skus=skus,
                category_id=category,
                description=input.description,
                images=input.images,
                status=input.status.value,
                attributes=input.attributes,
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
