"""Memory per brand: one process serving 20 brand blueprints, and boot time at 100 components.

Generates `--brands` blueprints that differ in slug and in the components they load (rotating
subsets of the built-ins, from catalog alone to all eight), each on its own SQLite file, and
measures resident memory (VmRSS from /proc) two ways, each in a fresh process:

- stepwise: a child process imports dougong (the baseline: everything a kernel needs, no
  brand yet), then boots the brands one by one (`Kernel` + `start()`) and reports RSS after
  each, then after building the app with one GraphQL router per brand; per-brand increment =
  (RSS after N − RSS after the first brand) / (N − 1), so the first brand's one-off import
  cost is shown apart.
- served: `dougong serve` with 1 blueprint and with all N (mounted at /brands/<slug>/graphql),
  RSS of the serving process once /healthz answers; per brand = (RSS N − RSS 1) / (N − 1).

Beside them, the boot figures of a 100-component blueprint from bench/results/boot.json
(written by bench/boot.py; run `python bench/boot.py` to refresh it).

    python bench/memory.py [--brands 20]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.testing import _free_port  # noqa: E402

# Subsets from small to the whole demo set; dependencies are pulled in by the registry.
COMPONENT_SETS = [
    ["catalog"],
    ["catalog", "members"],
    ["orders"],
    ["orders", "points_mall"],
    ["group_buy"],
    ["bidding_sale"],
    ["store_pickup"],
    ["group_buy", "points_mall"],
    ["bidding_sale", "group_buy"],
    ["orders", "group_buy", "points_mall", "bidding_sale", "store_pickup"],
]

STEPWISE = r"""
import asyncio, json, sys, gc

def rss_kib():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

async def main(paths):
    from core.app import create_app
    from core.kernel import Kernel
    import strawberry, sqlalchemy, fastapi  # noqa: F401
    gc.collect()
    out = {"imported": rss_kib(), "after": []}
    kernels = []
    for path in paths:
        kernel = Kernel.from_file(path)
        await kernel.start()
        kernels.append(kernel)
        gc.collect()
        out["after"].append(rss_kib())
    app = create_app(kernels, run_worker=False)  # one GraphQL router per brand, as served
    gc.collect()
    out["with_app"] = rss_kib()
    out["components"] = [len(k.components) for k in kernels]
    for kernel in kernels:
        await kernel.stop()
    print(json.dumps(out))

asyncio.run(main(sys.argv[1:]))
"""


def write_blueprints(folder: Path, brands: int) -> list[Path]:
    paths = []
    for i in range(brands):
        components = COMPONENT_SETS[i % len(COMPONENT_SETS)]
        lines = [
            "dougong: 1",
            f"brand: {{slug: brand{i:02d}, name: Brand {i}, currency: CNY, timezone: Asia/Shanghai}}",
            f'storage: {{database: "sqlite:///{folder / f"brand{i:02d}.db"}"}}',
            "components:",
            *(f"  {name}: {{}}" for name in components),
        ]
        path = folder / f"brand{i:02d}.yaml"
        path.write_text("\n".join(lines) + "\n")
        paths.append(path)
    return paths


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def served_rss(paths: list[Path], log: Path) -> dict[str, Any]:
    import httpx

    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "core.cli", "serve", *map(str, paths), "--port", str(port), "--no-seed-demo"],
                               cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"dougong serve exited:\n{log.read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200:
                    break
            time.sleep(0.2)
        else:
            raise RuntimeError(f"dougong serve did not start:\n{log.read_text()[-3000:]}")
        ready = time.perf_counter() - started
        time.sleep(0.5)
        return {"brands": len(paths), "rss_mib": rss_kib(process.pid) / 1024, "ready_s": ready}
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def run(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--brands", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="5 brands instead of 20")
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "memory.json"))
    args = parser.parse_args(argv)
    if args.quick:
        args.brands = 5
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        paths = write_blueprints(tmp, args.brands)
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        done = subprocess.run([sys.executable, "-c", STEPWISE, *map(str, paths)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        if done.returncode:
            raise RuntimeError(done.stderr[-3000:])
        steps = json.loads(done.stdout.strip().splitlines()[-1])
        one = served_rss(paths[:1], tmp / "serve-1.log")
        many = served_rss(paths, tmp / f"serve-{args.brands}.log")

    imported, after = steps["imported"] / 1024, [a / 1024 for a in steps["after"]]
    n = len(after)
    stepwise = {
        "imported_mib": imported, "after_first_brand_mib": after[0], "after_all_mib": after[-1],
        "first_brand_mib": after[0] - imported, "per_further_brand_mib": (after[-1] - after[0]) / (n - 1),
        "per_brand_mib": (after[-1] - imported) / n, "curve_mib": after, "with_app_mib": steps["with_app"] / 1024, "components_per_brand": steps["components"],
    }
    served = {"one_brand": one, "all_brands": many, "per_further_brand_mib": (many["rss_mib"] - one["rss_mib"]) / (n - 1)}
    boot_file = ROOT / "bench" / "results" / "boot.json"
    boot = json.loads(boot_file.read_text())["results"] if boot_file.exists() else {}

    print(f"{n} brand blueprints (components per brand incl. dependencies: {min(steps['components'])}–{max(steps['components'])}), SQLite each")
    print(f"{'measure':<48} {'MiB':>8}")
    print(f"{'process with dougong imported, no brand':<48} {imported:>8.1f}")
    print(f"{'+ first brand (imports its components)':<48} {stepwise['first_brand_mib']:>8.1f}")
    print(f"{'+ each further brand, average':<48} {stepwise['per_further_brand_mib']:>8.1f}")
    print(f"{'all brands booted, one process':<48} {after[-1]:>8.1f}")
    print(f"{'... and their app (a router per brand)':<48} {stepwise['with_app_mib']:>8.1f}")
    print(f"{'dougong serve, 1 brand (RSS when healthy)':<48} {one['rss_mib']:>8.1f}   ready in {one['ready_s']:.1f} s")
    print(f"{f'dougong serve, {n} brands':<48} {many['rss_mib']:>8.1f}   ready in {many['ready_s']:.1f} s")
    print(f"{'dougong serve, per further brand':<48} {served['per_further_brand_mib']:>8.1f}")
    print(f"{'ratio: per further brand / 1-brand server':<48} {served['per_further_brand_mib'] / one['rss_mib']:>8.3f}")
    if "100 components" in boot:
        b = boot["100 components"]
        print(f"\nboot of a 100-component blueprint (bench/results/boot.json): schema {b['schema_build_s']:.3f} s, "
              f"with tables {b['boot_with_tables_s']:.3f} s, plain strawberry baseline {b['baseline_plain_strawberry_s']:.3f} s "
              f"(ratio {b['ratio_vs_baseline']:.1f})")
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    result = {"machine": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
              "load_average": os.getloadavg(), "brands": n, "stepwise": stepwise, "served": served,
              "boot_100_components": boot.get("100 components")}
    out.write_text(json.dumps(result, indent=2))
    print(f"wrote {out}")
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Entry point for a runner: defaults unless ``argv`` is given (never this process's own argv)."""
    return run(argv or [])


if __name__ == "__main__":
    main(sys.argv[1:])
