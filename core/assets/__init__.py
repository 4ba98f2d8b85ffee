"""Browser assets served by dougong itself, so GraphiQL and the studio work without internet.

``vendor/`` holds third-party files fetched from the npm registry by ``bin/vendor-assets``
(versions, licences and hashes in ``vendor/VENDORED.json``); the rest is ours. Nothing here
is fetched at run time: a brand intranet or a laptop on a train sees the same pages.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from starlette.staticfiles import StaticFiles

ASSETS_DIR = Path(__file__).parent
VENDOR_DIR = ASSETS_DIR / "vendor"
# Served from the root of every dougong app (and the studio), whatever path GraphQL is at.
ASSET_PREFIX = "/_dougong/assets"

GRAPHIQL_SCRIPTS = (
    "vendor/react-18.2.0/react.production.min.js",
    "vendor/react-dom-18.2.0/react-dom.production.min.js",
    "vendor/graphiql-3.8.3/graphiql.min.js",
    "graphiql-boot.js",
)
GRAPHIQL_STYLES = ("vendor/graphiql-3.8.3/graphiql.min.css",)


def static_files() -> StaticFiles:
    return StaticFiles(directory=ASSETS_DIR, check_dir=True)


def graphiql_html(
    *,
    root_path: str = "",
    title: str = "dougong GraphiQL",
    tabs: list[dict[str, Any]] | None = None,
    fetch_url: str | None = None,
    remember_tabs: bool = True,
) -> str:
    """The GraphiQL page, every asset from ``ASSET_PREFIX`` under ``root_path``.

    ``tabs`` are opened first (``{"title", "query", "variables", "headers"}``, the example
    operations of a sandbox); ``remember_tabs=False`` keeps them from being replaced by tabs
    GraphiQL saved for another page of the same origin. ``fetch_url`` defaults to the page's
    own URL, as GraphiQL is served at the GraphQL endpoint itself.
    """
    base = root_path.rstrip("/") + ASSET_PREFIX
    config = {"fetchUrl": fetch_url, "tabs": tabs or [], "rememberTabs": remember_tabs}
    # Inline JSON, never inline script: "</" is escaped so a query text cannot end the block.
    config_json = json.dumps(config, ensure_ascii=False).replace("</", "<\\/")
    styles = "\n".join(f'<link rel="stylesheet" href="{base}/{s}">' for s in GRAPHIQL_STYLES)
    scripts = "\n".join(f'<script src="{base}/{s}"></script>' for s in GRAPHIQL_SCRIPTS)
    return f"""<!doctype html>
<html>
<head>
<meta charset="utf-8">
<title>{html.escape(title)}</title>
<link rel="icon" href="data:,">
<style>body {{ margin: 0; height: 100vh; overflow: hidden; }} #graphiql {{ height: 100vh; }}</style>
{styles}
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script id="dougong-graphiql-config" type="application/json">{config_json}</script>
{scripts}
</body>
</html>
"""
