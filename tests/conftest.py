"""Suite-wide setup: start the slow, network-bound downloads early (see core.testing_npm)."""

from pathlib import Path

TYPESCRIPT_PROJECT = Path(__file__).parent / "typescript"


def pytest_configure(config):
    if hasattr(config, "workerinput"):
        return  # a pytest-xdist worker: the controller started it already
    from core import testing_npm

    testing_npm.prefetch(TYPESCRIPT_PROJECT)
