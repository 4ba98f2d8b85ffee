"""Issue 21: a page's SQL statements are fixed whatever its number of blocks and products, and an
anonymous page served from the response cache changes on the request after a stock change or a
room going live (the price case is in test_storefront_pages.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.auth import Actor
from core.gql.relay import to_global_id

BRAND = """\
dougong: 1
brand: {slug: pages, name: Pages, currency: CNY, timezone: Asia/Shanghai}
components:
  catalog: {}
  inventory: {}
  live_room: {}
pages:
  - slug: small
    blocks:
      - {type: catalog.product_grid, settings: {category_id: 1, limit: 50}}
      - {type: catalog.product_grid, settings: {product_ids: [2, 1]}}
  - slug: large
    blocks:
      - {type: catalog.search_bar}
      - {type: catalog.banner, settings: {image: /a.jpg}}
      - {type: catalog.product_grid, settings: {category_id: 1, limit: 50}}
      - {type: catalog.product_grid, settings: {category_id: 2, limit: 50}}
      - {type: catalog.product_grid, settings: {product_ids: [3, 2, 1]}}
      - {type: catalog.product_grid, settings: {limit: 50, columns: 3}}
      - {type: catalog.banner, key: second, settings: {image: /b.jpg}}
      - {type: catalog.product_grid, key: list, settings: {product_ids: [9, 5, 4, 8, 7, 6, 3, 2, 1, 10], limit: 2}}
  - slug: live
    blocks:
      - {type: live_room.on_air}
      - {type: catalog.product_grid, settings: {limit: 3}}
"""
PAGE = """query($slug: String!) { storefrontPage(slug: $slug) { blocks { __typename key
  ... on CatalogProductGridBlock { products { id title skus { stock price { amountMinor } } } }
  ... on LiveRoomBlock { onAir reservations room { status } } } } }"""


async def _products(kernel, count: int, first: int = 0) -> None:
    async with kernel.transaction() as tx:
        catalog = kernel.service("catalog")
        if first == 0:
            parent = await catalog.create_category(tx, "茶")
            await catalog.create_category(tx, "绿茶", parent_id=parent)
        for i in range(first, first + count):
            sku = {"title": "50g", "price_minor": 1000 + i}
            await catalog.create_product(tx, title=f"茶 {i}", skus=[sku], category_id=1 + i % 2)


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
async def test_statements_per_page_do_not_grow_with_blocks_or_products(kernel_factory, graphql, database):
    kernel = await kernel_factory(BRAND, database=database)
    anonymous = graphql(kernel)

    async def render(slug: str) -> tuple[list, int]:
        kernel.response_cache.clear()  # count the statements of a page built, not one served from the cache
        before = kernel.db.statements
        blocks = (await anonymous.data(PAGE, slug=slug))["storefrontPage"]["blocks"]
        return blocks, kernel.db.statements - before

    await _products(kernel, 5)
    small, small_count = await render("small")
    assert [len(b["products"]) for b in small] == [5, 2]  # category 1 and the one below it
    assert [p["title"] for p in small[1]["products"]] == ["茶 1", "茶 0"]  # the list's order, not the table's
    await _products(kernel, 45, first=5)
    large, large_count = await render("large")
    assert [b["__typename"] for b in large][:2] == ["CatalogSearchBarBlock", "CatalogBannerBlock"]
    assert [len(b.get("products", ())) for b in large] == [0, 0, 50, 25, 3, 50, 0, 10]
    assert [p["title"] for p in large[4]["products"]] == ["茶 2", "茶 1", "茶 0"]
    # A chosen list is shown whole and in its order (limit is for category and newest grids).
    assert [p["title"] for p in large[7]["products"]] == [f"茶 {i - 1}" for i in (9, 5, 4, 8, 7, 6, 3, 2, 1, 10)]
    assert sum(len(b.get("products", ())) for b in large) == 138  # 8 blocks, 138 products shown
    assert large_count == small_count, (small_count, large_count)
    again, again_count = await render("small")
    assert [len(b["products"]) for b in again] == [50, 2] and again_count == small_count


async def test_an_anonymous_page_changes_on_the_request_after_a_stock_change_or_a_room_going_live(
        kernel_factory, graphql, clock):
    kernel = await kernel_factory(BRAND)
    await _products(kernel, 3)
    async with kernel.transaction() as tx:
        host = await kernel.service("members").create_staff(tx, name="Host", roles=["admin", "live_host"])
        room = await kernel.service("live_room").create_room(
            tx, Actor("staff", host, frozenset({"admin", "live_host"})), title="新茶直播", host_staff_id=host,
            scheduled_start_at=clock.now() + timedelta(hours=1), scheduled_end_at=clock.now() + timedelta(hours=3))
    anonymous, staff = graphql(kernel), graphql(kernel, Actor("staff", host, frozenset({"admin", "live_host"})))

    async def page() -> tuple[list, int]:
        before = kernel.db.statements
        blocks = (await anonymous.data(PAGE, slug="live"))["storefrontPage"]["blocks"]
        return blocks, kernel.db.statements - before

    first, _ = await page()
    assert first[0] == {"__typename": "LiveRoomBlock", "key": "0", "onAir": False, "reservations": 0, "room": {"status": "SCHEDULED"}}
    assert first[1]["products"][0]["skus"][0]["stock"] == 0
    cached, statements = await page()
    assert cached == first and statements == 0  # the response cache answered

    sku = to_global_id("Sku", 1)
    done = await staff.mutate("mutation($id: ID!) { setStock(input: {skuId: $id, onHand: 7}) { userErrors { code } } }", id=sku)
    assert done["userErrors"] == []
    after_stock, statements = await page()
    assert statements > 0 and after_stock[1]["products"][0]["skus"][0]["stock"] == 7

    started = await staff.mutate("mutation($id: ID!) { startLiveRoom(input: {roomId: $id}) { userErrors { code } } }",
                                 id=to_global_id("LiveRoom", room))
    assert started["userErrors"] == []
    live, statements = await page()
    assert statements > 0 and live[0]["onAir"] is True and live[0]["room"]["status"] == "LIVE"


async def test_a_block_type_without_resolve_many_is_resolved_per_block_and_a_short_batch_is_refused():
    from core.storefront import PageBlockType, StorefrontBlock

    seen: list[dict] = []

    async def one(page, settings):
        seen.append(settings)
        return {"n": settings["n"]}

    async def short(page, every):
        return [{"n": 1}]

    kind = PageBlockType("x.y", "x", {"zh": "x", "en": "x"}, {"type": "object"}, StorefrontBlock, one)
    assert await kind.resolve_all(None, [{"n": 1}, {"n": 2}]) == [{"n": 1}, {"n": 2}] and len(seen) == 2
    batched = PageBlockType("x.y", "x", {"zh": "x", "en": "x"}, {"type": "object"}, StorefrontBlock, one, resolve_many=short)
    with pytest.raises(RuntimeError, match="answered 1 blocks for 2"):
        await batched.resolve_all(None, [{"n": 1}, {"n": 2}])
