"""A component published as its own pip package works exactly like a built-in one.

The package is built from files written here (its own pyproject.toml and entry point in the
``dougong.components`` group), installed with pip into a private target folder, found by the
registry's entry-point discovery and used from a plain blueprint.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import textwrap

import pytest

from core.kernel import Kernel
from registry.discovery import discover

PYPROJECT = """
[build-system]
requires = ["setuptools>=69"]
build-backend = "setuptools.build_meta"

[project]
name = "acme-fortune"
version = "1.2.0"

[project.entry-points."dougong.components"]
fortune = "acme_fortune"

[tool.setuptools]
packages = ["acme_fortune"]
"""

INIT = """
from registry.manifest import Manifest

manifest = Manifest(
    name="fortune",
    version="1.2.0",
    summary="A fortune cookie with every query",
    hooks="acme_fortune.hooks",
    kernel=">=0.1,<1",
    settings_schema={
        "type": "object",
        "additionalProperties": False,
        "properties": {"message": {"type": "string", "minLength": 1, "default": "好运"}},
    },
)
"""

HOOKS = """
import strawberry
from core.hookspecs import hookimpl


@hookimpl
def dougong_schema(registrar):
    message = registrar.settings["message"]

    @strawberry.type
    class Query:
        @strawberry.field
        def fortune(self) -> str:
            return message

    registrar.query(Query)
"""


@pytest.fixture(scope="module")
def installed_package(tmp_path_factory: pytest.TempPathFactory):
    source = tmp_path_factory.mktemp("acme-fortune")
    (source / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT))
    package = source / "acme_fortune"
    package.mkdir()
    (package / "__init__.py").write_text(textwrap.dedent(INIT))
    (package / "hooks.py").write_text(textwrap.dedent(HOOKS))
    target = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--target", str(target), str(source)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    sys.path.insert(0, str(target))
    importlib.invalidate_caches()
    try:
        yield target
    finally:
        sys.path.remove(str(target))
        for name in [m for m in sys.modules if m.startswith("acme_fortune")]:
            del sys.modules[name]
        importlib.invalidate_caches()


def test_discovered_through_its_entry_point(installed_package):
    components, problems = discover()
    assert "fortune" in components, problems
    found = components["fortune"]
    assert found.manifest.version == "1.2.0"
    assert found.module == "acme_fortune"
    assert found.distribution == "acme-fortune"


async def test_used_from_a_blueprint_like_a_builtin(installed_package, tmp_path, graphql):
    path = tmp_path / "brand.yaml"
    path.write_text(
        "dougong: 1\n"
        "brand: {slug: acme, name: Acme, currency: CNY, timezone: Asia/Shanghai}\n"
        "components:\n"
        "  fortune: {message: 万事如意}\n"
    )
    kernel = Kernel.from_file(path, database_url=f"sqlite+aiosqlite:///{tmp_path / 'acme.sqlite'}")
    await kernel.start()
    try:
        assert (await graphql(kernel).data("{ fortune }")) == {"fortune": "万事如意"}
        assert "fortune: String!" in kernel.schema.as_str()
    finally:
        await kernel.stop()
