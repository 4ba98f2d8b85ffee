"""Boot time: load → resolve → register → collect → schema → tables.

Measures the demo blueprint and a generated blueprint of N components (each with a table, a
Node type, a query, a mutation with payload, an error code, a permission, a dataloader and an
extension of a dependency's type), beside a baseline: plain strawberry building a schema of
the same generated types in the same process, with no kernel.

    python bench/boot.py [--components 100] [--repeat 5] [--json bench/results/boot.json]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import platform
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.kernel import Kernel  # noqa: E402
from registry.discovery import InstalledComponent, discover  # noqa: E402
from registry.manifest import Manifest  # noqa: E402

TYPES = """
import strawberry
from sqlalchemy import Column, Integer, MetaData, String, Table
from core.gql import Node, Payload

metadata = MetaData()
table = Table("gen{i}_item", metadata, Column("id", Integer, primary_key=True), Column("name", String(40)))

@strawberry.type(name="Gen{i}Item")
class Item(Node):
    name: str

@strawberry.input(name="MakeGen{i}ItemInput")
class MakeInput:
    name: str

@strawberry.type(name="MakeGen{i}ItemPayload")
class MakePayload(Payload):
    item: Item | None = None

@strawberry.type
class Query:
    @strawberry.field(name="gen{i}Items")
    def items(self) -> list[Item]:
        return []

@strawberry.type
class Mutation:
    @strawberry.mutation(name="makeGen{i}Item")
    def make(self, input: MakeInput) -> MakePayload:
        return MakePayload()
"""

HOOKS = """
from core.hookspecs import hookimpl
from . import types

async def load(ctx, keys):
    return [None for _ in keys]

def sibling(root) -> int:
    return 0

@hookimpl
def dougong_tables(registrar):
    registrar.table(types.table)

@hookimpl
def dougong_schema(registrar):
    registrar.query(types.Query)
    registrar.mutation(types.Mutation)
    registrar.node(types.Item, load)
    {extend}

@hookimpl
def dougong_error_codes(registrar):
    registrar.error_code("GEN{i}_NOT_ALLOWED", "generated")

@hookimpl
def dougong_permissions(registrar):
    registrar.permission("gen{i}.manage", "generated")

@hookimpl
def dougong_dataloaders(registrar):
    registrar.dataloader("gen{i}.items", load)
