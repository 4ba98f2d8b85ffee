"""The studio in a real browser (headless Chromium): the consultant's whole path, end to end.

Create a brand from a template, add live_room, enter a bad value and see the message next
to the field, fix it, save after seeing the diff, preview the schema, try it in a sandbox
and run a query in the sandbox's GraphiQL — all with no internet (every asset is served
by the studio). Screenshots of each screen are written to ``var/screenshots/studio/`` (or
``$DOUGONG_SCREENSHOTS``) for people to look at.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("DOUGONG_SCREENSHOTS", ROOT / "var" / "screenshots" / "studio"))
TIMEOUT = 90  # seconds; generous, as a dry-run boot takes a second or more on a busy CI machine


@contextlib.contextmanager
def studio_process(folder: Path, log: Path) -> Iterator[str]:
    """``dougong studio FOLDER`` on a free port; yields its base URL once it answers."""
    from core.testing import _free_port, stop_process_group

    port = _free_port()
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "core.cli", "studio", str(folder), "--port", str(port)],
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + TIMEOUT
        while True:
            if process.poll() is not None:
                raise AssertionError(f"dougong studio exited with {process.returncode}:\n{log.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(base + "/api/files", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise AssertionError(f"dougong studio did not answer:\n{log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield base
    finally:
        stop_process_group(process)


def finders(browser, wait):
    """(css, testid, text_appears, shot): the few ways the studio's browser tests look at a page."""
    from selenium.webdriver.common.by import By

    def css(selector: str):
        return browser.find_element(By.CSS_SELECTOR, selector)

    def testid(name: str):
        return css(f'[data-testid="{name}"]')

    def text_appears(selector: str, text: str) -> None:
        wait.until(lambda _: any(text in e.text for e in browser.find_elements(By.CSS_SELECTOR, selector)),
                   f"{text!r} never appeared in {selector}")

    def shot(name: str) -> None:
        assert browser.save_screenshot(str(SHOTS / f"{name}.png")), name

    return css, testid, text_appears, shot


def test_compose_check_save_preview_and_try_a_brand_in_the_browser(browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    folder = tmp_path / "blueprints"
    folder.mkdir()
    shutil.copy(ROOT / "blueprints" / "demo.yaml", folder / "demo.yaml")
    SHOTS.mkdir(parents=True, exist_ok=True)
    wait = WebDriverWait(browser, TIMEOUT)
    css, testid, text_appears, shot = finders(browser, wait)

    def load(url: str) -> None:
        browser.get(url)
        wait.until(lambda _: css("body").get_attribute("data-ready") == "yes", "the studio page never finished loading")

    with studio_process(folder, tmp_path / "studio.log") as base:
        load(base + "/?lang=zh")
        assert "组件目录" in css("body").text and "直播间" in testid("catalog").text  # Chinese, titles from manifests
        shot("00-studio-zh")
        load(base + "/?lang=en")
        assert "Live room" in testid("catalog").text
        shot("01-catalog")

        # A brand from a template.
        testid("new-brand").click()
        Select(testid("new-template")).select_by_value("tea_auction_group_buy")
        for field, value in (("new-file", "leaf.yaml"), ("new-slug", "leaf"), ("new-name", "Leaf Tea")):
            testid(field).clear()
            testid(field).send_keys(value)
        testid("new-create").click()
        text_appears('[data-testid="composition"]', "bidding_sale")
        assert "orders · needed by bidding_sale" in testid("composition").text

        # Add live_room; its settings form appears.
        Select(testid("add-choice")).select_by_value("live_room")
        testid("add-component").click()
        text_appears('[data-testid="notice"]', "Added: live_room")
        setting = "components.live_room.comment_max_length"
        wait.until(lambda _: browser.find_elements(By.CSS_SELECTOR, f'input[data-setting="{setting}"]'))
        box = css(f'input[data-setting="{setting}"]')
        assert "characters a comment may have" in css(f'[data-field="{setting}"]').text  # the schema's description as help

        # A bad value: the message `dougong validate` prints, next to the field, as you type.
        box.send_keys("5000")
        text_appears(f'[data-problem-for="{setting}"]', "5000 is greater than the maximum of 1000")
        text_appears('[data-testid="problems"]', "leaf.yaml:19:25: components.live_room.comment_max_length: 5000 is greater than the maximum of 1000")
        shot("02-problem-next-to-the-field")

        box.clear()
        box.send_keys("200")
        text_appears('[data-testid="problems"]', "No problems")

        # Save: the diff first, then the file.
        testid("save").click()
        text_appears('[data-testid="save-diff"]', "+    comment_max_length: 200")
        shot("03-diff-before-saving")
        testid("save-confirm").click()
        text_appears('[data-testid="notice"]', "Saved: leaf.yaml")
        saved = (folder / "leaf.yaml").read_text(encoding="utf-8")
        assert "  live_room:\n    comment_max_length: 200\n" in saved and "# a bid in the last minute…" in saved

        # What frontends will see.
        testid("tab-sdl").click()
        text_appears('[data-testid="changes"]', "No change a frontend could see.")
        assert "liveRooms" in testid("sdl").text
        shot("04-schema-preview")

        # Try it: a sandbox with demo data, and a query in its GraphiQL.
        testid("tab-try").click()
        testid("start-sandbox").click()
        wait.until(lambda _: browser.find_elements(By.CSS_SELECTOR, '[data-testid="sandbox-link"]'))
        sandbox_url = testid("sandbox-link").get_attribute("href")
        assert sandbox_url.startswith(base + "/sandbox/")
        shot("05-try-it")
        browser.switch_to.window(browser.window_handles[0])
        browser.get(sandbox_url)
        wait.until(lambda _: browser.find_elements(By.CSS_SELECTOR, ".graphiql-execute-button"), "GraphiQL never rendered")
        text_appears(".graphiql-editor", "query CatalogProducts")  # the first example tab
        css(".graphiql-execute-button").click()
        text_appears(".result-window", '"products"')
        assert '"errors"' not in css(".result-window").text
        shot("06-sandbox-graphiql")
        # Nothing failed to load: every asset came from the studio itself.
        severe = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        assert severe == [], severe


@pytest.fixture(autouse=True)
def _close_extra_windows(browser):
    yield
    for handle in browser.window_handles[1:]:
        browser.switch_to.window(handle)
        browser.close()
    browser.switch_to.window(browser.window_handles[0])
