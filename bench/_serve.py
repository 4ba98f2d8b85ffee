"""Starting a bench's server in a subprocess and waiting until it answers (shared by the benches
that compare dougong with a hand-written baseline over real HTTP)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def subprocess_server(script: str, arguments: list[str], probe: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """Run ``python script *arguments --port N``; yield its base URL once ``probe`` answers."""
    import httpx

    port = free_port()
    process = subprocess.Popen([sys.executable, script, *arguments, "--port", str(port)], env={**os.environ, **(env or {})}, cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}{probe}", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{script} {' '.join(arguments)} did not start") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def serve_from_argv(serve) -> None:  # noqa: ANN001
    """A bench's own server subprocess: ``script --serve KIND --url URL --folder F --port N``."""
    import argparse

    parser = argparse.ArgumentParser()
    for flag in ("--serve", "--url", "--folder"):
        parser.add_argument(flag)
    parser.add_argument("--port", type=int)
    a = parser.parse_args()
    serve(a.serve, a.url, a.port, a.folder)
