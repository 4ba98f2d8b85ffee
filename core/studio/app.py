"""The studio's HTTP API and pages (thin: the work is in the modules beside this one).

The browser keeps the blueprint as JSON (``model``) plus the text it was opened from
(``base_text``, ``base_hash``); every call that needs YAML renders the model into that text
first (:func:`core.studio.document.render`), so what is checked, previewed, tried and saved
is always the very text that would be written.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from pathlib import Path
from typing import Any, cast

from fastapi import Body, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.staticfiles import StaticFiles

from core import assets
from core.dry_run import BUILDING, boot, check, describe
from core.errors import INTERNAL
from core.studio import catalog, compose, document
from core.studio.document import Folder, StudioError
from core.studio.sandbox import Sandboxes

log = logging.getLogger("dougong.studio")
STATIC_DIR = Path(__file__).parent / "static"
PAGE_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,49}$")  # as the blueprint's schema has it


@functools.lru_cache(maxsize=1)
def _installed() -> dict[str, Any]:
    """Installed components, found once: like ``serve``, a running studio does not see
    packages installed after it started (restart it)."""
    import registry.discovery

    return registry.discovery.discover()[0]


class Draft:
    """One request's blueprint: the model rendered into the text it came from."""

    def __init__(self, payload: dict[str, Any], folder: Folder) -> None:
        self.name = cast(str, payload.get("name"))  # whatever came: folder.path refuses a non-text one
        folder.path(self.name)  # refuses names outside the folder
        base_text = payload.get("base_text") or ""
        if not isinstance(base_text, str):
            raise StudioError("BASE_TEXT_INVALID", "base_text must be the YAML text the blueprint was opened from")
        self.base_text, self.base_hash = base_text, payload.get("base_hash")
        self.text = document.render(base_text, payload.get("model"))
        self.model = payload.get("model")

    def check(self) -> tuple[list[Any], Any]:
        return checked(self.name, self.text)


@functools.lru_cache(maxsize=32)
def checked(name: str, text: str) -> tuple[list[Any], Any]:
    """A dry-run boot costs about a second; the page asks about the same text several times
    (check, then save, then try it), so the last few answers are kept. Keyed by the text and
    name alone: installed components do not change while a studio runs (like ``serve``).
    ${VAR}s are read from the environment of the studio process, which is fixed as well."""
    with BUILDING:
        return check(name, text=text, installed=_installed())


def booted(name: str, text: str) -> tuple[list[Any], Any, Any]:
    """Problems, blueprint and the dry kernel itself (for its schema): never cached, as a
    kernel is megabytes; only the schema preview asks for it."""
    with BUILDING:
        return boot(name, text=text, installed=_installed())


