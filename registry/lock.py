"""Lock files: the component versions a blueprint resolved to, kept beside it.

A brand's deployment is reproducible when its lock file is committed next to its blueprint;
``serve`` warns when what is installed differs from it.
"""

from __future__ import annotations

import json
from pathlib import Path

from registry.resolve import Resolution


def lock_path(blueprint_path: str | Path) -> Path:
    path = Path(blueprint_path)
    return path.with_name(path.stem + ".lock.json")


def _locked(resolution: Resolution, kernel_version: str) -> dict:
    return {
        "kernel": kernel_version,
        "components": {
            c.manifest.name: {"version": c.manifest.version, "distribution": c.distribution}
            for c in sorted(resolution.order, key=lambda c: c.manifest.name)
        },
    }


def write_lock(blueprint_path: str | Path, resolution: Resolution, kernel_version: str | None = None) -> Path:
    """Write ``<stem>.lock.json`` beside the blueprint; the same resolution gives the same bytes."""
    import core

    path = lock_path(blueprint_path)
    path.write_text(json.dumps(_locked(resolution, kernel_version or core.__version__), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def lock_differences(blueprint_path: str | Path, resolution: Resolution, kernel_version: str) -> list[str]:
    """One sentence per difference between the lock and ``resolution``; [] without a lock file."""
    path = lock_path(blueprint_path)
    if not path.exists():
        return []
    try:
        locked = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return [f"{path.name} cannot be read: {exc}"]
    if not isinstance(locked, dict) or not isinstance(locked.get("components", {}), dict):
        return [f"{path.name} is not a dougong lock file; run `dougong lock` again"]
    current = _locked(resolution, kernel_version)
    differences = []
    if locked.get("kernel") != kernel_version:
        differences.append(f"kernel: locked {locked.get('kernel')}, installed {kernel_version}")
    new = current["components"]
    # Hand-edited entries are tolerated: anything but a mapping reads as "no version".
    old = {name: entry if isinstance(entry, dict) else {} for name, entry in locked.get("components", {}).items()}
    for name in sorted(set(old) | set(new)):
        if name not in new:
            differences.append(f"{name}: locked {old[name].get('version')}, no longer used")
        elif name not in old:
            differences.append(f"{name}: installed {new[name]['version']}, not in the lock")
        elif old[name].get("version") != new[name]["version"]:
            differences.append(f"{name}: locked {old[name].get('version')}, installed {new[name]['version']}")
    return differences
