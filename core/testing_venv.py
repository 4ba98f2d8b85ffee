"""A throwaway virtual environment layered on the running one, for tests that install a package
the way its users would (``pip install`` a wheel or an editable checkout) without downloading
anything: the new venv's own site-packages come first, and a ``.pth`` line adds this
environment's (``site.addsitedir`` also runs its ``.pth`` files, which dougong's editable
install needs). Used by the scaffold and the example-component tests; a component author can
use it the same way."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path


def layered_venv(folder: Path) -> Path:
    """Create the venv at ``folder``; returns its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True, timeout=120)
    python = folder / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    ours = sysconfig.get_paths()["purelib"]
    Path(purelib, "_dougong_parent_env.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
    return python


def pip_install(python: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``pip install --no-deps --no-build-isolation --no-index ARGS`` into the venv of ``python``
    (this environment's pip, pointed at it: the venv needs none of its own)."""
    return run(
        sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index", *args, cwd=cwd
    )


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """A command with this environment minus what would tie it to the running pytest."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DOUGONG_UPDATE"))}
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=600, env=env)
