"""The reference storefront page ships with the app: served offline at /storefront/<slug>, framable
by its own origin only (the studio's phone preview), its assets beside it; absent where no
loaded component offers blocks."""

from __future__ import annotations

import httpx

from core.app import create_app

BRAND = "dougong: 1\nbrand: {slug: web, name: Web, currency: CNY, timezone: Asia/Shanghai}\ncomponents:\n  %s: {}\n"


async def _get(kernel, *paths: str) -> list[httpx.Response]:
    app = create_app([kernel], run_worker=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://dougong.test") as client:
        return [await client.get(path, headers={"accept": "text/html"}) for path in paths]


async def test_the_reference_page_and_its_assets_are_served_and_framed_by_their_own_origin_only(kernel_factory):
    kernel = await kernel_factory(BRAND % "catalog")
    page, script, style, other, graphiql = await _get(
        kernel, "/storefront/home", "/storefront/_/storefront.js", "/storefront/_/storefront.css", "/storefront/_/x.js", "/graphql")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<script src="_/storefront.js">' in page.text  # relative: works under /brands/<slug>/ and /sandbox/<id>/ too
    assert page.headers["x-frame-options"] == "SAMEORIGIN" and "frame-ancestors 'self'" in page.headers["content-security-policy"]
    assert page.headers["content-security-policy"].count("frame-ancestors") == 1  # its own policy, not two
    assert script.status_code == 200 and "storefrontPage(slug: $slug" in script.text and "javascript" in script.headers["content-type"]
    assert style.status_code == 200 and other.status_code == 404
    assert graphiql.headers["x-frame-options"] == "DENY"  # everything else still refuses frames


async def test_no_reference_page_without_block_types(kernel_factory):
    kernel = await kernel_factory(BRAND % "members")
    (page,) = await _get(kernel, "/storefront/home")
    assert page.status_code == 404
