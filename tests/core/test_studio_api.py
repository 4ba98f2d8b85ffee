"""The studio's API: catalog, compose from templates, checks as you type, save, SDL, sandbox.

Driven in-process over HTTP (httpx's ASGI transport) against a temporary folder, through
the same guard, sandbox router and app that ``dougong studio`` serves.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

import core.cli
from core.studio.app import studio_asgi

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "blueprints" / "demo.yaml", tmp_path / "demo.yaml")
    return tmp_path


@pytest.fixture
async def studio(folder: Path):
    app = studio_asgi(folder, token=None, loopback_only=True)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8100") as http:
        yield http
    await app.app.studio.state.sandboxes.stop()


async def ok(response: httpx.Response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()


async def new_tea_brand(studio) -> dict:
    return await ok(await studio.post("/api/new", json={"name": "tea.yaml", "template": "tea_auction_group_buy",
                                                        "slug": "leaf", "brand_name": "Leaf Tea"}))


async def test_the_catalog_lists_every_component_in_both_languages_with_what_it_provides(studio):
    body = await ok(await studio.get("/api/catalog"))
    rooms = {c["name"]: c for c in body["components"]}["live_room"]
    assert rooms["titles"] == {"zh": "直播间", "en": "Live room"} and rooms["summaries"]["zh"].startswith("直播卖货")
    from components.live_room import manifest

    assert rooms["depends"] == dict(manifest.depends) and "orders" in rooms["depends"] and rooms["version"] == manifest.version
    assert "liveRooms" in rooms["provides"]["queries"] and "LiveRoom" in rooms["provides"]["types"]
    assert "order.paid" in rooms["handles"] and "live_room.started" in rooms["emits"]
    assert rooms["settings_schema"]["properties"]["comment_interval"]["x-widget"] == "duration"
    assert rooms["readme_html"].startswith("<h1>")
    assert all(c["titles"].get("zh") and c["titles"].get("en") for c in body["components"])
    assert {"beauty_live", "tea_auction_group_buy", "supermarket", "empty"} == set(body["templates"])


async def test_compose_from_a_template_add_a_component_fix_a_value_and_save(studio, folder):
    draft = await new_tea_brand(studio)
    assert draft["problems"] == [] and draft["base_hash"] is None
    named = {row["name"]: row for row in draft["composition"]}
    assert named["orders"] == {"name": "orders", "named": False, "installed": True, "needed_by": ["bidding_sale", "orders"]}

    added = await ok(await studio.post("/api/compose/add", json={**draft, "component": "live_room"}))
    model = added["model"]
    assert "live_room" in model["components"] and added["problems"] == []

    model["components"]["live_room"]["comment_max_length"] = 5000
    checked = await ok(await studio.post("/api/check", json={**draft, "model": model}))
    [problem] = checked["problems"]
    assert problem["setting"] == "components.live_room.comment_max_length"
    assert problem["text"] == "tea.yaml:19:25: components.live_room.comment_max_length: 5000 is greater than the maximum of 1000"

    model["components"]["live_room"]["comment_max_length"] = 200
    checked = await ok(await studio.post("/api/check", json={**draft, "model": model}))
    assert checked["problems"] == []
    assert "+  live_room:\n+    comment_max_length: 200\n" in checked["diff"]  # shown before saving

    saved = await ok(await studio.post("/api/save", json={**draft, "model": model}))
    text = (folder / "tea.yaml").read_text(encoding="utf-8")
    assert saved["base_text"] == text and saved["diff"] == ""
    assert "    extend_window: 60s       # a bid in the last minute…\n" in text  # the template's comments stay
    assert text.startswith("# 茶叶拍卖+拼团") and "  name: Leaf Tea\n" in text
    cli = CliRunner().invoke(core.cli.app, ["validate", str(folder / "tea.yaml")])
    assert cli.exit_code == 0, cli.output


async def test_the_studio_reports_exactly_what_dougong_validate_prints(studio, folder, monkeypatch):
    draft = await new_tea_brand(studio)
    draft["model"]["components"]["group_buy"]["late_payment"] = "shrug"
    draft["model"]["components"]["bidding_sale"]["payment_due"] = "soon"
    await ok(await studio.post("/api/save", json=draft))
    checked = await ok(await studio.get("/api/file", params={"name": "tea.yaml"}))
    monkeypatch.chdir(folder)
    cli = CliRunner().invoke(core.cli.app, ["validate", "tea.yaml"])
    assert cli.exit_code == 1
    assert cli.output.splitlines() == [p["text"] for p in checked["problems"]]
    assert len(checked["problems"]) == 2


async def test_saving_an_existing_file_changes_only_what_was_edited(studio, folder):
    before = (folder / "demo.yaml").read_text(encoding="utf-8")
    opened = await ok(await studio.get("/api/file", params={"name": "demo.yaml"}))
    opened["model"]["components"]["orders"]["payment_timeout"] = "15m"
    await ok(await studio.post("/api/save", json=opened))
    after = (folder / "demo.yaml").read_text(encoding="utf-8")
    assert after == before.replace("    payment_timeout: 30m\n", "    payment_timeout: 15m\n") != before


async def test_a_hand_edit_made_meanwhile_is_detected_not_overwritten(studio, folder):
    opened = await ok(await studio.get("/api/file", params={"name": "demo.yaml"}))
    hand = (folder / "demo.yaml").read_text(encoding="utf-8").replace("max", "max") + "# edited in vim\n"
    (folder / "demo.yaml").write_text(hand, encoding="utf-8")
    opened["model"]["components"]["orders"]["payment_timeout"] = "15m"
    response = await studio.post("/api/save", json=opened)
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "FILE_CHANGED_ON_DISK" and "demo.yaml was changed outside the studio" in error["message"]
    assert "-# edited in vim" in error["diff"]
    assert (folder / "demo.yaml").read_text(encoding="utf-8") == hand
    # A new file that appeared meanwhile is not overwritten either.
    draft = await new_tea_brand(studio)
    (folder / "tea.yaml").write_text("# mine\n", encoding="utf-8")
    clash = await studio.post("/api/save", json=draft)
    assert clash.status_code == 409 and "tea.yaml was created outside the studio" in clash.json()["error"]["message"]


async def test_removal_is_refused_while_something_depends_on_it(studio):
    draft = await new_tea_brand(studio)
    refused = await studio.post("/api/compose/remove", json={**draft, "component": "orders"})
    assert refused.status_code == 409
    assert refused.json()["error"] == {"code": "COMPONENT_NEEDED", "dependents": ["bidding_sale", "group_buy"],
                                       "message": "orders cannot be removed: bidding_sale, group_buy depend on it"}
    removed = await ok(await studio.post("/api/compose/remove", json={**draft, "component": "bidding_sale"}))
    assert list(removed["model"]["components"]) == ["group_buy"]
    unknown = await studio.post("/api/compose/add", json={**draft, "component": "live_rom"})
    assert unknown.status_code == 400 and unknown.json()["error"]["hint"] == "did you mean 'live_room'?"


async def test_adding_to_an_empty_brand_shows_the_dependencies_that_came_with_it(studio):
    draft = await ok(await studio.post("/api/new", json={"name": "new.yaml", "template": "empty"}))
    assert [p["message"] for p in draft["problems"]] == ["name at least one component"]
    added = await ok(await studio.post("/api/compose/add", json={**draft, "component": "live_room"}))
    came = {row["name"]: row["needed_by"] for row in added["came"]}
    assert set(came) == {"catalog", "inventory", "members", "orders"}
    # Each with the chain that brought it: live_room needs orders, orders needs inventory.
    assert came["orders"] == ["live_room", "orders"] and came["inventory"] == ["live_room", "orders", "inventory"]
    assert all(chain[0] == "live_room" and chain[-1] == name for name, chain in came.items())
    assert "components:\n  live_room: {}\n" in added["text"]


async def test_bad_requests_get_typed_errors_never_a_500(studio):
    for method, url, payload in [
        ("get", "/api/file?name=../../etc/passwd.yaml", None),
        ("get", "/api/file?name=absent.yaml", None),
        ("post", "/api/check", {"name": "x.yaml", "model": ["not", "a", "mapping"]}),
        ("post", "/api/check", {"name": "x.yaml", "base_text": "a: [", "model": {}}),
        ("post", "/api/new", {"name": "x.yaml", "template": "nope"}),
        ("post", "/api/compose/explode", {"model": {}, "component": "x"}),
        ("post", "/api/save", {"name": "demo.yaml", "model": {}, "base_hash": "stale"}),
    ]:
        response = await (studio.get(url) if method == "get" else studio.post(url, json=payload))
        assert 400 <= response.status_code < 500, (url, response.text)
        assert set(response.json()["error"]) >= {"code", "message"}, url
    garbled = await studio.post("/api/check", content=b"{not json", headers={"content-type": "application/json"})
    assert garbled.status_code == 422


async def test_the_sdl_preview_reports_changes_against_the_saved_version(studio):
    opened = await ok(await studio.get("/api/file", params={"name": "demo.yaml"}))
    del opened["model"]["components"]["live_room"]
    # The demo's home page places the live room's block; with the component gone, so is the block.
    for page in opened["model"]["pages"]:
        page["blocks"] = [b for b in page["blocks"] if not b["type"].startswith("live_room.")]
    # ...and so are the notification rules listening to its events (an undeclared event stops the boot).
    notifications = opened["model"]["components"]["notifications"]
    notifications["rules"] = [r for r in notifications["rules"] if not r["event"].startswith("live_room.")]
    preview = await ok(await studio.post("/api/sdl", json=opened))
    assert "type Query {" in preview["sdl"] and "type LiveRoom " not in preview["sdl"]
    assert preview["against"] == "saved" and "LiveRoom was removed." in preview["changes"]["breaking"]
    assert set(preview["changes"]) == {"breaking", "dangerous", "deprecated", "added"}  # the studio shows each group
    broken = await ok(await studio.post("/api/sdl", json={**opened, "model": {**opened["model"], "components": {"nope": {}}}}))
    assert broken["sdl"] is None and broken["problems"][0]["message"] == "unknown component 'nope'"


async def test_try_it_boots_a_sandbox_with_demo_data_and_the_components_examples(studio):
    draft = await new_tea_brand(studio)
    added = await ok(await studio.post("/api/compose/add", json={**draft, "component": "live_room"}))
    sandbox = await ok(await studio.post("/api/sandbox", json={**draft, "model": added["model"]}))
    assert "Live room: rooms" in sandbox["examples"] and "Auctions: lots" in sandbox["examples"]
    result = await ok(await studio.post(sandbox["graphql"], json={"query": "{ brand { slug } auctionLots(first: 5) { nodes { id } } }"}))
    assert result["data"]["brand"]["slug"] == "leaf" and result["data"]["auctionLots"]["nodes"]
    page = await studio.get(sandbox["url"])
    assert page.status_code == 200 and "query LiveRooms" in page.text and "://" not in page.text

    bad = {**added["model"], "components": {**added["model"]["components"], "live_room": {"shelf_max": 0}}}
    refused = await studio.post("/api/sandbox", json={**draft, "model": bad})
    assert refused.status_code == 422 and refused.json()["error"]["problems"][0]["setting"] == "components.live_room.shelf_max"
    assert (await studio.get(sandbox["url"])).status_code == 200  # a refused start leaves the running one
