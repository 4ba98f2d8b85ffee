"""The reference storefront page that ships with dougong: ``/storefront/<slug>`` (or
``/brands/<brand>/storefront/<slug>``), plain HTML and JS served by the app itself, offline.

It renders a page from one ``storefrontPage(slug)`` query, every built-in block type it knows
and a placeholder for the others, so a consultant can look at a brand's pages before any
frontend exists, and the studio shows it in its phone-sized preview. A brand's real frontend
(a mini-program) does the same from the same query.

The page may be framed by pages of its own origin (the studio's preview; ``SAMEORIGIN``),
unlike the other HTML the app serves (GraphiQL), which may not be framed at all.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response

STATIC = Path(__file__).parent / "static"
ASSETS = {"storefront.js": "text/javascript; charset=utf-8", "storefront.css": "text/css; charset=utf-8"}
FRAMING = {
    "content-security-policy": "frame-ancestors 'self'; base-uri 'none'; object-src 'none'; form-action 'self'",
    "x-frame-options": "SAMEORIGIN",
    "referrer-policy": "no-referrer",
}


def router() -> APIRouter:
    routes = APIRouter()

    # Slugs are lower-case letters, digits and dashes, so "_" can never be a page.
    @routes.get("/storefront/_/{name}", include_in_schema=False)
    async def asset(name: str) -> Response:
        if name not in ASSETS:
            return Response(status_code=404)
        return FileResponse(STATIC / name, media_type=ASSETS[name])

    @routes.get("/storefront/{slug}", response_class=HTMLResponse, include_in_schema=False)
    async def page(slug: str) -> HTMLResponse:
        # The same document for every slug: the page reads its slug from the URL, and an
        # unknown one is told so by the query (null), in the page.
        return HTMLResponse((STATIC / "page.html").read_text(encoding="utf-8"), headers=FRAMING)

    return routes
