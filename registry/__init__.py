"""Finding components: entry points, manifests, versions, dependency resolution, lock files."""

from registry.manifest import Manifest

__all__ = ["Manifest"]
