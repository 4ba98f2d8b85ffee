"""A believable catalog for the demo brand: tea, snacks, cosmetics and one jade bracelet."""

from __future__ import annotations

# (category path, title, description, [(sku title, spec, price, list price)])
PRODUCTS = [
    (("茶 Tea", "绿茶 Green tea"), "明前西湖龙井 Pre-Qingming Longjing", "Hand-fried Longjing from Meijiawu, picked before Qingming.",
     [("50g 罐装", {"weight": "50g"}, 16800, 19800), ("100g 礼盒", {"weight": "100g"}, 32800, 36800), ("250g 家庭装", {"weight": "250g"}, 76800, None)]),
    (("茶 Tea", "普洱 Pu'er"), "2015 冰岛古树普洱生饼 Bingdao raw cake", "357g pressed cake from old trees in Bingdao, Lincang.",
     [("357g 饼", {"form": "cake"}, 128000, None), ("100g 散茶", {"form": "loose"}, 38000, None)]),
    (("茶 Tea", "花茶 Flower tea"), "茉莉龙珠 Jasmine dragon pearls", "Fujian green tea scented seven times with jasmine.",
     [("50g", {"weight": "50g"}, 6800, 8800), ("150g", {"weight": "150g"}, 18800, None)]),
    (("零食 Snacks",), "桂花糕 Osmanthus cakes", "Soft rice cakes with Hangzhou osmanthus, 12 pieces.",
     [("原味 Original", {"flavour": "original"}, 3900, None), ("低糖 Less sugar", {"flavour": "less sugar"}, 4200, None)]),
    (("零食 Snacks",), "手剥山核桃 Hand-cracked hickory nuts", "Lin'an hickory nuts, lightly salted.",
     [("200g", {"weight": "200g"}, 5900, 6900), ("500g", {"weight": "500g"}, 13900, None), ("1kg 礼盒", {"weight": "1kg"}, 25900, None)]),
    (("美妆 Beauty",), "茶籽精华面霜 Tea-seed face cream", "Camellia seed oil cream for dry skin.",
     [("30ml", {"size": "30ml"}, 22900, 25900), ("50ml", {"size": "50ml"}, 32900, None)]),
    (("美妆 Beauty",), "龙井润唇膏 Longjing lip balm", "Lip balm with green-tea extract.",
     [("清香 Fresh", {"scent": "fresh"}, 5900, None), ("玫瑰 Rose", {"scent": "rose"}, 5900, None)]),
    (("珠宝 Jewellery",), "冰种翡翠手镯 Icy jadeite bangle", "Grade A icy jadeite, 56mm inner diameter, with certificate. One piece only.",
     [("56mm", {"size": "56mm"}, 880000, None)]),
]


async def seed(kernel, tx) -> list[int]:
    service = kernel.service("catalog")
    categories: dict[tuple[str, ...], int] = {}
    product_ids = []
    for path, title, description, skus in PRODUCTS:
        for depth in range(1, len(path) + 1):
            key = path[:depth]
            if key not in categories:
                categories[key] = await service.create_category(tx, key[-1], categories.get(key[:-1]), len(categories))
        product_ids.append(await service.create_product(
            tx, title=title, description=description, category_id=categories[path],
            images=[f"https://img.example.com/demo/{len(product_ids) + 1}.jpg"],
            skus=[{"title": t, "spec": spec, "price_minor": price, "list_price_minor": list_price} for t, spec, price, list_price in skus],
        ))
    return product_ids
