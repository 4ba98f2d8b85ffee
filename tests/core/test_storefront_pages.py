"""Issue 21: storefront pages in the blueprint, built from the blocks the loaded components offer.

Checked at boot with file:line messages (unknown block, a block of a component the blueprint does
not load, settings out of range, bad times); rendered by one query in order, with schedules,
members-only blocks and empty blocks left out; anonymous pages served from the response cache
and fresh on the request after a price change."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from components.catalog.models import Sku
from core import dry_run
from core.auth import Actor

BRAND = """\
dougong: 1
brand: {slug: pages, name: Pages, currency: CNY, timezone: Asia/Shanghai}
components:
  catalog: {}
"""
PAGES = BRAND + """\
  live_room: {}
pages:
  - slug: home
    title: 首页
    blocks:
      - type: catalog.search_bar
        settings: {placeholder: 找茶}
      - type: catalog.banner
        key: double-11
        settings: {image: https://cdn.example.com/d11.jpg, link: /d11}
        from: 2026-11-01T00:00:00
        until: 2026-11-12T00:00:00+08:00
      - type: catalog.product_grid
        title: 新茶
        settings: {limit: 2}
      - type: live_room.on_air
      - type: catalog.product_grid
        key: nothing
        settings: {product_ids: [999]}
      - type: catalog.product_grid
        key: nothing-shown
        show_empty: true
        settings: {product_ids: [998]}
      - type: catalog.banner
        key: members
        members_only: true
        settings: {image: /vip.jpg}
"""
PAGE = """query($slug: String!) { storefrontPage(slug: $slug) { title blocks { __typename key blockType title
  ... on CatalogSearchBarBlock { placeholder } ... on CatalogBannerBlock { image link }
  ... on CatalogProductGridBlock { columns products { title skus { price { amountMinor } } } } ROOM } } }"""
ROOM = "... on LiveRoomBlock { onAir room { title } }"


def _problems(text: str) -> list[str]:
    problems, _blueprint = dry_run.check("shop.yaml", text=text)
    return [str(p) for p in problems]


def test_pages_are_checked_against_the_loaded_blocks_with_file_and_line():
    text = BRAND + """\
pages:
  - slug: home
    blocks:
      - type: catalog.banner
        settings: {link: /x}
      - type: catalog.product_grid
        settings: {limit: 500}
      - type: catalog.bannr
      - type: bidding_sale.lots
      - type: catalog.search_bar
        from: next tuesday
      - type: catalog.search_bar
        from: 2026-11-02T00:00:00
        until: 2026-11-01T00:00:00
  - slug: home
    blocks: []
"""
    assert _problems(text) == [
        "shop.yaml:9:9: pages[0].blocks[0].settings.image: missing required setting 'image'",
        "shop.yaml:11:27: pages[0].blocks[1].settings.limit: 500 is greater than the maximum of 50",
        "shop.yaml:12:15: pages[0].blocks[2].type: unknown block type 'catalog.bannr' (did you mean 'catalog.banner'?)",
        "shop.yaml:13:15: pages[0].blocks[3].type: block 'bidding_sale.lots' comes from component 'bidding_sale', which "
        "this blueprint does not load (add bidding_sale under components)",
        "shop.yaml:15:15: pages[0].blocks[4].from: 'next tuesday' is not a date and time (write it like 2026-11-11T00:00:00+08:00)",
        "shop.yaml:18:16: pages[0].blocks[5].until: the block's end is not after its start",
        "shop.yaml:19:11: pages[1].slug: page 'home' is defined twice (each page needs its own slug)",
    ]
    # The shape is the blueprint's own schema: an unknown key is found before any boot.
    assert _problems(BRAND + "pages:\n  - slug: home\n    blocks: [{type: catalog.banner, colour: red}]\n") == [
        "shop.yaml:7:37: pages[0].blocks[0].colour: unknown key 'colour' (known: type, key, title, settings, from, until, "
        "members_only, show_empty)",
    ]


def test_pages_may_live_in_a_file_beside_the_blueprint(tmp_path):
    (tmp_path / "pages.yaml").write_text("- slug: home\n  blocks:\n    - type: catalog.search_bar\n"
                                         "      settings: {placeholder: 123}\n", encoding="utf-8")
    blueprint = tmp_path / "shop.yaml"
    blueprint.write_text(BRAND + "pages: pages.yaml\n", encoding="utf-8")
    problems, _ = dry_run.check(blueprint)
    assert [str(p) for p in problems] == [
        f"{tmp_path / 'pages.yaml'}:4:31: [0].blocks[0].settings.placeholder: wrong type: expected text, got a whole number 123"]
    blueprint.write_text(BRAND + "pages: missing.yaml\n", encoding="utf-8")
    assert "cannot read the pages file 'missing.yaml'" in str(dry_run.check(blueprint)[0][0])


CATALOG_PAGE = PAGE.replace("ROOM", "")  # a fragment on a type the schema lacks would not validate
PAGE = PAGE.replace("ROOM", ROOM)


async def _shop(kernel_factory, text: str = PAGES):
    kernel = await kernel_factory(text)
    async with kernel.transaction() as tx:
        catalog = kernel.service("catalog")
        await kernel.service("members").create_member(tx, phone="13800000001")
        await kernel.service("members").create_staff(tx, name="Boss", roles=["admin"])
        for title, price in (("龙井", 9900), ("普洱", 19900), ("白茶", 5900)):
            await catalog.create_product(tx, title=title, skus=[{"title": "50g", "price_minor": price}])
    return kernel


async def test_one_query_renders_the_page_in_order_with_schedules_audiences_and_empties(kernel_factory, graphql, clock):
    kernel = await _shop(kernel_factory)
    clock.set(datetime(2026, 10, 31, 15, 59, tzinfo=timezone.utc))  # 23:59 in Shanghai: the banner waits for midnight
    anonymous = graphql(kernel)
    page = (await anonymous.data(PAGE, slug="home"))["storefrontPage"]
    assert page["title"] == "首页"
    assert [(b["__typename"], b["key"]) for b in page["blocks"]] == [
        ("CatalogSearchBarBlock", "0"), ("CatalogProductGridBlock", "2"), ("CatalogProductGridBlock", "nothing-shown")]
    assert page["blocks"][0]["placeholder"] == "找茶"
    grid = page["blocks"][1]
    assert grid["title"] == "新茶" and grid["columns"] == 2
    assert [p["title"] for p in grid["products"]] == ["龙井", "普洱"]
    assert page["blocks"][2]["products"] == []  # an empty block shown because it asks to be
    clock.advance(timedelta(minutes=2))  # Double 11 has begun; a member sees the members' banner too
    member_page = (await graphql(kernel, Actor("member", 1)).data(PAGE, slug="home"))["storefrontPage"]
    assert [b["key"] for b in member_page["blocks"]] == ["0", "double-11", "2", "nothing-shown", "members"]
    assert member_page["blocks"][1] == {"__typename": "CatalogBannerBlock", "key": "double-11", "blockType": "catalog.banner",
                                        "title": None, "image": "https://cdn.example.com/d11.jpg", "link": "/d11"}
    assert (await anonymous.data(PAGE, slug="nowhere"))["storefrontPage"] is None
    # The editor's list of what can be placed: only blocks of loaded components.
    types = (await anonymous.data("{ storefrontBlockTypes { name titleEn graphqlType } }"))["storefrontBlockTypes"]
    assert [t["name"] for t in types] == ["catalog.banner", "catalog.product_grid", "catalog.search_bar", "live_room.on_air"]
    assert "AuctionLotsBlock" not in str(kernel.schema)  # bidding_sale is not loaded: neither are its blocks


async def test_statements_do_not_grow_with_products_and_anonymous_pages_are_cached_until_a_price_changes(
        kernel_factory, graphql):
    text = BRAND + "  members: {}\npages:\n  - slug: home\n    blocks:\n      - {type: catalog.product_grid, settings: {limit: 50}}\n"
    kernel = await _shop(kernel_factory, text)
    anonymous, admin = graphql(kernel), graphql(kernel, Actor("staff", 1, frozenset({"admin"})))

    async def statements() -> tuple[dict, int]:
        before = kernel.db.statements
        body = await anonymous.data(CATALOG_PAGE, slug="home")
        return body, kernel.db.statements - before

    small, few = await statements()
    assert len(small["storefrontPage"]["blocks"][0]["products"]) == 3 and few > 0
    cached, none = await statements()
    assert none == 0 and cached == small  # served from the response cache
    async with kernel.transaction() as tx:
        for i in range(30):
            await kernel.service("catalog").create_product(tx, title=f"茶 {i}", skus=[{"title": "50g", "price_minor": 100 + i}])
    large, many = await statements()
    assert len(large["storefrontPage"]["blocks"][0]["products"]) == 33 and many == few
    async with kernel.transaction() as tx:
        sku = (await tx.session.scalars(select(Sku.id).order_by(Sku.id))).first()
    from core.gql.relay import to_global_id

    changed = await admin.mutate('mutation($id: ID!) { updateSku(input: {id: $id, price: {amountMinor: 8800, currency: "CNY"}}) '
                                 '{ userErrors { code } } }', id=to_global_id("Sku", sku))
    assert changed["userErrors"] == []
    fresh, _ = await statements()
    assert fresh["storefrontPage"]["blocks"][0]["products"][0]["skus"][0]["price"]["amountMinor"] == 8800


DEMO_PAGE = """query($lat: Float, $lng: Float) { storefrontPage(slug: "home", latitude: $lat, longitude: $lng) { blocks {
  __typename key
  ... on LiveRoomBlock { onAir room { title status } }
  ... on GroupBuyOffersBlock { offers { id groupPrice { amountMinor } } }
  ... on AuctionLotsBlock { lots { id status } }
  ... on CatalogProductGridBlock { products { id } }
  ... on PointsMallItemsBlock { balance items { id pointsPrice } }
  ... on PickupStoresBlock { located stores { distanceMeters store { id } } } } } }"""


async def test_the_demo_home_page_resolves_every_built_in_block(kernel_factory, graphql):
    from pathlib import Path

    demo = (Path(__file__).resolve().parents[2] / "blueprints" / "demo.yaml").read_text(encoding="utf-8")
    kernel = await kernel_factory(demo, seed_demo=True)
    blocks = (await graphql(kernel).data(DEMO_PAGE, lat=30.25, lng=120.16))["storefrontPage"]["blocks"]
    by_type = {b["__typename"]: b for b in blocks}
    assert [b["__typename"] for b in blocks] == [
        "CatalogSearchBarBlock", "CatalogBannerBlock", "LiveRoomBlock", "GroupBuyOffersBlock", "AuctionLotsBlock",
        "CatalogProductGridBlock", "PickupStoresBlock"]  # the Double-11 banner is out of season; points are members-only
    assert by_type["LiveRoomBlock"]["onAir"] is False and by_type["LiveRoomBlock"]["room"]["status"] == "SCHEDULED"
    assert by_type["GroupBuyOffersBlock"]["offers"] and by_type["AuctionLotsBlock"]["lots"]
    assert all(lot["status"] == "OPEN" for lot in by_type["AuctionLotsBlock"]["lots"])
    stores = by_type["PickupStoresBlock"]
    assert stores["located"] is True and stores["stores"]
    distances = [s["distanceMeters"] for s in stores["stores"]]
    assert distances == sorted(distances)
    # A member sees the points block: only what their balance pays for.
    member = (await graphql(kernel, Actor("member", 1)).data(DEMO_PAGE))["storefrontPage"]["blocks"]
    points = [b for b in member if b["__typename"] == "PointsMallItemsBlock"]
    if points:
        assert all(item["pointsPrice"] <= points[0]["balance"] for item in points[0]["items"])
    located = [b for b in member if b["__typename"] == "PickupStoresBlock"][0]
    assert located["located"] is False and all(s["distanceMeters"] == 0 for s in located["stores"])
