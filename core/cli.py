"""The ``dougong`` command line.

The commands here (``validate``, ``lock``, ``components``) read YAML and manifests and, once
a blueprint's settings pass, boot it dry (:mod:`core.dry_run`: contributions and schema, no
database) so that ``ok`` means it boots; the ones that run a kernel (``serve``, ``schema``,
``token``, ``migrate``, ``studio``) live in :mod:`core.cli_runtime` and are added to the same
``app`` at the bottom of this module.

Installed components are looked up through ``registry.discovery.discover`` at call time, so
a test installs fake components with
``monkeypatch.setattr(registry.discovery, "discover", lambda group=...: (fakes, []))``.
Output is coloured on a terminal and plain text otherwise (pipes, CI logs, CliRunner).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

import typer
from rich.console import Console

from core import cli_devkit, cli_runtime

app = typer.Typer(help="dougong: blueprints in, one GraphQL schema out.", no_args_is_help=True, add_completion=False)


def _console(*, err: bool = False) -> Console:
    # soft_wrap: a problem line must stay one line, whatever the terminal width, so that
    # editors and grep can jump to its file:line:column. emoji=False: rich turned the ":100:"
    # of "demo.yaml:100:5" into an emoji (found by the blueprint fuzzing).
    return Console(stderr=err, highlight=False, soft_wrap=True, emoji=False)


def _say(text: str, style: str | None = None, *, err: bool = False) -> None:
    # markup=False: problem texts contain brackets ("items[0]") that rich would eat as markup.
    _console(err=err).print(text, style=style, markup=False)


def _installed() -> tuple[dict[str, Any], list[str]]:
    import registry.discovery

    try:
        return registry.discovery.discover()
    except Exception as exc:  # discovery never should raise; if it does, say so and go on with none
        return {}, [f"finding installed components failed: {exc!r}"]


def _check(path: Path, installed: Mapping[str, Any]) -> tuple[list[Any], Any]:
    """(problems, blueprint or None) for one file, after a dry-run boot; never raises."""
    from core.dry_run import check

    return check(path, installed=installed)


@app.command()
def validate(files: list[Path] = typer.Argument(..., help="Blueprint files to check.")) -> None:
    """Report every problem in each blueprint (file:line:column), secrets written in it too, booting it dry (no database); exit 1 on any."""
    installed, discovery_problems = _installed()
    failed = False
    from core.secret_check import literal_secrets

    for path in files:
        problems, blueprint = _check(path, installed)
        problems += literal_secrets(path, installed)
        if problems:
            failed = True
            for problem in problems:
                _say(str(problem), "red")
        else:
            names = list(blueprint.components)
            _say(f"{path}: ok ({len(names)} components: {', '.join(names)})", "green")
    if failed:
        # An "unknown component" may really be one that failed to import; show why.
        for text in discovery_problems:
            _say(f"warning: {text}", "yellow", err=True)
    raise typer.Exit(1 if failed else 0)


@app.command()
def lock(file: Path = typer.Argument(..., help="The blueprint to lock.")) -> None:
    """Write the resolved component versions beside the blueprint (FILE.lock.json)."""
    from registry.lock import write_lock

    installed, _ = _installed()
    problems, blueprint = _check(file, installed)
    if problems:
        for problem in problems:
            _say(str(problem), "red", err=True)
        raise typer.Exit(1)
    try:
        path = write_lock(file, blueprint.resolution)
    except OSError as exc:
        _say(f"{file}: cannot write the lock file: {exc}", "red", err=True)
        raise typer.Exit(1) from None
    typer.echo(str(path))


def _hooks_of(module_path: str) -> list[str]:
    import importlib

    try:
        module = importlib.import_module(module_path)
    except Exception as exc:
        return [f"<cannot import {module_path}: {exc!r}>"]
    return sorted(n for n, v in vars(module).items() if n.startswith("dougong_") and callable(v))


def _named_components(path: Path, installed: Mapping[str, Any]) -> set[str]:
    """Components a blueprint uses: those under ``components:`` and what they pull in.

    Reads only the ``components:`` block, so a blueprint with an unrelated mistake or an
    unset ${VAR} still counts as a user of its components.
    """
    from ruamel.yaml import YAML

    try:
        data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except Exception:
        return set()
    blocks = data.get("components") if isinstance(data, dict) else None
    pending = [n for n in blocks if isinstance(n, str)] if isinstance(blocks, dict) else []
    used: set[str] = set()
    while pending:
        name = pending.pop()
        if name in used:
            continue
        used.add(name)
        if name in installed:
            pending.extend(installed[name].manifest.depends)
    return used


def component_rows(installed: Mapping[str, Any], blueprints_dir: Path = Path("blueprints")) -> list[dict[str, Any]]:
    """One row per installed component, as printed by ``dougong components --json``."""
    users = {path.name: _named_components(path, installed) for path in sorted(blueprints_dir.glob("*.yaml"))}
    events = _events_by_component(installed)
    boundaries = _boundaries(installed)
    rows = []
    for name, component in sorted(installed.items()):
        manifest = component.manifest
        rows.append(
            {
                "name": name,
                "version": manifest.version,
                "summary": manifest.summary,
                "depends": dict(manifest.depends),
                "kernel": manifest.kernel,
                "module": component.module,
                "distribution": component.distribution,
                "hooks": _hooks_of(manifest.hooks),
                "blueprints": [blueprint for blueprint, used in users.items() if name in used],
                "emits": events.get(name, ([], []))[0],
                "handles": events.get(name, ([], []))[1],
                "broken": _quick_failures(name, installed, boundaries),
            }
        )
    return rows


def _boundaries(installed: Mapping[str, Any]) -> Any:
    from core.boundaries import build

    try:
        return build(dict(installed))
    except Exception:  # noqa: BLE001 - each component's quick check then reports what is wrong
        return None


def _quick_failures(name: str, installed: Mapping[str, Any], boundaries: Any) -> list[str]:
    """What ``dougong check`` finds without booting (manifest, settings, README, imports)."""
    from core.conformance import quick_check

    try:
        return [str(f) for f in quick_check(name, installed, boundaries)]
    except Exception as exc:  # noqa: BLE001 - a broken component is listed as broken, not a crash
        return [f"{name}: [check] {exc!r}"]


def _events_by_component(installed: Mapping[str, Any]) -> dict[str, tuple[list[str], list[str]]]:
    """(emitted, handled) events per component, from a kernel of every installed component with
    default settings (built, never started: no database is touched). Empty if that cannot boot."""
    import tempfile

    from core.kernel import Kernel

    names = "".join(f"  {name}: {{}}\n" for name in sorted(installed))
    with tempfile.TemporaryDirectory() as folder:
        text = (
            f"dougong: 1\nbrand: {{slug: catalog, name: Catalog, currency: CNY, timezone: Asia/Shanghai}}\n"
            f"storage: {{database: 'sqlite+aiosqlite:///{folder}/none.db'}}\ncomponents:\n{names}"
        )
        try:
            kernel = Kernel.from_text(text, installed=dict(installed))
        except Exception:  # noqa: BLE001 - a broken component must not hide the others' rows
            return {}
        return {name: kernel.contributions.events_of(name) for name in installed}


@app.command()
def components(as_json: bool = typer.Option(False, "--json", help="Print a JSON list instead of a table.")) -> None:
    """List installed components: version, summary, dependencies, hooks, events, blueprints using each."""
    installed, discovery_problems = _installed()
    rows = component_rows(installed)
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table()
    for title in ("component", "version", "summary", "depends", "hooks", "events", "blueprints"):
        # Names are what people copy into blueprints: never truncate them.
        table.add_column(title, no_wrap=title in ("component", "version"))
    for row in rows:
        depends = ", ".join(f"{n}{s}" for n, s in row["depends"].items()) or "-"
        hooks = ", ".join(h.removeprefix("dougong_") for h in row["hooks"]) or "-"
        events = (
            "; ".join(
                part
                for part in (
                    "emits " + ", ".join(row["emits"]) if row["emits"] else "",
                    "handles " + ", ".join(row["handles"]) if row["handles"] else "",
                )
                if part
            )
            or "-"
        )
        cells = (row["name"], row["version"], row["summary"], depends, hooks, events, ", ".join(row["blueprints"]) or "-")
        # A broken component's row is red, and why follows the table (no column: names must fit).
        table.add_row(*(escape(cell) for cell in cells), style="red" if row["broken"] else None)
    Console(highlight=False).print(table)
    for row in rows:
        for text in row["broken"]:  # the rules `dougong check` checks without booting
            _say(f"BROKEN {row['name']}: {text}", "red", err=True)
    for text in discovery_problems:
        _say(f"problem: {text}", "yellow", err=True)  # a component so broken it could not be listed


cli_runtime.register(app)
cli_devkit.register(app)

if __name__ == "__main__":  # pragma: no cover
    app()
