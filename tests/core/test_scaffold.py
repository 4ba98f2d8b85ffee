"""``dougong new component NAME`` writes a package that installs, passes its own tests and
``dougong check`` unchanged.

The package is installed (editable, ``--no-deps``) into a fresh virtual environment that sees
this environment's packages through a ``.pth`` line, so nothing is downloaded and dougong
itself is the very code under test; the component is then found through its entry point like
any third-party one.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from core.cli import app
from core.scaffold import ScaffoldError, check_name, words, write_component
from core.testing_venv import layered_venv, pip_install, run


def test_a_new_component_installs_passes_its_tests_and_the_check(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["new", "component", "gift_card", "--into", str(tmp_path)])
    assert result.exit_code == 0, result.output
    package = tmp_path / "dougong-gift-card"
    written = {p.relative_to(package).as_posix() for p in package.rglob("*") if p.is_file()}
    assert {"pyproject.toml", "dougong_gift_card/__init__.py", "dougong_gift_card/hooks.py", "dougong_gift_card/models.py",
            "dougong_gift_card/service.py", "dougong_gift_card/graphql.py", "dougong_gift_card/demo.py",
            "dougong_gift_card/README.md", "tests/test_gift_card.py"} <= written
    assert any(p.startswith("dougong_gift_card/migrations/") and p.endswith("_gift_card_tables.py") for p in written)

    python = layered_venv(tmp_path / "venv")
    done = pip_install(python, "-e", str(package), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr

    # Its own tests (one of them runs the check from Python), and `dougong check` as the pytest
    # option; the command line's `dougong check` runs on the example component's wheel
    # (test_example_component_wheel.py), so it is not repeated here.
    tests = run(str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "--dougong-check", "gift_card", cwd=package)
    assert tests.returncode == 0, tests.stdout[-4000:] + tests.stderr[-2000:]
    assert "5 passed" in tests.stdout and "gift_card: ok" in tests.stdout


def test_the_names_a_component_is_spelt_in() -> None:
    assert {k: words("gift_card")[k] for k in ("NAME", "Name", "nameCamel", "package", "dist")} == {
        "NAME": "GIFT_CARD", "Name": "GiftCard", "nameCamel": "giftCard", "package": "dougong_gift_card", "dist": "dougong-gift-card"}


@pytest.mark.parametrize("bad", ["GiftCard", "gift-card", "1card", "gift__card", "class", "core", "x" * 41])
def test_a_bad_name_is_refused_with_the_reason(bad: str) -> None:
    with pytest.raises(ScaffoldError):
        check_name(bad)


def test_it_never_writes_over_a_folder_with_files(tmp_path: Path) -> None:
    (tmp_path / "dougong-gift-card").mkdir()
    (tmp_path / "dougong-gift-card" / "mine.txt").write_text("keep me")
    with pytest.raises(ScaffoldError, match="not empty"):
        write_component("gift_card", tmp_path)
    result = CliRunner().invoke(app, ["new", "component", "Gift", "--into", str(tmp_path)])
    assert result.exit_code == 1 and "snake_case" in result.output
