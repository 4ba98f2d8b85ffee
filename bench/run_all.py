"""Run every bench in ``bench/`` and print one combined table.

A bench is a module ``bench/<name>.py`` that defines ``main()`` (sync or async); new benches
are picked up without touching this file. Each runs in its own process (as
``python bench/<name>.py``, so its own argument defaults apply), one after the other: they
measure throughput, and two at once on a small machine would measure each other. Its own
output (its table) is shown as it runs; the combined table at the end lists every bench, its
exit status, its wall time and the results file it wrote.

    python bench/run_all.py [--only storefront,boot] [--skip NAME,...] [--timeout 900]
"""

from __future__ import annotations

import argparse
import ast
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent


def discover() -> list[Path]:
    """``bench/*.py`` modules with a top-level ``main`` function (this runner excluded)."""
    found = []
    for path in sorted(BENCH.glob("*.py")):
        if path.name.startswith("_") or path.resolve() == Path(__file__).resolve():
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        if any(isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == "main" for node in tree.body):
            found.append(path)
    return found


def newest_result(since: float) -> list[str]:
    results = BENCH / "results"
    if not results.is_dir():
        return []
    return [str(p.relative_to(ROOT)) for p in sorted(results.glob("*.json")) if p.stat().st_mtime >= since]


def main() -> None:
    parser = argparse.ArgumentParser(description="Run every bench in bench/ and print a combined table.")
    parser.add_argument("--only", default="", help="comma-separated bench names to run")
    parser.add_argument("--skip", default="", help="comma-separated bench names to leave out")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds allowed per bench")
    args = parser.parse_args()
    only = {n for n in args.only.split(",") if n}
    skip = {n for n in args.skip.split(",") if n}
    benches = [p for p in discover() if (not only or p.stem in only) and p.stem not in skip]
    rows = []
    for path in benches:
        print(f"\n=== {path.stem} ===", flush=True)
        started = time.time()
        try:
            done = subprocess.run([sys.executable, str(path)], cwd=ROOT, timeout=args.timeout)
            status = "ok" if done.returncode == 0 else f"exit {done.returncode}"
        except subprocess.TimeoutExpired:
            status = "timeout"
        rows.append((path.stem, status, time.time() - started, ", ".join(newest_result(started)) or "-"))
    print(f"\n{'bench':<28} {'status':<9} {'seconds':>8}  results")
    for name, status, seconds, results in rows:
        print(f"{name:<28} {status:<9} {seconds:>8.1f}  {results}")
    if any(status != "ok" for _, status, _, _ in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
