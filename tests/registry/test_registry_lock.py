"""Lock files: written beside the blueprint, stable, and compared with what is installed."""

from __future__ import annotations

import json
from pathlib import Path

from registry import InstalledComponent, Manifest, lock_differences, lock_path, resolve, write_lock


def fake(name: str, version: str = "1.0.0", depends: dict[str, str] | None = None, distribution: str | None = "acme-dougong") -> InstalledComponent:
    manifest = Manifest(name=name, version=version, summary=name, hooks=f"fake.{name}.hooks", depends=depends or {})
    return InstalledComponent(manifest, module=f"fake.{name}", distribution=distribution)


def resolved(*components: InstalledComponent, request: tuple[str, ...] = ("group_buy",)):
    resolution, problems = resolve({name: None for name in request}, {c.manifest.name: c for c in components}, "0.1.0")
    assert problems == []
    return resolution


BASE = (fake("catalog", distribution="dougong"), fake("orders", depends={"catalog": ""}, distribution="dougong"),
        fake("group_buy", depends={"orders": ""}))


def test_lock_is_written_beside_the_blueprint_sorted(tmp_path: Path):
    blueprint = tmp_path / "maple-tea.yaml"
    path = write_lock(blueprint, resolved(*BASE))
    assert path == tmp_path / "maple-tea.lock.json" == lock_path(blueprint)
    assert json.loads(path.read_text()) == {
        "kernel": "0.1.0",
        "components": {
            "catalog": {"version": "1.0.0", "distribution": "dougong"},
            "group_buy": {"version": "1.0.0", "distribution": "acme-dougong"},
            "orders": {"version": "1.0.0", "distribution": "dougong"},
        },
    }
    assert list(json.loads(path.read_text())["components"]) == ["catalog", "group_buy", "orders"]


def test_lock_output_is_stable(tmp_path: Path):
    blueprint = tmp_path / "b.yaml"
    first = write_lock(blueprint, resolved(*BASE)).read_bytes()
    # Same components found in another order must give the same bytes (no diff noise in git).
    second = write_lock(blueprint, resolved(*reversed(BASE))).read_bytes()
    assert first == second and first.endswith(b"\n")


def test_no_lock_file_means_no_differences(tmp_path: Path):
    assert lock_differences(tmp_path / "b.yaml", resolved(*BASE), "0.1.0") == []


def test_round_trip_then_every_kind_of_difference(tmp_path: Path):
    blueprint = tmp_path / "b.yaml"
    write_lock(blueprint, resolved(*BASE))
    assert lock_differences(blueprint, resolved(*BASE), "0.1.0") == []

    upgraded = (BASE[0], BASE[1], fake("group_buy", "1.1.0", depends={"orders": ""}))
    assert lock_differences(blueprint, resolved(*upgraded), "0.1.0") == ["group_buy: locked 1.0.0, installed 1.1.0"]
    assert lock_differences(blueprint, resolved(*BASE), "0.2.0") == ["kernel: locked 0.1.0, installed 0.2.0"]

    fewer = resolved(*BASE, request=("orders",))
    assert lock_differences(blueprint, fewer, "0.1.0") == ["group_buy: locked 1.0.0, no longer used"]
    more = resolved(*BASE, fake("points_mall", "2.0.0"), request=("group_buy", "points_mall"))
    assert lock_differences(blueprint, more, "0.1.0") == ["points_mall: installed 2.0.0, not in the lock"]


def test_unreadable_or_foreign_lock_is_reported_not_raised(tmp_path: Path):
    blueprint = tmp_path / "b.yaml"
    lock_path(blueprint).write_text("{not json")
    [difference] = lock_differences(blueprint, resolved(*BASE), "0.1.0")
    assert "b.lock.json cannot be read" in difference
    lock_path(blueprint).write_text('["a", "list"]')
    assert lock_differences(blueprint, resolved(*BASE), "0.1.0") == ["b.lock.json is not a dougong lock file; run `dougong lock` again"]
    lock_path(blueprint).write_text('{"kernel": "0.1.0", "components": {"catalog": "1.0.0", "orders": {"version": "1.0.0"}, "group_buy": {"version": "1.0.0"}}}')
    assert lock_differences(blueprint, resolved(*BASE), "0.1.0") == ["catalog: locked None, installed 1.0.0"]
