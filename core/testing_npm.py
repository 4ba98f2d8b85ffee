"""npm packages for the tests that need them, installed once per machine and lockfile.

The TypeScript client check (``tests/core/test_typescript_client.py``) runs graphql-codegen and
``tsc`` from npm. Like PostgreSQL and Redis, the test sets them up itself: ``npm ci`` from the
project's lockfile into ``~/.cache/dougong/npm/<lockfile digest>/`` (``DOUGONG_NPM_CACHE``
moves it), under a file lock so that parallel test workers install once. When npm is missing
or the registry cannot be reached the test skips loudly (fails under
``DOUGONG_REQUIRE_SERVERS=1``).

A cold install takes about a minute, mostly the network: :func:`prefetch` starts it in the
background when the test session starts, so the tests that need it rarely wait.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

INSTALL_TIMEOUT = 900  # seconds: a slow mirror, not a hung one


def cache_root() -> Path:
    return Path(os.environ.get("DOUGONG_NPM_CACHE") or Path.home() / ".cache" / "dougong" / "npm")


def _key(project: Path) -> str:
    digest = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        digest.update((project / name).read_bytes())
    return digest.hexdigest()[:16]


def installed_dir(project: Path) -> Path:
    """Where ``project``'s packages are (``<dir>/node_modules``) once installed."""
    return cache_root() / _key(project)


def install(project: Path) -> tuple[Path | None, str]:
    """Install ``project``'s locked packages if they are not yet; (the directory holding
    node_modules, "") or (None, why not). Waits for an install another process is running."""
    if shutil.which("npm") is None or shutil.which("node") is None:
        return None, "node and npm are not on PATH"
    target = installed_dir(project)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f"{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / "node_modules").is_dir():
            return target, ""
        work = Path(tempfile.mkdtemp(prefix=f"{target.name}-", dir=target.parent))
        try:
            for name in ("package.json", "package-lock.json"):
                shutil.copy(project / name, work / name)
            try:
                done = subprocess.run(
                    ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                    cwd=work,
                    capture_output=True,
                    text=True,
                    timeout=INSTALL_TIMEOUT,
                )
            except subprocess.TimeoutExpired:
                return None, f"npm ci did not finish in {INSTALL_TIMEOUT} s"
            if done.returncode != 0:
                lines = (done.stderr or done.stdout).strip().splitlines()
                return None, f"npm ci failed: {lines[-1] if lines else done.returncode}"
            work.rename(target)  # whole or not at all: a killed install leaves only a temp dir
            return target, ""
        finally:
            with contextlib.suppress(OSError):
                shutil.rmtree(work)


def prefetch(project: Path) -> None:
    """Start installing ``project``'s packages in a background process, unless they are there
    (or npm is missing): the test that needs them then waits on the lock for less."""
    if shutil.which("npm") is None or (installed_dir(project) / "node_modules").is_dir():
        return
    subprocess.Popen(
        [sys.executable, "-m", "core.testing_npm", str(project)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        cwd=Path(__file__).resolve().parent.parent,
    )


if __name__ == "__main__":
    install(Path(sys.argv[1]))
