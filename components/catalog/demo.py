"""A believable catalog for the demo brand (a Hangzhou tea-and-lifestyle brand selling to its
own members): tea, snacks, cosmetics and one jade bangle that the bidding-sale demo auctions.

Prices are CNY minor units (分). Stock is not set here: inventory's seed runs after this one
(it depends on catalog) and stocks every SKU it finds. Other demos key on this data: orders and
group-buy take the first SKUs by id (keep 明前龙井 first), bidding-sale finds the bangle by "翡翠".
"""

from __future__ import annotations

from typing import Any

# Each product: category path, title, description, attributes, and SKUs as
# (title, spec, price, list price or None, weight in grams).
PRODUCTS: list[dict[str, Any]] = [
    {
        "path": ("茶 Tea", "绿茶 Green tea"),
        "title": "明前西湖龙井 Pre-Qingming Longjing",
        "description": "Hand-fried Longjing from Meijiawu, picked before Qingming.",
        "attributes": {"origin": "杭州梅家坞", "harvest": "2026 明前", "shelf_life_months": 18},
        "skus": [
            ("50g 罐装", {"weight": "50g"}, 16800, 19800, 120),
            ("100g 礼盒", {"weight": "100g"}, 32800, 36800, 380),
            ("250g 家庭装", {"weight": "250g"}, 76800, None, 420),
        ],
    },
    {
        "path": ("茶 Tea", "普洱 Pu'er"),
        "title": "2015 冰岛古树普洱生饼 Bingdao raw cake",
        "description": "357g pressed cake from old trees in Bingdao, Lincang.",
        "attributes": {"origin": "云南临沧冰岛", "year": 2015},
        "skus": [("357g 饼", {"form": "cake"}, 128000, None, 400), ("100g 散茶", {"form": "loose"}, 38000, None, 150)],
    },
    {
        "path": ("茶 Tea", "花茶 Flower tea"),
        "title": "茉莉龙珠 Jasmine dragon pearls",
        "description": "Fujian green tea scented seven times with jasmine.",
        "attributes": {"origin": "福建福州"},
        "skus": [("50g", {"weight": "50g"}, 6800, 8800, 110), ("150g", {"weight": "150g"}, 18800, None, 260)],
    },
    {
        "path": ("零食 Snacks",),
        "title": "桂花糕 Osmanthus cakes",
        "description": "Soft rice cakes with Hangzhou osmanthus, 12 pieces.",
        "attributes": {"shelf_life_days": 30, "pieces": 12},
        "skus": [("原味 Original", {"flavour": "original"}, 3900, None, 300), ("低糖 Less sugar", {"flavour": "less sugar"}, 4200, None, 300)],
    },
    {
        "path": ("零食 Snacks",),
        "title": "手剥山核桃 Hand-cracked hickory nuts",
        "description": "Lin'an hickory nuts, lightly salted.",
        "attributes": {"origin": "杭州临安", "shelf_life_days": 180},
        "skus": [
            ("200g", {"weight": "200g"}, 5900, 6900, 230),
            ("500g", {"weight": "500g"}, 13900, None, 560),
            ("1kg 礼盒", {"weight": "1kg"}, 25900, None, 1250),
        ],
    },
    {
        "path": ("美妆 Beauty",),
        "title": "茶籽精华面霜 Tea-seed face cream",
        "description": "Camellia seed oil cream for dry skin.",
        "attributes": {"skin": "dry", "registration": "浙G妆网备字2026000123"},
        "skus": [("30ml", {"size": "30ml"}, 22900, 25900, 90), ("50ml", {"size": "50ml"}, 32900, None, 130)],
    },
    {
        "path": ("美妆 Beauty",),
        "title": "龙井润唇膏 Longjing lip balm",
        "description": "Lip balm with green-tea extract.",
        "attributes": {},
        "skus": [("清香 Fresh", {"scent": "fresh"}, 5900, None, 20), ("玫瑰 Rose", {"scent": "rose"}, 5900, None, 20)],
    },
    {
        # One piece, one SKU: the bidding-sale demo auctions it, so it has no variants to choose.
        "path": ("珠宝 Jewellery",),
        "title": "冰种翡翠手镯 Icy jadeite bangle",
        "description": "Grade A icy jadeite, 56mm inner diameter, with certificate. One piece only.",
        "attributes": {"certificate": "NGTC 2026-0815-0042", "grade": "A货 冰种", "one_of_a_kind": True},
        "skus": [("56mm", {"size": "56mm"}, 880000, None, 70)],
    },
]


async def seed(kernel, tx) -> list[int]:
    service = kernel.service("catalog")
    categories: dict[tuple[str, ...], int] = {}
    product_ids = []
    for product in PRODUCTS:
        path = product["path"]
        for depth in range(1, len(path) + 1):
            key = path[:depth]
            if key not in categories:
                categories[key] = await service.create_category(tx, key[-1], categories.get(key[:-1]), len(categories))
        product_ids.append(
            await service.create_product(
                tx,
                title=product["title"],
                description=product["description"],
                category_id=categories[path],
                attributes=product["attributes"],
                images=[f"https://img.example.com/demo/{len(product_ids) + 1}.jpg"],
                skus=[
                    {
                        "title": title,
                        "spec": spec,
                        "price_minor": price,
                        "list_price_minor": list_price,
                        "weight_grams": grams,
                        # variants get their own picture; a one-SKU product shows the product's
                        "image": f"https://img.example.com/demo/{len(product_ids) + 1}-{i + 1}.jpg" if len(product["skus"]) > 1 else None,
                    }
                    for i, (title, spec, price, list_price, grams) in enumerate(product["skus"])
                ],
            )
        )
    return product_ids