"""


def generate(count: int, folder: Path) -> dict[str, InstalledComponent]:
    sys.path.insert(0, str(folder))
    installed = {}
    for i in range(count):
        package = folder / f"gen{i}_pkg"
        package.mkdir()
        (package / "__init__.py").write_text("")
        (package / "types.py").write_text(textwrap.dedent(TYPES).replace("{i}", str(i)))
        # Every component after the first depends on its predecessor and extends its type,
        # so resolution, ordering and extension checks all do real work.
        extend = f'registrar.extend("Gen{i - 1}Item", "gen{i}Sibling", sibling)' if i else "pass"
        (package / "hooks.py").write_text(textwrap.dedent(HOOKS).replace("{i}", str(i)).replace("{extend}", extend))
        depends = {f"gen{i - 1}": ">=1.0"} if i else {}
        manifest = Manifest(name=f"gen{i}", version="1.0.0", summary="generated", hooks=f"gen{i}_pkg.hooks", depends=depends)
        installed[manifest.name] = InstalledComponent(manifest, f"gen{i}_pkg", None)
    importlib.invalidate_caches()
    return installed


def blueprint_text(names: list[str], slug: str) -> str:
    lines = ["dougong: 1", f"brand: {{slug: {slug}, name: Bench, currency: CNY, timezone: Asia/Shanghai}}", "components:"]
    lines += [f"  {name}: {{}}" for name in names]
    return "\n".join(lines) + "\n"


async def boot_once(text: str, path: Path, installed, db: Path, *, replay: bool = False, seed_demo: bool = False) -> tuple[float, float, float]:
    """Build, migrate a fresh SQLite file and start. ``replay``: every revision run one by one (as
    before a fresh database was created from the models and stamped); ``seed_demo``: the demo
    data too (what ``serve`` of a sandbox adds)."""
    from core import migrations

    started = time.perf_counter()
    kernel = Kernel.from_text(text, str(path), installed=installed, database_url=f"sqlite+aiosqlite:///{db}")
    built = time.perf_counter()
    if replay:
        await migrations.upgrade(kernel, replay=True)
    await kernel.start(seed_demo=seed_demo)
    ready = time.perf_counter()
    sdl_len = len(kernel.schema.as_str())
    await kernel.stop()
    return built - started, ready - started, sdl_len


def baseline_schema(count: int) -> float:
    """Plain strawberry: merge the same generated Query/Mutation types, no kernel at all."""
    import strawberry
    from strawberry.tools import merge_types

    started = time.perf_counter()
    modules = [importlib.import_module(f"gen{i}_pkg.types") for i in range(count)]
    query = merge_types("Query", tuple(m.Query for m in modules))
    mutation = merge_types("Mutation", tuple(m.Mutation for m in modules))
    strawberry.Schema(query=query, mutation=mutation, types=[m.Item for m in modules])
    return time.perf_counter() - started


def median(values: list[float]) -> float:
    return statistics.median(values)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--components", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "boot.json"))
    args = parser.parse_args()

    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        generated = generate(args.components, folder)
        installed = {**discover()[0], **generated}
        names = list(generated)
        text = blueprint_text(names, "bench")
        builds, boots = [], []
        for r in range(args.repeat):
            build, boot, sdl_len = await boot_once(text, folder / "bench.yaml", installed, folder / f"b{r}.sqlite")
            builds.append(build)
            boots.append(boot)
        base = [baseline_schema(args.components) for _ in range(args.repeat)]
        results[f"{args.components} components"] = {
            "schema_build_s": median(builds), "boot_with_tables_s": median(boots),
            "baseline_plain_strawberry_s": median(base), "ratio_vs_baseline": median(builds) / median(base),
            "sdl_chars": sdl_len,
        }
        demo = ROOT / "blueprints" / "demo.yaml"
        if demo.exists():
            await boot_once(demo.read_text(), demo, None, folder / "warm.sqlite")  # imports every component once
            # Interleaved rounds: create-and-stamp, replay, with demo data; medians of each.
            demo_builds, demo_boots, replayed, seeded = [], [], [], []
            for r in range(args.repeat):
                build, boot, _ = await boot_once(demo.read_text(), demo, None, folder / f"d{r}.sqlite")
                demo_builds.append(build)
                demo_boots.append(boot)
                replayed.append((await boot_once(demo.read_text(), demo, None, folder / f"r{r}.sqlite", replay=True))[1])
                seeded.append((await boot_once(demo.read_text(), demo, None, folder / f"s{r}.sqlite", seed_demo=True))[1])
            results["demo blueprint"] = {"schema_build_s": median(demo_builds), "boot_with_tables_s": median(demo_boots),
                                         "boot_replaying_revisions_s": median(replayed), "boot_with_demo_data_s": median(seeded)}

    print(f"{'blueprint':<18} {'build (s)':>10} {'boot+tables (s)':>16} {'plain strawberry (s)':>21} {'ratio':>7}")
    for name, row in results.items():
        base = row.get("baseline_plain_strawberry_s")
        base_text = f"{base:.3f}" if base else "-"
        ratio_text = f"{row['ratio_vs_baseline']:.2f}x" if base else "-"
        print(f"{name:<18} {row['schema_build_s']:>10.3f} {row['boot_with_tables_s']:>16.3f} {base_text:>21} {ratio_text:>7}")
    demo_row = results.get("demo blueprint")
    if demo_row:
        print(f"demo blueprint, fresh SQLite: create-and-stamp {demo_row['boot_with_tables_s']:.3f} s, "
              f"replaying every revision {demo_row['boot_replaying_revisions_s']:.3f} s, "
              f"with demo data seeded {demo_row['boot_with_demo_data_s']:.3f} s")
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": platform.platform(), "python": platform.python_version(), "load_average": os.getloadavg(),
                               "results": results}, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
