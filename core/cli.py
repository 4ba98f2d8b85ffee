"""The ``dougong`` command line."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from core import cli_runtime

app = typer.Typer(help="dougong: blueprints in, one GraphQL schema out.", no_args_is_help=True, add_completion=False)


@app.command()
def validate(files: list[Path] = typer.Argument(..., help="Blueprint files to check.")) -> None:
    """Report every problem in each blueprint (file:line:column); exit 1 if there is any."""
    from core.blueprint import Problem, check_blueprint, load_blueprint

    failed = False
    for path in files:
        try:
            problems = check_blueprint(path)
        except Exception as exc:  # validate must never crash: report and go on
            problems = [Problem(str(path), None, None, f"internal error while checking: {exc!r}")]
        if problems:
            failed = True
            for problem in problems:
                typer.echo(str(problem))
            continue
        names = list(load_blueprint(path).components)
        typer.echo(f"{path}: ok ({len(names)} components: {', '.join(names)})")
    raise typer.Exit(1 if failed else 0)


@app.command()
def lock(file: Path = typer.Argument(..., help="The blueprint to lock.")) -> None:
    """Write the resolved component versions beside the blueprint (FILE.lock.json)."""
    from core.blueprint import BlueprintError, load_blueprint
    from registry.lock import write_lock

    try:
        blueprint = load_blueprint(file)
    except BlueprintError as exc:
        for problem in exc.problems:
            typer.echo(str(problem), err=True)
        raise typer.Exit(1) from None
    typer.echo(str(write_lock(file, blueprint.resolution)))


def component_rows(blueprints_dir: Path = Path("blueprints")) -> list[dict]:
    import importlib

    from core.blueprint import BlueprintError, load_blueprint
    from registry.discovery import discover

    installed, _problems = discover()
    users: dict[str, list[str]] = {name: [] for name in installed}
    for path in sorted(blueprints_dir.glob("*.yaml")):
        try:
            names = load_blueprint(path, installed=installed, env={}).resolution.names
        except BlueprintError:
            continue
        for name in names:
            users.setdefault(name, []).append(path.name)
    rows = []
    for name, component in sorted(installed.items()):
        manifest = component.manifest
        try:
            hooks_module = importlib.import_module(manifest.hooks)
            hooks = sorted(n for n in vars(hooks_module) if n.startswith("dougong_") and callable(getattr(hooks_module, n)))
        except Exception as exc:
            hooks = [f"<cannot import hooks: {exc!r}>"]
        rows.append({
            "name": name, "version": manifest.version, "summary": manifest.summary,
            "depends": dict(manifest.depends), "kernel": manifest.kernel, "distribution": component.distribution,
            "hooks": hooks, "blueprints": users.get(name, []),
        })
    return rows


@app.command()
def components(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List installed components: version, summary, dependencies, hooks, blueprints using each."""
    rows = component_rows()
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("component", "version", "summary", "depends", "hooks", "blueprints")
    for row in rows:
        depends = ", ".join(f"{n}{s}" for n, s in row["depends"].items()) or "-"
        hooks = ", ".join(h.removeprefix("dougong_") for h in row["hooks"])
        table.add_row(row["name"], row["version"], row["summary"], depends, hooks, ", ".join(row["blueprints"]) or "-")
    Console().print(table)


cli_runtime.register(app)

if __name__ == "__main__":  # pragma: no cover
    app()
