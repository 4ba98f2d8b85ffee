"""Finding components: entry points, manifests, versions, dependency resolution, lock files."""

from registry.discovery import GROUP, InstalledComponent, discover
from registry.lock import lock_differences, lock_path, write_lock
from registry.manifest import Manifest
from registry.resolve import Resolution, ResolutionProblem, resolve

__all__ = [
    "GROUP",
    "InstalledComponent",
    "Manifest",
    "Resolution",
    "ResolutionProblem",
    "discover",
    "lock_differences",
    "lock_path",
    "resolve",
    "write_lock",
]
