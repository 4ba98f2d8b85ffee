"""Discovery through entry points: good components found, broken ones reported, never raised."""

from __future__ import annotations

import sys
import textwrap
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

import registry.discovery
from registry import InstalledComponent, Manifest, discover

GROUP = "dougong.components"


def write_module(root: Path, name: str, body: str) -> None:
    (root / f"{name}.py").write_text(textwrap.dedent(body))


def manifest_module(name: str) -> str:
    return f"""
        from registry.manifest import Manifest
        manifest = Manifest(name={name!r}, version="1.2.3", summary="fake", hooks="x")
    """


@pytest.fixture
def fake_entry_points(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Install entry points (name, module) for GROUP; modules are written to tmp_path."""
    monkeypatch.syspath_prepend(str(tmp_path))

    def install(*pairs: tuple[str, str]) -> None:
        entries = [EntryPoint(name=name, value=value, group=GROUP) for name, value in pairs]
        monkeypatch.setattr(registry.discovery, "entry_points", lambda group: [e for e in entries if e.group == group])

    yield install
    for name in [m for m in sys.modules if m.startswith("fakecomp_")]:
        del sys.modules[name]


def test_the_built_in_components_are_found_through_our_own_entry_points():
    found, problems = discover()
    assert problems == []
    assert {"catalog", "orders"} <= set(found)
    catalog = found["catalog"]
    assert isinstance(catalog, InstalledComponent) and isinstance(catalog.manifest, Manifest)
    assert catalog.module == "components.catalog" and catalog.distribution == "dougong"


def test_good_and_broken_components_side_by_side(tmp_path: Path, fake_entry_points):
    write_module(tmp_path, "fakecomp_good", manifest_module("good"))
    write_module(tmp_path, "fakecomp_boom", "raise RuntimeError('import-time bug')\n")
    write_module(tmp_path, "fakecomp_bare", "x = 1\n")
    write_module(tmp_path, "fakecomp_renamed", manifest_module("other_name"))
    fake_entry_points(
        ("good", "fakecomp_good"),
        ("boom", "fakecomp_boom"),
        ("bare", "fakecomp_bare"),
        ("renamed", "fakecomp_renamed"),
        ("absent", "fakecomp_absent"),
    )
    found, problems = discover()
    assert list(found) == ["good"]
    assert found["good"].module == "fakecomp_good" and found["good"].distribution is None
    assert found["good"].manifest.version == "1.2.3"
    text = "\n".join(problems)
    assert len(problems) == 4, text
    assert "'boom'" in text and "import-time bug" in text
    assert "'absent'" in text and "cannot import 'fakecomp_absent'" in text
    assert "'bare'" in text and "has no `manifest = Manifest(...)`" in text
    assert "entry point 'renamed' names a manifest called 'other_name'" in text


def test_the_same_name_from_two_modules_is_a_duplicate(tmp_path: Path, fake_entry_points):
    write_module(tmp_path, "fakecomp_one", manifest_module("twin"))
    write_module(tmp_path, "fakecomp_two", manifest_module("twin"))
    fake_entry_points(("twin", "fakecomp_one"), ("twin", "fakecomp_two"))
    found, problems = discover()
    assert found["twin"].module == "fakecomp_one"  # sorted by module path: stable choice
    assert len(problems) == 1 and "'twin' is installed twice" in problems[0]


def test_another_group_is_separate(tmp_path: Path, fake_entry_points):
    write_module(tmp_path, "fakecomp_good2", manifest_module("good2"))
    fake_entry_points(("good2", "fakecomp_good2"))
    assert discover("some.other.group") == ({}, [])
