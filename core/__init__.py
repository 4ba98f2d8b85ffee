"""dougong's kernel: blueprints in, one GraphQL schema out.

The kernel itself is version-ranged by components (``Manifest.kernel``), so this
version is part of the public contract.
"""

__version__ = "0.1.0"
