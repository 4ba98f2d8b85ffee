"""Every benchmark script in bench/ still starts: ``--help`` exits 0.

The benchmarks are run by hand at quiet moments, so nothing else notices when a merge leaves
one broken (two branches each adding the same option once made ``bench/storefront.py``
refuse to start with argparse's "conflicting option string")."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = sorted(p for p in (ROOT / "bench").glob("*.py") if "argparse" in p.read_text(encoding="utf-8"))


def _help(script: Path) -> tuple[str, int, str]:
    done = subprocess.run([sys.executable, str(script), "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    return script.name, done.returncode, done.stderr[-800:]


def test_every_bench_script_answers_help() -> None:
    assert len(SCRIPTS) >= 15, SCRIPTS  # the glob found the scripts
    with ThreadPoolExecutor(max_workers=4) as pool:
        failed = [(name, code, err) for name, code, err in pool.map(_help, SCRIPTS) if code != 0]
    assert not failed, failed
