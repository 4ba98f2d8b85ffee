"""The component developer's commands: ``dougong new component NAME`` and ``dougong check``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

new_app = typer.Typer(help="Start something new from a template.", no_args_is_help=True)


def _say(text: str, style: str | None = None, *, err: bool = False) -> None:
    Console(stderr=err, highlight=False, soft_wrap=True, emoji=False).print(text, style=style, markup=False)


@new_app.command("component")
def new_component(
    name: str = typer.Argument(..., help="The component's name, snake_case (what blueprints write under components:)."),
    into: Path = typer.Option(Path("."), "--into", help="The folder to create the package folder in."),
    force: bool = typer.Option(False, "--force", help="Write into an existing non-empty folder."),
) -> None:
    """Write an installable component package (dougong-NAME/) that passes its tests and `dougong check`."""
    from core.scaffold import ScaffoldError, write_component

    try:
        folder = write_component(name, into, force=force)
    except ScaffoldError as exc:
        _say(f"error: {exc}", "red", err=True)
        raise typer.Exit(1) from None
    _say(f"wrote {folder}", "green")
    _say(f"next: pip install -e {folder} && pytest {folder / 'tests'} && dougong check {name}")


def check(
    components: list[str] = typer.Argument(None, help="Installed components to check (default: every installed one)."),
) -> None:
    """Check installed components against the component contract; print each failure as `where: [rule] message`."""
    from core.conformance.run import check_many
    from registry.discovery import discover

    installed, problems = discover()
    names = components or sorted(installed)
    failed = False
    for name, failures in check_many(names, installed).items():
        if failures:
            failed = True
            for failure in failures:
                _say(str(failure), "red")
            _say(f"{name}: {len(failures)} failure(s)", "red")
        else:
            _say(f"{name}: ok", "green")
    for text in problems:
        _say(f"problem: {text}", "yellow", err=True)
    raise typer.Exit(1 if failed else 0)


def register(app: typer.Typer) -> None:
    app.add_typer(new_app, name="new")
    app.command("check")(check)
