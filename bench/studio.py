"""The studio: validation round-trip for the demo blueprint, and the studio's page load.

One ``dougong studio`` process (one worker, uvicorn) over a folder holding the demo
blueprint. Measured:

- **validation**, in-process: the settings-only check ``validate`` did before (baseline:
  ``core.blueprint.check_blueprint``) beside the dry-run boot it does now (``core.dry_run.check``),
  booted each time and remembered (the same components and settings again);
- **round-trip**: ``POST /api/check`` over HTTP as the page sends it while someone types
  (render into the YAML, dry-run boot, diff), each request a new text so nothing is cached,
  and the same text again (cached);
- **page load** over HTTP: the page, its CSS and scripts, the file list and the catalog —
  cold (the first catalog request boots every component dry) and warm; and, when Chromium is
  installed, in a real headless browser from navigation until the page says it is ready.

    python bench/studio.py [--repeat 10] [--json bench/results/studio.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import core.dry_run  # noqa: E402
from core.blueprint import check_blueprint  # noqa: E402
from core.dry_run import check  # noqa: E402
from core.testing import _free_port, stop_process_group  # noqa: E402
from registry.discovery import discover  # noqa: E402

DEMO = ROOT / "blueprints" / "demo.yaml"
PAGE = ["/", "/static/studio.css", "/static/i18n.js", "/static/forms.js", "/static/studio.js", "/api/files"]


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"median_ms": round(statistics.median(ordered), 1), "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 1),
            "n": len(ordered)}


def start_studio(folder: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "core.cli", "studio", str(folder), "--port", str(port)],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/api/files", timeout=2).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.2)
    stop_process_group(process)
    raise SystemExit("dougong studio did not start")


def browser_load(base: str, repeat: int) -> dict[str, object] | str:
    from core.testing_browser import Chromium

    chromium = Chromium()
    problem = chromium.start()
    if problem:
        chromium.stop()
        return f"skipped: {problem}"
    try:
        driver = chromium.driver

        def load() -> None:
            driver.get(base + "/?lang=en")
            deadline = time.monotonic() + 120
            while driver.execute_script("return document.body && document.body.dataset.ready") != "yes":
                if time.monotonic() > deadline:
                    raise SystemExit("the studio page never became ready")
                time.sleep(0.01)

        return {"cold": summary(timed(load, 1)), "warm": summary(timed(load, repeat))}
    finally:
        chromium.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "studio.json"))
    args = parser.parse_args()
    installed = discover()[0]
    results: dict[str, object] = {}

    check(DEMO, installed=installed)  # imports and first-use costs out of the way
    results["validate demo: settings only (before)"] = summary(timed(lambda: check_blueprint(DEMO, installed=installed), args.repeat))

    def uncached() -> None:
        core.dry_run._REFUSALS.clear()  # a boot each time, as after a settings edit
        check(DEMO, installed=installed)

    results["validate demo: dry-run boot (now)"] = summary(timed(uncached, args.repeat))
    results["validate demo: dry-run boot remembered"] = summary(timed(lambda: check(DEMO, installed=installed), args.repeat))

    folder = Path(tempfile.mkdtemp(prefix="dougong-bench-studio-"))
    shutil.copy(DEMO, folder / "demo.yaml")
    process, base = start_studio(folder)
    try:
        results["browser page load"] = browser_load(base, max(3, args.repeat // 2))
        with httpx.Client(base_url=base, timeout=120) as http:
            def page() -> None:
                for path in PAGE:
                    http.get(path).raise_for_status()
                http.get("/api/catalog").raise_for_status()

            results["page load over HTTP (warm)"] = summary(timed(page, args.repeat))
            results["baseline: index.html alone"] = summary(timed(lambda: http.get("/").raise_for_status(), args.repeat))
            opened = http.get("/api/file", params={"name": "demo.yaml"}).json()
            counter = iter(range(10**6))

            def fresh() -> None:
                model = {**opened["model"], "brand": {**opened["model"]["brand"], "name": f"Bench {next(counter)}"}}
                http.post("/api/check", json={**opened, "model": model}).raise_for_status()

            results["POST /api/check round-trip, new text"] = summary(timed(fresh, args.repeat))
            results["POST /api/check round-trip, same text (cached)"] = summary(
                timed(lambda: http.post("/api/check", json=opened).raise_for_status(), args.repeat))
    finally:
        stop_process_group(process)
        shutil.rmtree(folder, ignore_errors=True)

    print(f"\n{'measure':<50} {'median ms':>10} {'p95 ms':>10} {'n':>4}")
    for name, value in results.items():
        rows = value.items() if isinstance(value, dict) and "cold" in value else [(None, value)]
        for sub, row in rows:
            label = f"{name} ({sub})" if sub else name
            if isinstance(row, dict):
                print(f"{label:<50} {row['median_ms']:>10} {row['p95_ms']:>10} {row['n']:>4}")
            else:
                print(f"{label:<50} {row}")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({"machine": platform.platform(), "python": platform.python_version(),
                                           "results": results}, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
