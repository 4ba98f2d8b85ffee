"""Components built from inline files, tox 4 style (part of dougong's pytest plugin,
re-exported by :mod:`core.testing`): :func:`make_component` for an in-process kernel,
:func:`write_component_distribution` for other processes that discover components by entry point."""

from __future__ import annotations

import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def make_component(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``make_component("widget", hooks=SOURCE, depends={"catalog": ""}, files={"models.py": SRC})``
    writes a component package under ``tmp_path`` (a unique module name, so tests never share
    module state) and returns its :class:`registry.discovery.InstalledComponent`. Pass a dict
    of those as ``installed=`` to ``kernel_factory``."""
    from registry.discovery import InstalledComponent
    from registry.manifest import EMPTY_SETTINGS_SCHEMA, Manifest

    root = tmp_path / "inline_components"
    root.mkdir(exist_ok=True)
    monkeypatch.syspath_prepend(str(root))

    def make(
        name: str,
        *,
        hooks: str = "",
        version: str = "1.0.0",
        depends: dict[str, str] | None = None,
        settings_schema: dict[str, Any] | None = None,
        kernel: str = ">=0.1",
        files: dict[str, str] | None = None,
        summary: str = "an inline test component",
    ) -> Any:
        package = f"inline_{name}_{uuid.uuid4().hex[:8]}"
        folder = root / package
        folder.mkdir()
        (folder / "__init__.py").write_text("")
        (folder / "hooks.py").write_text(textwrap.dedent(hooks))
        for filename, source in (files or {}).items():
            (folder / filename).write_text(textwrap.dedent(source))
        import importlib

        importlib.invalidate_caches()
        manifest = Manifest(
            name=name,
            version=version,
            summary=summary,
            hooks=f"{package}.hooks",
            kernel=kernel,
            depends=dict(depends or {}),
            settings_schema=settings_schema or dict(EMPTY_SETTINGS_SCHEMA),
        )
        return InstalledComponent(manifest=manifest, module=package, distribution=None)

    return make


def write_component_distribution(root: Path, name: str, *, hooks: str, version: str = "1.0.0", depends: dict[str, str] | None = None) -> Path:
    """Write component ``name`` under ``root`` as an installed distribution would look: a
    package plus a ``*.dist-info`` declaring the ``dougong.components`` entry point. Put
    ``root`` on ``PYTHONPATH`` and other processes (``dougong serve``, workers) discover it
    exactly like a pip-installed component. Returns ``root``."""
    package = f"dougong_test_{name}"
    folder = root / package
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "__init__.py").write_text(
        textwrap.dedent(f"""\
        from registry.manifest import Manifest
        manifest = Manifest(name={name!r}, version={version!r}, summary="a component written by a test",
                            hooks="{package}.hooks", kernel=">=0.1", depends={dict(depends or {})!r},
                            settings_schema={{"type": "object", "additionalProperties": False, "properties": {{}}}})
    """)
    )
    (folder / "hooks.py").write_text(textwrap.dedent(hooks))
    info = root / f"{package}-{version}.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {package}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[dougong.components]\n{name} = {package}\n")
    return root
