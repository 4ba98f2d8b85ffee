"""Who may reach a studio: loopback by default, a token anywhere else, never another origin."""

from __future__ import annotations

import httpx
import pytest

from core.studio.app import studio_asgi
from core.studio.security import COOKIE, StudioGuard
from core.studio.serve import plan


def client(folder, base: str, **guard) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=studio_asgi(folder, **guard)), base_url=base)


async def test_a_loopback_studio_answers_only_to_loopback_host_names_and_its_own_origin(tmp_path):
    async with client(tmp_path, "http://127.0.0.1:8100", token=None, loopback_only=True) as http:
        assert (await http.get("/api/files")).status_code == 200
        assert (await http.get("/api/files", headers={"host": "localhost:8100"})).status_code == 200
        rebound = await http.get("/api/files", headers={"host": "evil.example:8100"})
        assert rebound.status_code == 403 and rebound.json()["error"]["code"] == "STUDIO_HOST_REFUSED"
        cross = await http.post("/api/check", json={}, headers={"origin": "http://evil.example"})
        assert cross.status_code == 403 and cross.json()["error"]["code"] == "STUDIO_ORIGIN_REFUSED"


async def test_a_studio_bound_elsewhere_needs_its_token(tmp_path):
    async with client(tmp_path, "http://10.0.0.5:8100", token="s3cret-token", loopback_only=False) as http:
        refused = await http.get("/api/files")
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "STUDIO_TOKEN_REQUIRED"
        assert (await http.get("/api/files", headers={"authorization": "Bearer wrong"})).status_code == 401
        assert (await http.get("/api/files", headers={"authorization": "Bearer s3cret-token"})).status_code == 200
        opened = await http.get("/?token=s3cret-token&lang=zh")
        assert opened.status_code == 303 and opened.headers["location"] == "/?lang=zh"
        assert opened.headers["set-cookie"].startswith(f"{COOKIE}=s3cret-token;") and "HttpOnly" in opened.headers["set-cookie"]
        assert (await http.get("/api/files", headers={"cookie": f"{COOKIE}=s3cret-token"})).status_code == 200


def test_binding_elsewhere_makes_up_a_token_and_loopback_needs_none(tmp_path):
    token, url = plan(tmp_path, "0.0.0.0", 8100, None)
    assert token and len(token) >= 24 and url == f"http://0.0.0.0:8100/?token={token}"
    assert plan(tmp_path, "127.0.0.1", 8100, None) == (None, "http://127.0.0.1:8100/")
    assert plan(tmp_path, "::1", 8100, None) == (None, "http://[::1]:8100/")
    with pytest.raises(ValueError):
        StudioGuard(lambda *a: None, token=None, loopback_only=False)
