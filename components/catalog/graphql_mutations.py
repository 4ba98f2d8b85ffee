"""Catalog's mutations on GraphQL (products, SKUs, categories) and their inputs and payloads;
the types they answer with are in ``graphql``. Thin: rules live in service.py."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy import select

from components.catalog import models
from components.catalog.graphql import MANAGE, Category, Product, Sku, load_categories, load_skus, product_node
from components.catalog.graphql_inputs import (
    CreateCategoryInput,
    CreateProductInput,
    CreateSkuInput,
    SkuInput,
    UpdateProductInput,
    UpdateSkuInput,
    pairs,
)
from core.errors import DomainError
from core.gql import Context, Payload, decode_id, minor_from_input, run_mutation


@strawberry.type(description="The result of a product mutation.")
class ProductPayload(Payload):
    product: Product | None = strawberry.field(default=None, description="The product as it is now; null when the mutation was refused.")


@strawberry.type(description="The result of a SKU mutation.")
class SkuPayload(Payload):
    sku: Sku | None = strawberry.field(default=None, description="The SKU as it is now; null when the mutation was refused.")


@strawberry.type(description="The result of createCategory.")
class CategoryPayload(Payload):
    category: Category | None = strawberry.field(default=None, description="The new category; null when the mutation was refused.")


INPUT = "The mutation's input."


def _spec(sku: SkuInput | UpdateSkuInput, field: str) -> Any:
    return pairs(sku.spec, sku.spec_values, old_name="spec", new_name="specValues", field=field, code="CATALOG_INVALID_SPEC")


def _sku_data(sku: SkuInput, currency: str, field: str) -> dict[str, Any]:
    return {
        "title": sku.title,
        "spec": _spec(sku, field),
        "image": sku.image,
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
    async def create_product(
        self, info: strawberry.Info, input: Annotated[CreateProductInput, strawberry.argument(description=INPUT)]
    ) -> ProductPayload:  # noqa: A002
        ctx: Context = info.context
        currency = ctx.kernel.blueprint.brand.currency

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require(MANAGE)
            category = decode_id(input.category_id, "Category", field="input.categoryId") if input.category_id else None
            skus = [_sku_data(s, currency, f"input.skus[{i}]") for i, s in enumerate(input.skus)]
            attributes = pairs(
                input.attributes,
                input.attribute_values,
                old_name="attributes",
                new_name="attributeValues",
                field="input",
                code="KERNEL_INVALID_INPUT",
            )
            product_id = await _service(ctx).create_product(
                tx,
                title=input.title,
                skus=skus,
                category_id=category,
                description=input.description,
                images=input.images,
                status=input.status.value,
                attributes=attributes,
            )
            return {"id": product_id}

        result, errors = await run_mutation(ctx, work)
        if errors:
            return ProductPayload(user_errors=errors)
        return ProductPayload(product=await _reload_product(ctx, result["id"]))

    @strawberry.mutation(description="Staff: change a product's title, text, images, category, status or attributes.")
    async def update_product(
        self, info: strawberry.Info, input: Annotated[UpdateProductInput, strawberry.argument(description=INPUT)]
    ) -> ProductPayload:  # noqa: A002
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
            if input.attribute_values is not strawberry.UNSET:
                changes["attributes"] = pairs(
                    None, input.attribute_values, old_name="attributes", new_name="attributeValues", field="input", code="KERNEL_INVALID_INPUT"
                )
            if input.category_id is not strawberry.UNSET:
                changes["category_id"] = decode_id(input.category_id, "Category", field="input.categoryId") if input.category_id else None
            await _service(ctx).update_product(tx, product_id, changes)
            return {"id": product_id}

        result, errors = await run_mutation(ctx, work)
        if errors:
            return ProductPayload(user_errors=errors)
        return ProductPayload(product=await _reload_product(ctx, result["id"]))

    @strawberry.mutation(description="Staff: add a SKU to a product.")
    async def create_sku(self, info: strawberry.Info, input: Annotated[CreateSkuInput, strawberry.argument(description=INPUT)]) -> SkuPayload:  # noqa: A002
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

    @strawberry.mutation(description="Staff: change a SKU's title, prices, spec or picture.")
    async def update_sku(self, info: strawberry.Info, input: Annotated[UpdateSkuInput, strawberry.argument(description=INPUT)]) -> SkuPayload:  # noqa: A002
        ctx: Context = info.context
        currency = ctx.kernel.blueprint.brand.currency

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require(MANAGE)
            sku_id = decode_id(input.id, "Sku", field="input.id")
            changes: dict[str, Any] = {}
            if input.title is not strawberry.UNSET:
                changes["title"] = input.title
            spec = _spec(input, "input")
            if spec is not strawberry.UNSET:
                changes["spec"] = spec
            if input.image is not strawberry.UNSET:
                changes["image"] = input.image
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
    async def create_category(
        self, info: strawberry.Info, input: Annotated[CreateCategoryInput, strawberry.argument(description=INPUT)]
    ) -> CategoryPayload:  # noqa: A002
        ctx: Context = info.context

        async def work(tx):  # noqa: ANN001, ANN202
            ctx.require(MANAGE)
            parent = decode_id(input.parent_id, "Category", field="input.parentId") if input.parent_id else None
            return {"id": await _service(ctx).create_category(tx, input.name, parent, input.position)}

        result, errors = await run_mutation(ctx, work)
        if errors:
            return CategoryPayload(user_errors=errors)
        return CategoryPayload(category=(await load_categories(ctx, [result["id"]]))[0])
