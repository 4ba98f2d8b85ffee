"""Demo data: catalog seeds a believable brand catalog, inventory (seeded after it) stocks it."""

from __future__ import annotations

SHOP = """\
dougong: 1
brand: {slug: shop, name: Shop, currency: CNY, timezone: Asia/Shanghai}
components:
  inventory: {demo_stock: 30}
"""

CATALOG_ONLY = """\
dougong: 1
brand: {slug: shop, name: Shop, currency: CNY, timezone: Asia/Shanghai}
components:
  catalog: {}
"""

PAGE = """{
  categories { name children { name } }
  products(first: 100) { edges { node { title attributes category { name parent { name } }
                                        skus { title price { amountMinor currency } listPrice { amountMinor } stock } } } }
}"""


def top_category(node: dict) -> str:
    category = node["category"]
    return (category["parent"] or category)["name"]


async def test_demo_catalog_is_stocked_after_it_is_seeded(kernel_factory, graphql):
    kernel = await kernel_factory(SHOP, seed_demo=True)
    data = await graphql(kernel).data(PAGE)
    assert {c["name"] for c in data["categories"]} == {"茶 Tea", "零食 Snacks", "美妆 Beauty", "珠宝 Jewellery"}
    tea = next(c for c in data["categories"] if c["name"] == "茶 Tea")
    assert {c["name"] for c in tea["children"]} >= {"绿茶 Green tea", "普洱 Pu'er"}
    products = [e["node"] for e in data["products"]["edges"]]
    by_top: dict[str, list[dict]] = {}
    for product in products:
        by_top.setdefault(top_category(product), []).append(product)
    assert {k: len(v) >= 1 for k, v in by_top.items()} == dict.fromkeys(["茶 Tea", "零食 Snacks", "美妆 Beauty", "珠宝 Jewellery"], True)
    titles = " ".join(p["title"] for p in products)
    assert "龙井" in titles and "普洱" in titles
    for product in products:
        one_off = product["attributes"].get("one_of_a_kind", False)
        # A one-of-a-kind piece has nothing to choose between; everything else offers 2-3 SKUs.
        assert len(product["skus"]) in ((1,) if one_off else (2, 3)), product["title"]
        for sku in product["skus"]:
            assert sku["price"]["currency"] == "CNY" and isinstance(sku["price"]["amountMinor"], int) and sku["price"]["amountMinor"] > 0
            assert sku["listPrice"] is None or sku["listPrice"]["amountMinor"] > sku["price"]["amountMinor"]
            assert sku["stock"] == (1 if one_off else 30), (product["title"], sku["title"])  # the demo_stock setting
    [jade] = by_top["珠宝 Jewellery"]
    assert "翡翠" in jade["title"] and jade["attributes"]["one_of_a_kind"] is True


async def test_catalog_demo_seeds_alone(kernel_factory, graphql):
    """Without inventory the catalog demo still seeds (nothing in it needs stock)."""
    kernel = await kernel_factory(CATALOG_ONLY, seed_demo=True)
    data = await graphql(kernel).data("{ products(first: 100) { edges { node { skus { price { amountMinor } } } } } }")
    assert len(data["products"]["edges"]) == 8
    fields = (await graphql(kernel).data('{ __type(name: "Sku") { fields { name } } }'))["__type"]["fields"]
    assert {"name": "price"} in fields and {"name": "stock"} not in fields  # Sku.stock comes with inventory only
