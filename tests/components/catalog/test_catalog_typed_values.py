"""Spec and attributes as name/value lists (the JSON forms still work, never both at once), and a
SKU's own picture that falls back to the product's cover."""

from __future__ import annotations

from components.catalog.graphql import attribute_text
from core.testing import staff
from tests.components.catalog.test_catalog_staff import CATALOG_ONLY, cny, snapshot

CREATE = """
mutation($input: CreateProductInput!) {
  createProduct(input: $input) {
    product { id attributeValues { name value } skus { id specValues { name value } spec image } }
    userErrors { code field message }
  }
}"""
UPDATE_SKU = """
mutation($input: UpdateSkuInput!) {
  updateSku(input: $input) { sku { specValues { name value } image } userErrors { code field message } }
}"""
UPDATE_PRODUCT = """
mutation($input: UpdateProductInput!) { updateProduct(input: $input) { product { attributeValues { name value } } userErrors { code field } } }"""


def test_attribute_values_read_as_text():
    assert [attribute_text(v) for v in ("杭州", 18, True, False, 1.5, ["a"])] == ["杭州", "18", "true", "false", "1.5", '["a"]']


async def test_typed_spec_attributes_and_sku_pictures(kernel_factory, graphql):
    kernel = await kernel_factory(CATALOG_ONLY)
    admin = graphql(kernel, staff(1, "admin"))
    created = await admin.mutate(CREATE, input={
        "title": "龙井", "images": ["https://img.example.com/cover.jpg"],
        "attributeValues": [{"name": "origin", "value": "梅家坞"}, {"name": "harvest", "value": "明前"}],
        "skus": [
            {"title": "50g", "price": cny(100), "specValues": [{"name": "weight", "value": "50g"}, {"name": "box", "value": "tin"}],
             "image": " https://img.example.com/50g.jpg "},
            {"title": "100g", "price": cny(200), "spec": {"weight": "100g"}},
        ],
    })
    assert created["userErrors"] == []
    product = created["product"]
    assert product["attributeValues"] == [{"name": "origin", "value": "梅家坞"}, {"name": "harvest", "value": "明前"}]
    first, second = product["skus"]
    assert first["specValues"] == [{"name": "weight", "value": "50g"}, {"name": "box", "value": "tin"}]
    assert first["spec"] == {"weight": "50g", "box": "tin"}
    assert first["image"] == "https://img.example.com/50g.jpg"
    assert second["specValues"] == [{"name": "weight", "value": "100g"}]  # the deprecated JSON form still writes
    assert second["image"] == "https://img.example.com/cover.jpg"  # no own picture: the product's cover

    changed = await admin.mutate(UPDATE_SKU, input={"id": second["id"], "specValues": [{"name": "weight", "value": "125g"}],
                                                    "image": "https://img.example.com/125g.jpg"})
    assert changed == {"sku": {"specValues": [{"name": "weight", "value": "125g"}], "image": "https://img.example.com/125g.jpg"},
                       "userErrors": []}
    cleared = await admin.mutate(UPDATE_SKU, input={"id": second["id"], "image": None, "specValues": None})
    assert cleared["sku"] == {"specValues": [], "image": "https://img.example.com/cover.jpg"}
    attrs = await admin.mutate(UPDATE_PRODUCT, input={"id": product["id"], "attributeValues": [{"name": "grade", "value": "特级"}]})
    assert attrs == {"product": {"attributeValues": [{"name": "grade", "value": "特级"}]}, "userErrors": []}

    before = await snapshot(kernel)
    sku = first["id"]
    refused = [
        (UPDATE_SKU, {"id": sku, "spec": {"a": "b"}, "specValues": [{"name": "a", "value": "b"}]}, "KERNEL_INVALID_INPUT", "input.specValues"),
        (UPDATE_SKU, {"id": sku, "specValues": [{"name": "a", "value": "1"}, {"name": "a", "value": "2"}]},
         "CATALOG_INVALID_SPEC", "input.specValues[1].name"),
        (UPDATE_SKU, {"id": sku, "specValues": [{"name": " ", "value": "1"}]}, "CATALOG_INVALID_SPEC", "input.specValues[0].name"),
        (UPDATE_SKU, {"id": sku, "image": "x" * 1001}, "KERNEL_INVALID_INPUT", "input.image"),
        (CREATE, {"title": "t", "attributes": {"a": 1}, "attributeValues": [], "skus": [{"title": "a", "price": cny(1)}]},
         "KERNEL_INVALID_INPUT", "input.attributeValues"),
        (CREATE, {"title": "t", "skus": [{"title": "a", "price": cny(1), "image": "y" * 1001}]}, "KERNEL_INVALID_INPUT", "input.skus[0].image"),
        (UPDATE_PRODUCT, {"id": product["id"], "attributeValues": [{"name": "a", "value": "1"}, {"name": "a", "value": "1"}]},
         "KERNEL_INVALID_INPUT", "input.attributeValues[1].name"),
    ]
    for query, payload, code, field in refused:
        answer = await admin.mutate(query, input=payload)
        assert [(e["code"], e["field"]) for e in answer["userErrors"]] == [(code, field)], payload
    assert await snapshot(kernel) == before
