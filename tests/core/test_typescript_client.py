"""A TypeScript client from `dougong schema`, as a frontend team builds it.

graphql-codegen (``typescript`` + ``typescript-operations``) generates the types of the demo
schema and of every example operation the components ship, and ``tsc --strict`` compiles them.
Every custom scalar must be mapped to its wire type (an unmapped one fails: ``strictScalars``),
so a new scalar cannot reach frontends undocumented.

``unknown`` in a generated type means the schema gave no shape: the ``JSON`` scalar. The set of
fields and arguments still typed ``JSON`` is written out below and must match the schema
exactly: a new one fails, and one that gains a shape is struck from the list on purpose (its old
JSON form may stay one release as a deprecated alias; deprecated fields are not listed).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from graphql import GraphQLInputObjectType, GraphQLObjectType, OperationDefinitionNode, parse
from graphql.type import get_named_type

from core import testing_npm
from core.kernel import Kernel
from core.testing_servers import _skip_or_fail

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "tests" / "typescript"

# Each custom scalar's wire form (what the README's scalar section states).
SCALARS = {"Long": "number", "DateTime": "string", "Date": "string", "JSON": "unknown"}

# Where the schema still says `JSON`, by why. Issue 18 typed every field of a known shape (the
# JSON ones stay one release as deprecated aliases, which json_typed skips); what is left is open
# by nature.
STILL_UNTYPED = {
    "open by nature (a JSON Schema document a form is built from)": {"StorefrontBlockType.settingsSchema"},
}


def json_typed(schema) -> set[str]:  # noqa: ANN001
    found = set()
    for name, named in schema.type_map.items():
        if name.startswith("__"):
            continue
        if isinstance(named, (GraphQLObjectType, GraphQLInputObjectType)):
            for field_name, field in named.fields.items():
                # A deprecated alias kept one release beside its typed successor is not listed.
                if get_named_type(field.type).name == "JSON" and not field.deprecation_reason:
                    found.add(f"{name}.{field_name}")
                for arg_name, arg in getattr(field, "args", {}).items():
                    if get_named_type(arg.type).name == "JSON" and not arg.deprecation_reason:
                        found.add(f"{name}.{field_name}({arg_name})")
    return found


def operations(kernel: Kernel) -> tuple[str, list[tuple[str, str]]]:
    """Every example operation and the storefront page's, renamed where two share a name
    (codegen needs them unique); with each operation's (name, kind)."""
    seen: set[str] = set()
    texts, named = [], []
    sources = [example.document for example in kernel.contributions.examples.values()]
    sources.append((ROOT / "bench" / "storefront_page.graphql").read_text(encoding="utf-8"))
    for source in sources:
        document = parse(source)
        for definition in reversed(document.definitions):  # from the end: earlier offsets stay right
            if isinstance(definition, OperationDefinitionNode) and definition.name and definition.name.loc:
                name = definition.name.value
                while name in seen:
                    name += "Again"
                seen.add(name)
                source = source[: definition.name.loc.start] + name + source[definition.name.loc.end :]
                named.append((name, definition.operation.value))
        texts.append(source)
    return "\n\n".join(texts), named


@pytest.fixture(scope="module")
def node_packages() -> Path:
    folder, problem = testing_npm.install(PROJECT)
    if folder is None:
        _skip_or_fail(f"the TypeScript client check needs npm packages: {problem}")
    return folder


@pytest.fixture(scope="module")
def demo_kernel(tmp_path_factory) -> Kernel:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('ts') / 'demo.db'}"
    return Kernel.from_file(ROOT / "blueprints" / "demo.yaml", database_url=url)


def test_the_generated_client_compiles_with_strict_typescript(node_packages, demo_kernel, tmp_path):
    work = tmp_path / "client"
    work.mkdir()
    (work / "node_modules").symlink_to(node_packages / "node_modules")
    (work / "codegen.mjs").write_text((PROJECT / "codegen.mjs").read_text(encoding="utf-8"), encoding="utf-8")
    (work / "schema.graphql").write_text(demo_kernel.schema.as_str(), encoding="utf-8")
    text, named = operations(demo_kernel)
    (work / "operations.graphql").write_text(text, encoding="utf-8")
    (work / "scalars.json").write_text(json.dumps(SCALARS), encoding="utf-8")
    env = {**os.environ, "NODE_OPTIONS": ""}
    generated = subprocess.run(
        ["node", "codegen.mjs", "schema.graphql", "operations.graphql", "scalars.json", "client.ts"],
        cwd=work, capture_output=True, text=True, timeout=300, env=env,
    )
    assert generated.returncode == 0, f"graphql-codegen failed:\n{generated.stderr[-3000:]}"
    client = (work / "client.ts").read_text(encoding="utf-8")
    for name, kind in named:  # each operation has its result and variables types
        result = name + kind.capitalize()
        assert f"export type {result} = " in client and f"export type {result}Variables = " in client, result
    compiled = subprocess.run(
        [str(work / "node_modules" / ".bin" / "tsc"), "--strict", "--noEmit", "--target", "es2022", "--skipLibCheck", "client.ts"],
        cwd=work, capture_output=True, text=True, timeout=300, env=env,
    )
    assert compiled.returncode == 0, f"tsc --strict refused the generated client:\n{(compiled.stdout + compiled.stderr)[-3000:]}"
    assert ": any" not in client, "a value typed `any` reached the client"


def test_every_untyped_json_value_is_known_and_listed(demo_kernel):
    schema = demo_kernel.schema._schema
    listed = set().union(*STILL_UNTYPED.values())
    assert json_typed(schema) == listed
