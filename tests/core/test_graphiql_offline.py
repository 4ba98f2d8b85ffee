"""GraphiQL comes from files inside the package: no CDN, so it works without internet."""

from __future__ import annotations

import base64
import hashlib
import json
import re

import httpx

from core import assets
from core.app import create_app

BLUEPRINT = "dougong: 1\nbrand: {slug: off, name: Offline Tea, currency: CNY, timezone: Asia/Shanghai}\n%scomponents:\n  catalog: {}\n"


def client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def test_graphiql_page_loads_every_asset_from_the_app_itself(kernel_factory):
    kernel = await kernel_factory(BLUEPRINT % "")
    async with client(create_app([kernel], run_worker=False)) as http:
        page = await http.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code == 200 and "Offline Tea" in page.text
        assert "://" not in page.text, "the page must not name any other host (a CDN)"
        urls = re.findall(r'(?:src|href)="(/[^"]+)"', page.text)
        assert len(urls) == len(assets.GRAPHIQL_SCRIPTS) + len(assets.GRAPHIQL_STYLES)
        for url in urls:
            response = await http.get(url)
            assert response.status_code == 200, url
            assert response.headers["content-type"].split(";")[0] in ("text/javascript", "application/javascript", "text/css"), url
            assert len(response.content) > 100


async def test_a_production_blueprint_serves_neither_graphiql_nor_its_assets(kernel_factory):
    kernel = await kernel_factory(BLUEPRINT % "production: true\nauth: {secret: a-production-secret-of-32-characters-or-more}\n")
    async with client(create_app([kernel], run_worker=False)) as http:
        assert (await http.get(assets.ASSET_PREFIX + "/" + assets.GRAPHIQL_SCRIPTS[-1])).status_code == 404


def test_vendored_files_are_the_recorded_npm_files_with_their_licences():
    records = json.loads((assets.VENDOR_DIR / "VENDORED.json").read_text(encoding="utf-8"))
    assert {r["package"] for r in records} == {"react", "react-dom", "graphiql"}
    for record in records:
        folder = assets.VENDOR_DIR / f"{record['package']}-{record['version']}"
        assert record["license"] == "MIT" and (folder / "LICENSE").is_file()
        for name, info in record["files"].items():
            data = (folder / name).read_bytes()
            assert "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode() == info["sha384"], name
    # Every file the page names is a vendored file or our own boot script.
    for path in (*assets.GRAPHIQL_SCRIPTS, *assets.GRAPHIQL_STYLES):
        assert (assets.ASSETS_DIR / path).is_file(), path


def test_a_query_text_cannot_close_the_configuration_block():
    page = assets.graphiql_html(tabs=[{"query": "# </script><script>alert(1)</script>"}])
    assert page.count("</script>") == len(assets.GRAPHIQL_SCRIPTS) + 1


def test_every_browser_asset_is_declared_as_package_data():
    """An installed (non-editable) dougong must carry the files too, or it is blank offline."""
    import fnmatch
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    declared = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    for package, folder in (("core.assets", root / "core" / "assets"), ("core.studio", root / "core" / "studio")):
        patterns = declared.get(package, []) + declared.get("*", [])
        for path in folder.rglob("*"):
            relative = path.relative_to(folder).as_posix()
            if path.is_file() and not relative.endswith((".py", ".pyc")) and "__pycache__" not in relative:
                assert any(fnmatch.fnmatch(relative, p) for p in patterns), f"{package}: {relative} is not package data"
