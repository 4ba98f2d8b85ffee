"""The example third-party component, examples/dougong-checkin, ships as a wheel: built offline,
installed into a fresh virtual environment, found through its entry point, keeping the
component contract, and booting the blueprint that uses it (blueprints/checkin.yaml)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from core.testing_venv import layered_venv, pip_install, run

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "dougong-checkin"


def test_the_wheel_installs_into_a_fresh_venv_and_keeps_the_contract(tmp_path: Path) -> None:
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                            "--no-index", "-w", str(tmp_path / "dist"), str(EXAMPLE)],
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = (tmp_path / "dist").glob("dougong_checkin-0.1.0-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "dougong_checkin/README.md" in names  # the README travels: dougong check reads it
    assert any(n.startswith("dougong_checkin/migrations/") and n.endswith("_checkin_tables.py") for n in names)
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "checkin = dougong_checkin" in zipfile.ZipFile(wheel).read(entry_points).decode()

    python = layered_venv(tmp_path / "venv")
    done = pip_install(python, str(wheel), cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    where = run(str(python), "-c", "import dougong_checkin; print(dougong_checkin.__file__)", cwd=tmp_path)
    assert where.stdout.startswith(str(tmp_path / "venv")), where.stdout + where.stderr  # the wheel's copy, not ours

    check = run(str(python), "-m", "core.cli", "check", "checkin", cwd=tmp_path)
    assert check.returncode == 0 and "checkin: ok" in check.stdout, check.stdout + check.stderr
    validate = run(str(python), "-m", "core.cli", "validate", str(ROOT / "blueprints" / "checkin.yaml"), cwd=tmp_path)
    assert validate.returncode == 0 and "ok (3 components: catalog, members, checkin)" in validate.stdout, (
        validate.stdout + validate.stderr)
