"""``dougong studio``: serve the studio over a folder of blueprints with uvicorn."""

from __future__ import annotations

import secrets
from pathlib import Path

from core.studio.security import is_loopback


def plan(folder: Path, host: str, port: int, token: str | None) -> tuple[str | None, str]:
    """(the token to require, the URL to open); a token is made up when the studio is
    reachable from other machines and none was given."""
    loopback = is_loopback(host)
    if not loopback and not token:
        token = secrets.token_urlsafe(24)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
    return token, url


def run(folder: Path, host: str, port: int, token: str | None) -> None:
    import uvicorn

    from core.studio.app import studio_asgi

    token, url = plan(folder, host, port, token)
    app = studio_asgi(folder, token=token, loopback_only=is_loopback(host))
    print(f"dougong studio: {folder.resolve()} at {url}", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