def create_studio_app(folder: Path) -> FastAPI:
    files = Folder(folder)
    sandboxes = Sandboxes()
    catalog_cache: list[dict[str, Any]] = []

    def load_catalog() -> list[dict[str, Any]]:
        with BUILDING:
            if not catalog_cache:
                catalog_cache.extend(catalog.entries(_installed()))
        return catalog_cache

    async def warm_up() -> None:
        # Booting every component for the catalog takes seconds on a busy machine; start it
        # now, off the event loop, so the page the consultant opens next is already quick.
        asyncio.get_running_loop().run_in_executor(None, load_catalog)

    app = FastAPI(title="dougong studio", docs_url=None, redoc_url=None, openapi_url=None, on_startup=[warm_up], on_shutdown=[sandboxes.stop])
    app.state.sandboxes = sandboxes
    app.mount(assets.ASSET_PREFIX, assets.static_files(), name="assets")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.exception_handler(StudioError)
    async def refused(_request: Request, exc: StudioError) -> JSONResponse:
        return JSONResponse({"error": {"code": exc.code, "message": exc.message, **exc.details}}, status_code=exc.status)

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.error("studio request failed", exc_info=exc)
        return JSONResponse({"error": {"code": INTERNAL, "message": "internal error; it has been logged"}}, status_code=500)

    @app.get("/", response_class=HTMLResponse)
    async def index() -> HTMLResponse:
        return HTMLResponse((STATIC_DIR / "index.html").read_text(encoding="utf-8"))

    @app.get("/api/catalog")
    async def get_catalog() -> dict[str, Any]:
        entries = await asyncio.get_running_loop().run_in_executor(None, load_catalog)
        return {"components": entries, "templates": compose.TEMPLATES}

    @app.get("/api/files")
    async def list_files() -> dict[str, Any]:
        return {"folder": files.root.name, "files": files.names()}

    @app.get("/api/file")
    async def open_file(name: str) -> dict[str, Any]:
        opened = files.open(name)
        if opened.hash is None:
            raise StudioError("FILE_NOT_FOUND", f"{name} does not exist in the folder", status=404)
        model = document.to_plain(document.parse(opened.text))
        return {
            "name": name,
            "base_text": opened.text,
            "base_hash": opened.hash,
            "model": model,
            **_report(Draft({"name": name, "base_text": opened.text, "model": model}, files), files),
        }

    @app.post("/api/new")
    async def new(payload: dict[str, Any] = Body(...)) -> dict[str, Any]:
        name = cast(str, payload.get("name"))  # files.open refuses a non-text one
        if files.open(name).hash is not None:
            raise StudioError("FILE_EXISTS", f"{name} already exists; open it, or choose another file name", status=409)
        text, model = compose.template_model(str(payload.get("template")), payload.get("slug"), payload.get("brand_name"))
        return {
            "name": name,
            "base_text": text,
            "base_hash": None,
            "model": model,
            **_report(Draft({"name": name, "base_text": text, "model": model}, files), files),
        }

    @app.post("/api/check")
    async def check_draft(payload: dict[str, Any] = Body(...)) -> dict[str, Any]:
        return _report(Draft(payload, files), files)

    @app.post("/api/compose/{action}")
    async def compose_action(action: str, payload: dict[str, Any] = Body(...)) -> dict[str, Any]:
        model, component = payload.get("model"), payload.get("component")
        if not isinstance(model, dict) or not isinstance(component, str):
            raise StudioError("MODEL_INVALID", "send the blueprint model and a component name")
        came: list[dict[str, Any]] = []
        if action == "add":
            model, came = compose.add(model, component, _installed())
        elif action == "remove":
            model = compose.remove(model, component, _installed())
        else:
            raise StudioError("ACTION_UNKNOWN", f"compose actions are add and remove, not {action!r}", status=404)
        return {"model": model, "came": came, **_report(Draft({**payload, "model": model}, files), files)}

    @app.post("/api/save")
    async def save(payload: dict[str, Any] = Body(...)) -> dict[str, Any]:
        draft = Draft(payload, files)
        new_hash = files.save(draft.name, draft.text, draft.base_hash)
        return {"name": draft.name, "base_text": draft.text, "base_hash": new_hash, **_report(draft, files)}

    @app.post("/api/sdl")
    async def sdl(payload: dict[str, Any] = Body(...)) -> dict[str, Any]:
        from core.studio.preview import preview

        draft = Draft(payload, files)
        return preview(draft.text, files.open(draft.name).text, lambda text: booted(draft.name, text))

    @app.post("/api/sandbox")
    async def start_sandbox(payload: dict[str, Any] = Body(...)) -> dict[str, Any]:
        problems, blueprint = Draft(payload, files).check()
        if problems:
            raise StudioError(
                "BLUEPRINT_INVALID",
                "fix the problems first: the sandbox boots only a blueprint that validates",
                status=422,
                problems=describe(problems),
            )
        sandbox = await sandboxes.start(blueprint, compose.without_pages(Draft(payload, files).model))
        return {
            "id": sandbox.id,
            "url": f"/sandbox/{sandbox.id}/",
            "graphql": f"/sandbox/{sandbox.id}/graphql",
            "examples": [tab["title"] for tab in sandbox.tabs()],
        }

    @app.post("/api/preview")
    async def preview_page(payload: dict[str, Any] = Body(...)) -> dict[str, Any]:
        """The page ``slug`` of the draft (unsaved edits too) in the reference storefront page,
        served by the sandbox; the studio shows it in its phone-sized frame."""
        draft = Draft(payload, files)
        slug = payload.get("slug")
        if not isinstance(slug, str) or not PAGE_SLUG.match(slug):
            raise StudioError("PAGE_SLUG_INVALID", "name the page to preview by its slug (lower-case letters, digits, dashes)")
        problems, blueprint = draft.check()
        if problems:
            raise StudioError(
                "BLUEPRINT_INVALID", "fix the problems first: the preview shows a blueprint that validates", status=422, problems=describe(problems)
            )
        sandbox, booted = await sandboxes.preview(blueprint, compose.without_pages(draft.model))
        return {"id": sandbox.id, "url": f"/sandbox/{sandbox.id}/storefront/{slug}", "booted": booted}

    @app.get("/sandbox/{sandbox_id}/", response_class=HTMLResponse)
    async def sandbox_page(sandbox_id: str) -> HTMLResponse:
        sandbox = sandboxes.get(sandbox_id)
        if sandbox is None:
            raise StudioError("SANDBOX_GONE", "this sandbox was stopped; start another from the studio", status=404)
        brand = sandbox.kernel.blueprint.brand.name
        return HTMLResponse(
            assets.graphiql_html(title=f"{brand} · sandbox", tabs=sandbox.tabs(), fetch_url=f"/sandbox/{sandbox.id}/graphql", remember_tabs=False)
        )

    return app


def _report(draft: Draft, files: Folder) -> dict[str, Any]:
    """What the page shows beside a draft: its text, problems, components and unsaved diff."""
    problems, _ = draft.check()
    saved = files.open(draft.name)
    return {
        "text": draft.text,
        "problems": describe(problems),
        "composition": compose.composition(draft.model if isinstance(draft.model, dict) else {}, _installed()),
        "diff": document.diff(saved.text, draft.text, draft.name),
        "saved_hash": saved.hash,
    }


class SandboxRouter:
    """``/sandbox/<id>/graphql`` (HTTP and websockets) goes to that sandbox's own app."""

    def __init__(self, studio: FastAPI) -> None:
        self.studio = studio

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] in ("http", "websocket") and path.startswith("/sandbox/"):
            sandbox_id, _, rest = path[len("/sandbox/") :].partition("/")
            sandbox = self.studio.state.sandboxes.get(sandbox_id)
            if sandbox is not None and rest:
                inner = {
                    **scope,
                    "path": "/" + rest,
                    "raw_path": ("/" + rest).encode(),
                    "root_path": scope.get("root_path", "") + f"/sandbox/{sandbox_id}",
                }
                await sandbox.app(inner, receive, send)
                return
        await self.studio(scope, receive, send)


def studio_asgi(folder: Path, *, token: str | None, loopback_only: bool) -> Any:
    from core.studio.security import StudioGuard

    return StudioGuard(SandboxRouter(create_studio_app(folder)), token=token, loopback_only=loopback_only)
