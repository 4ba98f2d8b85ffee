"""A real ``dougong serve`` process for the reliability tests (a helper module, not tests).

The server is started the way an operator starts it (the ``dougong`` console script, a
blueprint file, uvicorn in its own process), so SIGKILL hits everything a real crash would:
the open SQLite/PostgreSQL connections, requests half way through a transaction, events
committed but not yet delivered.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from core.testing import _free_port

ROOT = Path(__file__).resolve().parents[2]


class ServerProcess:
    def __init__(self, blueprint: Path, log: Path) -> None:
        self.blueprint = blueprint
        self.log = log
        self.port = _free_port()
        self.process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        script = Path(sys.executable).parent / "dougong"
        command = [str(script)] if script.exists() else [sys.executable, "-c", "from core.cli import app; app()"]
        command += ["serve", str(self.blueprint), "--port", str(self.port), "--no-seed-demo"]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("DATABASE_URL", None)  # the blueprint names its database
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env)

    async def wait_ready(self, timeout: float = 60.0) -> None:
        """Poll /healthz until the app answers 200 (the lifespan has migrated and started)."""
        deadline = asyncio.get_running_loop().time() + timeout
        async with httpx.AsyncClient(base_url=self.base, timeout=2.0) as http:
            while True:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise AssertionError(f"server exited with {self.process.returncode}:\n{self.log.read_text()[-3000:]}")
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if asyncio.get_running_loop().time() > deadline:
                    raise AssertionError(f"server not ready after {timeout}s:\n{self.log.read_text()[-3000:]}")
                await asyncio.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: no lifespan shutdown, no connection cleanup, no flush."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
