"""A real browser for tests: headless Chromium from the system's packages, driven by Selenium.

``browser`` (a pytest fixture, session-scoped, registered by :mod:`core.testing`) yields a
Selenium ``WebDriver``. Chromium and its driver come from Debian (``apt-get install chromium
chromium-driver``; ``.ci/run`` installs them), never downloaded by Selenium Manager: the
driver's path is given explicitly. Like PostgreSQL and Redis, a missing browser skips the
tests that need it with a loud message, and fails them under ``DOUGONG_REQUIRE_SERVERS=1``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator

import pytest

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
WINDOW = (1600, 1000)


class Chromium:
    def __init__(self) -> None:
        self.driver: Any = None
        self.profile = Path(tempfile.mkdtemp(prefix="dougong-chromium-"))

    def start(self) -> str:
        binary = next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)
        driver_path = shutil.which("chromedriver")
        if not binary or not driver_path:
            return "chromium and chromedriver are not on PATH (apt-get install chromium chromium-driver)"
        try:
            from selenium import webdriver
            from selenium.webdriver.chrome.service import Service
        except ImportError:
            return "the selenium Python package is not installed (pip install -e '.[test]')"
        options = webdriver.ChromeOptions()
        options.binary_location = binary
        for flag in (
            "--headless=new",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            f"--window-size={WINDOW[0]},{WINDOW[1]}",
            f"--user-data-dir={self.profile}",
            "--lang=en-US",
        ):
            options.add_argument(flag)
        if os.geteuid() == 0:
            options.add_argument("--no-sandbox")  # Chromium refuses to run as root otherwise
        try:
            self.driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
        except Exception as exc:  # a driver/browser version mismatch, a missing library
            return f"chromium did not start: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        self.driver.set_page_load_timeout(60)
        return ""

    def stop(self) -> None:
        if self.driver is not None:
            try:
                self.driver.quit()
            finally:
                self.driver = None
        shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from core.testing import running

    with running(Chromium(), "Chromium") as chromium:
        yield chromium.driver
