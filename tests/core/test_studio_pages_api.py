"""The studio's page editing over its API: the block types each component offers, checks of an
edited page with the file:line messages of `dougong validate`, and the phone preview of unsaved
pages — a sandbox booted once, then only its pages swapped while the components stay the same."""

from __future__ import annotations

import copy

import httpx
import pytest

from core.studio.app import studio_asgi

SHOP = """\
dougong: 1
brand: {slug: shop, name: Shop, currency: CNY, timezone: Asia/Shanghai}
components:
  catalog: {}
pages:
  - slug: home      # the first page a member sees
    title: 首页
    blocks:
      - type: catalog.search_bar
      - type: catalog.banner
        settings: {image: /a.jpg}
"""
QUERY = "{ storefrontPage(slug: \"home\") { title blocks { blockType } } }"


@pytest.fixture
async def studio(tmp_path):
    (tmp_path / "shop.yaml").write_text(SHOP, encoding="utf-8")
    app = studio_asgi(tmp_path, token=None, loopback_only=True)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8100") as http:
        yield http
    await app.app.studio.state.sandboxes.stop()


async def test_pages_are_checked_and_previewed_unsaved_with_one_boot(studio):
    opened = (await studio.get("/api/file", params={"name": "shop.yaml"})).json()
    draft = {k: opened[k] for k in ("name", "base_text", "base_hash", "model")}
    catalog = {c["name"]: c for c in (await studio.get("/api/catalog")).json()["components"]}
    assert [b["name"] for b in catalog["catalog"]["page_blocks"]] == ["catalog.banner", "catalog.product_grid", "catalog.search_bar"]
    assert catalog["catalog"]["page_blocks"][1]["settings_schema"]["properties"]["limit"]["maximum"] == 50
    assert catalog["members"]["page_blocks"] == []

    first = await studio.post("/api/preview", json={**draft, "slug": "home"})
    assert first.status_code == 200, first.text
    shown = first.json()
    assert shown["booted"] is True and shown["url"] == f"/sandbox/{shown['id']}/storefront/home"
    graphql = f"/sandbox/{shown['id']}/graphql"
    page = (await studio.post(graphql, json={"query": QUERY})).json()["data"]["storefrontPage"]
    assert [b["blockType"] for b in page["blocks"]] == ["catalog.search_bar", "catalog.banner"]
    assert (await studio.get(shown["url"])).headers["x-frame-options"] == "SAMEORIGIN"  # the studio may frame it

    # An unsaved edit: the banner first, the search bar gone, a new title. Same sandbox, new page.
    edited = copy.deepcopy(draft)
    blocks = edited["model"]["pages"][0]["blocks"]
    edited["model"]["pages"][0]["blocks"] = [blocks[1]]
    edited["model"]["pages"][0]["title"] = "新首页"
    again = (await studio.post("/api/preview", json={**edited, "slug": "home"})).json()
    assert again["booted"] is False and again["id"] == shown["id"]
    page = (await studio.post(graphql, json={"query": QUERY})).json()["data"]["storefrontPage"]
    assert page == {"title": "新首页", "blocks": [{"blockType": "catalog.banner"}]}  # not the cached old page
    checked = (await studio.post("/api/check", json=edited)).json()
    assert "  - slug: home      # the first page a member sees\n    title: 新首页\n" in checked["text"]  # comments stay

    # A setting out of range: named with file and line, and nothing is previewed.
    bad = copy.deepcopy(edited)
    bad["model"]["pages"][0]["blocks"].append({"type": "catalog.product_grid", "settings": {"limit": 500}})
    refused = await studio.post("/api/preview", json={**bad, "slug": "home"})
    assert refused.status_code == 422
    assert [p["text"] for p in refused.json()["error"]["problems"]] == [
        "shop.yaml:13:27: pages[0].blocks[1].settings.limit: 500 is greater than the maximum of 50"]
    page = (await studio.post(graphql, json={"query": QUERY})).json()["data"]["storefrontPage"]
    assert page["blocks"] == [{"blockType": "catalog.banner"}]  # the last good page still shows

    # Another component: the sandbox boots again (its block types changed).
    more = copy.deepcopy(edited)
    more["model"]["components"]["members"] = {}
    booted = (await studio.post("/api/preview", json={**more, "slug": "home"})).json()
    assert booted["booted"] is True and booted["id"] != shown["id"]
    slug = await studio.post("/api/preview", json={**edited, "slug": "../etc"})
    assert slug.status_code == 400 and slug.json()["error"]["code"] == "PAGE_SLUG_INVALID"
