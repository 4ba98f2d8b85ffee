"""Catalog writes: staff mutations, the catalog.manage guard, typed errors that write nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from components.catalog.models import Category, Product, Sku
from core.gql.relay import to_global_id
from core.testing import member, staff

CATALOG_ONLY = """\
dougong: 1
brand: {slug: shop, name: Shop, currency: CNY, timezone: Asia/Shanghai}
components:
  catalog: {}
"""

CREATE = """
mutation($input: CreateProductInput!) {
  createProduct(input: $input) {
    product { id title status attributes category { name } skus { title spec barcode weightGrams price { amount } listPrice { amountMinor } } }
    userErrors { code field message }
  }
}"""
UPDATE_PRODUCT = """
mutation($input: UpdateProductInput!) { updateProduct(input: $input) { product { title status category { name } } userErrors { code field message } } }"""
CREATE_SKU = """
mutation($input: CreateSkuInput!) { createSku(input: $input) { sku { id title price { amountMinor } product { title } } userErrors { code field message } } }"""
UPDATE_SKU = """
mutation($input: UpdateSkuInput!) { updateSku(input: $input) { sku { title price { amountMinor } listPrice { amountMinor } } userErrors { code field message } } }"""
CREATE_CATEGORY = """
mutation($input: CreateCategoryInput!) { createCategory(input: $input) { category { id name parent { name } } userErrors { code field message } } }"""


def cny(minor: int) -> dict:
    return {"amountMinor": minor, "currency": "CNY"}


async def snapshot(kernel) -> tuple:
    """Everything the catalog stores, to prove a refused mutation changed nothing."""
    async with kernel.db.read() as session:
        categories = (await session.execute(select(Category.id, Category.name, Category.parent_id).order_by(Category.id))).all()
        products = (await session.execute(
            select(Product.id, Product.title, Product.status, Product.category_id, Product.description).order_by(Product.id))).all()
        skus = (await session.execute(
            select(Sku.id, Sku.title, Sku.price_minor, Sku.list_price_minor, Sku.spec).order_by(Sku.id))).all()
    return tuple(map(tuple, categories)), tuple(map(tuple, products)), tuple(tuple(map(str, s)) for s in skus)


async def seeded(kernel) -> tuple[int, int, int]:
    """One category, one on-sale product with one SKU: (category, product, sku)."""
    catalog = kernel.service("catalog")
    async with kernel.transaction() as tx:
        category = await catalog.create_category(tx, "茶 Tea")
        product = await catalog.create_product(tx, title="明前龙井", category_id=category,
                                               skus=[{"title": "50g", "price_minor": 16800}])
        sku = (await tx.session.scalars(select(Sku.id).where(Sku.product_id == product))).one()
    return category, product, sku


async def test_admin_builds_and_changes_the_catalog(kernel_factory, graphql):
    kernel = await kernel_factory(CATALOG_ONLY)
    admin = graphql(kernel, staff(1, "admin"))
    tea = (await admin.mutate(CREATE_CATEGORY, input={"name": "茶 Tea"}))["category"]
    green = await admin.mutate(CREATE_CATEGORY, input={"name": "绿茶 Green tea", "parentId": tea["id"]})
    assert green == {"category": {"id": green["category"]["id"], "name": "绿茶 Green tea", "parent": {"name": "茶 Tea"}}, "userErrors": []}
    created = await admin.mutate(CREATE, input={
        "title": "  明前西湖龙井  ", "status": "DRAFT", "categoryId": green["category"]["id"], "attributes": {"origin": "梅家坞"},
        "skus": [
            {"title": "50g 罐装", "price": cny(16800), "listPrice": cny(19800), "spec": {"weight": "50g"}, "barcode": "6901234567890", "weightGrams": 120},
            {"title": "100g 礼盒", "price": cny(32800)},
        ],
    })
    assert created["userErrors"] == []
    product = created["product"]
    assert (product["title"], product["status"], product["attributes"], product["category"]) == (
        "明前西湖龙井", "DRAFT", {"origin": "梅家坞"}, {"name": "绿茶 Green tea"})
    assert product["skus"] == [
        {"title": "50g 罐装", "spec": {"weight": "50g"}, "barcode": "6901234567890", "weightGrams": 120,
         "price": {"amount": "168.00"}, "listPrice": {"amountMinor": 19800}},
        {"title": "100g 礼盒", "spec": {}, "barcode": None, "weightGrams": None, "price": {"amount": "328.00"}, "listPrice": None},
    ]
    on_sale = await admin.mutate(UPDATE_PRODUCT, input={"id": product["id"], "status": "ON_SALE", "title": "明前龙井 特级"})
    assert on_sale == {"product": {"title": "明前龙井 特级", "status": "ON_SALE", "category": {"name": "绿茶 Green tea"}}, "userErrors": []}
    moved = await admin.mutate(UPDATE_PRODUCT, input={"id": product["id"], "categoryId": None})
    assert moved["product"]["category"] is None
    sku = await admin.mutate(CREATE_SKU, input={"productId": product["id"], "sku": {"title": "250g", "price": cny(76800)}})
    assert sku["userErrors"] == [] and sku["sku"]["product"] == {"title": "明前龙井 特级"}
    repriced = await admin.mutate(UPDATE_SKU, input={"id": sku["sku"]["id"], "price": cny(69900), "listPrice": cny(76800)})
    assert repriced == {"sku": {"title": "250g", "price": {"amountMinor": 69900}, "listPrice": {"amountMinor": 76800}}, "userErrors": []}
    cleared = await admin.mutate(UPDATE_SKU, input={"id": sku["sku"]["id"], "listPrice": None})
    assert cleared["sku"]["listPrice"] is None and cleared["sku"]["price"] == {"amountMinor": 69900}
    # Shoppers see the product now that it is on sale, with the new price.
    shop = await graphql(kernel).data("{ products { edges { node { title skus { price { amountMinor } } } } } }")
    assert shop["products"]["edges"] == [{"node": {"title": "明前龙井 特级", "skus": [
        {"price": {"amountMinor": 16800}}, {"price": {"amountMinor": 32800}}, {"price": {"amountMinor": 69900}}]}}]


async def test_without_catalog_manage_nothing_changes(kernel_factory, graphql):
    kernel = await kernel_factory(CATALOG_ONLY)
    category, product, sku = await seeded(kernel)
    before = await snapshot(kernel)
    attempts = [
        (CREATE, {"title": "x", "skus": [{"title": "s", "price": cny(1)}]}),
        (UPDATE_PRODUCT, {"id": to_global_id("Product", product), "status": "OFF_SALE"}),
        (CREATE_SKU, {"productId": to_global_id("Product", product), "sku": {"title": "s", "price": cny(1)}}),
        (UPDATE_SKU, {"id": to_global_id("Sku", sku), "price": cny(1)}),
        (CREATE_CATEGORY, {"name": "x", "parentId": to_global_id("Category", category)}),
    ]
    callers = [
        (graphql(kernel), "KERNEL_UNAUTHENTICATED"),
        (graphql(kernel, member(1)), "KERNEL_FORBIDDEN"),
        (graphql(kernel, staff(2, "store_clerk", stores=(1,))), "KERNEL_FORBIDDEN"),
        (graphql(kernel, staff(3, "live_host")), "KERNEL_FORBIDDEN"),
    ]
    for client, code in callers:
        for doc, input_ in attempts:
            payload = await client.mutate(doc, input=input_)
            assert [e["code"] for e in payload["userErrors"]] == [code], (doc, code)
            assert all(v is None for k, v in payload.items() if k != "userErrors")
    assert await snapshot(kernel) == before


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_bad_input_gets_typed_errors_and_writes_nothing(kernel_factory, graphql, database):
    # Both backends: PostgreSQL enforces column sizes SQLite ignores, so a missing check
    # would be a 500 there and pass here.
    kernel = await kernel_factory(CATALOG_ONLY, database=database)
    category, product, sku = await seeded(kernel)
    before = await snapshot(kernel)
    admin = graphql(kernel, staff(1, "admin"))
    p, s = to_global_id("Product", product), to_global_id("Sku", sku)
    unknown_category = to_global_id("Category", 999)
    one = [{"title": "a", "price": cny(100)}]
    cases = [
        (CREATE, {"title": "  ", "skus": one}, "CATALOG_INVALID_TITLE", "input.title"),
        (CREATE, {"title": "t" * 201, "skus": one}, "CATALOG_INVALID_TITLE", "input.title"),
        (CREATE, {"title": "t", "skus": []}, "CATALOG_NO_SKU", "input.skus"),
        (CREATE, {"title": "t", "skus": [{"title": "a", "price": cny(-1)}]}, "KERNEL_INVALID_INPUT", "input.skus[0].price"),
        (CREATE, {"title": "t", "skus": [{"title": "a", "price": cny(1), "listPrice": cny(-5)}]}, "KERNEL_INVALID_INPUT", "input.skus[0].listPrice"),
        (CREATE, {"title": "t", "skus": [{"title": "a", "price": {"amountMinor": 100, "currency": "USD"}}]}, "KERNEL_INVALID_INPUT", "input.skus[0].price"),
        (CREATE, {"title": "t", "skus": [{"title": "a", "price": cny(10**15)}]}, "KERNEL_INVALID_INPUT", "input.skus[0].price"),
        (CREATE, {"title": "t", "skus": [one[0], {"title": "", "price": cny(1)}]}, "CATALOG_INVALID_TITLE", "input.skus[1].title"),
        (CREATE, {"title": "t", "categoryId": unknown_category, "skus": one}, "CATALOG_UNKNOWN_CATEGORY", "input.categoryId"),
        (CREATE, {"title": "t", "categoryId": "garbage", "skus": one}, "KERNEL_INVALID_ID", "input.categoryId"),
        (CREATE, {"title": "t", "categoryId": p, "skus": one}, "KERNEL_INVALID_ID", "input.categoryId"),
        (CREATE, {"title": "t", "skus": [{"title": "a", "price": cny(1), "spec": ["not", "a", "map"]}]}, "CATALOG_INVALID_SPEC", "input.skus[0].spec"),
        (CREATE, {"title": "t", "skus": [{"title": "a", "price": cny(1), "weightGrams": -1}]}, "CATALOG_INVALID_SPEC", "input.skus[0].weightGrams"),
        (CREATE, {"title": "t", "skus": [{"title": "a", "price": cny(1), "barcode": "9" * 65}]}, "KERNEL_INVALID_INPUT", "input.skus[0].barcode"),
        (CREATE, {"title": "t", "attributes": ["a", "list"], "skus": one}, "KERNEL_INVALID_INPUT", "input.attributes"),
        (CREATE, {"title": "t", "images": [""], "skus": one}, "KERNEL_INVALID_INPUT", "input.images"),
        (UPDATE_PRODUCT, {"id": p, "title": ""}, "CATALOG_INVALID_TITLE", "input.title"),
        (UPDATE_PRODUCT, {"id": p, "status": None}, "CATALOG_INVALID_STATUS", "input.status"),
        # The title is valid and applied first; the bad category must roll it back.
        (UPDATE_PRODUCT, {"id": p, "title": "new title", "categoryId": unknown_category}, "CATALOG_UNKNOWN_CATEGORY", "input.categoryId"),
        (UPDATE_PRODUCT, {"id": to_global_id("Product", 999), "title": "x"}, "KERNEL_NOT_FOUND", "input.id"),
        (UPDATE_PRODUCT, {"id": s, "title": "x"}, "KERNEL_INVALID_ID", "input.id"),
        (CREATE_SKU, {"productId": to_global_id("Product", 999), "sku": one[0]}, "KERNEL_NOT_FOUND", "input.productId"),
        (CREATE_SKU, {"productId": "Zm9v", "sku": one[0]}, "KERNEL_INVALID_ID", "input.productId"),
        (CREATE_SKU, {"productId": p, "sku": {"title": "a", "price": cny(-100)}}, "KERNEL_INVALID_INPUT", "input.sku.price"),
        (UPDATE_SKU, {"id": s, "title": "renamed", "price": cny(-1)}, "KERNEL_INVALID_INPUT", "input.price"),
        (UPDATE_SKU, {"id": s, "price": None}, "CATALOG_INVALID_PRICE", "input.price"),
        (UPDATE_SKU, {"id": s, "spec": "red"}, "CATALOG_INVALID_SPEC", "input.spec"),
        (UPDATE_SKU, {"id": to_global_id("Sku", 999), "title": "x"}, "KERNEL_NOT_FOUND", "input.id"),
        (CREATE_CATEGORY, {"name": " "}, "CATALOG_INVALID_TITLE", "input.name"),
        (CREATE_CATEGORY, {"name": "n" * 101}, "CATALOG_INVALID_TITLE", "input.name"),
        (CREATE_CATEGORY, {"name": "x", "parentId": unknown_category}, "CATALOG_UNKNOWN_CATEGORY", "input.parentId"),
    ]
    for doc, input_, code, field in cases:
        payload = await admin.mutate(doc, input=input_)
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [(code, field)], input_
        assert payload["userErrors"][0]["message"]
        assert all(v is None for k, v in payload.items() if k != "userErrors"), input_
    assert await snapshot(kernel) == before


async def test_sku_limit_comes_from_the_settings(kernel_factory, graphql):
    kernel = await kernel_factory(CATALOG_ONLY.replace("catalog: {}", "catalog: {max_skus_per_product: 2}"))
    admin = graphql(kernel, staff(1, "admin"))
    three = [{"title": f"s{i}", "price": cny(100)} for i in range(3)]
    assert (await admin.mutate(CREATE, input={"title": "t", "skus": three}))["userErrors"][0]["code"] == "CATALOG_TOO_MANY_SKUS"
    product = (await admin.mutate(CREATE, input={"title": "t", "skus": three[:2]}))["product"]["id"]
    extra = await admin.mutate(CREATE_SKU, input={"productId": product, "sku": three[2]})
    assert [(e["code"], e["field"]) for e in extra["userErrors"]] == [("CATALOG_TOO_MANY_SKUS", "input.productId")]
    async with kernel.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Sku)) == 2
