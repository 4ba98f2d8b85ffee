"""Building and running the app from blueprint files (``dougong serve``)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Sequence

from fastapi import FastAPI

from core import heap
from core.app import create_app, refuse_shared_databases
from core.kernel import Kernel

log = logging.getLogger("dougong.serve")

BLUEPRINTS_ENV = "DOUGONG_BLUEPRINTS"
SEED_ENV = "DOUGONG_SEED_DEMO"


def kernels_from_files(paths: Sequence[str | os.PathLike]) -> list[Kernel]:
    from registry.lock import lock_differences

    kernels = []
    for path in paths:
        kernel = Kernel.from_file(path)
        for difference in lock_differences(Path(path), kernel.blueprint.resolution, kernel.version):
            log.warning("%s: installed components differ from the lock file: %s", path, difference)
        kernels.append(kernel)
    return kernels


def app_from_env() -> FastAPI:
    """uvicorn factory for ``--workers N``: each worker process builds its own kernels."""
    paths = [p for p in os.environ.get(BLUEPRINTS_ENV, "").split(os.pathsep) if p]
    if not paths:
        raise RuntimeError(f"set {BLUEPRINTS_ENV} to the blueprint files to serve")
    seed = os.environ.get(SEED_ENV)
    return create_app(kernels_from_files(paths), seed_demo=None if seed is None else seed == "1", freeze_heap=heap.wanted())


def serve(paths: list[str], *, host: str, port: int, workers: int, seed_demo: bool | None, log_level: str = "info") -> None:
    import uvicorn

    from core.http.limits import Limits
    from core.http.protocol import uvicorn_settings

    os.environ[BLUEPRINTS_ENV] = os.pathsep.join(str(Path(p).resolve()) for p in paths)
    if seed_demo is not None:
        os.environ[SEED_ENV] = "1" if seed_demo else "0"
    # Fail fast, in the parent, with the blueprints' own errors and before any worker starts.
    refuse_shared_databases(kernels_from_files(paths))
    uvicorn.run(
        "core.serve:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        **uvicorn_settings(Limits.from_environment()),
    )
