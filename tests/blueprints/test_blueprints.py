"""Every blueprint in blueprints/ validates, boots, and produces the SDL in its snapshot.

A changed snapshot is a changed public contract for frontends: regenerate deliberately with
``DOUGONG_UPDATE_SNAPSHOTS=1 bin/test tests/blueprints`` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.blueprint import check_blueprint
from core.kernel import Kernel

ROOT = Path(__file__).resolve().parents[2]
BLUEPRINTS = sorted((ROOT / "blueprints").glob("*.yaml"))
SNAPSHOTS = Path(__file__).parent / "snapshots"


def test_there_are_blueprints():
    assert any(p.name == "demo.yaml" for p in BLUEPRINTS)


@pytest.mark.parametrize("path", BLUEPRINTS, ids=[p.stem for p in BLUEPRINTS])
def test_blueprint_validates(path: Path):
    problems = check_blueprint(path, env={})
    assert problems == [], "\n".join(map(str, problems))


@pytest.mark.parametrize("path", BLUEPRINTS, ids=[p.stem for p in BLUEPRINTS])
async def test_blueprint_boots_with_demo_data_and_matches_snapshot(path: Path, tmp_path: Path, graphql):
    kernel = Kernel.from_file(path, database_url=f"sqlite+aiosqlite:///{tmp_path / 'b.sqlite'}")
    await kernel.start(seed_demo=True)
    try:
        sdl = kernel.schema.as_str() + "\n"
        snapshot = SNAPSHOTS / f"{path.stem}.graphql"
        if os.environ.get("DOUGONG_UPDATE_SNAPSHOTS") == "1":
            snapshot.write_text(sdl, encoding="utf-8")
        assert snapshot.exists(), f"no snapshot for {path.name}: run with DOUGONG_UPDATE_SNAPSHOTS=1 and commit it"
        assert sdl == snapshot.read_text(encoding="utf-8"), f"SDL of {path.name} changed; see the docstring"
        brand = (await graphql(kernel).data("{ brand { slug } }"))["brand"]
        assert brand["slug"] == kernel.blueprint.brand.slug
    finally:
        await kernel.stop()
